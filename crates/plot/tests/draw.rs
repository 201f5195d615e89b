//! End-to-end tests of `draw_png`: real PNG files in the system temp folder.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use elise_plot::{Figure, Lines, Panel, PlotError, Raster, Series, draw_png, draw_svg, save};

/// A fresh path in the temp folder, unique per process and call.
fn unique_path(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let k = COUNTER.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!(
        "elise-plot-test-{}-{k}-{name}.png",
        std::process::id()
    ))
}

/// The temporary file `draw_png` draws to before renaming.
fn tmp_of(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".tmp.png");
    PathBuf::from(s)
}

/// Checks the PNG signature and IHDR chunk; returns (width, height).
fn png_dims(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).expect("PNG written");
    assert!(bytes.len() > 33, "PNG too short: {} bytes", bytes.len());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR", "first chunk is IHDR");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    (w, h)
}

/// A deterministic 'random-ish' raster: travelling bumps plus hashed noise.
fn raster(title: &str, n_rows: usize, n_cols: usize) -> Raster {
    let mut values = Vec::with_capacity(n_rows * n_cols);
    for i in 0..n_rows {
        for j in 0..n_cols {
            let phase = (j as f64 / 96.0 - i as f64 / 13.0 * std::f64::consts::TAU).sin();
            let h = ((i * 7919 + j * 104_729) % 1009) as f64 / 1009.0;
            values.push(-70.0 + 12.0 * phase.max(0.0) + 4.0 * h);
        }
    }
    Raster {
        title: title.into(),
        n_rows,
        n_cols,
        values,
        vmin: -70.0,
        vmax: -55.0,
        x_label: "time (ms)".into(),
        x_range: (0.0, (n_cols - 1) as f64 * 0.1),
        y_label: "neuron".into(),
        x_categories: Vec::new(),
        y_categories: Vec::new(),
        cell_labels: Vec::new(),
        value_label: "potential (mV)".into(),
    }
}

fn lines(title: &str) -> Lines {
    let xs: Vec<f64> = (0..40).map(f64::from).collect();
    Lines {
        title: title.into(),
        x_label: "epoch".into(),
        y_label: "correct notes".into(),
        series: vec![
            Series {
                label: "teacher".into(),
                ys: xs.iter().map(|x| 13.0 * (1.0 - (-x / 8.0).exp())).collect(),
                xs: xs.clone(),
            },
            Series {
                label: "no teacher".into(),
                ys: xs.iter().map(|x| 3.0 + 0.1 * x).collect(),
                xs,
            },
        ],
        log_x: false,
        log_y: false,
        y_range: None,
        hlines: vec![("perfect".into(), 13.0)],
    }
}

fn figure(panels: Vec<Panel>, n_cols: usize, panel_size: (u32, u32)) -> Figure {
    Figure {
        title: "test figure".into(),
        panels,
        n_cols,
        panel_size,
    }
}

