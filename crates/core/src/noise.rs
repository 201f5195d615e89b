//! Ornstein-Uhlenbeck noise for the noisy tutor: one continuous process per visible neuron,
//! sampled on the integration grid with the exact update
//! `x <- x e^(-dt/tau) + sigma sqrt(1 - e^(-2 dt/tau)) N(0, 1)`, started from its stationary
//! distribution N(0, sigma^2). Consecutive cycles continue the same process, so every cycle
//! sees a new realisation.

use crate::Stream;

/// An Ornstein-Uhlenbeck process for `n` independent units.
#[derive(Clone, Debug)]
pub struct OuProcess {
    x: Vec<f64>,
    decay: f64,
    kick: f64,
    stream: Stream,
}

impl OuProcess {
    /// `n` units with standard deviation `sigma` and correlation time `tau_ms`, sampled every
    /// `dt_ms`, drawing from `stream`.
    ///
    /// # Panics
    /// If `sigma < 0`, `tau_ms <= 0` or `dt_ms <= 0`.
    pub fn new(n: usize, sigma: f64, tau_ms: f64, dt_ms: f64, mut stream: Stream) -> Self {
        assert!(sigma >= 0.0 && tau_ms > 0.0 && dt_ms > 0.0, "OU parameters");
        let decay = (-dt_ms / tau_ms).exp();
        let kick = sigma * (1.0 - decay * decay).sqrt();
        let x = (0..n).map(|_| sigma * stream.normal()).collect();
        Self {
            x,
            decay,
            kick,
            stream,
        }
    }

    /// Current values.
    pub fn values(&self) -> &[f64] {
        &self.x
    }

    /// Advances one step.
    pub fn step(&mut self) {
        for x in &mut self.x {
            *x = *x * self.decay + self.kick * self.stream.normal();
        }
    }

    /// Fills `out` (time-major, `steps x n`) with the next `out.len() / n` steps.
    pub fn fill(&mut self, out: &mut [f64]) {
        let n = self.x.len();
        for row in out.chunks_exact_mut(n.max(1)) {
            self.step();
            row.copy_from_slice(&self.x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Seed;

    #[test]
    fn stationary_moments_and_correlation_time() {
        let (sigma, tau, dt) = (8.0, 10.0, 0.1);
        let mut ou = OuProcess::new(4, sigma, tau, dt, Seed(1).stream("tutor-noise"));
        let steps = 400_000;
        let mut buf = vec![0.0; steps * 4];
        ou.fill(&mut buf);
        let x: Vec<f64> = buf.chunks_exact(4).map(|r| r[0]).collect();
        let mean = x.iter().sum::<f64>() / steps as f64;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / steps as f64;
        assert!(mean.abs() < 0.8, "{mean}");
        assert!((var.sqrt() - sigma).abs() < 0.5, "{}", var.sqrt());
        // Autocorrelation at lag tau is about 1/e.
        let lag = (tau / dt) as usize;
        let c = x
            .iter()
            .zip(&x[lag..])
            .map(|(a, b)| (a - mean) * (b - mean))
            .sum::<f64>()
            / (steps - lag) as f64
            / var;
        assert!((c - (-1.0f64).exp()).abs() < 0.06, "{c}");
        // Units are independent streams of the same process.
        assert_ne!(buf[0], buf[1]);
    }
}
