//! Every elise-lab experiment by name: the registry, and the `elise` command that lists and runs them.
//!
//! [`experiments`] lists every registered experiment as an [`Entry`] value (name, summary, its
//! command line); `elise list` prints them, `elise <name> [flags]` runs one exactly as its own
//! binary `exp-<name>` would. `scripts/reproduce_all` and other front ends take the names from
//! here.

pub use elise_sweep::Entry;

pub mod config_reference;

static EXPERIMENTS: [Entry; 12] = [
    Entry::of::<exp_birdsong::Birdsong>(
        "Flagship: learn a pattern (default Für Elise) and replay it without the teacher.",
    ),
    Entry::of::<exp_size::Size>("Fig 2: replay quality against the number of latent neurons."),
    Entry::of::<exp_reservoir::Reservoir>(
        "Fig 3: ELiSe against its reservoir and soma-only ablations.",
    ),
    Entry::of::<exp_scaffold::Scaffold>("Fig 4a: replay quality over the scaffold's p and q."),
    Entry::of::<exp_sparsity::Sparsity>(
        "Fig 4b: replay quality against dendritic density, with and without protection.",
    ),
    Entry::of::<exp_disruption::DisruptionExperiment>(
        "Fig 5: replay while visible somas are clamped (four disruptions and a control).",
    ),
    Entry::of::<exp_timescales::Timescales>(
        "v3: half, normal and double speed, with and without delay diversity.",
    ),
    Entry::of::<exp_two_songs::TwoSongs>("v3: two patterns learned at once by one latent pool."),
    Entry::of::<exp_completion::Completion>("v3: recall the rest of the pattern from a cue."),
    Entry::of::<exp_noisy_tutor::NoisyTutor>("v3: learning from a noisy teacher."),
    Entry::of::<exp_force::ForceExperiment>(
        "FORCE: four sines, then the ELiSe pattern task with the shared protocol.",
    ),
    Entry::of::<exp_compare::Compare>(
        "Head to head: ELiSe, its reservoir mode, echo-state networks and FORCE over sizes.",
    ),
];

/// Every registered experiment, in the order of the paper.
pub fn experiments() -> &'static [Entry] {
    &EXPERIMENTS
}

/// The experiment named `name` (as in `exp-<name>`).
pub fn experiment(name: &str) -> Option<&'static Entry> {
    EXPERIMENTS.iter().find(|e| e.name == name)
}
