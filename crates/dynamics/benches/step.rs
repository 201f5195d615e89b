//! Cost of one simulation step (plasticity on, f64) with dense all-to-all dendrites at
//! N = 63, 128, 256, 512, 1024, 2048 and with sparse dendrites (density 0.05, 0.1, 0.3; the CSR
//! layout and the dense masked layout, between which `Network::new` picks by
//! `elise_plasticity::csr_max_density`), plus
//! the fused weight update + dendritic drive alone. Run with `cargo bench -p elise-dynamics`;
//! `--bench step -- step_dense/63` for one case. Throughput is reported per synapse.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use elise_plasticity::{Dendrites, Layout, LayoutChoice, LearningRates, PlasticRows};
use std::hint::black_box;
use std::time::Duration;

mod common;
use common::demo_network as network;

fn bench_net(c: &mut Criterion, group: &str, id: String, n: usize, density: f64, l: LayoutChoice) {
    let (mut net, synapses) = network(n, density, l);
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(synapses as u64));
    if n >= 512 {
        g.sample_size(20).measurement_time(Duration::from_secs(4));
    }
    let mut t = 0;
    g.bench_function(BenchmarkId::from_parameter(id), |b| {
        b.iter(|| {
            net.step(t, 1.0);
            t = (t + 1) % 2500;
        })
    });
    g.finish();
}

fn bench_dense(c: &mut Criterion) {
    for n in [63usize, 128, 256, 512, 1024, 2048] {
        bench_net(c, "step_dense", n.to_string(), n, 1.0, LayoutChoice::Auto);
    }
}

fn bench_sparse(c: &mut Criterion) {
    for n in [63usize, 256, 1024, 2048] {
        for density in [0.05, 0.1, 0.3] {
            let id = format!("{n}/{density}");
            let csr = LayoutChoice::Force(Layout::Csr);
            bench_net(c, "step_sparse_csr", id.clone(), n, density, csr);
            let masked = LayoutChoice::Force(Layout::Masked);
            bench_net(c, "step_sparse_masked", id, n, density, masked);
        }
    }
}

/// The fused kernel alone: structured (all-to-all, the default), masked dense, and the previous
/// free function on dense matrices.
fn bench_kernel(c: &mut Criterion) {
    let mut group = c.benchmark_group("update_and_drive");
    for n in [63usize, 256, 1024] {
        let stride = n.next_multiple_of(8);
        let mask: Vec<bool> = (0..n * n).map(|k| k / n != k % n).collect();
        let w: Vec<f64> = (0..n * n)
            .map(|k| if mask[k] { (k % 17) as f64 * 0.01 } else { 0.0 })
            .collect();
        let err: Vec<f64> = (0..n).map(|k| (k % 5) as f64 * 1e-3).collect();
        let mut tr = vec![0.01; n];
        let mut rates = vec![0.1; n];
        tr.resize(stride, 0.0);
        rates.resize(stride, 0.0);
        let mut out = vec![0.0; n];
        group.throughput(Throughput::Elements((n * (n - 1)) as u64));
        for layout in [Layout::Structured, Layout::Masked] {
            let r = LearningRates::default();
            let l = LayoutChoice::Force(layout);
            let mut d = Dendrites::new(&mask, &w, n, 13, &r, PlasticRows::All, l);
            group.bench_with_input(BenchmarkId::new(format!("{layout:?}"), n), &n, |b, _| {
                b.iter(|| d.update_and_drive(&err, &tr, &rates, black_box(&mut out)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_dense, bench_sparse, bench_kernel);
criterion_main!(benches);
