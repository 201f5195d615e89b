#!/usr/bin/env python3
"""Print a summary of an exp-birdsong run directory from its Parquet tables.

Usage: python3 scripts/summarize_run.py RUN_DIR [RUN_DIR...] [--by COLUMN[,COLUMN...] [--from-cycle C] [--paired | --per-seed]]
Needs polars (pip install polars).

With --by (e.g. --by network_n_latent for exp-size, --by scaffold_p,scaffold_q for exp-scaffold),
prints instead one Markdown row per group of the `runs` table: how many seeds sustain replay
(corr_sum >= 12/13 of the visible neurons, i.e. 12 for Für Elise's 13, and MSE <= 0.01 in every
scored replay cycle) with a 95 % Wilson interval, and
the median replay corr_sum and MSE over seeds with a distribution-free 95 % interval (order
statistics of the binomial; with 10 seeds the 2nd and 9th values, 97.9 % coverage). A replay
whose visible neurons fall silent has corr_sum NaN and ranks lowest.

With several run directories (and --by), one table with a first column `run` (the directory's
name): how explorations with different configs compare.

With two run directories, --by and --paired (e.g. the paper's parameters against a preset on
the same seeds), the jobs are paired by seed and the --by columns: per group, the number of
pairs, each run's success count with its Wilson interval, the discordant pairs (only the first
sustains, only the second) and the exact two-sided McNemar p-value of "both succeed equally
often" (binomial test on the discordant pairs). Jobs without a partner are left out and counted.

With several run directories, --by and --per-seed (e.g. variants screened on the same jobs),
one row per --by group and seed that every run has, one column per run: "yes" where that run's
job sustains replay, "no" where it does not; a last row counts the yes of each run. Which seeds
flip between variants, and which fail under all of them.

`--bin COL=E1,E2,...` groups a numeric --by column into the intervals <= E1, (E1, E2], ...,
> En, e.g. `--by scaffold_latent_reached --bin scaffold_latent_reached=79,87,94` (latent
neurons with a scaffold teacher; the others get no somatic teacher at all).

With --from-cycle C as well (e.g. --by branch --from-cycle 5 for exp-disruption, whose
disruption is in replay cycle 4), the same row is computed from the `curves` table over the
replay cycles >= C only: a seed sustains when every such cycle passes, and its corr_sum and MSE
are its medians over those cycles.

Only jobs with a valid completion record are read (as the harness does): the merged tables of
a complete `collect` if they are there, else the parts named by the records in `_done/` whose
config hash matches the run's `config.toml` (FNV-1a 64 of its bytes). Parts on disk without
such a record (a killed job, a stray file) are ignored.
"""
import argparse
import math
import sys
from pathlib import Path

try:
    import tomllib  # Python >= 3.11
except ModuleNotFoundError:  # Python 3.9, 3.10: pip install tomli
    import tomli as tomllib

import polars as pl


def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def read_parquet(path: Path) -> pl.DataFrame:
    """One Parquet file. Our writer (arrow-rs parquet 60) marks float columns with the IEEE 754
    total column order (PARQUET-2249), which polars before 2 cannot decode ("Invalid thrift");
    then the file is read with pyarrow, if installed, which ignores the unknown order."""
    try:
        return pl.read_parquet(path)
    except Exception as polars_error:  # noqa: BLE001 - any decoder error: try the other reader
        try:
            import pyarrow.parquet as pq
        except ModuleNotFoundError:
            raise polars_error from None
        return pl.from_arrow(pq.read_table(path))


def recorded_parts(run: Path, table: str) -> list[Path]:
    """The parts of `table` named by completion records made for this run's config.toml."""
    config_hash = fnv1a64((run / "config.toml").read_bytes())
    parts = []
    for record_file in sorted((run / "_done").glob("job-*.toml")):
        try:
            record = tomllib.loads(record_file.read_text())
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue
        if record.get("config_fnv1a64") != config_hash:
            continue
        for part in record.get("parts", []):
            path = run / part["table"] / part["file"]
            if part["table"] == table and path.is_file() and path.stat().st_size == part["bytes"]:
                parts.append(path)
    return parts


def read_table(run: Path, table: str) -> pl.DataFrame:
    collected = run / "collect.toml"
    merged = run / f"{table}.parquet"
    if merged.is_file() and collected.is_file():
        if tomllib.loads(collected.read_text()).get("status") == "complete":
            return read_parquet(merged)
    parts = recorded_parts(run, table)
    if not parts:
        sys.exit(f"{run}: no recorded job has a '{table}' table")
    # Parts written by an older build may lack a config column added since (collect fills it
    # from config.toml); here such values are null.
    return pl.concat([read_parquet(p) for p in parts], how="diagonal_relaxed")


