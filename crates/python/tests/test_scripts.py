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
