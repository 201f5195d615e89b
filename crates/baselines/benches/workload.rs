//! Fixed workloads for the head-to-head scripts in `scripts/bench/` (not a criterion bench):
//!
//! - `esn N DENSITY STEPS`: an echo-state reservoir (spectral radius 0.9, leak 0.3) driven by a
//!   13-dimensional input (sines) for STEPS steps, states only (no readout training);
//! - `force N STEPS`: FORCE with one output (a sine of period 100 steps), RLS on every 2nd step,
//!   J with connection probability 0.1, g = 1.5.
//!
//! Prints one line `seconds <s> checksum <x>` (the time of the stepping loop only).
//! `cargo bench -p elise-baselines --bench workload -- esn 1000 0.1 10000`

use elise_baselines::{EsnCore, EsnParams, ForceCore, ForceParams};
use elise_core::Seed;
use std::time::Instant;

fn arg<T: std::str::FromStr>(args: &[String], i: usize, name: &str) -> T {
    args.get(i)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("argument {i} ({name}) missing or invalid"))
}

fn esn_workload(n: usize, density: f64, steps: usize) -> (f64, f64) {
    let p = EsnParams {
        n_reservoir: n,
        density,
        spectral_radius: 0.9,
        leak_rate: 0.3,
        ..EsnParams::default()
    };
    let mut esn = EsnCore::new(&p, 13, 13, Seed(1)).expect("esn");
    let inputs: Vec<f64> = (0..steps * 13)
        .map(|k| ((k / 13) as f64 * 0.05 + (k % 13) as f64).sin())
        .collect();
    let start = Instant::now();
    for d in inputs.chunks_exact(13) {
        esn.update(d);
    }
    (
        start.elapsed().as_secs_f64(),
        esn.state().iter().sum::<f64>(),
    )
}

fn force_workload(n: usize, steps: usize) -> (f64, f64) {
    let p = ForceParams {
        n,
        update_every: 2,
        ..ForceParams::default()
    };
    let mut force = ForceCore::new(&p, 1, Seed(1)).expect("force");
    let start = Instant::now();
    for k in 0..steps {
        let f = [(k as f64 * std::f64::consts::TAU / 100.0).sin()];
        force.step(Some(&f));
    }
    (start.elapsed().as_secs_f64(), force.output()[0])
}

#[allow(clippy::print_stdout)]
fn main() {
    // `cargo bench` passes `--bench`; ignore flags.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let (seconds, checksum) = match args.first().map(String::as_str) {
        Some("esn") => esn_workload(
            arg(&args, 1, "N"),
            arg(&args, 2, "density"),
            arg(&args, 3, "steps"),
        ),
        Some("force") => force_workload(arg(&args, 1, "N"), arg(&args, 2, "steps")),
        None => {
            // `cargo test --all-targets` runs this target without arguments: a tiny run of
            // both workloads, so the scripts' entry points stay working.
            let (_, esn) = esn_workload(50, 0.2, 200);
            let (_, force) = force_workload(50, 200);
            assert!(esn.is_finite() && force.is_finite(), "{esn} {force}");
            println!("workload smoke: esn checksum {esn:.6}, force output {force:.6}");
            return;
        }
        Some(other) => {
            panic!(
                "unknown workload '{other}'; usage: workload esn N DENSITY STEPS | workload force N STEPS"
            )
        }
    };
    println!("seconds {seconds:.6} checksum {checksum:.6}");
}
