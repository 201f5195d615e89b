//! Scaffold growth at N = 10 000 (13 visible + 9987 latent neurons, the demo's p and q) and the
//! dendritic mask at N = 2000 (sparse, density 0.1). Run with `cargo bench -p elise-scaffold`.

use criterion::{Criterion, criterion_group, criterion_main};
use elise_core::Seed;
use elise_scaffold::{Connectivity, ScaffoldParams, dendritic_mask, grow};
use std::hint::black_box;

fn bench_grow(c: &mut Criterion) {
    let params = ScaffoldParams::default();
    let mut seed = 0;
    c.bench_function("scaffold_grow_n10000", |b| {
        b.iter(|| {
            seed += 1;
            let mut rng = Seed(seed).stream("scaffold");
            black_box(grow(13, 9987, &params, &mut rng).expect("scaffold"))
        })
    });
    let sc = grow(13, 1987, &params, &mut Seed(1).stream("scaffold")).expect("scaffold");
    let sparse = Connectivity::Sparse {
        density: 0.1,
        protect_scaffold: true,
    };
    c.bench_function("dendritic_mask_n2000_density0.1", |b| {
        b.iter(|| {
            let mut rng = Seed(2).stream("connectivity");
            black_box(dendritic_mask(13, 1987, &sparse, true, &sc, &mut rng))
        })
    });
}

criterion_group!(benches, bench_grow);
criterion_main!(benches);
