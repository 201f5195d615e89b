"""The surface: names, types and shapes."""

import subprocess
from pathlib import Path

import numpy as np
import polars as pl
import scipy.sparse as sp

import elise_lab as el
from conftest import SMALL


def test_version_and_registry_match_the_cli(elise_bin):
    assert isinstance(el.__version__, str) and el.__version__.count(".") == 2
    names = subprocess.run(
        [elise_bin, "list", "--names"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert el.experiments() == names
    assert "birdsong" in names and len(names) >= 12
    assert set(el.summaries()) == set(names)


def test_every_registered_experiment_is_dispatched(tmp_path):
    # A bad key reaches each experiment's own schema check (not "no experiment named").
    for name in el.experiments():
        try:
            el.run(name, config={"no_such_table": {"x": 1}}, out=tmp_path / name)
        except ValueError as e:
            assert "no_such_table" in str(e), (name, str(e))
        else:
            raise AssertionError(f"{name}: a bad key was accepted")
        assert not (tmp_path / name).exists(), "nothing is written for a bad config"


def test_run_types(tmp_path):
    run = el.run("birdsong", config=SMALL, seeds=2, threads=1, out=tmp_path / "r")
    assert isinstance(run.dir, Path) and run.dir == tmp_path / "r"
    assert isinstance(run.config, dict)
    assert run.config["train"]["cycles"] == 60 and run.config["run"]["seeds"] == 2
    runs = run.table("runs")
    assert isinstance(runs, pl.DataFrame) and runs.height == 2
    assert runs["seed"].to_list() == [12345, 12346]
    curves = run.table("curves")
    assert set(curves["phase"].unique()) == {"validation", "replay"}
    assert {"runs", "curves", "traces", "degrees"} <= set(run.tables())
    assert run.figures(), "birdsong.png is drawn"
    # A run directory can be opened again later.
    again = el.Run(run.dir)
    assert again.config == run.config and again.table("runs").equals(runs)


def test_network_types():
    net = el.Network(config={"network": {"n_latent": 20}}, seed=7)
    assert (net.n_visible, net.n_latent, net.n_neurons) == (13, 20, 33)
    assert net.step_count == 0 and net.seed == 7 and net.cycles_trained == 0
    w = net.weights
    assert isinstance(w, np.ndarray) and w.dtype == np.float64 and w.shape == (33, 33)
    w[0, 0] = 123.0
    assert net.weights[0, 0] != 123.0, "weights are a copy"
    s = net.scaffold
    assert isinstance(s, sp.csr_matrix) and s.shape == (33, 33) and s.nnz > 0
    # Students are latent, no self-edges.
    coo = s.tocoo()
    assert (coo.row >= 13).all() and (coo.row != coo.col).all()
    d = net.delays
    assert set(d) == {"dendritic", "excitatory", "inhibitory"}
    cfg = net.config["network"]
    for k in ("dendritic", "excitatory"):
        assert d[k].shape == (33,)
        assert (d[k] >= cfg["delay_min_ms"] - 1e-9).all() and (d[k] <= cfg["delay_max_ms"] + 1e-9).all()
    assert (d["inhibitory"] > d["excitatory"]).all()
    assert net.pattern.shape == (13, net.pattern.shape[1]) and net.pattern.max() == 1
    # Same config and seed: the same network; another seed: another one.
    assert np.array_equal(el.Network(config={"network": {"n_latent": 20}}, seed=7).weights, net.weights)
    assert not np.array_equal(el.Network(config={"network": {"n_latent": 20}}, seed=8).weights, net.weights)


def test_record_shapes():
    net = el.Network(config={"network": {"n_latent": 10}})
    n, L = net.n_neurons, net.cycle_len_steps
    rec = net.run(cycles=2, teacher=False, record=["rate", "u", "v"])
    assert set(rec) == {"rate", "u", "v"}
    for a in rec.values():
        assert a.shape == (2 * L, n) and a.dtype == np.float64 and np.isfinite(a).all()
    assert net.step_count == 2 * L
    assert (rec["rate"] >= 0).all() and (rec["u"] < 0).all(), "rates >= 0, potentials in mV"
    sub = net.run(cycles=1, record=el.quantities(), every=10)
    assert set(sub) == set(el.quantities())
    assert all(a.shape == ((L + 9) // 10, n) for a in sub.values())
    # The teacher nudges the visible somas: a nudged cycle differs from a free one.
    a, b = el.Network(), el.Network()
    ua = a.run(1, teacher=True, record="u")["u"]
    ub = b.run(1, teacher=False, record="u")["u"]
    assert not np.array_equal(ua[:, :13], ub[:, :13])
