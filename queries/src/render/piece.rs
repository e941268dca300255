//! A [`Piece`] as the cache stores it: one `u64` instead of the enum's 24
//! bytes. An object's entries hold tens of thousands of pieces (mm/vmscan.o:
//! about 43,000), and turning entries into text waits on loading them, so
//! their size is what that step and the heap's huge pages pay for.
//!
//! The top two bits are the kind. A string keeps its address in the low 48
//! bits and its length in the 14 above; a string that does not fit (longer,
//! or at a higher address) is stored as text the renderer made instead
//! (`Renderer::piece`), so every piece packs. No piece is all zero bits
//! (a string's address is not null), so an `Option<Packed>` takes 8 bytes
//! too: an entry's fqn is stored as one.

use std::fmt;
use std::marker::PhantomData;
use std::num::NonZeroU64;

use super::{DieIdx, Made, Piece};

const KIND_SHIFT: u32 = 62;
const STR: u64 = 0;
const OWN: u64 = 1;
const BREAK: u64 = 2;
const DIE: u64 = 3;

const ADDR_BITS: u32 = 48;
/// The longest string a piece points to.
pub const STR_MAX: usize = (1 << (KIND_SHIFT - ADDR_BITS)) - 1;
/// The longest made text a piece holds.
pub const OWN_MAX: u32 = (1 << (KIND_SHIFT - 32)) - 1;

#[derive(Clone, Copy)]
pub struct Packed<'a> {
    bits: NonZeroU64,
    /// A string piece borrows its bytes for `'a`.
    _bytes: PhantomData<&'a [u8]>,
}

impl<'a> Packed<'a> {
    /// The piece packed, or `None` for a string longer than [`STR_MAX`] or
    /// above the 48-bit address space, or a made text longer than
    /// [`OWN_MAX`].
    #[inline]
    pub fn new(p: Piece<'a>) -> Option<Self> {
        let bits = match p {
            Piece::Str(s) => {
                let addr = s.as_ptr().expose_provenance() as u64;
                if addr >> ADDR_BITS != 0 || s.len() > STR_MAX {
                    return None;
                }
                STR << KIND_SHIFT | (s.len() as u64) << ADDR_BITS | addr
            }
            Piece::Own(Made(start, end)) => {
                let len = end.checked_sub(start).filter(|&l| l <= OWN_MAX)?;
                OWN << KIND_SHIFT | (len as u64) << 32 | start as u64
            }
            Piece::Break(n) => BREAK << KIND_SHIFT | n as u8 as u64,
            Piece::Die(d) => DIE << KIND_SHIFT | d as u64,
        };
        // A slice's address is never 0, and every other kind sets a kind bit.
        Some(Packed { bits: NonZeroU64::new(bits)?, _bytes: PhantomData })
    }

    #[inline]
    pub fn get(self) -> Piece<'a> {
        let bits = self.bits.get();
        let low = bits & ((1 << KIND_SHIFT) - 1);
        match bits >> KIND_SHIFT {
            STR => {
                let addr = (low & ((1 << ADDR_BITS) - 1)) as usize;
                let len = (low >> ADDR_BITS) as usize;
                // SAFETY: `new` took the address and length from a slice
                // borrowed for 'a, which this value borrows too; the
                // address was exposed there.
                Piece::Str(unsafe { std::slice::from_raw_parts(std::ptr::with_exposed_provenance(addr), len) })
            }
            OWN => {
                let start = low as u32;
                Piece::Own(Made(start, start + (low >> 32) as u32))
            }
            BREAK => Piece::Break(low as u8 as i8),
            _ => Piece::Die(low as DieIdx),
        }
    }

    #[inline]
    pub fn is_break(self) -> bool {
        self.bits.get() >> KIND_SHIFT == BREAK
    }
}

impl fmt::Debug for Packed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_optional_piece_takes_no_more_room() {
        assert_eq!(std::mem::size_of::<Option<Packed<'_>>>(), 8);
    }

    #[test]
    fn pieces_come_back_as_they_went_in() {
        let text = vec![7u8; STR_MAX + 4];
        for len in [0, 1, 2, 100, STR_MAX] {
            for at in [0, 1, 3] {
                let s = &text[at..at + len];
                let Piece::Str(back) = Packed::new(Piece::Str(s)).unwrap().get() else { panic!() };
                assert_eq!((back.as_ptr(), back.len()), (s.as_ptr(), s.len()));
            }
        }
        assert!(Packed::new(Piece::Str(&text)).is_none());
        for (a, b) in [(0, 0), (5, 9), (u32::MAX - OWN_MAX, u32::MAX), (3, 3 + OWN_MAX)] {
            let Piece::Own(Made(x, y)) = Packed::new(Piece::Own(Made(a, b))).unwrap().get() else { panic!() };
            assert_eq!((x, y), (a, b));
        }
        assert!(Packed::new(Piece::Own(Made(0, OWN_MAX + 1))).is_none());
        for n in [i8::MIN, -1, 0, 1, i8::MAX] {
            let p = Packed::new(Piece::Break(n)).unwrap();
            assert!(p.is_break());
            assert!(matches!(p.get(), Piece::Break(m) if m == n));
        }
        for d in [0, 1, DieIdx::MAX - 1, DieIdx::MAX] {
            let p = Packed::new(Piece::Die(d)).unwrap();
            assert!(!p.is_break());
            assert!(matches!(p.get(), Piece::Die(e) if e == d));
        }
    }
}
