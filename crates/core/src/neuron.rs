//! Constants of the two-compartment rate neuron (docs/model.md (a)) and the rate function
//! $\varphi(u) = 1 / (1 + e^{a (b - u)})$.

use serde::{Deserialize, Serialize};

/// Neuron and integration constants. Defaults are those of the paper's CUDA code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeuronParams {
    /// Integration step in ms.
    pub dt_ms: f64,
    /// Leak reversal potential (rest) in mV.
    pub e_leak_mv: f64,
    /// Inhibitory reversal potential in mV (the excitatory reversal is 0 mV).
    pub e_inh_mv: f64,
    /// Leak conductance of soma and dendrite, 1/ms.
    pub g_leak: f64,
    /// Dendrite-to-soma coupling conductance, 1/ms.
    pub g_den: f64,
    /// Scale of the scaffold's excitatory conductance, 1/ms.
    pub g_exc0: f64,
    /// Scale of the scaffold's inhibitory conductance, 1/ms.
    pub g_inh0: f64,
    /// Slope of the rate function, 1/mV.
    pub phi_slope_per_mv: f64,
    /// Midpoint of the rate function, mV.
    pub phi_mid_mv: f64,
    /// Teacher nudging fraction `l`.
    pub nudging: f64,
}

impl Default for NeuronParams {
    fn default() -> Self {
        Self {
            dt_ms: 0.1,
            e_leak_mv: -70.0,
            e_inh_mv: -75.0,
            g_leak: 0.1,
            g_den: 2.0,
            g_exc0: 0.3,
            g_inh0: 6.0,
            phi_slope_per_mv: 0.3,
            phi_mid_mv: -58.0,
            nudging: 0.6,
        }
    }
}

impl NeuronParams {
    /// Rate function phi(u) = 1 / (1 + exp(a (b - u))).
    #[inline]
    pub fn phi(&self, u_mv: f64) -> f64 {
        1.0 / (1.0 + crate::math::exp(self.phi_slope_per_mv * (self.phi_mid_mv - u_mv)))
    }

