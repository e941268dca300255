//! LEB128 as libdw 0.188 reads it in a unit's entries (`get_uleb128`,
//! `get_sleb128`): never an error once a byte is there. gimli refuses a
//! number whose bits run past 64 (`BadUnsignedLeb128`) where libdw takes
//! the low bits, and refuses one the unit's end cuts short where libdw
//! stops there: damaged DWARF reads on where we failed the unit.

use gimli::Reader as _;

use super::R;

/// libdw's `get_uleb128`: bytes up to the first without the continuation
/// bit, at most 10 (and at most to the end); the bits past 64 are dropped,
/// and 10 continued bytes (or bytes the end cuts short) read as all ones.
#[inline]
pub(super) fn uleb(r: &mut R<'_>) -> gimli::Result<u64> {
    match r.slice().first() {
        Some(&b) if b & 0x80 == 0 => {
            r.skip(1)?;
            Ok(u64::from(b))
        }
        Some(_) => Ok(uleb_long(r)),
        None => Err(gimli::Error::UnexpectedEof(r.offset_id())),
    }
}

fn uleb_long(r: &mut R<'_>) -> u64 {
    let bytes = r.slice();
    let max = bytes.len().min(10);
    let mut acc = 0u64;
    for (i, &b) in bytes[..max].iter().enumerate() {
        acc |= u64::from(b & 0x7f) << (i * 7);
        if b & 0x80 == 0 {
            *r = r.range_from(i + 1..);
            return acc;
        }
    }
    *r = r.range_from(max..);
    u64::MAX
}

/// libdw's `get_sleb128`: as [`uleb`], but 9 bytes before a last one that
/// must end the number, sign-extended; a number not ended there, or cut
/// short, reads as `i64::MAX`.
pub(super) fn sleb(r: &mut R<'_>) -> gimli::Result<i64> {
    let bytes = r.slice();
    if bytes.is_empty() {
        return Err(gimli::Error::UnexpectedEof(r.offset_id()));
    }
    let max = bytes.len().min(9);
    let mut acc = 0u64;
    for (i, &b) in bytes[..max].iter().enumerate() {
        acc |= u64::from(b & 0x7f) << (i * 7);
        if b & 0x80 == 0 {
            if b & 0x40 != 0 {
                acc |= u64::MAX << ((i + 1) * 7).min(63);
            }
            *r = r.range_from(i + 1..);
            return Ok(acc as i64);
        }
    }
    let Some(&b) = bytes.get(max) else {
        *r = r.range_from(max..);
        return Ok(i64::MAX);
    };
    *r = r.range_from(max + 1..);
    if b & 0x80 == 0 {
        // Only its low bit fits: the sign.
        return Ok((acc | u64::from(b) << (7 * max)) as i64);
    }
    Ok(i64::MAX)
}

/// A block whose length is a ULEB128, read past as libdw's
/// `__libdw_form_val_compute_len` measures it: the length and the bytes
/// of the length together (a sum that wraps, as a `size_t` does), which
/// must not run past the end. Its bytes: those after the length, within
/// that measure.
#[inline]
pub(super) fn block<'a>(r: &mut R<'a>) -> gimli::Result<R<'a>> {
    let start = *r;
    let len = uleb(r)?;
    let len_bytes = start.len() - r.len();
    let total = len.wrapping_add(len_bytes as u64);
    let total = usize::try_from(total).map_err(|_| gimli::Error::UnexpectedEof(start.offset_id()))?;
    if total > start.len() {
        return Err(gimli::Error::UnexpectedEof(start.offset_id()));
    }
    let bytes = r.range_to(..total.saturating_sub(len_bytes));
    *r = start.range_from(total..);
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gimli::{EndianSlice, RunTimeEndian};

    fn read<T>(bytes: &[u8], f: impl Fn(&mut R<'_>) -> gimli::Result<T>) -> Option<(T, usize)> {
        let mut r = EndianSlice::new(bytes, RunTimeEndian::Little);
        let v = f(&mut r).ok()?;
        Some((v, bytes.len() - r.len()))
    }

    #[test]
    fn unsigned_as_libdw_reads_them() {
        assert_eq!(read(&[0x05, 9], uleb), Some((5, 1)));
        assert_eq!(read(&[0xe5, 0x8e, 0x26], uleb), Some((624_485, 3)));
        // Ten bytes, the last past 64 bits: its low bit only (gimli fails).
        let mut ten = [0x80u8; 10];
        ten[9] = 0x21;
        assert_eq!(read(&ten, uleb), Some((1 << 63, 10)));
        // Ten continued bytes: all ones, and the eleventh is not read.
        assert_eq!(read(&[0x80; 11], uleb), Some((u64::MAX, 10)));
        // Cut short by the end: all ones.
        assert_eq!(read(&[0x80, 0x80], uleb), Some((u64::MAX, 2)));
        assert_eq!(read(&[], uleb), None);
    }

    #[test]
    fn signed_as_libdw_reads_them() {
        assert_eq!(read(&[0x7f], sleb), Some((-1, 1)));
        assert_eq!(read(&[0x80, 0x7f], sleb), Some((-128, 2)));
        assert_eq!(read(&[0x3f], sleb), Some((63, 1)));
        // Nine continued bytes and a tenth that ends: its low bit is the sign.
        let mut ten = [0x80u8; 10];
        ten[9] = 0x01;
        assert_eq!(read(&ten, sleb), Some((i64::MIN, 10)));
        ten[9] = 0x81;
        assert_eq!(read(&ten, sleb), Some((i64::MAX, 10)));
        assert_eq!(read(&[0x80, 0x80], sleb), Some((i64::MAX, 2)));
    }

    #[test]
    fn blocks_as_libdw_measures_them() {
        let content = |r: &mut R<'_>| block(r).map(|b| b.slice().to_vec());
        assert_eq!(read(&[2, 0xaa, 0xbb, 0xcc], content), Some((vec![0xaa, 0xbb], 3)));
        assert_eq!(read(&[3, 0xaa, 0xbb], content), None);
        // A length of all ones wraps with the ten bytes it took: nine, and
        // no bytes of its own.
        let mut bytes = vec![0x80u8; 10];
        bytes.extend([0; 5]);
        assert_eq!(read(&bytes, content), Some((vec![], 9)));
    }
}
