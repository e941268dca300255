//! `memcpy`, `memmove`, `memset`, `memcmp` and `bcmp` for the drop-in
//! linked statically against musl.
//!
//! Why: kbuild starts the drop-in once per object, and glibc's start-up
//! (probing the CPU and its caches with `cpuid`, each a VM exit on a
//! virtual machine, and reading `/proc/self/exe`) was about 0.3 ms of a
//! 1 ms run on a small object; musl starts in a fraction of that. But
//! musl's string functions are written for size: its `memcpy` is
//! `rep movsq` plus byte moves, and its `memcmp` a byte loop, which made
//! the engine's many short copies (type-string pieces of a few bytes)
//! cost 12% of a run on mm/vmscan.o instead of glibc's 6%. These take
//! glibc's approach for short lengths (two overlapping loads and stores
//! of the widest size that fits) and `rep movsb`/`rep stosb` for long
//! ones, which CPUs with fast string operations run at memory speed.
//!
//! A static link takes the first definition of a symbol it sees: ours, in
//! the drop-in's objects, come before musl's `libc.a`. `no_builtins` keeps
//! LLVM from turning these functions' own loops into calls to themselves;
//! it also keeps the crate out of the drop-in's LTO, as a C library's
//! string functions are.
#![no_std]
#![no_builtins]
#![cfg(target_arch = "x86_64")]

use core::arch::asm;
use core::ptr::{read_unaligned as ld, write_unaligned as st};

/// Copies `n <= 64` bytes, every load before any store: right for
/// overlapping ranges too.
#[inline(always)]
unsafe fn copy_short(d: *mut u8, s: *const u8, n: usize) {
    if n >= 32 {
        // Four registers (as a `[u128; 2]` pair, LLVM spilled one).
        let a: u128 = ld(s as *const u128);
        let b: u128 = ld(s.add(16) as *const u128);
        let c: u128 = ld(s.add(n - 32) as *const u128);
        let e: u128 = ld(s.add(n - 16) as *const u128);
        st(d as *mut u128, a);
        st(d.add(16) as *mut u128, b);
        st(d.add(n - 32) as *mut u128, c);
        st(d.add(n - 16) as *mut u128, e);
    } else if n >= 16 {
        copy_ends::<u128>(d, s, n);
    } else if n >= 8 {
        copy_ends::<u64>(d, s, n);
    } else if n >= 4 {
        copy_ends::<u32>(d, s, n);
    } else if n >= 2 {
        copy_ends::<u16>(d, s, n);
    } else if n == 1 {
        *d = *s;
    }
}

/// Copies `size_of::<T>() <= n <= 2 * size_of::<T>()` bytes as the first
/// and the last `T` (which overlap unless `n` is twice its size), both
/// loaded before either is stored.
#[inline(always)]
unsafe fn copy_ends<T: Copy>(d: *mut u8, s: *const u8, n: usize) {
    let w = core::mem::size_of::<T>();
    let first: T = ld(s as *const T);
    let last: T = ld(s.add(n - w) as *const T);
    st(d as *mut T, first);
    st(d.add(n - w) as *mut T, last);
}

/// A forward byte copy; right for overlapping ranges with `d` below `s`
/// (`rep movsb` behaves as a byte loop, whatever the CPU does inside).
#[inline(always)]
unsafe fn copy_forward(d: *mut u8, s: *const u8, n: usize) {
    asm!("rep movsb", inout("rcx") n => _, inout("rdi") d => _, inout("rsi") s => _,
         options(nostack, preserves_flags));
}

/// `memcpy`.
///
/// # Safety
/// As C's: `s` readable and `d` writable for `n` bytes.
#[inline]
pub unsafe fn copy(d: *mut u8, s: *const u8, n: usize) {
    if n <= 64 {
        copy_short(d, s, n);
    } else {
        copy_forward(d, s, n);
    }
}

