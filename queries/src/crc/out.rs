//! The CRC-32 of an expansion as it is produced, and of parts of it.

/// The hash (and maybe the text) of an expansion. Segments are short, and
/// CRC-32 is much faster over long runs, so they are gathered in a buffer.
/// Open frames (the walks in progress that may be kept) learn the hash of
/// the text before them when the buffer is hashed.
pub(super) struct Out {
    /// The hash of the first `hashed` bytes.
    crc: crc32fast::Hasher,
    hashed: u64,
    /// The bytes after them.
    buf: Vec<u8>,
    text: Option<Vec<u8>>,
    /// Open frames, by start: where each starts and, once that part is
    /// hashed, the hash of the text before it.
    frames: Vec<(u64, Option<u32>)>,
}

const OUT_BUF: usize = 16 << 10;

impl Out {
    pub(super) fn new(dump: bool) -> Out {
        Out {
            crc: crc32fast::Hasher::new(),
            hashed: 0,
            buf: Vec::with_capacity(OUT_BUF),
            text: dump.then(Vec::new),
            frames: Vec::new(),
        }
    }

    fn len(&self) -> u64 {
        self.hashed + self.buf.len() as u64
    }

    pub(super) fn add(&mut self, s: &[u8]) {
        if let Some(t) = &mut self.text {
            t.extend_from_slice(s);
        }
        if self.buf.len() + s.len() > OUT_BUF {
            self.flush();
            if s.len() > OUT_BUF {
                self.crc.update(s);
                self.hashed += s.len() as u64;
                return;
            }
        }
        self.buf.extend_from_slice(s);
    }

    /// Appends text known only by its CRC and length.
    pub(super) fn add_hashed(&mut self, crc: u32, len: u64) {
        self.flush();
        self.crc.combine(&crc32fast::Hasher::new_with_initial_len(crc, len));
        self.hashed += len;
    }

    /// Hashes the buffer, telling the open frames that start in it the
    /// hash of the text before them.
    fn flush(&mut self) {
        // Frames opened since the last flush come last.
        let first = self.frames.iter().rposition(|f| f.1.is_some()).map_or(0, |i| i + 1);
        let mut at = 0;
        for f in &mut self.frames[first..] {
            let off = (f.0 - self.hashed) as usize;
            self.crc.update(&self.buf[at..off]);
            at = off;
            f.1 = Some(self.crc.clone().finalize());
        }
        self.crc.update(&self.buf[at..]);
        self.hashed += self.buf.len() as u64;
        self.buf.clear();
    }

    pub(super) fn open(&mut self) {
        let at = self.len();
        let before = self.buf.is_empty().then(|| self.crc.clone().finalize());
        self.frames.push((at, before));
    }

    /// Closes the innermost frame; if `want` its length, the CRC and length
    /// of the text since it opened (most frames are not kept: their CRC
    /// would hash their text a second time for nothing).
    pub(super) fn close(&mut self, want: impl FnOnce(u64) -> bool) -> Option<(u32, u64)> {
        let (start, before) = self.frames.pop()?;
        let len = self.len() - start;
        if !want(len) {
            return None;
        }
        let crc = match before {
            // Still in the buffer: hash it on its own.
            None => crc32fast::hash(&self.buf[(start - self.hashed) as usize..]),
            // CRC(a b) = shift(CRC(a), |b|) ^ CRC(b), and shift(c, n) is
            // combining c with the CRC 0 of n bytes.
            Some(before) => {
                let mut all = self.crc.clone();
                all.update(&self.buf);
                let mut shifted = crc32fast::Hasher::new_with_initial_len(before, 0);
                shifted.combine(&crc32fast::Hasher::new_with_initial_len(0, len));
                all.finalize() ^ shifted.finalize()
            }
        };
        Some((crc, len))
    }

    pub(super) fn finish(mut self) -> (u32, Option<Vec<u8>>) {
        self.flush();
        (self.crc.finalize(), self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CRC of a frame's text, however the buffer was hashed around it.
    #[test]
    fn frames_hash_their_own_text() {
        let text: Vec<u8> = (0..100_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for (start, end, step) in
            [(0, 10, 3), (5, 20_000, 1000), (17_000, 17_001, 1), (100, 99_000, 7000), (16_384, 40_000, 16_384)]
        {
            let mut out = Out::new(false);
            let mut at = 0;
            while at < text.len() {
                if at == start {
                    out.open();
                }
                if at == end {
                    let (crc, len) = out.close(|_| true).unwrap();
                    assert_eq!(
                        (crc, len),
                        (crc32fast::hash(&text[start..end]), (end - start) as u64),
                        "{start}..{end}"
                    );
                }
                let next = (at + step).min(text.len());
                let next = if at < start && next > start {
                    start
                } else if at < end && next > end {
                    end
                } else {
                    next
                };
                out.add(&text[at..next]);
                at = next;
            }
            assert_eq!(out.finish().0, crc32fast::hash(&text));
        }
    }

    #[test]
    fn hashed_text_combines() {
        let (a, b) = (b"struct foo { int x; }".as_slice(), vec![b'y'; 40_000]);
        let mut out = Out::new(false);
        out.add(a);
        out.add_hashed(crc32fast::hash(&b), b.len() as u64);
        out.add(a);
        assert_eq!(out.finish().0, crc32fast::hash(&[a, &b, a].concat()));
    }
}
