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

use elise_core::Inputs;
use elise_study::{Config, JobResult, Study};
use elise_sweep::ConfigError;

mod figure;
mod songs;

pub use songs::{song_result, songs};

/// exp-two-songs as a value (the binary `exp-two-songs` and the registry `elise-lab` run it):
/// the standard ELiSe job on the stacked pattern, plus one scored branch per song.
pub fn experiment() -> Study {
    Study::new("two-songs", include_str!("../configs/default.toml"))
        .summary("v3: two patterns learned at once by one latent pool.")
        .check(check)
        .branches(song_branches)
        .figures(|_cfg, run| figure::finish(run))
}

/// A second pattern, and no silence inserted into the stacked one.
fn check(cfg: &Config, _inputs: &Inputs) -> Result<(), ConfigError> {
    elise_study::record::refuse_views(cfg, "two-songs")?;
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
