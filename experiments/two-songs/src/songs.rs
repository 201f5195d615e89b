//! The two songs of a stacked pattern, and a joint result scored on one song's rows.

use elise_core::{Inputs, Pattern, ReplayScorer};
use elise_dynamics::protocol::{CurvePoint, Phase, best_shift_curve};
use elise_study::{Config, JobResult};
use std::ops::Range;

/// The two songs: names and neuron ranges in the stacked pattern (files from `inputs`).
pub fn songs(cfg: &Config, inputs: &Inputs) -> anyhow::Result<[(Pattern, Range<usize>); 2]> {
    let first = elise_core::PatternConfig {
        second_file: String::new(),
        silence_states: 0,
        mute_states: 0,
        amplitude_min: 1.0,
        amplitude_max: 1.0,
        ..cfg.pattern.clone()
    }
    .load(inputs)?;
    let second = Pattern::load_named(&cfg.pattern.second_file, inputs)?;
    let (v1, v2) = (first.n_neurons(), second.n_neurons());
    Ok([(first, 0..v1), (second, v1..v1 + v2)])
}

/// The result of `r` restricted to the visible neurons `rows` (a song), scored against that
/// song's part of the target with its own best shift.
pub fn song_result(cfg: &Config, r: &JobResult, name: &str, rows: Range<usize>) -> JobResult {
    let p = &r.protocol;
    let s_len = p.samples_per_cycle;
    let n = rows.len();
    let target = p.target[rows.start * s_len..rows.end * s_len].to_vec();
    let scorer = ReplayScorer::new(&target, n, s_len);
    let last_validation = p
        .last_validation
        .as_ref()
        .map(|(c, rates)| (*c, rates[rows.start * s_len..rows.end * s_len].to_vec()));
    let validation = last_validation
        .iter()
        .map(|(c, rates)| {
            let s = scorer.score_aligned(rates);
            CurvePoint {
                phase: Phase::Validation,
                cycle: *c,
                mse: s.mse,
                corr_sum: s.corr_sum,
            }
        })
        .collect();
    let total = p.replay_rates.len() / r.pattern.n_neurons();
    let replay_rates = p.replay_rates[rows.start * total..rows.end * total].to_vec();
    let n_cycles = total / s_len;
    let replay = best_shift_curve(
        &scorer,
        &replay_rates,
        n_cycles,
        cfg.replay.nudged_cycles..n_cycles.saturating_sub(1),
    );
    let pattern = r.pattern.clone();
    let song_pattern = Pattern::from_rows(
        name,
        &rows
            .clone()
            .map(|i| pattern.row(i).to_vec())
            .collect::<Vec<_>>(),
    );
    JobResult {
        pattern: song_pattern,
        method: r.method.clone(),
        branch: name.to_owned(),
        n_neurons: r.n_neurons,
        n_latent: r.n_latent,
        scaffold: r.scaffold.clone(),
        n_plastic: r.n_plastic,
        protocol: elise_dynamics::ProtocolResult {
            validation,
            replay,
            target,
            last_validation,
            replay_rates,
            ..p.clone()
        },
        wall_seconds: r.wall_seconds,
    }
}
