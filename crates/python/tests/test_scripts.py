"""scripts/summarize_run.py on a real run directory."""

import subprocess
import sys

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
