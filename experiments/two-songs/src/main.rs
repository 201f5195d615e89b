//! `exp-two-songs`: The paper's v3 two-pattern study: two visible populations, each with its own pattern, share one latent pool and are learned at once.

fn main() -> std::process::ExitCode {
    elise_sweep::main(exp_two_songs::experiment())
}
