#![allow(clippy::print_stdout)]
use elise_baselines::*;
use elise_core::{Model, NeuronParams, Pattern, ReplayScorer, Seed, Teacher};
fn teacher() -> Teacher {
    Teacher::new(&Pattern::fuer_elise(), &NeuronParams { dt_ms: 1.0, ..Default::default() }, 10)
}
fn run(name: &str, m: &mut dyn Model, tc: usize) {
    let t = teacher();
    let (len, nv) = (t.cycle_len_steps(), t.n_visible());
    let t0 = std::time::Instant::now();
    for _ in 0..tc { for k in 0..len { m.step(k, 1.0); } }
    let free = 4;
    let mut rec = vec![vec![]; nv];
    for _ in 0..free { for k in 0..len { m.step(k, 0.0); for i in 0..nv { rec[i].push(m.output()[i]); } } }
    let target: Vec<f64> = (0..nv).flat_map(|i| (0..len).map(move |k| (i, k))).map(|(i, k)| t.target_rate(k)[i]).collect();
    let sc = ReplayScorer::new(&target, nv, len);
    let mut s = vec![];
    for c in 0..free-1 { let out: Vec<f64> = rec.iter().flat_map(|r| r[c*len..(c+2)*len].to_vec()).collect(); let r = sc.score_best_shift(&out, 2*len); s.push(format!("{:.3}/{:.4}", r.corr_sum, r.mse)); }
    println!("{name} tc {tc}: corr/mse per free cycle {} ({:.1}s)", s.join(" "), t0.elapsed().as_secs_f64());
}
fn main() {
    let g = |k: &str, d: f64| std::env::var(k).ok().map(|v| v.parse().unwrap()).unwrap_or(d);
    let p = EsnParams { n_reservoir: g("N", 500.0) as usize, leak_rate: g("LEAK", 0.3), spectral_radius: g("SR", 0.9), forcing_noise: g("NOISE", 0.05), ridge: g("RIDGE", 1e-6), feedback_scaling: g("FB", 1.0), bias_scaling: g("BIAS", 0.2), density: g("DENS", 0.1), rls_alpha: g("ALPHA", 1e-4), readout: if g("RLS", 0.0) > 0.0 { Readout::Rls } else { Readout::Ridge }, ..Default::default() };
    for seed in 0..g("SEEDS", 2.0) as u64 {
        run(&format!("esn ridge s{seed}"), &mut Esn::new(&p, teacher(), Seed(seed)).unwrap(), g("TC", 40.0) as usize);
    }
}