#[test]
fn writes_png_of_grid_size_and_no_tmp() {
    let path = unique_path("grid");
    let fig = figure(
        vec![
            Panel::Raster(raster("raster A", 13, 1250)),
            Panel::Lines(lines("curves B")),
            Panel::Raster(raster("raster C", 5, 40)),
        ],
        2,
        (420, 300),
    );
    draw_png(&fig, &path).expect("draws");
    // 3 panels in 2 columns: 2 grid rows.
    assert_eq!(png_dims(&path), (840, 600));
    assert!(!tmp_of(&path).exists(), "temporary file left behind");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn overwrites_and_creates_parent_folders() {
    let dir = unique_path("dir");
    let path = dir.join("sub").join("fig.png");
    let fig = figure(vec![Panel::Lines(lines("one"))], 1, (300, 200));
    draw_png(&fig, &path).expect("first draw");
    let fig = figure(vec![Panel::Lines(lines("two"))], 3, (300, 200));
    draw_png(&fig, &path).expect("second draw over the first");
    // A partly filled grid row still counts: 3 columns wide, 1 row high.
    assert_eq!(png_dims(&path), (900, 200));
    assert!(!tmp_of(&path).exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Draws a one-panel figure expected to fail; checks the message names `title` and that no
/// file appeared.
fn assert_rejected(panel: Panel, title: &str, expect_in_reason: &str) {
    let path = unique_path("bad");
    let err = draw_png(&figure(vec![panel], 1, (400, 300)), &path).expect_err("invalid input");
    let msg = err.to_string();
    assert!(matches!(err, PlotError::InvalidPanel { .. }), "{msg}");
    assert!(msg.contains(title), "message lacks panel title: {msg}");
    assert!(
        msg.contains(expect_in_reason),
        "message lacks {expect_in_reason:?}: {msg}"
    );
    assert!(
        msg.contains(&*path.to_string_lossy()),
        "message lacks path: {msg}"
    );
    assert!(
        !path.exists() && !tmp_of(&path).exists(),
        "file written for invalid input"
    );
}

#[test]
fn invalid_rasters_are_errors_naming_the_panel() {
    let mut r = raster("short values", 3, 10);
    r.values.pop();
    assert_rejected(Panel::Raster(r), "short values", "values has 29 entries");

    let mut r = raster("all nan", 3, 10);
    r.values.iter_mut().for_each(|v| *v = f64::NAN);
    assert_rejected(Panel::Raster(r), "all nan", "NaN");

    let mut r = raster("bad scale", 3, 10);
    (r.vmin, r.vmax) = (1.0, 0.0);
    assert_rejected(Panel::Raster(r), "bad scale", "vmin");

    let mut r = raster("nan scale", 3, 10);
    r.vmax = f64::NAN;
    assert_rejected(Panel::Raster(r), "nan scale", "vmin");

    let mut r = raster("flat x", 3, 10);
    r.x_range = (5.0, 5.0);
    assert_rejected(Panel::Raster(r), "flat x", "x_range");

    let mut r = raster("categories", 3, 10);
    r.x_categories = vec!["0.05".into(), "0.2".into()];
    assert_rejected(
        Panel::Raster(r),
        "categories",
        "x_categories has 2 entries, expected 10",
    );

    let mut r = raster("cell labels", 3, 10);
    r.cell_labels = vec!["1".into(); 29];
    assert_rejected(Panel::Raster(r), "cell labels", "cell_labels");

    let r = Raster {
        n_rows: 0,
        n_cols: 0,
        values: vec![],
        ..raster("empty raster", 1, 1)
    };
    assert_rejected(Panel::Raster(r), "empty raster", "empty");
}

#[test]
fn invalid_lines_are_errors_naming_the_panel() {
    let mut l = lines("no series");
    l.series.clear();
    assert_rejected(Panel::Lines(l), "no series", "no series");

    let mut l = lines("empty series");
    l.series[1].xs.clear();
    l.series[1].ys.clear();
    assert_rejected(Panel::Lines(l), "empty series", "\"no teacher\" is empty");

    // lines() starts its xs at 0: not on a log axis; from 1 on it draws.
    let mut l = lines("log x at zero");
    l.log_x = true;
    assert_rejected(Panel::Lines(l), "log x at zero", "x = 0 at index 0");
    let mut l = lines("log x");
    l.log_x = true;
    for s in &mut l.series {
        s.xs.iter_mut().for_each(|x| *x += 1.0);
    }
    let path = unique_path("log-x");
    draw_png(&figure(vec![Panel::Lines(l)], 1, (500, 350)), &path).expect("draws");
    let _ = std::fs::remove_file(&path);

    let mut l = lines("ragged");
    l.series[0].ys.pop();
    assert_rejected(Panel::Lines(l), "ragged", "xs has 40 points but ys has 39");

    let mut l = lines("only nan");
    for s in &mut l.series {
        s.ys.iter_mut().for_each(|y| *y = f64::NAN);
    }
    assert_rejected(Panel::Lines(l), "only nan", "no finite data point");

    let mut l = lines("log of zero");
    l.log_y = true;
    l.series[0].ys[0] = 0.0;
    assert_rejected(Panel::Lines(l), "log of zero", "not positive");

    let mut l = lines("log hline");
    l.log_y = true;
    l.series[0].ys[0] = 0.5;
    l.hlines.push(("zero".into(), 0.0));
    assert_rejected(Panel::Lines(l), "log hline", "reference line \"zero\"");

    let mut l = lines("bad y range");
    l.y_range = Some((2.0, 1.0));
    assert_rejected(Panel::Lines(l), "bad y range", "y_range");
}

#[test]
fn invalid_figures_are_errors() {
    let path = unique_path("badfig");
    let err = draw_png(&figure(vec![], 1, (400, 300)), &path).expect_err("no panels");
    assert!(matches!(err, PlotError::InvalidFigure { .. }), "{err}");
    let err = draw_png(
        &figure(vec![Panel::Lines(lines("x"))], 0, (400, 300)),
        &path,
    )
    .expect_err("zero columns");
    assert!(err.to_string().contains("n_cols"), "{err}");
    let err = draw_png(&figure(vec![Panel::Lines(lines("x"))], 1, (20, 20)), &path)
        .expect_err("tiny panel");
    assert!(err.to_string().contains("minimum"), "{err}");
    assert!(!path.exists());
    // The second panel is the bad one: its index and title are named.
    let mut bad = lines("second");
    bad.series.clear();
    let err = draw_png(
        &figure(
            vec![Panel::Lines(lines("first")), Panel::Lines(bad)],
            2,
            (300, 200),
        ),
        &path,
    )
    .expect_err("bad second panel");
    assert!(err.to_string().contains("panel 1 \"second\""), "{err}");
    assert!(!path.exists());
}

#[test]
fn nan_and_infinite_values_do_not_panic() {
    let path = unique_path("nan");
    let mut r = raster("raster with holes", 6, 300);
    for (k, v) in r.values.iter_mut().enumerate() {
        if k % 7 == 0 {
            *v = f64::NAN;
        } else if k % 11 == 0 {
            *v = f64::INFINITY;
        } else if k % 13 == 0 {
            *v = f64::NEG_INFINITY;
        }
    }
    // A whole NaN row is drawn grey.
    r.values[..300].iter_mut().for_each(|v| *v = f64::NAN);
    let mut l = lines("broken curves");
    for (i, y) in l.series[0].ys.iter_mut().enumerate() {
        if i % 5 == 2 {
            *y = f64::NAN;
        }
    }
    l.series[1].ys[3] = f64::INFINITY;
    l.series[1].xs[8] = f64::NAN;
    // A series with no finite point at all is allowed next to one with data.
    l.series.push(Series {
        label: "all NaN".into(),
        xs: vec![0.0, 1.0],
        ys: vec![f64::NAN, f64::NAN],
    });
    // A single point, a constant, a fixed range that clips the curves, log axis.
    let single = Lines {
        title: "single point, log y".into(),
        series: vec![Series {
            label: "one".into(),
            xs: vec![3.0],
            ys: vec![7.0],
        }],
        log_x: false,
        log_y: true,
        ..lines("")
    };
    let mut clipped = lines("clipped");
    clipped.y_range = Some((2.0, 8.0));
    let mut flat = raster("constant scale", 2, 3);
    (flat.vmin, flat.vmax) = (-60.0, -60.0);
    let mut one_col = raster("one column", 4, 1);
    one_col.x_range = (2.0, 2.0);
    let fig = figure(
        vec![
            Panel::Raster(r),
            Panel::Lines(l),
            Panel::Lines(single),
            Panel::Lines(clipped),
            Panel::Raster(flat),
            Panel::Raster(one_col),
        ],
        3,
        (360, 260),
    );
    draw_png(&fig, &path).expect("draws despite NaN");
    assert_eq!(png_dims(&path), (1080, 520));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn log_axis_over_decades() {
    let path = unique_path("log");
    let xs: Vec<f64> = (1..=200).map(f64::from).collect();
    let l = Lines {
        title: "loss".into(),
        x_label: "step".into(),
        y_label: "mse".into(),
        series: vec![Series {
            label: "train".into(),
            ys: xs.iter().map(|x| 10.0 * (-x / 20.0).exp() + 1e-4).collect(),
            xs,
        }],
        log_x: false,
        log_y: true,
        y_range: None,
        hlines: vec![("target".into(), 1e-3)],
    };
    draw_png(&figure(vec![Panel::Lines(l)], 1, (500, 350)), &path).expect("draws");
    assert_eq!(png_dims(&path), (500, 350));
    std::fs::remove_file(&path).unwrap();
}

/// The figure described in the crate's brief: two 13 x 1250 rasters and a lines panel with
/// two series and a reference line. Set `ELISE_PLOT_EXAMPLE=/some/file.png` to keep a copy
/// to look at.
#[test]
fn example_figure() {
    let mut b = raster("Somatic potential, after learning", 13, 1250);
    for v in &mut b.values {
        *v = -70.0 + (*v + 70.0) * 0.6;
    }
    let fig = Figure {
        title: "ELiSe birdsong: example".into(),
        panels: vec![
            Panel::Raster(raster("Somatic potential, before learning", 13, 1250)),
            Panel::Raster(b),
            Panel::Lines(lines("Recall quality")),
        ],
        n_cols: 3,
        panel_size: (560, 400),
    };
    let path = unique_path("example");
    let start = std::time::Instant::now();
    let svg = save(&fig, &path).expect("draws");
    eprintln!("example figure drawn in {:?}", start.elapsed());
    assert_eq!(png_dims(&path), (1680, 400));
    if let Ok(keep) = std::env::var("ELISE_PLOT_EXAMPLE") {
        std::fs::copy(&path, &keep).expect("copy example");
        std::fs::copy(&svg, Path::new(&keep).with_extension("svg")).expect("copy example");
    }
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn heat_map_with_categories_and_cell_labels_draws_them() {
    // A 3 x 3 parameter grid: categorical axes and the value written in each cell.
    let grid = |labels: bool| {
        let mut r = raster("grid", 3, 3);
        r.x_categories = ["0.05", "0.2", "0.5"].map(String::from).to_vec();
        r.y_categories = ["0.05", "0.2", "0.5"].map(String::from).to_vec();
        if labels {
            r.cell_labels = r.values.iter().map(|v| format!("{v:.1}")).collect();
        }
        r
    };
    let plain = unique_path("grid-plain");
    let labelled = unique_path("grid-labelled");
    draw_png(
        &figure(vec![Panel::Raster(grid(false))], 1, (400, 300)),
        &plain,
    )
    .expect("draws");
    draw_png(
        &figure(vec![Panel::Raster(grid(true))], 1, (400, 300)),
        &labelled,
    )
    .expect("draws");
    assert_eq!(png_dims(&labelled), (400, 300));
    // The labels change the picture (text drawn over the cells).
    assert_ne!(
        std::fs::read(&plain).unwrap(),
        std::fs::read(&labelled).unwrap()
    );
    let _ = std::fs::remove_file(&plain);
    let _ = std::fs::remove_file(&labelled);
}

/// Checks that `path` is a plausible SVG of `size`: the root element with its size, balanced
/// text elements in the generic `sans-serif` family, the closing tag at the end.
fn check_svg(path: &Path, size: (u32, u32)) -> String {
    let svg = std::fs::read_to_string(path).expect("SVG written as UTF-8");
    assert!(svg.len() > 1000, "SVG too short: {} bytes", svg.len());
    let root = svg.find("<svg").expect("an <svg> element");
    assert!(
        svg[root..].starts_with("<svg") && svg[..root].trim().is_empty()
            || svg.starts_with("<?xml"),
        "SVG starts with the root element"
    );
    assert!(svg.contains(&format!("width=\"{}\"", size.0)), "width");
    assert!(svg.contains(&format!("height=\"{}\"", size.1)), "height");
    assert!(svg.trim_end().ends_with("</svg>"), "SVG ends with </svg>");
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
    assert!(svg.contains("<text"), "text is SVG text");
    assert!(
        svg.contains("font-family=\"sans-serif\""),
        "generic font family"
    );
    assert_eq!(
        svg.matches('<').count(),
        svg.matches('>').count(),
        "balanced brackets"
    );
    svg
}

/// The contents of the SVG's text elements, trimmed.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..t.find("</text>")?];
            Some(body.trim().to_string())
        })
        .collect()
}

#[test]
fn save_writes_png_and_svg_atomically() {
    let dir = unique_path("save");
    let path = dir.join("fig.png");
    let fig = figure(
        vec![
            Panel::Raster(raster("raster A", 13, 1250)),
            Panel::Lines(lines("curves B")),
        ],
        2,
        (560, 400),
    );
    let svg = save(&fig, &path).expect("draws both");
    assert_eq!(svg, dir.join("fig.svg"));
    assert_eq!(png_dims(&path), (1120, 400));
    let text = check_svg(&svg, (1120, 400));
    // Titles, labels and legend entries are text in the SVG.
    let texts = svg_texts(&text);
    for needle in [
        "raster A",
        "curves B",
        "time (ms)",
        "no teacher",
        "potential (mV)",
    ] {
        assert!(texts.iter().any(|t| t == needle), "SVG lacks {needle:?}");
    }
    // The heat map is one embedded PNG (a valid data URI) at the plot's pixel size, not a
    // rectangle per cell: the SVG stays small whatever the number of columns.
    assert_eq!(text.matches("<image").count(), 1, "one bitmap per heat map");
    assert!(
        text.contains("href=\"data:image/png;base64,iVBORw0KGgo"),
        "a PNG data URI"
    );
    assert!(!text.contains("data:png;"), "no MIME-less data URI");
    assert!(text.len() < 150_000, "SVG of {} bytes", text.len());
    // Only the two files: no temporary file left behind.
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["fig.png", "fig.svg"]);

    // draw_svg alone, and invalid input writes neither file.
    let only = dir.join("only.svg");
    draw_svg(&fig, &only).expect("svg");
    check_svg(&only, (1120, 400));
    let mut bad = lines("broken");
    bad.series[0].ys.pop();
    let err = save(
        &figure(vec![Panel::Lines(bad)], 1, (400, 300)),
        &dir.join("bad.png"),
    )
    .expect_err("invalid");
    assert!(err.to_string().contains("\"broken\""), "{err}");
    assert!(!dir.join("bad.png").exists() && !dir.join("bad.svg").exists());
    let err = save(&fig, &dir.join("x.svg")).expect_err("png path ending in .svg");
    assert!(err.to_string().contains(".svg"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Saves `fig` into a fresh folder; returns the SVG's text.
fn svg_of(fig: &Figure) -> String {
    let dir = unique_path("svg-of");
    let svg = save(fig, &dir.join("f.png")).expect("draws");
    let text = std::fs::read_to_string(svg).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    text
}

/// Ten seeds whose curves cross every corner of the plot (the legend must go below the plot),
/// two identical curves (both must stay visible), and an MSE panel on a log axis with data near
/// 0.003. Set `ELISE_PLOT_EXAMPLE_DIR=/some/dir` to keep the PNG and SVG to look at.
#[test]
fn many_series_busy_plot() {
    let xs: Vec<f64> = (0..100).map(f64::from).collect();
    let seeds: Vec<Series> = (0..10u32)
        .map(|k| Series {
            label: format!("seed {}", 12345 + k),
            ys: xs
                .iter()
                .map(|x| 6.0 + 6.0 * ((x / 15.0 + f64::from(k) * 0.6).sin()))
                .collect(),
            xs: xs.clone(),
        })
        .collect();
    let mse: Vec<Series> = (0..10u32)
        .map(|k| Series {
            label: format!("seed {}", 12345 + k),
            ys: xs
                .iter()
                .map(|x| 0.0025 + 0.0004 * f64::from(k) + 0.08 * (-x / 4.0).exp())
                .collect(),
            xs: xs.clone(),
        })
        .collect();
    let same = Lines {
        title: "identical curves".into(),
        series: vec![
            Series {
                label: "protection off".into(),
                xs: vec![0.1, 0.3, 1.0],
                ys: vec![0.07, 0.08, 0.003],
            },
            Series {
                label: "protection on".into(),
                xs: vec![0.1, 0.3, 1.0],
                ys: vec![0.07, 0.08, 0.003],
            },
        ],
        log_y: true,
        hlines: vec![("0.01".into(), 0.01)],
        ..lines("")
    };
    let fig = Figure {
        title: "busy".into(),
        panels: vec![
            Panel::Lines(Lines {
                title: "crossing curves".into(),
                series: seeds,
                hlines: vec![("criterion 12".into(), 12.0)],
                ..lines("")
            }),
            Panel::Lines(Lines {
                title: "replay MSE".into(),
                series: mse,
                log_y: true,
                hlines: vec![("0.01".into(), 0.01)],
                ..lines("")
            }),
        ],
        n_cols: 2,
        panel_size: (720, 460),
    };
    // The two panels share one figure legend: each seed's label appears once.
    let seed_labels = svg_texts(&svg_of(&fig))
        .iter()
        .filter(|t| *t == "seed 12345")
        .count();
    assert_eq!(seed_labels, 1, "one shared legend");
    let fig2 = figure(vec![Panel::Lines(same)], 1, (720, 460));
    let texts = svg_texts(&svg_of(&fig2));
    assert!(texts.iter().any(|t| t == "protection on"));
    let dir = unique_path("busy");
    let png = dir.join("busy.png");
    let svg = save(&fig, &png).expect("draws");
    let text = check_svg(&svg, (1440, 460));
    if let Ok(keep) = std::env::var("ELISE_PLOT_EXAMPLE_DIR") {
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::copy(&png, Path::new(&keep).join("busy.png")).unwrap();
        std::fs::copy(&svg, Path::new(&keep).join("busy.svg")).unwrap();
    }
    // Seeds are written in full, and the log axis has ticks under 0.01.
    let texts = svg_texts(&text);
    assert!(texts.iter().any(|t| t == "seed 12354"), "seed label");
    assert!(
        texts.iter().any(|t| t == "0.005") && texts.iter().any(|t| t == "0.02"),
        "log ticks near the data: {texts:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
