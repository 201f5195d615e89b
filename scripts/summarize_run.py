#!/usr/bin/env python3
"""Print a summary of an exp-birdsong run directory from its Parquet tables.

Usage: python3 scripts/summarize_run.py results/birdsong/run-XXXX
Needs polars (pip install polars).

Only jobs with a valid completion record are read (as the harness does): the merged tables of
a complete `collect` if they are there, else the parts named by the records in `_done/` whose
config hash matches the run's `config.toml` (FNV-1a 64 of its bytes). Parts on disk without
such a record (a killed job, a stray file) are ignored.
"""
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
            return pl.read_parquet(merged)
    parts = recorded_parts(run, table)
    if not parts:
        sys.exit(f"{run}: no recorded job has a '{table}' table")
    return pl.concat([pl.read_parquet(p) for p in parts])


def main(run_dir: str) -> None:
    run = Path(run_dir)
    runs = read_table(run, "runs").sort("seed")
    cols = ["seed", "network_n_latent", "network_mode", "replay_mse", "replay_corr_sum",
            "replay_corr_sum_min", "final_val_mse", "final_val_corr_sum", "wall_seconds",
            "steps_per_second"]
    with pl.Config(tbl_rows=100, tbl_cols=20, float_precision=4):
        print(runs.select([c for c in cols if c in runs.columns]))
    ok = runs.filter((pl.col("replay_corr_sum_min") >= 12.0) & (pl.col("replay_mse_max") <= 0.01))
    print(f"{ok.height} of {runs.height} seeds replay with corr_sum >= 12 and mse <= 0.01 in every scored cycle")
    curves = read_table(run, "curves")
    last = (curves.filter(pl.col("phase") == "validation")
            .group_by("cycle").agg(pl.col("mse").median(), pl.col("corr_sum").median())
            .sort("cycle").tail(3))
    print("median over seeds, last validation cycles:")
    print(last)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
