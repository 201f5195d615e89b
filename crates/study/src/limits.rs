//! Memory a job needs, estimated before anything runs (the harness compares the jobs that run
//! at once with what the process may use: `elise_sweep::limits`).

use crate::Config;
use elise_core::Pattern;
use elise_sweep::limits::MemoryNeed;

/// Bytes one job of `cfg` needs at its peak, about, and the config key of the largest part:
/// the network (weights and learning rates n x n, delay lines), the teacher (four values per
/// step and visible neuron, up to three copies with a noisy tutor), the replay recording (every
/// 2nd step of every replay cycle, twice) and its `traces` table (~64 bytes a row).
pub fn job_bytes(cfg: &Config, pattern: &Pattern, steps_per_state: usize) -> (f64, &'static str) {
    let dt = cfg.neuron.dt_ms;
    let n = (pattern.n_neurons() + cfg.network.n_latent) as f64;
    let stride = (n / 8.0).ceil() * 8.0;
    let max_delay =
        ((cfg.network.delay_max_ms + cfg.network.inh_extra_delay_ms) / dt).round() + 1.0;
    let history = max_delay.max(2.0).log2().ceil().exp2() * n * 8.0;
    let network = 2.0 * n * stride * 8.0 + history;
    let v = pattern.n_neurons() as f64;
    let cycle = steps_per_state as f64 * pattern.n_states() as f64;
    let teacher = 3.0 * 4.0 * cycle * v * 8.0;
    let samples = (cycle / 2.0).ceil() * v;
    let replay_cycles = cfg.replay.cycles as f64;
    let mut replay = 2.0 * samples * replay_cycles * 8.0;
    if cfg.output.traces {
        replay += samples * (replay_cycles + 1.0) * 64.0;
    }
    let parts = [
        (network, "network.n_latent"),
        (teacher, "pattern.state_ms"),
        (replay, "replay.cycles"),
    ];
    let mut key = parts
        .iter()
        .fold((0.0, "network.n_latent"), |best, &(b, k)| {
            if b > best.0 { (b, k) } else { best }
        })
        .1;
    // The recording grows with cycles x cycle length: blame the one further above the demo's
    // (100 replay cycles of 2500 steps).
    if key == "replay.cycles" && cycle / 2500.0 > replay_cycles / 100.0 {
        key = "pattern.state_ms";
    }
    (parts.iter().map(|p| p.0).sum(), key)
}

/// One job's [`MemoryNeed`]: [`job_bytes`] with the key of its largest part.
pub fn memory_need(cfg: &Config, pattern: &Pattern, steps_per_state: usize) -> MemoryNeed {
    let (bytes, key) = job_bytes(cfg, pattern, steps_per_state);
    MemoryNeed {
        bytes,
        key: key.to_owned(),
        detail: format!(
            "{} neurons, {} steps per cycle, {} replay cycles",
            pattern.n_neurons() + cfg.network.n_latent,
            steps_per_state * pattern.n_states(),
            cfg.replay.cycles
        ),
    }
}
