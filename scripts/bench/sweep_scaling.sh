#!/usr/bin/env bash
# Throughput of a seed sweep on 1 core vs 2 cores (or any two thread counts), and proof that the
# thread count does not change the results.
#
# Runs the same exp-birdsong sweep (the --quick protocol, SEEDS seeds) with --threads 1 and with
# --threads T, under /usr/bin/time, and prints wall time, jobs per minute, speed-up, parallel
# efficiency and peak RSS of each, then checks that the validation curves and traces of both
# runs are byte-identical (the runs table differs only in its wall-time columns).
#
# Usage: scripts/bench/sweep_scaling.sh [SEEDS=4] [T=2]
# Needs an otherwise idle machine for meaningful numbers.
set -euo pipefail
SEEDS=${1:-4}
T=${2:-2}
cd "$(dirname "$0")/../.."

cargo build --quiet --release -p exp-birdsong
BIN=target/release/exp-birdsong
WORK=$(mktemp -d /tmp/elise-sweep-scaling.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

run() { # threads
  local dir="$WORK/t$1/run-scaling"
  /usr/bin/time -f "%e %M" -o "$WORK/time-$1" \
    "$BIN" --quick --seeds "$SEEDS" --threads "$1" --out "$dir" >/dev/null 2>"$WORK/log-$1"
  read -r wall rss <"$WORK/time-$1"
  echo "$wall $rss"
}

read -r w1 m1 < <(run 1)
read -r wt mt < <(run "$T")

printf '%-8s %10s %12s %14s\n' threads "wall (s)" "jobs/min" "peak RSS (MB)"
printf '%-8s %10.1f %12.2f %14.1f\n' 1 "$w1" "$(echo "$SEEDS * 60 / $w1" | bc -l)" "$(echo "$m1 / 1024" | bc -l)"
printf '%-8s %10.1f %12.2f %14.1f\n' "$T" "$wt" "$(echo "$SEEDS * 60 / $wt" | bc -l)" "$(echo "$mt / 1024" | bc -l)"
speedup=$(echo "$w1 / $wt" | bc -l)
printf 'speed-up %.2fx on %d threads (parallel efficiency %.0f %%)\n' "$speedup" "$T" \
  "$(echo "100 * $speedup / $T" | bc -l)"

status=0
for table in curves traces; do
  if diff -r "$WORK/t1/run-scaling/$table" "$WORK/t$T/run-scaling/$table" >/dev/null; then
    echo "$table: byte-identical with 1 and $T threads"
  else
    echo "$table: DIFFERENT with 1 and $T threads"
    status=1
  fi
done
exit $status
