"""scripts/summarize_run.py on a real run directory."""

import importlib.util
import subprocess
import sys

import polars as pl

import elise_lab as el
from conftest import ROOT, SMALL


def test_summarize_run(tmp_path):
    run = el.run("birdsong", config=SMALL, seeds=2, threads=1, out=tmp_path / "r")
    p = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "summarize_run.py"), str(run.dir)],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    assert "12345" in p.stdout and "12346" in p.stdout, p.stdout
    assert "of 2 seeds replay" in p.stdout, p.stdout
    # The numbers printed are the run's own (replay_mse of the first seed, 4 decimals).
    first = run.table("runs").row(0, named=True)
    assert f"{first['replay_mse']:.4f}" in p.stdout, p.stdout


def test_summarize_run_interval_table(tmp_path):
    """--by: one Markdown row per grid point, with the success count, its Wilson interval and
    the medians (with 2 seeds no distribution-free 95 % interval exists: NaN bounds)."""
    config = dict(SMALL, axes={"network.n_latent": [5, 8]})
    run = el.run("birdsong", config=config, seeds=2, threads=1, out=tmp_path / "r")
    p = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "summarize_run.py"),
            str(run.dir),
            "--by",
            "network_n_latent",
        ],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    rows = [l for l in p.stdout.splitlines() if l.startswith("| 5 |") or l.startswith("| 8 |")]
    assert len(rows) == 2, p.stdout
    runs = run.table("runs")
    for row, n_latent in zip(rows, [5, 8]):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1] == "2", row
        assert cells[2].endswith("of 2 (" + cells[2].split("(")[1]), row
        group = runs.filter(runs["network_n_latent"] == n_latent)
        med = sorted(group["replay_mse"].to_list())
        assert cells[4].startswith(f"{(med[0] + med[1]) / 2:.4f} [NaN, NaN]"), row


