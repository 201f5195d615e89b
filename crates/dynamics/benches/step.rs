//! Cost of one simulation step (all-to-all dendrites, plasticity on, f64) at N = 63, 256, 1024
//! neurons, plus the fused weight-update + mat-vec kernel alone. Run with `cargo bench -p elise-dynamics`.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use elise_core::{NeuronParams, Pattern, Seed, Teacher};
use elise_dynamics::{Network, NetworkConfig, NetworkSpec};
use elise_plasticity::LearningRates;
use elise_scaffold::ScaffoldParams;
use std::hint::black_box;

fn network(n_latent: usize) -> Network {
    let params = NeuronParams::default();
    let pattern = Pattern::fuer_elise();
    let cfg = NetworkConfig {
        n_latent,
        ..NetworkConfig::default()
    };
    let spec = NetworkSpec::generate(
        pattern.n_neurons(),
        &cfg,
        &ScaffoldParams::default(),
        &params,
        Seed(1),
    )
    .unwrap();
    let teacher = Teacher::new(&pattern, &params, 100);
    let mut net = Network::new(&spec, &params, &LearningRates::default(), teacher).unwrap();
    // Leave the initial transient so that the rates are realistic.
    for k in 0..5000 {
        net.step(k % 2500, 1.0);
    }
    net
}

fn bench_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("step");
    for n in [63usize, 256, 1024] {
        let mut net = network(n - 13);
        let mut t = 0;
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                net.step(t, 1.0);
                t = (t + 1) % 2500;
            })
        });
    }
    group.finish();
}

fn bench_kernel(c: &mut Criterion) {
    let mut group = c.benchmark_group("update_and_drive");
    for n in [63usize, 256, 1024] {
        let mut w: Vec<f64> = (0..n * n).map(|k| (k % 17) as f64 * 0.01).collect();
        let eta = vec![1e-3; n * n];
        let err: Vec<f64> = (0..n).map(|k| (k % 5) as f64 * 1e-3).collect();
        let tr = vec![0.01; n];
        let rates = vec![0.1; n];
        let mut out = vec![0.0; n];
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                elise_plasticity::update_and_drive(
                    black_box(&mut w),
                    &eta,
                    &err,
                    &tr,
                    &rates,
                    &mut out,
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_step, bench_kernel);
criterion_main!(benches);
