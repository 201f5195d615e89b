//! A fixed workload for instruction counting (not a criterion bench): builds the demo network
//! (13 visible + `n - 13` latent, optional sparse density), leaves the initial transient and
//! runs a number of steps with plasticity on. Under callgrind, count only the measured steps:
//!
//! ```sh
//! cargo bench -p elise-dynamics --bench step_profile --no-run   # prints the binary path
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*Network::step*' \
//!     <binary> [n=63] [steps=10000] [density=1.0] [auto|masked]
//! ```
//! Instructions per step = callgrind's total / steps. Run without valgrind it prints wall time.

use elise_core::{NeuronParams, Pattern, Seed, Teacher};
use elise_dynamics::{ConnectivityKind, Network, NetworkConfig, NetworkSpec};
use elise_plasticity::{Layout, LayoutChoice, LearningRates};
use elise_scaffold::ScaffoldParams;

fn main() {
    // `cargo bench` passes `--bench`; ignore flags.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let n: usize = args.first().map_or(63, |s| s.parse().expect("n"));
    let steps: usize = args.get(1).map_or(10_000, |s| s.parse().expect("steps"));
    let density: f64 = args.get(2).map_or(1.0, |s| s.parse().expect("density"));
    let params = NeuronParams::default();
    let pattern = Pattern::fuer_elise();
    let cfg = NetworkConfig {
        n_latent: n - pattern.n_neurons(),
        connectivity: if density < 1.0 {
            ConnectivityKind::Sparse
        } else {
            ConnectivityKind::AllToAll
        },
        density,
        ..NetworkConfig::default()
    };
    let spec = NetworkSpec::generate(
        pattern.n_neurons(),
        &cfg,
        &ScaffoldParams::default(),
        &params,
        Seed(1),
    )
    .expect("network");
    let synapses = spec.mask.iter().filter(|&&m| m).count();
    let teacher = Teacher::new(&pattern, &params, 100);
    // Optional 4th argument `masked` forces the dense masked layout (for comparison).
    let layout = match args.get(3).map(String::as_str) {
        Some("masked") => LayoutChoice::Force(Layout::Masked),
        _ => LayoutChoice::Auto,
    };
    let mut net = Network::with_layout(&spec, &params, &LearningRates::default(), teacher, layout)
        .expect("net");
    for k in 0..2500 {
        net.step(k, 1.0);
    }
    let start = std::time::Instant::now();
    for k in 0..steps {
        net.step(k % 2500, 1.0);
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "n {n} density {density}: {:.3} us/step over {steps} steps (u[0] = {}), layout {:?}, {} synapses, {:.2} ns/synapse, state {} bytes",
        secs * 1e6 / steps as f64,
        net.u()[0],
        net.layout(),
        synapses,
        secs * 1e9 / steps as f64 / synapses as f64,
        net.memory_bytes()
    );
}
