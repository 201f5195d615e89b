//! `exp-force`: FORCE on the four-sine task and on the ELiSe pattern task.

fn main() -> std::process::ExitCode {
    elise_sweep::main(exp_force::experiment())
}
