//! Compressed debug sections, decompressed with libelf's rules
//! (`elf_compress` for `SHF_COMPRESSED`, `elf_compress_gnu` for `.zdebug_*`):
//! the output must be exactly the declared size, or the section is unusable.
//!
//! The declared size comes from the file, so it is bounded before anything
//! is allocated.

use std::borrow::Cow;

use flate2::{Decompress, FlushDecompress, Status};
use object::elf;
use object::read::ReadRef;
use object::Endianness;

use super::{ElfFile, Section};

/// No section is decompressed to more than this, whatever its header says.
const MAX_SIZE: u64 = 1 << 30;
/// libelf rejects zlib data claiming to expand more than deflate can (1032:1).
const MAX_ZLIB_RATIO: u64 = 1032;
/// A zstd block needs at least 3 header bytes and 1 content byte for at most
/// 128 KiB of output; anything claiming more is not worth allocating for.
const MAX_ZSTD_RATIO: u64 = 1 << 16;

impl ElfFile<'_> {
    /// Section `s`'s bytes `raw` as libelf hands them over: decompressed by
    /// `elf_compress` if `SHF_COMPRESSED` (`None` where it cannot be), by
    /// `elf_compress_gnu` if a `.zdebug_*` section (`gnu`; left as they
    /// are where they are not compressed that way after all), else as they
    /// are. Each reader decides what a failure means to it: libdw skips the
    /// section, libdwfl gives up.
    pub(super) fn unpack<'r>(&self, s: &Section, gnu: bool, raw: &'r [u8]) -> Option<Cow<'r, [u8]>> {
        // libelf decompresses no loaded section, nor one of type
        // `SHT_NULL` (`elf_compress`, `elf_compress_gnu`).
        let can = !s.has_flag(elf::SHF_ALLOC) && s.kind != elf::SHT_NULL.0;
        if s.has_flag(elf::SHF_COMPRESSED) {
            return decompress_elf(raw, self.is_64, self.endian).filter(|_| can).map(Cow::Owned);
        }
        // libdw ignores a GNU section that does not decompress, and reads
        // its bytes as they are.
        if gnu && can {
            if let Some(data) = decompress_gnu(raw) {
                return Some(Cow::Owned(data));
            }
        }
        Some(Cow::Borrowed(raw))
    }

    /// Whether the section header string table names `s` `.zdebug_*`, as
    /// libdwfl tells a GNU-compressed section.
    pub(super) fn gnu_named(&self, s: &Section) -> bool {
        self.string(self.shstrndx, s.name).is_ok_and(|n| n.starts_with(b".zdebug"))
    }
}

/// The contents of an `SHF_COMPRESSED` section (`Elf32_Chdr`/`Elf64_Chdr`
/// header, then zlib or zstd data). `None` if it cannot be decompressed.
fn decompress_elf(raw: &[u8], is_64: bool, e: Endianness) -> Option<Vec<u8>> {
    let (kind, size, align, header_size) = if is_64 {
        let h = raw.read_at::<elf::CompressionHeader64<Endianness>>(0).ok()?;
        (h.ch_type.get(e), h.ch_size.get(e), h.ch_addralign.get(e), std::mem::size_of_val(h))
    } else {
        let h = raw.read_at::<elf::CompressionHeader32<Endianness>>(0).ok()?;
        (h.ch_type.get(e), u64::from(h.ch_size.get(e)), u64::from(h.ch_addralign.get(e)), std::mem::size_of_val(h))
    };
    // libelf's powerof2() also accepts 0.
    if align != 0 && !align.is_power_of_two() {
        return None;
    }
    let input = raw.get(header_size..)?;
    match kind {
        elf::ELFCOMPRESS_ZLIB => zlib(input, size),
        elf::ELFCOMPRESS_ZSTD => zstd(input, size),
        _ => None,
    }
}

/// A string table marked `SHF_COMPRESSED`, as `elf_strptr` decompresses
/// it (`__libelf_decompress_elf`), with libelf's message where it cannot.
/// No toolchain writes one; damage can set the flag. Only zlib: libelf
/// 0.188, the reference's, knows no other type.
pub(super) fn decompress_strings(raw: &[u8], is_64: bool, e: Endianness) -> Result<Vec<u8>, &'static str> {
    let (kind, size, align, header_size) = if is_64 {
        let h = raw.read_at::<elf::CompressionHeader64<Endianness>>(0).map_err(|()| "invalid data")?;
        (h.ch_type.get(e), h.ch_size.get(e), h.ch_addralign.get(e), std::mem::size_of_val(h))
    } else {
        let h = raw.read_at::<elf::CompressionHeader32<Endianness>>(0).map_err(|()| "invalid data")?;
        (h.ch_type.get(e), u64::from(h.ch_size.get(e)), u64::from(h.ch_addralign.get(e)), std::mem::size_of_val(h))
    };
    if kind != elf::ELFCOMPRESS_ZLIB {
        return Err("unknown compression type");
    }
    if align != 0 && !align.is_power_of_two() {
        return Err("invalid section alignment");
    }
    let input = &raw[header_size..];
    if size / MAX_ZLIB_RATIO > input.len() as u64 {
        return Err("invalid data");
    }
    zlib(input, size).ok_or("cannot decompress data")
}

