"""The CLI's view inside: output.record (table `record`) and output.export (MatrixMarket)."""

import numpy as np
import polars as pl
import scipy.io

import elise_lab as el
from conftest import SMALL

COST = ["wall_seconds", "steps_per_second"]


def test_record_table_and_export_change_no_result(tmp_path):
    plain = el.run("birdsong", config=SMALL, seeds=1, threads=1, out=tmp_path / "plain")
    look = {
        **SMALL,
        "output": {"record": ["rate", "u", "v"], "record_cycles": [0, 4], "record_every": 5, "export": True},
    }
    viewed = el.run("birdsong", config=look, seeds=1, threads=1, out=tmp_path / "viewed")
    for t in ("runs", "curves", "traces", "degrees"):
        a, b = plain.table(t), viewed.table(t)
        if t == "runs":
            a, b = a.drop(COST), b.drop(COST)
        assert a.equals(b), f"{t} changed by recording"

    rec = viewed.table("record")
    net = el.Network(config=SMALL)
    n, L = net.n_neurons, net.cycle_len_steps
    assert rec.height == 2 * ((L + 4) // 5) * n
    assert sorted(rec["cycle"].unique().to_list()) == [0, 4]
    assert {"rate", "u", "v", "population", "neuron", "step"} <= set(rec.columns)
    assert rec.filter(pl.col("population") == "latent")["neuron"].min() == net.n_visible

    # The same state as el.Network's run: train 60 cycles, then replay cycle 0 (nudged).
    net.train(60)
    mine = net.run(1, teacher=True, record=["u"], every=5)["u"]
    cyc0 = rec.filter(pl.col("cycle") == 0).sort(["step", "neuron"])["u"].to_numpy().reshape(-1, n)
    assert np.array_equal(mine, cyc0)

    # Exported weights of the trained network, read back with SciPy.
    w_file = viewed.dir / "networks" / "job-000000-weights.mtx"
    s_file = viewed.dir / "networks" / "job-000000-scaffold.mtx"
    w = scipy.io.mmread(w_file).toarray()
    trained = el.Network(config=SMALL)
    trained.train(60)
    assert np.array_equal(w, trained.weights)
    s = scipy.io.mmread(s_file).tocsr()
    assert (s != trained.scaffold).nnz == 0
