#!/usr/bin/env python3
"""Print a summary of an exp-birdsong run directory from its Parquet tables.

Usage: python3 scripts/summarize_run.py results/birdsong/run-XXXX
Needs polars (pip install polars).
"""
import sys

import polars as pl


def main(run_dir: str) -> None:
    runs = pl.read_parquet(f"{run_dir}/runs/*.parquet").sort("seed")
    cols = ["seed", "n_latent", "mode", "replay_mse", "replay_corr_sum", "replay_corr_sum_min",
            "final_val_mse", "final_val_corr_sum", "wall_seconds", "steps_per_second"]
    with pl.Config(tbl_rows=100, tbl_cols=20, float_precision=4):
        print(runs.select(cols))
    ok = runs.filter((pl.col("replay_corr_sum_min") >= 12.0) & (pl.col("replay_mse_max") <= 0.01))
    print(f"{ok.height} of {runs.height} seeds replay with corr_sum >= 12 and mse <= 0.01 in every scored cycle")
    curves = pl.read_parquet(f"{run_dir}/curves/*.parquet")
    last = (curves.filter(pl.col("phase") == "validation")
            .group_by("cycle").agg(pl.col("mse").median(), pl.col("corr_sum").median())
            .sort("cycle").tail(3))
    print("median over seeds, last validation cycles:")
    print(last)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
