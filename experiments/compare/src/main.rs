//! `exp-compare`: ELiSe, ELiSe-reservoir, echo-state networks and FORCE head to head.

fn main() -> std::process::ExitCode {
    elise_sweep::main(exp_compare::experiment())
}
