"""elise_lab: the elise-lab engine from Python.

Run any registered experiment exactly as its command line does (same config schema, checks,
seeds and bits), hold one ELiSe network, train and run it, and look inside (weights, scaffold,
delays, every neuron's rate and potentials)::

    import elise_lab as el
    el.experiments()                      # ["birdsong", "size", ...]
    run = el.run("birdsong", config={"train": {"cycles": 200}}, seeds=2, threads=1, out="dir")
    run.table("runs")                     # polars.DataFrame
    net = el.Network(config={"network": {"n_latent": 50}}, seed=12345)
    curves = net.train(cycles=100)        # like the job's curves table
    rec = net.run(cycles=2, teacher=False, record=["rate", "u", "v"])

Configs are dicts of nested tables (like the TOML file; dotted keys work too, and
``{"axes": {"network.n_latent": [10, 20]}}`` gives a grid) or a path to a TOML file. Bad keys
or values raise ``ValueError`` with the command line's message. Long calls release the GIL;
Ctrl-C raises ``KeyboardInterrupt`` after stopping cleanly (a run's manifest then says
``interrupted``; running it again resumes).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from . import _native

__version__: str = _native.__version__

__all__ = [
    "__version__",
    "experiments",
    "summaries",
    "run",
    "Run",
    "Network",
    "quantities",
    "read_parquet",
]

ConfigLike = Union[Mapping[str, Any], str, "os.PathLike[str]", None]


def experiments() -> List[str]:
    """Names of every registered experiment (``elise list --names``), in the paper's order."""
    return [name for name, _ in _native.experiments()]


def summaries() -> Dict[str, str]:
    """Every registered experiment with its one-line summary."""
    return dict(_native.experiments())


def quantities() -> List[str]:
    """What ``Network.run(record=...)`` and ``output.record`` can record."""
    return list(_native.quantities())


def read_parquet(path: Union[str, "os.PathLike[str]"]):
    """One Parquet file of elise-lab as a polars.DataFrame. polars < 2 (the newest on Python
    3.9) cannot parse the footer of files with float columns written by the project's Parquet
    writer; then the file is read with pyarrow (a dependency on Python 3.9)."""
    import polars as pl

    try:
        return pl.read_parquet(path)
    except pl.exceptions.ComputeError as e:
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise RuntimeError(
                f"{os.fspath(path)}: polars {pl.__version__} cannot read it ({e}); "
                "install polars >= 2 (Python >= 3.10) or pyarrow"
            ) from e
        return pl.from_arrow(pq.read_table(os.fspath(path)))


def _config_arg(config: ConfigLike) -> Any:
    if config is None or isinstance(config, Mapping):
        return None if config is None else dict(config)
    return os.fspath(config)


class Run:
    """A run directory made (or resumed) by :func:`run`."""

    def __init__(self, dir: Union[str, "os.PathLike[str]"], summary: Optional[dict] = None):
        self.dir: Path = Path(dir)
        self.summary: dict = dict(summary or {})
        if summary is not None and "config" in summary:
            self.config: dict = summary["config"]
        else:
            self.config = _native.run_config(str(self.dir))

    def __repr__(self) -> str:
        n = self.summary.get("n_jobs")
        jobs = f", {n} jobs" if n is not None else ""
        return f"Run({str(self.dir)!r}{jobs})"

    def tables(self) -> List[str]:
        """Names of the tables the run wrote (sub-directories holding Parquet parts)."""
        return sorted(
            p.name
            for p in self.dir.iterdir()
            if p.is_dir() and not p.name.startswith(("_", ".")) and any(p.glob("*.parquet"))
        )

    def table(self, name: str):
        """Table ``name`` ("runs", "curves", "traces", "degrees", "record", ...) of the jobs
        with a valid completion record, in job order, as a polars.DataFrame."""
        import polars as pl

        parts = _native.table_parts(str(self.dir), name)
        if not parts:
            raise KeyError(
                f"{self.dir} has no table {name!r} from a recorded job; tables: {self.tables()}"
            )
        return pl.concat([read_parquet(p) for p in parts], how="vertical_relaxed")

    def figures(self) -> List[Path]:
        """The figures (PNG) the experiment drew in the run directory."""
        return sorted(self.dir.glob("*.png"))


def run(
    name: str,
    config: ConfigLike = None,
    seeds: Optional[int] = None,
    threads: Optional[int] = None,
    out: Union[str, "os.PathLike[str]", None] = None,
    run_id: Optional[str] = None,
    restart: bool = False,
    quick: bool = False,
) -> Run:
    """Runs experiment ``name`` as ``exp-<name>`` (or ``elise <name>``) would and returns the
    run. ``config`` is a dict or a TOML file (any key of the experiment's schema, axes
    allowed); ``seeds`` is ``--seeds``, ``threads`` ``--threads`` (default: all cores),
    ``out`` ``--out`` (default ``results/<name>/<run id>``), ``quick`` ``--quick``,
    ``restart`` ``--restart``. Blocks; progress goes to stderr. Raises ``ValueError`` for bad
    configs, ``RuntimeError`` if a job failed (the run directory keeps the finished ones)."""
    if threads is None:
        threads = os.cpu_count() or 1
    args = [repr(name)]
    if config is not None:
        args.append(f"config={config!r}")
    for k, v in (("seeds", seeds), ("threads", threads), ("out", out), ("run_id", run_id)):
        if v is not None:
            args.append(f"{k}={os.fspath(v) if k == 'out' else v!r}")
    command_line = f"elise_lab.run({', '.join(args)})"
    summary = _native.run(
        name,
        config=_config_arg(config),
        seeds=seeds,
        threads=int(threads),
        out=None if out is None else os.fspath(out),
        run_id=run_id,
        restart=restart,
        quick=quick,
        command_line=command_line,
    )
    result = Run(summary["run_dir"], summary)
    problems = [f"job {i} (seed {s}): {e}" for i, s, e in summary["failed"]]
    if summary.get("finish_error"):
        problems.append(f"finish: {summary['finish_error']}")
    if problems:
        raise RuntimeError(
            f"{name}: {len(problems)} problem(s) in {result.dir}:\n  " + "\n  ".join(problems)
        )
    return result