def sustained() -> pl.Expr:
    """Replay sustained: in every scored replay cycle corr_sum >= 12/13 per visible neuron (12 of
    13 for Für Elise; the mean Pearson correlation per neuron >= 0.923) and MSE <= 0.01."""
    return (pl.col("replay_corr_sum_min") >= pl.col("n_visible") * 12.0 / 13.0) & (
        pl.col("replay_mse_max") <= 0.01
    )


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion."""
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def median_interval(values: list[float], worst: float) -> tuple[float, float, float]:
    """Median and a distribution-free interval of >= 95 % for it: the k-th smallest and k-th
    largest value, k the largest with P(Binomial(n, 1/2) < k) <= 2.5 %. NaN counts as `worst`."""
    xs = sorted(worst if math.isnan(v) else v for v in values)
    n = len(xs)
    if n == 0:
        return (math.nan, math.nan, math.nan)
    med = (xs[(n - 1) // 2] + xs[n // 2]) / 2
    k, tail = 0, 0.0
    while k < n:
        tail_next = tail + math.comb(n, k) / 2**n
        if tail_next > 0.025:
            break
        tail, k = tail_next, k + 1
    if k == 0:  # too few seeds for a 95 % interval
        return (med, math.nan, math.nan)
    return (med, xs[k - 1], xs[n - k])


def fmt(x: float, digits: int) -> str:
    if math.isinf(x) or math.isnan(x):
        return "NaN"
    return f"{x:.{digits}f}"


def from_cycle(runs: pl.DataFrame, curves: pl.DataFrame, first: int) -> pl.DataFrame:
    """`runs` with its replay columns recomputed over the replay cycles >= `first` of `curves`:
    replay_corr_sum_min / replay_mse_max the worst cycle, replay_corr_sum / replay_mse the
    median cycle (NaN corr_sum, a silent cycle, ranks lowest)."""
    keys = ["job", "branch"]
    late = (
        curves.filter((pl.col("phase") == "replay") & (pl.col("cycle") >= first))
        .with_columns(pl.col("branch").fill_null(""), pl.col("corr_sum").fill_nan(-math.inf))
        .group_by(keys)
        .agg(
            pl.col("corr_sum").min().alias("replay_corr_sum_min"),
            pl.col("mse").max().alias("replay_mse_max"),
            pl.col("corr_sum").median().alias("replay_corr_sum"),
            pl.col("mse").median().alias("replay_mse"),
        )
    )
    replay = ["replay_corr_sum_min", "replay_mse_max", "replay_corr_sum", "replay_mse"]
    joined = runs.drop(replay).with_columns(pl.col("branch").fill_null("")).join(late, on=keys)
    if joined.height != runs.height:
        sys.exit(f"--from-cycle {first}: {runs.height - joined.height} jobs have no replay cycle >= {first}")
    return joined


def bin_label(edges: list[float], x: float) -> tuple[int, str]:
    """(index, label) of the interval of `edges` (<= e0, (e0, e1], ..., > en) holding x."""
    show = lambda e: f"{e:g}"  # noqa: E731
    for i, e in enumerate(edges):
        if x <= e:
            return i, (f"<= {show(e)}" if i == 0 else f"{show(edges[i - 1])} < x <= {show(e)}")
    return len(edges), f"> {show(edges[-1])}"


def apply_bins(runs: pl.DataFrame, bins: dict[str, list[float]]) -> pl.DataFrame:
    """Replaces each binned column by its interval label; the order of the labels is kept in
    BIN_ORDER for sorting."""
    for col, edges in bins.items():
        if col not in runs.columns:
            sys.exit(f"--bin {col}: no such column (columns: {', '.join(runs.columns)})")
        labels = [bin_label(edges, float(x)) for x in runs[col].to_list()]
        BIN_ORDER.update({label: i for i, label in labels})
        runs = runs.with_columns(pl.Series(col, [label for _, label in labels]))
    return runs


BIN_ORDER: dict[str, int] = {}


def group_key(key: tuple) -> tuple:
    """Sort key of a group: bin labels in interval order, other values as they are."""
    return tuple((BIN_ORDER[k], "") if isinstance(k, str) and k in BIN_ORDER else (-1, k)
                 if isinstance(k, str) else (0, k) for k in key)


def parse_bins(spec: list[str]) -> dict[str, list[float]]:
    bins = {}
    for s in spec:
        col, _, edges = s.partition("=")
        try:
            values = [float(e) for e in edges.split(",")]
        except ValueError:
            values = []
        if not col or not values or values != sorted(values):
            sys.exit(f"--bin {s!r}: expected COLUMN=E1,E2,... with increasing numbers")
        bins[col] = values
    return bins


def interval_table(runs: pl.DataFrame, by: list[str]) -> str:
    """One Markdown row per group of `runs` (see the module docs)."""
    head = "| " + " | ".join(by) + " | seeds | sustain replay (95 % CI) | median replay corr_sum [95 % CI] | median replay MSE [95 % CI] |"
    lines = [head, "|" + "---|" * (len(by) + 4)]
    for key, g in sorted(runs.group_by(by, maintain_order=True), key=lambda kg: group_key(kg[0])):
        n = g.height
        ok = g.filter(sustained()).height
        lo, hi = wilson(ok, n)
        c, clo, chi = median_interval(g["replay_corr_sum"].to_list(), -math.inf)
        m, mlo, mhi = median_interval(g["replay_mse"].to_list(), math.inf)
        cells = [str(k) for k in key] + [
            str(n),
            f"{ok} of {n} ({lo:.2f}–{hi:.2f})",
            f"{fmt(c, 2)} [{fmt(clo, 2)}, {fmt(chi, 2)}]",
            f"{fmt(m, 4)} [{fmt(mlo, 4)}, {fmt(mhi, 4)}]",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def mcnemar_p(only_a: int, only_b: int) -> float:
    """Exact two-sided McNemar p-value: P(a result at least as unbalanced as only_a : only_b)
    when each discordant pair goes either way with probability 1/2."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    k = min(only_a, only_b)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n)


