//! `exp-completion`: The paper's v3 pattern-completion study: after training the network is reset to rest, cued with part of the pattern, and recalls the rest.

fn main() -> std::process::ExitCode {
    elise_sweep::main(exp_completion::experiment())
}
