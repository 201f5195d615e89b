//! Seeds and named random streams.
//!
//! A job's randomness is a pure function of its seed: every component that draws random numbers
//! asks for its own named stream (`"scaffold"`, `"weights"`, `"delays"`, `"connectivity"`,
//! `"noise"`, ...), so that changing how one component draws leaves the others untouched.
//! Streams are xoshiro256++ generators seeded from a SplitMix64 mix of (seed, FNV-1a(name)).

use rand_core::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::hash::Hasher;

/// The seed of one job (one network).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Seed(pub u64);

impl Seed {
    /// The independent random stream called `name` of this seed.
    pub fn stream(self, name: &str) -> Stream {
        let key = splitmix64(self.0 ^ splitmix64(fnv1a64(name.as_bytes())));
        Stream {
            rng: Xoshiro256PlusPlus::seed_from_u64(key),
        }
    }
}

/// A random stream with the few draws the model needs.
#[derive(Clone, Debug)]
pub struct Stream {
    rng: Xoshiro256PlusPlus,
}

impl Stream {
    /// Raw 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `lo..=hi` (unbiased, by rejection).
    pub fn int_inclusive(&mut self, lo: u64, hi: u64) -> u64 {
        assert!(lo <= hi, "empty range {lo}..={hi}");
        let span = hi - lo;
        if span == u64::MAX {
            return self.next_u64();
        }
        let n = span + 1;
        // Reject the top partial block so every value is equally likely.
        let zone = u64::MAX - (u64::MAX % n) - 1;
        loop {
            let x = self.next_u64();
            if x <= zone {
                return lo + x % n;
            }
        }
    }

    /// Standard normal deviate (Box-Muller, one value per pair of uniforms).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// FNV-1a 64-bit hash: stable across platforms and Rust versions (unlike `DefaultHasher`).
/// The one FNV-1a of the workspace (the `fnv` crate's hasher fed the bytes as they are, no
/// length prefix): stream names here, checkpoint checksums in elise-dynamics.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h = fnv::FnvHasher::default();
    h.write(bytes);
    h.finish()
}

/// SplitMix64 finaliser: a bijective mix of 64 bits.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_known_values() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn streams_are_reproducible_and_independent() {
        let a: Vec<u64> = (0..4).map(|_| Seed(7).stream("x").next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut x = Seed(7).stream("x");
        let mut y = Seed(7).stream("y");
        let mut z = Seed(8).stream("x");
        let (x0, y0, z0) = (x.next_u64(), y.next_u64(), z.next_u64());
        assert_ne!(x0, y0);
        assert_ne!(x0, z0);
    }

    #[test]
    fn uniform_and_normal_moments() {
        let mut s = Seed(1).stream("moments");
        let n = 200_000;
        let (mut su, mut sn, mut sn2) = (0.0, 0.0, 0.0);
        for _ in 0..n {
            let u = s.uniform();
            assert!((0.0..1.0).contains(&u));
            su += u;
            let z = s.normal();
            sn += z;
            sn2 += z * z;
        }
        let n = n as f64;
        assert!((su / n - 0.5).abs() < 0.005);
        assert!((sn / n).abs() < 0.01);
        assert!((sn2 / n - 1.0).abs() < 0.02);
    }

    #[test]
    fn int_inclusive_covers_range_evenly() {
        let mut s = Seed(3).stream("ints");
        let mut counts = [0u32; 101];
        for _ in 0..101_000 {
            counts[s.int_inclusive(0, 100) as usize] += 1;
        }
        // Each value expected 1000 times; 6 sigma ~ 190.
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "{counts:?}"
        );
    }
}
