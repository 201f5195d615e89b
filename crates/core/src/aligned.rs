//! `f64` buffers that start on a 64-byte boundary (a cache line).
//!
//! The step kernels read and write their arrays with 32-byte AVX2 loads and stores. A `Vec<f64>`
//! is only as aligned as the allocator makes it (16 bytes with glibc for small blocks), and when
//! an array starts 16 bytes past a 32-byte boundary every other vector access splits across two
//! cache lines: that alone made the fused weight kernel up to 1.8x slower, depending on where
//! the allocator happened to put the weights in that process. [`AlignedVec`] removes the lottery.
//! Alignment never changes results, only the time they take.

use std::fmt;
use std::ops::{Deref, DerefMut};

/// One cache line of eight `f64`.
#[derive(Clone, Copy, PartialEq)]
#[repr(C, align(64))]
struct Line([f64; 8]);

const ZERO_LINE: Line = Line([0.0; 8]);

/// A fixed-length `f64` buffer whose first entry is 64-byte aligned; it derefs to `[f64]`.
/// Entries past `len` in the last line are 0 and never visible.
#[derive(Clone, Default, PartialEq)]
pub struct AlignedVec {
    lines: Vec<Line>,
    len: usize,
}

impl AlignedVec {
    /// `len` copies of `x`.
    pub fn filled(len: usize, x: f64) -> Self {
        let mut v = Self {
            lines: vec![ZERO_LINE; len.div_ceil(8)],
            len,
        };
        v.fill(x);
        v
    }

    /// A copy of `src`.
    pub fn from_slice(src: &[f64]) -> Self {
        let mut v = Self::filled(src.len(), 0.0);
        v.copy_from_slice(src);
        v
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.lines.capacity() * std::mem::size_of::<Line>()
    }
}

impl From<Vec<f64>> for AlignedVec {
    fn from(v: Vec<f64>) -> Self {
        Self::from_slice(&v)
    }
}

impl Deref for AlignedVec {
    type Target = [f64];
    fn deref(&self) -> &[f64] {
        // SAFETY: `Line` is `repr(C)` around `[f64; 8]` with size 64, so `lines` is
        // `8 * lines.len() >= len` contiguous, initialized `f64`s.
        unsafe { std::slice::from_raw_parts(self.lines.as_ptr().cast::<f64>(), self.len) }
    }
}

impl DerefMut for AlignedVec {
    fn deref_mut(&mut self) -> &mut [f64] {
        // SAFETY: as in `deref`, and `&mut self` makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.lines.as_mut_ptr().cast::<f64>(), self.len) }
    }
}

impl fmt::Debug for AlignedVec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_and_behaves_like_a_slice() {
        for len in [0usize, 1, 7, 8, 9, 63, 64, 4032] {
            let src: Vec<f64> = (0..len).map(|k| k as f64 * 0.5 - 3.0).collect();
            let mut v = AlignedVec::from_slice(&src);
            assert_eq!(v.len(), len);
            assert_eq!(&*v, &src[..]);
            assert_eq!(v.as_ptr() as usize % 64, 0, "len {len}");
            if len > 0 {
                v[len - 1] = 42.0;
                assert_eq!(v.iter().last(), Some(&42.0));
            }
            let w = v.clone();
            assert_eq!(w, v);
            assert_eq!(w.as_ptr() as usize % 64, 0);
            assert!(v.heap_bytes() >= 8 * len);
            assert_eq!(format!("{v:?}"), format!("{:?}", &*v));
        }
        let f = AlignedVec::filled(10, 1.5);
        assert!(f.iter().all(|&x| x == 1.5));
        assert_eq!(AlignedVec::from(vec![1.0, 2.0]).to_vec(), vec![1.0, 2.0]);
    }
}
