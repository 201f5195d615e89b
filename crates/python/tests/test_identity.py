"""Same config and seed, same bits: el.run against the CLI, el.Network against a job."""

from pathlib import Path

import numpy as np
import polars as pl

import elise_lab as el
from conftest import SMALL, SMALL_TOML

# Measured costs, not results.
COST = ["wall_seconds", "steps_per_second"]


def parts(run_dir: Path, table: str) -> pl.DataFrame:
    files = sorted((run_dir / table).glob("job-*.parquet"))
    assert files, f"{run_dir}/{table} has no parts"
    return pl.concat([el.read_parquet(f) for f in files])


def test_runs_table_is_bit_identical_to_the_cli(cli, tmp_path):
    (tmp_path / "small.toml").write_text(SMALL_TOML)
    cli("birdsong", "--config", "small.toml", "--seeds", "2", "--threads", "1", "--out", "cli")
    from_dict = el.run("birdsong", config=SMALL, seeds=2, threads=2, out=tmp_path / "dict")
    from_file = el.run("birdsong", config=tmp_path / "small.toml", seeds=2, threads=1, out=tmp_path / "file")
    want = parts(tmp_path / "cli", "runs").drop(COST)
    for run in (from_dict, from_file):
        got = run.table("runs").drop(COST)
        assert got.columns == want.columns
        assert got.equals(want), "runs table differs from the CLI's"
        for t in ("curves", "traces", "degrees"):
            assert run.table(t).equals(parts(tmp_path / "cli", t)), t
    # The same resolved config as the CLI's config.toml.
    assert (tmp_path / "file" / "config.toml").read_text() == (tmp_path / "cli" / "config.toml").read_text()
    # A real difference is seen: another seed gives other rows.
    other = el.run("birdsong", config={**SMALL, "run": {"base_seed": 99}}, seeds=2, threads=1, out=tmp_path / "o")
    assert not other.table("runs").drop(COST).equals(want)


def test_axes_grid_matches_the_cli(cli, tmp_path):
    small = {**SMALL, "train": {"cycles": 20, "validate_every": 10}}
    cfg = {**small, "axes": {"network.n_latent": [5, 12]}}
    run = el.run("birdsong", config=cfg, seeds=1, threads=1, out=tmp_path / "py")
    cli(
        "birdsong", "--set", "train.cycles=20", "--set", "train.validate_every=10",
        "--set", "replay.cycles=6", "--set", "replay.nudged_cycles=3",
        "--axis", "network.n_latent=5,12", "--seeds", "1", "--threads", "1", "--out", "cli",
    )
    got = run.table("runs").drop(COST)
    assert got["network_n_latent"].to_list() == [5, 12]
    assert got.equals(parts(tmp_path / "cli", "runs").drop(COST))


def test_network_train_and_run_agree_with_the_job(tmp_path):
    run = el.run("birdsong", config=SMALL, seeds=1, threads=1, out=tmp_path / "job")
    curves = run.table("curves")
    traces = run.table("traces")

    net = el.Network(config=SMALL, seed=12345)
    # In pieces (40 + 20): continuing gives the bits of one training of 60 cycles.
    c1 = net.train(cycles=40)
    c2 = net.train(cycles=20, chunk=7)
    assert net.cycles_trained == 61, "60 cycles and the warm-up cycle"
    mine = pl.concat([c1, c2])
    val = curves.filter(pl.col("phase") == "validation")
    assert mine["cycle"].to_list() == val["cycle"].to_list() == [0, 20, 40]
    assert mine["mse"].to_list() == val["mse"].to_list()
    assert mine["corr_sum"].to_list() == val["corr_sum"].to_list()
    assert mine.equals(val), "the same columns and values as the job's curves table"
    assert net.curves().equals(mine)

    # The replay: 3 nudged cycles, then free ones; the job's traces sample every 2nd step.
    nudged = net.run(cycles=3, teacher=True, record="rate", every=2)["rate"]
    free = net.run(cycles=3, teacher=False, record="rate", every=2)["rate"]
    rates = np.vstack([nudged, free])[:, : net.n_visible]
    replay = traces.filter(pl.col("phase") == "replay").sort(["cycle", "step", "neuron"])
    want = replay["rate"].to_numpy().reshape(-1, net.n_visible)
    assert rates.shape == want.shape
    assert np.array_equal(rates.astype(np.float32), want), "replay rates differ from the job's"
