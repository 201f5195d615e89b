//! `exp-birdsong`: learn a pattern (default Für Elise) with ELiSe and replay it without the teacher.

fn main() -> std::process::ExitCode {
    elise_sweep::main(exp_birdsong::experiment())
}
