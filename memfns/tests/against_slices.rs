//! Every length up to well past the short/long split, at every alignment
//! of source and destination within a word, against what slices do.
#![cfg(target_arch = "x86_64")]

const MAX: usize = 300;

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

#[test]
fn copy_matches_copy_from_slice() {
    let src = pattern(MAX + 16, 7);
    for n in 0..=MAX {
        for so in 0..8 {
            for d_o in 0..8 {
                let mut got = pattern(MAX + 16, 99);
                let mut want = got.clone();
                unsafe { memfns::copy(got.as_mut_ptr().add(d_o), src.as_ptr().add(so), n) };
                want[d_o..d_o + n].copy_from_slice(&src[so..so + n]);
                assert_eq!(got, want, "n={n} so={so} do={d_o}");
            }
        }
    }
}

#[test]
fn copy_overlapping_matches_copy_within() {
    for n in 0..=MAX {
        for s in 0..40 {
            for d in 0..40 {
                let mut got = pattern(MAX + 48, 3);
                let mut want = got.clone();
                unsafe {
                    let p = got.as_mut_ptr();
                    memfns::copy_overlapping(p.add(d), p.add(s), n);
                }
                want.copy_within(s..s + n, d);
                assert_eq!(got, want, "n={n} s={s} d={d}");
            }
        }
    }
}

#[test]
fn fill_matches_slice_fill() {
    for n in 0..=MAX {
        for o in 0..8 {
            let mut got = pattern(MAX + 8, 5);
            let mut want = got.clone();
            unsafe { memfns::fill(got.as_mut_ptr().add(o), 0xa5, n) };
            want[o..o + n].fill(0xa5);
            assert_eq!(got, want, "n={n} o={o}");
        }
    }
}

#[test]
fn compare_and_differ_order_as_slices_do() {
    for n in 0..=MAX {
        let a = pattern(n, 11);
        assert_eq!(unsafe { memfns::compare(a.as_ptr(), a.as_ptr(), n) }, 0);
        assert_eq!(unsafe { memfns::differ(a.as_ptr(), a.as_ptr(), n) }, 0);
        // One byte changed, up or down, at every position.
        for at in 0..n {
            for delta in [1u8, 0x80, 0xff] {
                let mut b = a.clone();
                b[at] = b[at].wrapping_add(delta);
                let c = unsafe { memfns::compare(a.as_ptr(), b.as_ptr(), n) };
                assert_eq!(c.signum(), a.cmp(&b) as i32, "n={n} at={at} delta={delta}");
                assert_ne!(unsafe { memfns::differ(a.as_ptr(), b.as_ptr(), n) }, 0, "n={n} at={at}");
            }
        }
    }
}