def load_summarize():
    spec = importlib.util.spec_from_file_location("summarize_run", ROOT / "scripts" / "summarize_run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_paired_comparison_counts_discordant_pairs():
    """--paired: jobs are matched by seed and the --by columns; the McNemar p-value is the exact
    binomial tail of the discordant pairs."""
    sr = load_summarize()
    assert sr.mcnemar_p(0, 0) == 1.0
    assert sr.mcnemar_p(0, 5) == 2 / 32  # 2 * P(X <= 0), X ~ Bin(5, 1/2)
    assert sr.mcnemar_p(1, 10) == 2 * 12 / 2**11
    assert sr.mcnemar_p(3, 3) == 1.0

    def runs(ok, seeds, pattern):
        # sustained = corr_sum_min >= 12/13 per visible neuron and MSE <= 0.01 in every cycle
        return pl.DataFrame({
            "seed": seeds,
            "pattern_file": [pattern] * len(seeds),
            "n_visible": [13] * len(seeds),
            "replay_corr_sum_min": [12.5 if o else 11.0 for o in ok],
            "replay_mse_max": [0.005] * len(seeds),
        })

    a = pl.concat([runs([1, 0, 0, 1], [1, 2, 3, 4], "x"), runs([0, 0], [1, 2], "y")])
    b = pl.concat([runs([1, 1, 1, 0], [1, 2, 3, 4], "x"), runs([1, 1, 1], [1, 2, 9], "y")])
    table = sr.paired_table(a, b, ("paper", "preset"), ["pattern_file"])
    rows = {l.split("|")[1].strip(): [c.strip() for c in l.strip("|").split("|")]
            for l in table.splitlines() if l.startswith("| x") or l.startswith("| y")}
    # x: 4 pairs; paper 2, preset 3; only paper: seed 4; only preset: seeds 2, 3.
    assert rows["x"][1:3] == ["4", rows["x"][2]] and rows["x"][2].startswith("2 of 4")
    assert rows["x"][3].startswith("3 of 4") and rows["x"][4:6] == ["1", "2"], rows["x"]
    assert rows["x"][6] == f"{sr.mcnemar_p(1, 2):.2g}"
    # y: seed 9 has no partner; 2 pairs, both only preset.
    assert rows["y"][1] == "2" and rows["y"][4:6] == ["0", "2"], rows["y"]
    assert "1 jobs without a partner" in table


def test_paired_cli_on_two_runs(tmp_path):
    """Two real runs on the same seeds: every job has its partner, and a grid that leaves
    several jobs per seed is refused with the columns to add."""
    config = dict(SMALL, axes={"network.n_latent": [5, 8]})
    a = el.run("birdsong", config=config, seeds=2, threads=1, out=tmp_path / "a")
    b = el.run("birdsong", config=dict(config, train={"cycles": 40, "validate_every": 20}), seeds=2, threads=1,
               out=tmp_path / "b")
    script = str(ROOT / "scripts" / "summarize_run.py")
    p = subprocess.run([sys.executable, script, str(a.dir), str(b.dir), "--paired", "--by",
                        "network_n_latent"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    rows = [l for l in p.stdout.splitlines() if l.startswith("| 5 |") or l.startswith("| 8 |")]
    assert len(rows) == 2 and all(r.split("|")[2].strip() == "2" for r in rows), p.stdout
    assert "without a partner" not in p.stdout
    p = subprocess.run([sys.executable, script, str(a.dir), str(b.dir), "--paired", "--by",
                        "pattern_file"], capture_output=True, text=True)
    assert p.returncode != 0 and "add the columns" in p.stderr, p.stderr


def test_bins_group_a_numeric_column_in_interval_order():
    """--bin COL=E1,E2: values <= E1, (E1, E2] and > E2 form three groups, listed in interval
    order (not in the order of their labels' text), with their own success counts."""
    sr = load_summarize()
    assert sr.bin_label([5, 12], 5) == (0, "<= 5")
    assert sr.bin_label([5, 12], 5.5) == (1, "5 < x <= 12")
    assert sr.bin_label([5, 12], 13) == (2, "> 12")
    runs = pl.DataFrame({
        "seed": [1, 2, 3, 4, 5],
        "scaffold_latent_reached": [100, 70, 90, 95, 60],
        "n_visible": [13] * 5,
        "replay_corr_sum_min": [12.5, 11.0, 12.5, 11.0, 11.0],
        "replay_mse_max": [0.005] * 5,
        "replay_corr_sum": [12.6, 11.5, 12.6, 11.5, 11.2],
        "replay_mse": [0.004] * 5,
    })
    binned = sr.apply_bins(runs, sr.parse_bins(["scaffold_latent_reached=79,94"]))
    table = sr.interval_table(binned, ["scaffold_latent_reached"])
    rows = [l for l in table.splitlines() if l.startswith("| <=") or l.startswith("| 79") or l.startswith("| >")]
    assert [r.split("|")[1].strip() for r in rows] == ["<= 79", "79 < x <= 94", "> 94"], table
    # <= 79: seeds 2, 5 (both fail); (79, 94]: seed 3 sustains; > 94: seed 1 sustains, 4 fails.
    assert [r.split("|")[3].strip().split(" (")[0] for r in rows] == ["0 of 2", "1 of 1", "1 of 2"]


def test_per_seed_table_lists_each_runs_outcome_on_shared_jobs():
    """--per-seed: one row per group and seed present in every run, yes/no per run, and the
    count of yes per run over those rows only (a job only one run has is left out)."""
    sr = load_summarize()

    def runs(ok, seeds):
        return pl.DataFrame({
            "seed": seeds,
            "pattern_file": ["x"] * len(seeds),
            "n_visible": [5] * len(seeds),
            "replay_corr_sum_min": [4.8 if o else 4.0 for o in ok],
            "replay_mse_max": [0.005] * len(seeds),
        })

    table = sr.per_seed_table([runs([1, 0, 1], [1, 2, 3]), runs([0, 0, 1, 1], [1, 2, 3, 4])],
                              ["a", "b"], ["pattern_file"])
    rows = [[c.strip() for c in l.strip("|").split("|")] for l in table.splitlines()[2:]]
    assert rows[:3] == [["x", "1", "yes", "no"], ["x", "2", "no", "no"], ["x", "3", "yes", "yes"]]
    assert rows[3] == ["all", "", "2 of 3", "1 of 3"], table
