"""Shared fixtures: the CLI binary to compare with, small configs, the repository root."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

# Small enough to run in a second or two, large enough to train, validate and replay.
SMALL = {
    "train": {"cycles": 60, "validate_every": 20},
    "replay": {"cycles": 6, "nudged_cycles": 3},
    "network": {"n_latent": 15},
}

SMALL_TOML = """
[train]
cycles = 60
validate_every = 20

[replay]
cycles = 6
nudged_cycles = 3

[network]
n_latent = 15
"""


@pytest.fixture(scope="session")
def elise_bin() -> str:
    """The `elise` command of the same build (set by scripts/python-test)."""
    path = os.environ.get("ELISE_BIN")
    assert path and Path(path).is_file(), (
        "ELISE_BIN must name the elise binary of this workspace (scripts/python-test sets it)"
    )
    return path


@pytest.fixture()
def cli(elise_bin, tmp_path):
    """Runs `elise <args>` in tmp_path; returns the CompletedProcess."""

    def run(*args, check=True):
        p = subprocess.run(
            [elise_bin, *args], cwd=tmp_path, capture_output=True, text=True, timeout=600
        )
        if check and p.returncode != 0:
            raise AssertionError(f"elise {' '.join(args)} failed ({p.returncode}):\n{p.stderr}")
        return p

    return run