    /// `out[i] = phi(u_mv[i])` for a whole population, vectorized where the CPU allows (same
    /// bits as [`NeuronParams::phi`]).
    pub fn phi_into(&self, u_mv: &[f64], out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                unsafe { self.phi_into_avx2(u_mv, out) };
                return;
            }
        }
        self.phi_into_body(u_mv, out);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn phi_into_avx2(&self, u_mv: &[f64], out: &mut [f64]) {
        self.phi_into_body(u_mv, out);
    }

    #[inline(always)]
    fn phi_into_body(&self, u_mv: &[f64], out: &mut [f64]) {
        assert_eq!(u_mv.len(), out.len());
        for (o, &u) in out.iter_mut().zip(u_mv) {
            *o = self.phi(u);
        }
    }

    /// [`NeuronParams::phi`] on four lanes with AVX2 (the same bits in every lane).
    ///
    /// # Safety
    /// The CPU supports AVX2 (callers compiled with AVX2 enabled may call it without `unsafe`).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[inline]
    pub fn phi4(&self, u_mv: std::arch::x86_64::__m256d) -> std::arch::x86_64::__m256d {
        self.phi4x([u_mv])[0]
    }

    /// [`NeuronParams::phi4`] on `K` vectors at once (interleaved, see
    /// [`crate::math::exp4x`]).
    ///
    /// # Safety
    /// The CPU supports AVX2 (callers compiled with AVX2 enabled may call it without `unsafe`).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[inline]
    pub fn phi4x<const K: usize>(
        &self,
        u_mv: [std::arch::x86_64::__m256d; K],
    ) -> [std::arch::x86_64::__m256d; K] {
        use std::arch::x86_64::*;
        let (slope, mid) = (
            _mm256_set1_pd(self.phi_slope_per_mv),
            _mm256_set1_pd(self.phi_mid_mv),
        );
        let e = crate::math::exp4x(u_mv.map(|u| _mm256_mul_pd(slope, _mm256_sub_pd(mid, u))));
        let one = _mm256_set1_pd(1.0);
        e.map(|e| _mm256_div_pd(one, _mm256_add_pd(one, e)))
    }

    /// Resting rate phi(E_L).
    pub fn phi_rest(&self) -> f64 {
        self.phi(self.e_leak_mv)
    }

    /// Coefficient of the presynaptic trace input, dt g_L g_D / (g_L + g_D).
    pub fn trace_coefficient(&self) -> f64 {
        self.dt_ms * self.g_leak * self.g_den / (self.g_leak + self.g_den)
    }

    /// Teacher conductances (g_E, g_I) in 1/ms that make `target_mv` the matching potential
    /// E_I g_I / (g_E + g_I) (E_E = 0). Their sum is (g_L + g_D) l / (1 - l) for every target.
    pub fn teacher_conductances(&self, target_mv: f64) -> (f64, f64) {
        let l = self.nudging;
        let g = self.g_leak + self.g_den;
        let e_i = self.e_inh_mv;
        let g_exc = g * l * (e_i - target_mv) / ((1.0 - l) * e_i);
        let g_inh = g * l * target_mv / ((1.0 - l) * e_i);
        (g_exc, g_inh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phi_hand_values() {
        let p = NeuronParams::default();
        // phi(b) = 1/2; phi(E_L) = 1/(1+exp(3.6)).
        assert_eq!(p.phi(-58.0), 0.5);
        assert!((p.phi_rest() - 0.026_596_993_576_865_863).abs() < 1e-15);
        assert!((p.phi(-50.0) - 1.0 / (1.0 + (-2.4f64).exp())).abs() < 1e-15);
        assert!((p.phi(-50.0) - 0.916_827_303_506_6).abs() < 1e-12);
    }

    #[test]
    fn phi_into_equals_phi() {
        let p = NeuronParams::default();
        let u: Vec<f64> = (0..101).map(|k| -90.0 + 0.5 * k as f64).collect();
        let mut out = vec![0.0; u.len()];
        p.phi_into(&u, &mut out);
        assert!(u.iter().zip(&out).all(|(&u, &r)| r == p.phi(u)));
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn phi4_equals_phi() {
        use std::arch::x86_64::*;
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let p = NeuronParams::default();
        for k in 0..2_000 {
            let u: [f64; 4] = std::array::from_fn(|l| -120.0 + 0.031 * (4 * k + l) as f64);
            let mut out = [0.0; 4];
            // SAFETY: AVX2 was detected above; `u` and `out` have 4 entries.
            unsafe { _mm256_storeu_pd(out.as_mut_ptr(), p.phi4(_mm256_loadu_pd(u.as_ptr()))) };
            for (&u, &r) in u.iter().zip(&out) {
                assert_eq!(r.to_bits(), p.phi(u).to_bits(), "phi4({u})");
            }
        }
    }

    #[test]
    fn teacher_conductances_hand_values() {
        let p = NeuronParams::default();
        let (ge, gi) = p.teacher_conductances(-70.0);
        assert!((ge - 0.21).abs() < 1e-12, "{ge}");
        assert!((gi - 2.94).abs() < 1e-12, "{gi}");
        for um in [-70.0, -65.3, -50.0004509, -58.0] {
            let (ge, gi) = p.teacher_conductances(um);
            assert!((ge + gi - 3.15).abs() < 1e-12);
            // Matching potential recovers the target.
            assert!((p.e_inh_mv * gi / (ge + gi) - um).abs() < 1e-12);
        }
    }

    #[test]
    fn trace_coefficient_hand_value() {
        let p = NeuronParams::default();
        // 0.1 * 0.1 * 2 / 2.1
        assert!((p.trace_coefficient() - 0.009_523_809_523_809_525).abs() < 1e-17);
    }
}
