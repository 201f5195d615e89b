//! `exp-timescales`: The paper's v3 speed study: the same network learns Für Elise at half, normal and double speed, with and without delay diversity.

fn main() -> std::process::ExitCode {
    elise_sweep::main(exp_timescales::experiment())
}