def paired_table(a: pl.DataFrame, b: pl.DataFrame, names: tuple[str, str], by: list[str]) -> str:
    """One Markdown row per group: runs `a` and `b` paired by `by` + seed (see the module docs)."""
    keys = by + ["seed"]
    for name, run in zip(names, (a, b)):
        dup = run.select(keys).is_duplicated()
        if dup.any():
            example = run.select(keys).filter(dup).row(0, named=True)
            sys.exit(f"--paired: {name} has several jobs for {example}; add the columns that tell "
                     "them apart to --by")
    ok_a = a.select(keys + [sustained().alias("ok_a")])
    ok_b = b.select(keys + [sustained().alias("ok_b")])
    pairs = ok_a.join(ok_b, on=keys, how="inner")
    unpaired = a.height + b.height - 2 * pairs.height
    na, nb = names
    head = (f"| {' | '.join(by)} | pairs | {na} sustains (95 % CI) | {nb} sustains (95 % CI) "
            f"| only {na} | only {nb} | McNemar p |")
    lines = [head, "|" + "---|" * (len(by) + 6)]
    for key, g in sorted(pairs.group_by(by, maintain_order=True), key=lambda kg: group_key(kg[0])):
        n = g.height
        sa, sb = g["ok_a"].sum(), g["ok_b"].sum()
        only_a = g.filter(pl.col("ok_a") & ~pl.col("ok_b")).height
        only_b = g.filter(~pl.col("ok_a") & pl.col("ok_b")).height
        (la, ha), (lb, hb) = wilson(sa, n), wilson(sb, n)
        cells = [str(k) for k in key] + [
            str(n),
            f"{sa} of {n} ({la:.2f}–{ha:.2f})",
            f"{sb} of {n} ({lb:.2f}–{hb:.2f})",
            str(only_a),
            str(only_b),
            f"{mcnemar_p(only_a, only_b):.2g}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if unpaired:
        lines.append(f"\n{unpaired} jobs without a partner in the other run (not counted).")
    return "\n".join(lines)


def per_seed_table(runs: list[pl.DataFrame], names: list[str], by: list[str]) -> str:
    """One Markdown row per `by` group and seed present in every run (see the module docs)."""
    keys = by + ["seed"]
    joined = None
    for name, run in zip(names, runs):
        if run.select(keys).is_duplicated().any():
            sys.exit(f"--per-seed: {name} has several jobs per {keys}; add the columns that tell "
                     "them apart to --by")
        col = run.select(keys + [sustained().alias(name)])
        joined = col if joined is None else joined.join(col, on=keys, how="inner")
    lines = ["| " + " | ".join(keys + names) + " |", "|" + "---|" * (len(keys) + len(names))]
    rows = sorted(joined.iter_rows(named=True), key=lambda r: group_key(tuple(r[k] for k in keys)))
    for r in rows:
        lines.append("| " + " | ".join([str(r[k]) for k in keys]
                                       + ["yes" if r[n] else "no" for n in names]) + " |")
    lines.append("| " + " | ".join(["all"] + [""] * (len(keys) - 1)
                                   + [f"{joined[n].sum()} of {joined.height}" for n in names]) + " |")
    return "\n".join(lines)


def scored_runs(run: Path, first_cycle: "int | None", bins: dict[str, list[float]]) -> pl.DataFrame:
    """The `runs` table of `run`, scored from replay cycle `first_cycle` on if given
    (--from-cycle), with the --bin columns binned."""
    runs = read_table(run, "runs")
    if first_cycle is not None:
        runs = from_cycle(runs, read_table(run, "curves"), first_cycle)
    return apply_bins(runs, bins)


def main(run_dir: str) -> None:
    run = Path(run_dir)
    runs = read_table(run, "runs").sort("seed")
    cols = ["seed", "network_n_latent", "network_mode", "replay_mse", "replay_corr_sum",
            "replay_corr_sum_min", "final_val_mse", "final_val_corr_sum", "wall_seconds",
            "steps_per_second"]
    with pl.Config(tbl_rows=100, tbl_cols=20, float_precision=4):
        print(runs.select([c for c in cols if c in runs.columns]))
    ok = runs.filter(sustained())
    print(f"{ok.height} of {runs.height} seeds replay with corr_sum >= 12/13 per visible neuron and mse <= 0.01 in every scored cycle")
    curves = read_table(run, "curves")
    last = (curves.filter(pl.col("phase") == "validation")
            .group_by("cycle").agg(pl.col("mse").median(), pl.col("corr_sum").median())
            .sort("cycle").tail(3))
    print("median over seeds, last validation cycles:")
    print(last)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(usage=__doc__.split("\n\n")[1])
    parser.add_argument("run_dir", nargs="+")
    parser.add_argument("--by", help="comma-separated columns of the runs table")
    parser.add_argument("--from-cycle", type=int, help="score replay cycles >= this only (needs --by)")
    parser.add_argument("--paired", action="store_true",
                        help="two run directories: pair jobs by seed and --by, McNemar test")
    parser.add_argument("--per-seed", action="store_true",
                        help="several run directories: one row per --by group and seed, yes/no per run")
    parser.add_argument("--bin", action="append", default=[], metavar="COL=E1,E2,...",
                        help="group a numeric --by column into intervals (repeatable)")
    args = parser.parse_args()
    bins = parse_bins(args.bin)
    if bins and not args.by:
        sys.exit("--bin needs --by")
    if args.per_seed:
        if len(args.run_dir) < 2 or not args.by or args.paired:
            sys.exit("--per-seed needs two or more run directories and --by (and not --paired)")
        runs = [scored_runs(Path(d), args.from_cycle, bins) for d in args.run_dir]
        names = [Path(d).name for d in args.run_dir]
        if len(set(names)) != len(names):
            names = [f"run {i + 1}" for i in range(len(names))]
        print(per_seed_table(runs, names, args.by.split(",")))
    elif args.paired:
        if len(args.run_dir) != 2 or not args.by:
            sys.exit("--paired needs exactly two run directories and --by")
        runs = [scored_runs(Path(d), args.from_cycle, bins) for d in args.run_dir]
        names = tuple(Path(d).name for d in args.run_dir)
        if names[0] == names[1]:
            names = ("first", "second")
        print(paired_table(runs[0], runs[1], names, args.by.split(",")))
    elif args.by:
        tables = []
        for d in args.run_dir:
            run = Path(d)
            runs = scored_runs(run, args.from_cycle, bins)
            if len(args.run_dir) > 1:
                runs = runs.with_columns(pl.lit(run.name).alias("run"))
            tables.append(runs)
        by = args.by.split(",")
        if len(args.run_dir) > 1:
            by = ["run"] + by
        print(interval_table(pl.concat(tables, how="diagonal_relaxed"), by))
    elif args.from_cycle is not None:
        sys.exit("--from-cycle needs --by")
    elif len(args.run_dir) > 1:
        sys.exit("several run directories need --by")
    else:
        main(args.run_dir[0])
