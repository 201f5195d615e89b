//! Trains one network on Für Elise with the demo parameters and prints the learning curve.
//! `cargo run --release -p elise-dynamics --example demo -- [seed] [train_cycles] [mode]`

use elise_core::{NeuronParams, Pattern, Seed, Teacher};
use elise_dynamics::{
    Mode, Network, NetworkConfig, NetworkSpec, ReplayConfig, TrainConfig, protocol,
};
use elise_plasticity::LearningRates;
use elise_scaffold::ScaffoldParams;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seed: u64 = args.get(1).map_or(12345, |s| s.parse().unwrap());
    let cycles: usize = args.get(2).map_or(10_000, |s| s.parse().unwrap());
    let mode = match args.get(3).map(String::as_str) {
        Some("reservoir") => Mode::Reservoir,
        Some("soma-only") => Mode::SomaOnly,
        _ => Mode::Elise,
    };
    let params = NeuronParams::default();
    let pattern = Pattern::fuer_elise();
    let cfg = NetworkConfig {
        mode,
        ..NetworkConfig::default()
    };
    let spec =
        NetworkSpec::generate(13, &cfg, &ScaffoldParams::default(), &params, Seed(seed)).unwrap();
    let teacher = Teacher::new(&pattern, &params, 100);
    let mut net = Network::new(&spec, &params, &LearningRates::default(), teacher).unwrap();
    let train = TrainConfig::paper(cycles, 20);
    let replay = ReplayConfig {
        cycles: 100,
        nudged_cycles: 3,
        disruption_file: String::new(),
        disruption_cycle: 4,
    };
    let start = std::time::Instant::now();
    let res = protocol::train_and_replay(&mut net, &train, &replay, None, &mut || {}).unwrap();
    let secs = start.elapsed().as_secs_f64();
    for p in res.validation.iter().step_by(25) {
        eprintln!(
            "validation cycle {:5}: mse {:.4} corr_sum {:.2}",
            p.cycle, p.mse, p.corr_sum
        );
    }
    let last = res.final_validation().unwrap();
    eprintln!(
        "final validation cycle {}: mse {:.4} corr_sum {:.2}",
        last.cycle, last.mse, last.corr_sum
    );
    let n = res.replay.len() as f64;
    let mse = res.replay.iter().map(|p| p.mse).sum::<f64>() / n;
    let cs = res.replay.iter().map(|p| p.corr_sum).sum::<f64>() / n;
    let worst = res
        .replay
        .iter()
        .map(|p| p.corr_sum)
        .fold(f64::INFINITY, f64::min);
    eprintln!(
        "replay: {} cycles, mean mse {mse:.4}, mean corr_sum {cs:.2}, min corr_sum {worst:.2}",
        res.replay.len()
    );
    eprintln!(
        "{} steps in {secs:.1} s = {:.2} us/step",
        res.n_steps,
        secs * 1e6 / res.n_steps as f64
    );
}
