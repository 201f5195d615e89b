//! A fixed workload for instruction counting (not a criterion bench): builds the demo network
//! (13 visible + `n - 13` latent, optional sparse density), leaves the initial transient and
//! runs a number of steps with plasticity on. Under callgrind, count only the measured steps:
//!
//! ```sh
//! cargo bench -p elise-dynamics --bench step_profile --no-run   # prints the binary path
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*Network::step*' \
//!     <binary> [n=63] [steps=10000] [density=1.0] [auto|masked]
//! ```
//! Instructions per step = callgrind's total / steps (the 2500 transient steps of
//! `common::demo_network` are counted too: divide by steps + 2500). Run without valgrind it
//! prints wall time per step, overall and over segments of 2000 steps (min / p10 / median).

mod common;

use elise_plasticity::{Layout, LayoutChoice};

fn main() {
    // `cargo bench` passes `--bench`; ignore flags.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let n: usize = args.first().map_or(63, |s| s.parse().expect("n"));
    let steps: usize = args.get(1).map_or(10_000, |s| s.parse().expect("steps"));
    let density: f64 = args.get(2).map_or(1.0, |s| s.parse().expect("density"));
    // Optional 4th argument `masked` forces the dense masked layout (for comparison);
    // `lockstep` steps two networks alternately (seed batching) and reports the cost per step
    // of one network.
    let layout = match args.get(3).map(String::as_str) {
        Some("masked") => LayoutChoice::Force(Layout::Masked),
        _ => LayoutChoice::Auto,
    };
    if args.get(3).map(String::as_str) == Some("lockstep") {
        lockstep(n, steps, density);
        return;
    }
    let (mut net, synapses) = common::demo_network(n, density, layout);
    let start = std::time::Instant::now();
    let [min, p10, median] = segments(steps, 1, |k| net.step(k % 2500, 1.0));
    let secs = start.elapsed().as_secs_f64();
    // FNV-1a of the state's bits, to compare versions that must give the same results.
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for x in net
        .weights()
        .iter()
        .chain(net.u())
        .chain(net.v())
        .chain(net.rate_star())
    {
        hash = (hash ^ x.to_bits()).wrapping_mul(0x0100_0000_01b3);
    }
    eprintln!(
        "n {n} density {density}: {:.3} us/step over {steps} steps (state hash {hash:016x}), layout {:?}, {} synapses, {:.2} ns/synapse, state {} bytes",
        secs * 1e6 / steps as f64,
        net.layout(),
        synapses,
        secs * 1e9 / steps as f64 / synapses as f64,
        net.memory_bytes()
    );
    eprintln!("segments of 2000 steps: min {min:.3} / p10 {p10:.3} / median {median:.3} us/step");
}

/// Runs `step(k)` for k in 0..steps, timed in segments of 2000 steps (~4 ms, below a scheduler
/// time slice): on a shared machine the fastest segments show the step's own cost, the median
/// includes the neighbours'. Returns min / p10 / median µs per network step (`per_call`
/// network steps per call).
fn segments(steps: usize, per_call: usize, mut step: impl FnMut(usize)) -> [f64; 3] {
    let mut times = Vec::new();
    for lo in (0..steps).step_by(2000) {
        let hi = (lo + 2000).min(steps);
        let t0 = std::time::Instant::now();
        for k in lo..hi {
            step(k);
        }
        times.push(t0.elapsed().as_secs_f64() * 1e6 / (per_call * (hi - lo)) as f64);
    }
    times.sort_by(f64::total_cmp);
    [0.0, 0.1, 0.5].map(|q| times[((times.len() - 1) as f64 * q) as usize])
}

/// Two networks stepped alternately in one thread (what "batching seeds in lockstep" does to
/// the caches): segments of 2000 steps of each, per network step.
fn lockstep(n: usize, steps: usize, density: f64) {
    let (mut a, _) = common::demo_network(n, density, LayoutChoice::Auto);
    let (mut b, _) = common::demo_network(n, density, LayoutChoice::Auto);
    let [min, p10, median] = segments(steps, 2, |k| {
        a.step(k % 2500, 1.0);
        b.step(k % 2500, 1.0);
    });
    eprintln!(
        "lockstep, two networks of n {n}: per network step, segments min {min:.3} / p10 {p10:.3} / median {median:.3} us"
    );
}
