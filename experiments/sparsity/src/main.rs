//! `exp-sparsity`: The paper's Fig 4b: replay quality against dendritic connection density, with and without scaffold protection.

fn main() -> std::process::ExitCode {
    elise_sweep::main(exp_sparsity::experiment())
}