/// The contents of a legacy GNU `.zdebug_*` section: `ZLIB`, the size as
/// 8 big-endian bytes, then zlib data. `None` if it is not compressed that way.
fn decompress_gnu(raw: &[u8]) -> Option<Vec<u8>> {
    let rest = raw.strip_prefix(b"ZLIB")?;
    let size = u64::from_be_bytes(rest.get(..8)?.try_into().ok()?);
    // libelf's sanity check: compressed data is never much bigger than the
    // original (magic, size, zlib header and one block's overhead).
    if size.saturating_add(4 + 8 + 6 + 5) < raw.len() as u64 {
        return None;
    }
    zlib(rest.get(8..)?, size)
}

/// One or more concatenated zlib streams making exactly `size` bytes.
fn zlib(mut input: &[u8], size: u64) -> Option<Vec<u8>> {
    if size > MAX_SIZE || size / MAX_ZLIB_RATIO > input.len() as u64 {
        return None;
    }
    let size = usize::try_from(size).ok()?;
    let mut out = Vec::with_capacity(size);
    while !input.is_empty() {
        let mut stream = Decompress::new(true);
        loop {
            let (in_before, out_before) = (stream.total_in(), stream.total_out());
            let status = stream.decompress_vec(input, &mut out, FlushDecompress::Finish).ok()?;
            let consumed = usize::try_from(stream.total_in() - in_before).ok()?;
            input = input.get(consumed..)?;
            if status == Status::StreamEnd {
                break;
            }
            // Out of input, or out of room (more data than declared).
            if consumed == 0 && stream.total_out() == out_before {
                return None;
            }
        }
    }
    (out.len() == size).then_some(out)
}

/// One or more zstd frames making exactly `size` bytes.
fn zstd(input: &[u8], size: u64) -> Option<Vec<u8>> {
    if size > MAX_SIZE || size / MAX_ZSTD_RATIO > input.len() as u64 {
        return None;
    }
    let mut out = vec![0; usize::try_from(size).ok()?];
    let written = ruzstd::decoding::FrameDecoder::new().decode_all(input, &mut out).ok()?;
    (written == out.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(data).unwrap();
        z.finish().unwrap()
    }

    #[test]
    fn gnu_round_trip() {
        let text = b"hello hello hello hello".repeat(10);
        let mut raw = b"ZLIB".to_vec();
        raw.extend_from_slice(&(text.len() as u64).to_be_bytes());
        raw.extend_from_slice(&deflate(&text));
        assert_eq!(decompress_gnu(&raw).as_deref(), Some(&text[..]));
        // Wrong declared size: unusable.
        raw[11] += 1;
        assert_eq!(decompress_gnu(&raw), None);
        assert_eq!(decompress_gnu(b"ZLI"), None);
        assert_eq!(decompress_gnu(b"not compressed at all"), None);
    }

    #[test]
    fn elf_zlib_round_trip_and_limits() {
        let text = b"abcdefgh".repeat(100);
        let mut raw = Vec::new();
        raw.extend_from_slice(&1u32.to_be_bytes()); // ELFCOMPRESS_ZLIB
        raw.extend_from_slice(&(text.len() as u32).to_be_bytes());
        raw.extend_from_slice(&1u32.to_be_bytes());
        raw.extend_from_slice(&deflate(&text));
        assert_eq!(decompress_elf(&raw, false, Endianness::Big).as_deref(), Some(&text[..]));
        // Two concatenated streams.
        let mut two = raw.clone();
        two[4..8].copy_from_slice(&(2 * text.len() as u32).to_be_bytes());
        two.extend_from_slice(&deflate(&text));
        assert_eq!(decompress_elf(&two, false, Endianness::Big).map(|d| d.len()), Some(1600));
        // A hostile declared size is refused before allocating.
        let mut huge = raw.clone();
        huge[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(decompress_elf(&huge, false, Endianness::Big), None);
        // Truncated data.
        assert_eq!(decompress_elf(&raw[..raw.len() - 3], false, Endianness::Big), None);
        // Unknown algorithm.
        let mut unknown = raw.clone();
        unknown[3] = 9;
        assert_eq!(decompress_elf(&unknown, false, Endianness::Big), None);
    }
}
