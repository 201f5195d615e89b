//! Random networks from a config and a seed (docs/model.md (b)-(d)).
//!
//! Each component draws from its own named stream of the job's seed: `"scaffold"`,
//! `"connectivity"` (sparse masks), `"weights"` (drawn for every ordered pair i != j, row-major,
//! whether or not the synapse is kept, so density sweeps share weights), `"delays"`.

use elise_core::{NeuronParams, Seed};
use elise_scaffold::{Connectivity, Scaffold, ScaffoldError, ScaffoldParams};
use serde::{Deserialize, Serialize};

/// Which synapses learn and which neurons have dendrites.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// All dendritic synapses plastic (the paper's "with dendrite" mode).
    Elise,
    /// Only synapses onto visible neurons plastic; the latent pool stays at its random init.
    Reservoir,
    /// Only visible neurons have a dendrite (latent neurons are soma-only).
    SomaOnly,
}

/// Distribution of the initial dendritic weights.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WeightInit {
    /// Normal with `weight_init_mean` and `weight_init_std` (the CUDA code).
    #[default]
    Normal,
    /// Uniform with the same mean and standard deviation, on mean ± sqrt(3) std (the lab
    /// fork's v3 parameter files draw uniform weights).
    Uniform,
}

/// Dendritic connectivity families (docs/model.md (d)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectivityKind {
    AllToAll,
    Sparse,
    Innervation,
}

/// The `[network]` table of an experiment config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    pub n_latent: usize,
    pub mode: Mode,
    pub connectivity: ConnectivityKind,
    /// Kept fraction of dendritic synapses for `sparse`.
    pub density: f64,
    /// For `sparse`: keep the dendritic synapse parallel to each scaffold edge.
    pub protect_scaffold: bool,
    /// For `innervation`: kept fraction of visible -> latent synapses.
    pub innervation_ratio: f64,
    pub weight_init_mean: f64,
    pub weight_init_std: f64,
    /// Normal (default) or uniform initial weights.
    #[serde(default)]
    pub weight_init: WeightInit,
    /// Dendritic and excitatory delays are uniform on the grid of dt in [min, max] ms.
    pub delay_min_ms: f64,
    pub delay_max_ms: f64,
    /// Extra delay of inhibition over excitation from the same teacher.
    pub inh_extra_delay_ms: f64,
    /// Control without delay diversity: every dendritic and excitatory delay is the mean of
    /// the distribution, `(delay_min_ms + delay_max_ms) / 2` (rounded to the dt grid); the
    /// random streams are drawn as usual, so everything else is the same network.
    #[serde(default)]
    pub uniform_delays: bool,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            n_latent: 50,
            mode: Mode::Elise,
            connectivity: ConnectivityKind::AllToAll,
            density: 1.0,
            protect_scaffold: false,
            innervation_ratio: 1.0,
            weight_init_mean: 0.0,
            weight_init_std: 0.5,
            weight_init: WeightInit::Normal,
            delay_min_ms: 5.0,
            delay_max_ms: 15.0,
            inh_extra_delay_ms: 25.0,
            uniform_delays: false,
        }
    }
}

/// An explicit network: everything random already drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkSpec {
    pub n_visible: usize,
    pub n_latent: usize,
    pub mode: Mode,
    /// Row-major `[post * n + pre]`.
    pub mask: Vec<bool>,
    pub w_init: Vec<f64>,
    pub delay_den_steps: Vec<usize>,
    pub delay_exc_steps: Vec<usize>,
    pub delay_inh_steps: Vec<usize>,
    pub scaffold: Scaffold,
}

