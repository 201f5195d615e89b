#![allow(clippy::print_stdout)]
use elise_baselines::*;
use elise_core::{Model, NeuronParams, Pattern, ReplayScorer, Seed, Teacher};

fn teacher() -> Teacher {
    let p = Pattern::parse("# name: t nNeurons: 3 nSteps: 4\n1 0 0 0\n0 1 0 1\n0 0 1 0\n", "t").unwrap();
    Teacher::new(&p, &NeuronParams { dt_ms: 1.0, ..Default::default() }, 10)
}
fn run(m: &mut dyn Model) -> String {
    let t = teacher();
    let (len, nv) = (t.cycle_len_steps(), t.n_visible());
    for _ in 0..50 { for k in 0..len { m.step(k, 1.0); } }
    let mut rec = vec![vec![]; nv];
    for _ in 0..6 { for k in 0..len { m.step(k, 0.0); for i in 0..nv { rec[i].push(m.output()[i]); } } }
    let target: Vec<f64> = (0..nv).flat_map(|i| (0..len).map(move |k| (i, k))).map(|(i, k)| t.target_rate(k)[i]).collect();
    let sc = ReplayScorer::new(&target, nv, len);
    let mut s = vec![];
    for c in [0, 4] { let out: Vec<f64> = rec.iter().flat_map(|r| r[c*len..(c+2)*len].to_vec()).collect(); s.push(format!("{:.4}", sc.score_best_shift(&out, 2*len).corr_sum)); }
    s.join("/")
}
fn main() {
    let g = |k: &str, d: f64| std::env::var(k).ok().map(|v| v.parse().unwrap()).unwrap_or(d);
    let mut line = vec![];
    for seed in 0..4 {
        let p = EsnParams { n_reservoir: g("N", 200.0) as usize, washout_steps: 100, leak_rate: g("LEAK", 0.3), forcing_noise: g("NOISE", 0.2), ridge: g("RIDGE", 1e-6), feedback_scaling: g("FB", 0.5), rls_alpha: g("ALPHA", 1.0), readout: if g("RLS", 0.0) > 0.0 { Readout::Rls } else { Readout::Ridge }, ..Default::default() };
        line.push(run(&mut Esn::new(&p, teacher(), Seed(seed)).unwrap()));
    }
    println!("{}", line.join(" "));
}
