//! `exp-noisy-tutor`: The paper's v3 noisy-target study: the teacher's target potential carries Ornstein-Uhlenbeck noise during training; replay is scored against the clean pattern.

fn main() -> std::process::ExitCode {
    elise_sweep::main(exp_noisy_tutor::experiment())
}