impl NetworkSpec {
    /// Draws a network for `n_visible` visible neurons from `cfg` and `seed`.
    pub fn generate(
        n_visible: usize,
        cfg: &NetworkConfig,
        scaffold: &ScaffoldParams,
        params: &NeuronParams,
        seed: Seed,
    ) -> Result<Self, ScaffoldError> {
        let n_latent = cfg.n_latent;
        let n = n_visible + n_latent;
        let sc = elise_scaffold::grow(n_visible, n_latent, scaffold, &mut seed.stream("scaffold"))?;
        let connectivity = match cfg.connectivity {
            ConnectivityKind::AllToAll => Connectivity::AllToAll,
            ConnectivityKind::Sparse => Connectivity::Sparse {
                density: cfg.density,
                protect_scaffold: cfg.protect_scaffold,
            },
            ConnectivityKind::Innervation => Connectivity::Innervation {
                ratio: cfg.innervation_ratio,
            },
        };
        let latent_dendrites = cfg.mode != Mode::SomaOnly;
        let mask = elise_scaffold::dendritic_mask(
            n_visible,
            n_latent,
            &connectivity,
            latent_dendrites,
            &sc,
            &mut seed.stream("connectivity"),
        );
        let mut weights = seed.stream("weights");
        let mut w_init = vec![0.0; n * n];
        for post in 0..n {
            for pre in 0..n {
                if pre != post {
                    let z = match cfg.weight_init {
                        WeightInit::Normal => weights.normal(),
                        WeightInit::Uniform => 3f64.sqrt() * (2.0 * weights.uniform() - 1.0),
                    };
                    let w = cfg.weight_init_mean + cfg.weight_init_std * z;
                    if mask[post * n + pre] {
                        w_init[post * n + pre] = w;
                    }
                }
            }
        }
        let mut delays = seed.stream("delays");
        let lo = (cfg.delay_min_ms / params.dt_ms).round() as u64;
        let hi = (cfg.delay_max_ms / params.dt_ms).round() as u64;
        let extra = (cfg.inh_extra_delay_ms / params.dt_ms).round() as usize;
        let mut delay_den_steps: Vec<usize> = (0..n)
            .map(|_| delays.int_inclusive(lo, hi) as usize)
            .collect();
        let mut delay_exc_steps: Vec<usize> = (0..n)
            .map(|_| delays.int_inclusive(lo, hi) as usize)
            .collect();
        if cfg.uniform_delays {
            let mean = ((lo + hi) as f64 / 2.0).round() as usize;
            delay_den_steps.fill(mean);
            delay_exc_steps.fill(mean);
        }
        let delay_inh_steps = delay_exc_steps.iter().map(|d| d + extra).collect();
        Ok(Self {
            n_visible,
            n_latent,
            mode: cfg.mode,
            mask,
            w_init,
            delay_den_steps,
            delay_exc_steps,
            delay_inh_steps,
            scaffold: sc,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_network_follows_the_spec() {
        let p = NeuronParams::default();
        let cfg = NetworkConfig::default();
        let a = NetworkSpec::generate(13, &cfg, &ScaffoldParams::default(), &p, Seed(5)).unwrap();
        let b = NetworkSpec::generate(13, &cfg, &ScaffoldParams::default(), &p, Seed(5)).unwrap();
        assert_eq!(a, b);
        let n = 63;
        assert_eq!(a.mask.iter().filter(|&&m| m).count(), n * (n - 1));
        assert!(
            a.delay_den_steps
                .iter()
                .chain(&a.delay_exc_steps)
                .all(|d| (50..=150).contains(d))
        );
        assert!(
            a.delay_exc_steps
                .iter()
                .zip(&a.delay_inh_steps)
                .all(|(e, i)| i - e == 250)
        );
        let ws: Vec<f64> = a.w_init.iter().copied().filter(|&w| w != 0.0).collect();
        let mean = ws.iter().sum::<f64>() / ws.len() as f64;
        let sd = (ws.iter().map(|w| (w - mean).powi(2)).sum::<f64>() / ws.len() as f64).sqrt();
        assert!(mean.abs() < 0.03 && (sd - 0.5).abs() < 0.03, "{mean} {sd}");
        // Sparse networks keep the same weights on the synapses they keep.
        let sparse = NetworkConfig {
            connectivity: ConnectivityKind::Sparse,
            density: 0.3,
            ..cfg.clone()
        };
        let s =
            NetworkSpec::generate(13, &sparse, &ScaffoldParams::default(), &p, Seed(5)).unwrap();
        let kept = s.mask.iter().filter(|&&m| m).count() as f64 / (n * (n - 1)) as f64;
        assert!((kept - 0.3).abs() < 0.03);
        assert!((0..n * n).all(|k| !s.mask[k] || s.w_init[k] == a.w_init[k]));
        assert_eq!(s.delay_den_steps, a.delay_den_steps);
        // Uniform delays: the same network with every delay at the mean (10 ms).
        let uniform = NetworkConfig {
            uniform_delays: true,
            ..cfg.clone()
        };
        let u =
            NetworkSpec::generate(13, &uniform, &ScaffoldParams::default(), &p, Seed(5)).unwrap();
        assert!(
            u.delay_den_steps
                .iter()
                .chain(&u.delay_exc_steps)
                .all(|&d| d == 100)
        );
        assert!(u.delay_inh_steps.iter().all(|&d| d == 350));
        assert_eq!(
            (&u.w_init, &u.mask, &u.scaffold),
            (&a.w_init, &a.mask, &a.scaffold)
        );
        // Soma-only: latent rows empty.
        let so = NetworkConfig {
            mode: Mode::SomaOnly,
            ..cfg
        };
        let s = NetworkSpec::generate(13, &so, &ScaffoldParams::default(), &p, Seed(5)).unwrap();
        assert!(s.mask[13 * n..].iter().all(|&m| !m));
    }
}
