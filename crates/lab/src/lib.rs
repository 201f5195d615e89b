//! Every elise-lab experiment by name: the registry, and the `elise` command that lists and runs them.
//!
//! [`experiments`] lists every registered experiment as an [`Entry`] value (name, summary, its
//! command line); `elise list` prints them, `elise <name> [flags]` runs one exactly as its own
//! binary `exp-<name>` would. `scripts/reproduce_all` and other front ends take the names from
//! here.

pub use elise_sweep::Entry;
use std::sync::LazyLock;

pub mod config_reference;

/// Every registered experiment, in the order of the paper (built once).
static EXPERIMENTS: LazyLock<Vec<Entry>> = LazyLock::new(|| {
    vec![
        Entry::new(exp_birdsong::experiment()),
        Entry::new(exp_size::experiment()),
        Entry::new(exp_reservoir::experiment()),
        Entry::new(exp_scaffold::experiment()),
        Entry::new(exp_sparsity::experiment()),
        Entry::new(exp_disruption::experiment()),
        Entry::new(exp_timescales::experiment()),
        Entry::new(exp_two_songs::experiment()),
        Entry::new(exp_completion::experiment()),
        Entry::new(exp_noisy_tutor::experiment()),
        Entry::new(exp_force::experiment()),
        Entry::new(exp_compare::experiment()),
    ]
});

/// Every registered experiment, in the order of the paper.
pub fn experiments() -> &'static [Entry] {
    &EXPERIMENTS
}

/// The experiment named `name` (as in `exp-<name>`).
pub fn experiment(name: &str) -> Option<&'static Entry> {
    EXPERIMENTS.iter().find(|e| e.name() == name)
}
