//! `exp-reservoir`: the paper's Fig 3, ELiSe against its reservoir and soma-only ablations.

fn main() -> std::process::ExitCode {
    elise_sweep::main(exp_reservoir::experiment())
}