def _curves_frame(points, seed: int):
    import polars as pl

    # The columns of the curves table (job 0, branch null: a plain replay).
    return pl.DataFrame(
        {
            "job": [0] * len(points),
            "seed": [seed] * len(points),
            "branch": [None] * len(points),
            "phase": ["validation"] * len(points),
            "cycle": [c for c, _, _ in points],
            "mse": [m for _, m, _ in points],
            "corr_sum": [r for _, _, r in points],
        },
        schema={
            "job": pl.UInt64,
            "seed": pl.UInt64,
            "branch": pl.Utf8,
            "phase": pl.Utf8,
            "cycle": pl.Int64,
            "mse": pl.Float64,
            "corr_sum": pl.Float64,
        },
    )


class Network:
    """One ELiSe network, built exactly as an exp-birdsong job builds it for ``config`` (a dict
    or TOML file of exp-birdsong's schema) and ``seed`` (default ``run.base_seed``)."""

    def __init__(self, config: ConfigLike = None, seed: Optional[int] = None, *, _native_net=None):
        self._net = _native_net if _native_net is not None else _native.Network(
            _config_arg(config), seed
        )

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"]) -> "Network":
        """A network saved by :meth:`save` (or by a job: ``run.save_trained``)."""
        return cls(_native_net=_native.Network.load(os.fspath(path)))

    def save(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Saves state, config, seed and training progress (the project's checkpoint format;
        ``run.from_checkpoint`` of the CLI replays it)."""
        self._net.save(os.fspath(path))

    def __repr__(self) -> str:
        return (
            f"Network(n_visible={self.n_visible}, n_latent={self.n_latent}, seed={self.seed}, "
            f"cycles_trained={self.cycles_trained}, step_count={self.step_count})"
        )

    n_visible = property(lambda self: self._net.n_visible, doc="Visible neurons.")
    n_latent = property(lambda self: self._net.n_latent, doc="Latent neurons.")
    n_neurons = property(lambda self: self._net.n_neurons, doc="All neurons (visible first).")
    step_count = property(lambda self: self._net.step_count, doc="Steps simulated so far.")
    seed = property(lambda self: self._net.seed, doc="The seed it was built from.")
    cycles_trained = property(
        lambda self: self._net.cycles_trained,
        doc="Training cycles run so far (the warm-up cycle included).",
    )
    cycle_len_steps = property(lambda self: self._net.cycle_len_steps, doc="Steps per cycle.")
    dt_ms = property(lambda self: self._net.dt_ms, doc="Time step in ms.")
    config = property(lambda self: self._net.config, doc="The resolved config (a dict).")
    pattern = property(lambda self: self._net.pattern, doc="The pattern, (neurons, states) 0/1.")
    pattern_name = property(lambda self: self._net.pattern_name)

    @property
    def weights(self):
        """Dendritic weights, numpy (n, n) float64 (row = post, column = pre), a copy."""
        return self._net.weights

    @property
    def scaffold(self):
        """The scaffold, scipy.sparse.csr_matrix (n, n): row = student, column = teacher,
        value = number of edges."""
        import scipy.sparse as sp

        indptr, indices, data, n = self._net.scaffold_csr
        return sp.csr_matrix((data, indices, indptr), shape=(n, n))

    @property
    def delays(self) -> Dict[str, Any]:
        """Per-neuron delays in ms: ``{"dendritic", "excitatory", "inhibitory"}`` -> numpy."""
        return self._net.delays

    def train(self, cycles: int, chunk: int = 10):
        """Trains ``cycles`` more cycles as the job does (nudged, a free validation cycle every
        ``train.validate_every``; a fresh network starts with the warm-up cycle, so
        ``train(n)`` equals a job's training with ``train.cycles = n``). Returns the validation
        points as a polars.DataFrame with the columns of the ``curves`` table."""
        if cycles < 0:
            raise ValueError(f"cycles = {cycles}: must be at least 0")
        return _curves_frame(self._net.train(int(cycles), int(chunk)), self.seed)

    def curves(self):
        """Every validation point since the network was built (or its training began)."""
        return _curves_frame(self._net.validation, self.seed)

    def run(
        self,
        cycles: int = 1,
        teacher: bool = False,
        record: Union[str, Sequence[str]] = ("rate",),
        every: int = 1,
    ) -> Dict[str, Any]:
        """Runs ``cycles`` whole pattern cycles, free (``teacher=False``) or nudged by the
        teacher; plasticity stays on, as in the model. Returns ``{quantity: numpy (steps,
        neurons)}`` for every neuron, visible first, sampled every ``every`` steps; quantities:
        ``el.quantities()`` (rate, u, v, v_star, rate_star, trace)."""
        if isinstance(record, str):
            record = [record]
        if cycles < 0:
            raise ValueError(f"cycles = {cycles}: must be at least 0")
        if every < 1:
            raise ValueError(f"every = {every}: must be at least 1")
        return self._net.run(int(cycles), bool(teacher), list(record), int(every))