/// `memmove`.
///
/// # Safety
/// As C's.
#[inline]
pub unsafe fn copy_overlapping(d: *mut u8, s: *const u8, n: usize) {
    if n <= 64 {
        copy_short(d, s, n);
    } else if (d as usize).wrapping_sub(s as usize) >= n {
        // Apart, or the destination below the source.
        copy_forward(d, s, n);
    } else {
        // The destination overlaps the source's end: backwards.
        asm!("std", "rep movsb", "cld",
             inout("rcx") n => _, inout("rdi") d.add(n - 1) => _, inout("rsi") s.add(n - 1) => _,
             options(nostack));
    }
}

/// `memset`.
///
/// # Safety
/// As C's.
#[inline]
pub unsafe fn fill(d: *mut u8, b: u8, n: usize) {
    if n > 32 {
        asm!("rep stosb", inout("rcx") n => _, inout("rdi") d => _, in("al") b,
             options(nostack, preserves_flags));
        return;
    }
    let v = (b as u64).wrapping_mul(0x0101_0101_0101_0101);
    if n >= 16 {
        let w = (v as u128) | ((v as u128) << 64);
        st(d as *mut u128, w);
        st(d.add(n - 16) as *mut u128, w);
    } else if n >= 8 {
        st(d as *mut u64, v);
        st(d.add(n - 8) as *mut u64, v);
    } else if n >= 4 {
        st(d as *mut u32, v as u32);
        st(d.add(n - 4) as *mut u32, v as u32);
    } else if n >= 2 {
        st(d as *mut u16, v as u16);
        st(d.add(n - 2) as *mut u16, v as u16);
    } else if n == 1 {
        *d = b;
    }
}

/// `memcmp`: the sign of the first differing byte's difference.
///
/// # Safety
/// As C's.
#[inline]
pub unsafe fn compare(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i + 8 <= n {
        let x: u64 = ld(a.add(i) as *const u64);
        let y: u64 = ld(b.add(i) as *const u64);
        if x != y {
            // Loaded little-endian: swapped, the first byte is the most
            // significant, so integer order is byte order.
            return if x.swap_bytes() < y.swap_bytes() { -1 } else { 1 };
        }
        i += 8;
    }
    while i < n {
        let (x, y) = (*a.add(i), *b.add(i));
        if x != y {
            return x as i32 - y as i32;
        }
        i += 1;
    }
    0
}

/// `bcmp`: zero if equal, else non-zero (LLVM calls it for `==` on slices).
///
/// # Safety
/// As C's.
#[inline]
pub unsafe fn differ(a: *const u8, b: *const u8, n: usize) -> i32 {
    if n >= 8 {
        let mut i = 0;
        while i + 8 < n {
            if ld(a.add(i) as *const u64) != ld(b.add(i) as *const u64) {
                return 1;
            }
            i += 8;
        }
        return (ld(a.add(n - 8) as *const u64) != ld(b.add(n - 8) as *const u64)) as i32;
    }
    if n >= 4 {
        let x = ld(a as *const u32) ^ ld(b as *const u32);
        let y = ld(a.add(n - 4) as *const u32) ^ ld(b.add(n - 4) as *const u32);
        return (x | y != 0) as i32;
    }
    let mut i = 0;
    while i < n {
        if *a.add(i) != *b.add(i) {
            return 1;
        }
        i += 1;
    }
    0
}

/// The C symbols, only where musl's would otherwise be linked: elsewhere
/// the C library's own are the ones to use.
#[cfg(target_env = "musl")]
mod symbols {
    #[no_mangle]
    pub unsafe extern "C" fn memcpy(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
        super::copy(d, s, n);
        d
    }

    #[no_mangle]
    pub unsafe extern "C" fn memmove(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
        super::copy_overlapping(d, s, n);
        d
    }

    #[no_mangle]
    pub unsafe extern "C" fn memset(d: *mut u8, c: i32, n: usize) -> *mut u8 {
        super::fill(d, c as u8, n);
        d
    }

    #[no_mangle]
    pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
        super::compare(a, b, n)
    }

    #[no_mangle]
    pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
        super::differ(a, b, n)
    }
}
