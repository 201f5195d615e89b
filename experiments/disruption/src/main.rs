//! `exp-disruption`: the paper's Fig 5, replay under disruption.

fn main() -> std::process::ExitCode {
    elise_sweep::main(exp_disruption::experiment())
}
