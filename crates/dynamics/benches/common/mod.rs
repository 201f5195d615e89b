//! The demo network shared by the step benches.

use elise_core::{NeuronParams, Pattern, Seed, Teacher};
use elise_dynamics::{ConnectivityKind, Network, NetworkConfig, NetworkSpec};
use elise_plasticity::{LayoutChoice, LearningRates};
use elise_scaffold::ScaffoldParams;

/// The demo network with `n` neurons (13 visible; sparse dendrites of `density` below 1) in
/// weight layout `layout`, after the initial transient (2500 steps), and its synapse count.
pub fn demo_network(n: usize, density: f64, layout: LayoutChoice) -> (Network, usize) {
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
    let mut net = Network::with_layout(&spec, &params, &LearningRates::default(), teacher, layout)
        .expect("network");
    for k in 0..2500 {
        net.step(k, 1.0);
    }
    (net, synapses)
}
