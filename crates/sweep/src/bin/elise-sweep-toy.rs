//! `elise-sweep-toy` (experiment name `toy`): the harness with a tiny experiment and no
//! simulation ([`elise_sweep::testing::Toy`]). The harness's process-level tests (SIGKILL at
//! random moments, SIGTERM, the Slurm job array) run this binary; it also measures the harness's
//! own per-job costs.

fn main() -> std::process::ExitCode {
    elise_sweep::main(elise_sweep::testing::Toy)
}
