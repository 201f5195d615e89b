//! The paper's v3 two-pattern study: two visible populations, each with its own pattern, share one latent pool and are learned at once.
//!
//! `pattern.file` (default Für Elise) and `pattern.second_file` (default the built-in
//! `ode_to_joy`, `data/patterns/ode_to_joy.txt`) are stacked: the first pattern's neurons are
//! visible neurons 0..V1, the second's V1..V1+V2, both taught in the same cycle (so the two
//! patterns need the same number of states) and both driving one latent pool. One job = one
//! network (seed x `network.n_latent`), trained and replayed once; its `runs` and `curves`
//! tables hold three branches: `both` (all visible neurons, the usual scores) and one per song
//! (`branch` = the song's name), scored on that song's neurons only with its own best shift.
//! A song branch's validation curve is its final validation cycle only (the protocol keeps the
//! rates of the last validation cycle). `finish` draws `two_songs.png` (per-song replay
//! quality vs latent size) and writes `summary.md`. Compare songs by `replay_corr_sum /
//! n_visible` (perfect = 1): the songs have different numbers of neurons.

use elise_core::{Inputs, Pattern, ReplayScorer};
use elise_dynamics::protocol::{CurvePoint, Phase, best_shift_curve};
use elise_study::{Config, JobResult, Study};
use elise_sweep::{ConfigError, RunDir};
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

/// exp-two-songs as a value (the binary `exp-two-songs` and the registry `elise-lab` run it):
/// the standard ELiSe job on the stacked pattern, plus one scored branch per song.
pub fn experiment() -> Study {
    Study::new("two-songs", include_str!("../configs/default.toml"))
        .summary("v3: two patterns learned at once by one latent pool.")
        .check(check)
        .branches(song_branches)
        .figures(|_cfg, run| finish(run))
}

/// A second pattern, and no silence inserted into the stacked one.
fn check(cfg: &Config, _inputs: &Inputs) -> Result<(), ConfigError> {
    if cfg.pattern.second_file.is_empty() {
        return Err(ConfigError::invalid(
            "pattern.second_file",
            "exp-two-songs needs a second pattern (a file or a built-in name like \"ode_to_joy\")",
        ));
    }
    if cfg.pattern.silence_states > 0 {
        return Err(ConfigError::invalid(
            "pattern.silence_states",
            "exp-two-songs scores each song on its own rows; insert silence into the pattern files instead",
        ));
    }
    Ok(())
}

/// The joint result is branch `both`; each song is a branch of its own.
fn song_branches(
    cfg: &Config,
    inputs: &Inputs,
    joint: &mut JobResult,
) -> anyhow::Result<Vec<JobResult>> {
    joint.branch = "both".to_owned();
    Ok(songs(cfg, inputs)?
        .into_iter()
        .map(|(song, rows)| song_result(cfg, joint, song.name(), rows))
        .collect())
}

/// `summary.md` (the shared sweep table; its "sustain replay" column uses corr_sum >= 12, which
/// only applies to the 13-neuron Für Elise) and `two_songs.png`: median replay corr_sum and MSE
/// per branch against latent size. The training and replay curve panels of the shared sweep
/// figure are left out: branches of one job share its job index, so they cannot be told apart
/// there.
fn finish(run: &RunDir) -> anyhow::Result<()> {
    use elise_plot::{Figure, Lines, Panel, Series};
    use elise_study::sweep_figure::{markdown_table, median, read_sweep};
    use std::collections::BTreeMap;
    let table = markdown_table(run, "n_latent", "latent neurons", "branch", 12.0)?;
    elise_sweep::write_file_atomic(&run.path().join("summary.md"), table.as_bytes())?;
    let rows = read_sweep(run, "n_latent", "branch")?;
    /// Per latent size: (replay corr_sum, replay MSE) of every seed.
    type ByLatent = BTreeMap<u64, Vec<(f64, f64)>>;
    let mut groups: BTreeMap<&str, ByLatent> = BTreeMap::new();
    for r in &rows {
        groups
            .entry(&r.group)
            .or_default()
            .entry(r.x as u64)
            .or_default()
            .push((r.replay_corr_sum, r.replay_mse));
    }
    let series = |m: fn(&(f64, f64)) -> f64| -> Vec<Series> {
        groups
            .iter()
            .map(|(g, by_x)| {
                let (xs, ys) = by_x
                    .iter()
                    .map(|(&x, v)| (x as f64, median(&v.iter().map(m).collect::<Vec<_>>())))
                    .unzip();
                Series {
                    label: (*g).to_owned(),
                    xs,
                    ys,
                }
            })
            .collect()
    };
    let panel = |y: &str, series, log_y| {
        Panel::Lines(Lines {
            title: "Replay without teacher (median over seeds)".into(),
            x_label: "latent neurons".into(),
            y_label: y.into(),
            series,
            log_x: false,
            log_y,
            y_range: None,
            hlines: vec![],
        })
    };
    let fig = Figure {
        title: "exp-two-songs: per-song replay vs latent size (perfect corr_sum = the song's neurons: 13, 5, 18)".into(),
        panels: vec![
            panel("replay corr_sum", series(|v| v.0), false),
            panel("replay MSE", series(|v| v.1.max(1e-6)), true),
        ],
        n_cols: 2,
        panel_size: (720, 420),
    };
    elise_plot::save(&fig, &run.path().join("two_songs.png"))?;
    Ok(())
}
