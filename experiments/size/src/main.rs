//! `exp-size`: The paper's Fig 2: replay quality against the number of latent neurons.

fn main() -> std::process::ExitCode {
    elise_sweep::main(exp_size::experiment())
}
