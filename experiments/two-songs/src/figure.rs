//! `two_songs.png` and `summary.md`.

use elise_sweep::RunDir;

/// `summary.md` (the shared sweep table; a song sustains replay at corr_sum >= 12/13 of its
/// neurons) and `two_songs.png`: median replay corr_sum per neuron (so that songs of 13, 5 and
/// 18 neurons share one scale) and MSE per branch against latent size. The training and replay curve panels of the shared sweep
/// figure are left out: branches of one job share its job index, so they cannot be told apart
/// there.
pub(crate) fn finish(run: &RunDir) -> anyhow::Result<()> {
    use elise_plot::{Figure, Lines, Panel, Series};
    use elise_study::sweep_figure::{markdown_table, median, read_sweep};
    use std::collections::BTreeMap;
    let table = markdown_table(run, "n_latent", "latent neurons", "branch")?;
    elise_sweep::write_file_atomic(&run.path().join("summary.md"), table.as_bytes())?;
    let rows = read_sweep(run, "n_latent", "branch")?;
    /// Per latent size: (replay corr_sum per visible neuron, replay MSE) of every seed.
    type ByLatent = BTreeMap<u64, Vec<(f64, f64)>>;
    let mut groups: BTreeMap<(&str, usize), ByLatent> = BTreeMap::new();
    for r in &rows {
        groups
            .entry((&r.group, r.n_visible))
            .or_default()
            .entry(r.x as u64)
            .or_default()
            .push((r.replay_corr_sum / r.n_visible as f64, r.replay_mse));
    }
    let series = |m: fn(&(f64, f64)) -> f64| -> Vec<Series> {
        groups
            .iter()
            .map(|((g, n_vis), by_x)| {
                let (xs, ys) = by_x
                    .iter()
                    .map(|(&x, v)| (x as f64, median(&v.iter().map(m).collect::<Vec<_>>())))
                    .unzip();
                let song = match *g {
                    "both" => "both songs",
                    "fuer_elise" => "Für Elise",
                    "ode_to_joy" => "Ode to Joy",
                    other => other,
                };
                Series {
                    label: format!("{song} ({n_vis} neurons)"),
                    xs,
                    ys,
                }
            })
            .collect()
    };
    let panel = |title: &str, y: &str, series, log_y, hlines| {
        Panel::Lines(Lines {
            title: title.into(),
            x_label: "latent neurons".into(),
            y_label: y.into(),
            series,
            log_x: false,
            log_y,
            y_range: None,
            hlines,
        })
    };
    let fig = Figure {
        title: "exp-two-songs: two songs in one network, each scored on its own neurons".into(),
        panels: vec![
            panel(
                "Replay without teacher: corr_sum / neurons (mean Pearson r, 1 = perfect)",
                "corr_sum per neuron",
                series(|v| v.0),
                false,
                vec![("criterion 12/13".into(), 12.0 / 13.0)],
            ),
            panel(
                "Replay without teacher: MSE (median over seeds)",
                "replay MSE",
                series(|v| v.1.max(1e-6)),
                true,
                vec![],
            ),
        ],
        n_cols: 1,
        panel_size: (1000, 330),
    };
    elise_study::figure::save(run, fig, "two_songs.png")?;
    Ok(())
}
