//! `two_songs.png` and `summary.md`.

use elise_sweep::RunDir;

/// `summary.md` (the shared sweep table; its "sustain replay" column uses corr_sum >= 12, which
/// only applies to the 13-neuron Für Elise) and `two_songs.png`: median replay corr_sum and MSE
/// per branch against latent size. The training and replay curve panels of the shared sweep
/// figure are left out: branches of one job share its job index, so they cannot be told apart
/// there.
pub(crate) fn finish(run: &RunDir) -> anyhow::Result<()> {
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
