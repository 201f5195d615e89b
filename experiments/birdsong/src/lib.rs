//! Flagship experiment: learn a pattern (default Für Elise) with ELiSe and replay it without the teacher.
//!
//! One job = one network (one seed) running the paper's demo protocol; see `elise-study` for the
//! job, its tables (`runs`, `curves`, `traces`) and the figure `birdsong.png`.

use elise_study::{Config, Study};
use elise_sweep::RunDir;

/// exp-birdsong as a value (the binary `exp-birdsong` and the registry `elise-lab` run it).
pub fn experiment() -> Study {
    Study::new("birdsong", include_str!("../configs/default.toml"))
        .summary("Flagship: learn a pattern (default Für Elise) and replay it without the teacher.")
        .quick(&[
            ("run.seeds", "2"),
            ("train.cycles", "3000"),
            ("replay.cycles", "20"),
        ])
        .figures(figures)
}

fn figures(cfg: &Config, run: &RunDir) -> anyhow::Result<()> {
    elise_study::figure::summarize(run)?;
    elise_study::figure::draw(cfg, run, "birdsong.png")
}

#[cfg(test)]
mod tests {
    use super::*;
    use elise_core::NeuronParams;
    use elise_dynamics::NetworkConfig;
    use elise_plasticity::LearningRates;

    fn default_config() -> Config {
        elise_sweep::resolve_config(&experiment(), None, &[], false, &[])
            .unwrap()
            .0
    }

    #[test]
    fn default_config_is_the_paper_demo_run() {
        let c = default_config();
        assert_eq!(
            (
                c.network.n_latent,
                c.train.cycles,
                c.train.validate_every,
                c.replay.cycles
            ),
            (50, 10_000, 20, 100)
        );
        assert_eq!(
            (c.scaffold.p, c.scaffold.q, c.scaffold.p0),
            (0.2, 0.15, 0.04)
        );
        assert_eq!(c.plasticity, LearningRates::default());
        assert_eq!(c.neuron, NeuronParams::default());
        assert_eq!(c.network, NetworkConfig::default());
        assert!(elise_study::validate(&c, &elise_core::Inputs::new()).is_ok());
    }

    fn error_of(sets: &[&str]) -> String {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        match elise_sweep::resolve_config(&experiment(), None, &sets, false, &[]) {
            Ok(_) => panic!("{sets:?} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn bad_values_name_key_and_range() {
        for (set, needle) in [
            ("scaffold.q=0", "scaffold.q"),
            ("scaffold.p=1.0", "scaffold.p"),
            ("network.n_latent=100000", "network.n_latent"),
            ("network.mode=\"dendrite\"", "network.mode"),
            ("pattern.state_ms=0.25", "pattern.state_ms"),
            ("replay.cycles=4", "replay.cycles"),
            ("network.density=0.5", "network.density"),
            ("pattern.file=\"/nonexistent/pattern.txt\"", "pattern.file"),
            (
                "replay.disruption_file=\"/nonexistent/d.txt\"",
                "replay.disruption_file",
            ),
            ("train.validate_every=0", "train.validate_every"),
            ("network.n_latnt=5", "n_latnt"),
        ] {
            let e = error_of(&[set]);
            assert!(e.contains(needle), "{set}: {e}");
        }
    }
}
