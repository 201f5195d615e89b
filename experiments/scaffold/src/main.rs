//! `exp-scaffold`: The paper's Fig 4a: replay quality and scaffold size over the scaffold parameters p and q.

fn main() -> std::process::ExitCode {
    elise_sweep::main(exp_scaffold::experiment())
}
