//! Cost of one step of each baseline at N = 1000: FORCE with an RLS update on every step
//! (`update_every = 1`) and free, the ESN teacher-forced with the ridge readout (sample
//! accumulation, a rank-64 block update every 64th step) and with RLS, and free.
//! Run with `cargo bench -p elise-baselines`.

use criterion::{Criterion, criterion_group, criterion_main};
use elise_baselines::{Esn, EsnParams, Force, ForceParams, Readout};
use elise_core::{Model, NeuronParams, Pattern, Seed, Teacher};
use std::hint::black_box;

/// Für Elise at dt = 1 ms, 10 ms per state (13 outputs, 250-step cycle).
fn teacher() -> Teacher {
    let params = NeuronParams {
        dt_ms: 1.0,
        ..Default::default()
    };
    Teacher::new(&Pattern::fuer_elise(), &params, 10)
}

fn run(c: &mut Criterion, name: &str, model: &mut dyn Model, lambda: f64) {
    let len = teacher().cycle_len_steps();
    let mut t = 0;
    // Leave the initial transient (and, for the ESN, the washout).
    for _ in 0..600 {
        model.step(t, lambda);
        t = (t + 1) % len;
    }
    c.bench_function(name, |b| {
        b.iter(|| {
            model.step(t, lambda);
            t = (t + 1) % len;
            black_box(model.output()[0])
        })
    });
}

fn bench_force(c: &mut Criterion) {
    let p = ForceParams {
        n: 1000,
        update_every: 1,
        ..Default::default()
    };
    let mut force = Force::new(&p, teacher(), Seed(1)).unwrap();
    run(c, "force_n1000_step_rls", &mut force, 1.0);
    run(c, "force_n1000_step_free", &mut force, 0.0);
}

fn bench_esn(c: &mut Criterion) {
    for (name, readout) in [
        ("esn_n1000_step_ridge", Readout::Ridge),
        ("esn_n1000_step_rls", Readout::Rls),
    ] {
        let p = EsnParams {
            n_reservoir: 1000,
            readout,
            ..Default::default()
        };
        let mut esn = Esn::new(&p, teacher(), Seed(1)).unwrap();
        run(c, name, &mut esn, 1.0);
        if readout == Readout::Ridge {
            // The switch fits the readout once; then the free step.
            run(c, "esn_n1000_step_free", &mut esn, 0.0);
        }
    }
}

criterion_group!(benches, bench_force, bench_esn);
criterion_main!(benches);
