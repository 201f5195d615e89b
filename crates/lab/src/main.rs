//! `elise list` prints every experiment; `elise <name> [flags]` runs one as `exp-<name>` would.

use std::io::Write as _;
use std::process::ExitCode;

fn usage(out: &mut dyn std::io::Write) {
    let _ = writeln!(
        out,
        "usage: elise list            every experiment, one line each\n       elise list --names    their names only\n       elise <name> [flags]  run experiment <name> (the flags of exp-<name>; see elise <name> --help)\n"
    );
    for e in elise_lab::experiments() {
        let _ = writeln!(out, "  {:<12} {}", e.name(), e.summary());
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut stdout = std::io::stdout().lock();
    match args.first().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => {
            usage(&mut stdout);
            ExitCode::SUCCESS
        }
        Some("list") if args.get(1).map(String::as_str) == Some("--names") => {
            for e in elise_lab::experiments() {
                let _ = writeln!(stdout, "{}", e.name());
            }
            ExitCode::SUCCESS
        }
        Some("list") => {
            for e in elise_lab::experiments() {
                let _ = writeln!(stdout, "{:<12} {}", e.name(), e.summary());
            }
            ExitCode::SUCCESS
        }
        Some(name) => match elise_lab::experiment(name) {
            Some(entry) => {
                drop(stdout);
                elise_sweep::init_tracing();
                elise_sweep::report(entry.run_cli(&args[1..]))
            }
            None => {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "error: no experiment named '{name}'\n");
                usage(&mut err);
                ExitCode::from(2)
            }
        },
    }
}
