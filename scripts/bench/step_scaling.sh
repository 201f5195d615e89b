#!/usr/bin/env bash
# Step cost and memory against network size: dense all-to-all dendrites at N = 63 ... 2048 and
# sparse dendrites at densities 0.05 / 0.1 / 0.3 (the CSR layout that the network picks, and the
# dense masked layout for comparison). Plasticity on, f64, one core.
#
# Each case runs the `step_profile` bench binary (the demo network: 13 visible neurons, the rest
# latent, after a 2500-step transient) and reads the fastest, the 10th-percentile and the median
# 2000-step segment: on a shared machine the fastest segments show the step's own cost, the
# median includes the neighbours'. ns/synapse is the fastest segment over the synapse count.
# Prints a Markdown table (the one in docs/performance.md, "Scaling").
#
# Usage: scripts/bench/step_scaling.sh [quick]   (quick: N <= 256 only)
# Takes ~3 minutes in full.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo bench --quiet -p elise-dynamics --bench step_profile --no-run 2>/dev/null
BIN=$(cargo bench -p elise-dynamics --bench step_profile --no-run --message-format=json 2>/dev/null |
  sed -n 's/.*"executable":"\([^"]*step_profile[^"]*\)".*/\1/p' | tail -1)
[ -x "$BIN" ] || { echo "step_scaling: step_profile binary not found" >&2; exit 1; }

case_row() { # N STEPS DENSITY [masked]
  local out
  out=$("$BIN" "$@" 2>&1)
  # "n 63 density 1: ... us/step over ... (state hash ...), layout L, S synapses, ..., state B bytes"
  # "segments of 2000 steps: min A / p10 B / median C us/step"
  local layout syn bytes min p10 med
  layout=$(sed -n 's/.*layout \([A-Za-z]*\),.*/\1/p' <<<"$out")
  syn=$(sed -n 's/.*, \([0-9]*\) synapses,.*/\1/p' <<<"$out")
  bytes=$(sed -n 's/.*state \([0-9]*\) bytes.*/\1/p' <<<"$out")
  read -r min p10 med < <(sed -n 's/segments of 2000 steps: min \([0-9.]*\) \/ p10 \([0-9.]*\) \/ median \([0-9.]*\).*/\1 \2 \3/p' <<<"$out")
  awk -v n="$1" -v d="$3" -v l="$layout" -v s="$syn" -v b="$bytes" -v a="$min" -v p="$p10" -v m="$med" \
    'BEGIN { printf "| %d | %s | %s | %d | %.3g | %.3g | %.3g | %.2f | %.1f MB |\n", n, d, l, s, a, p, m, a * 1000 / s, b / 1e6 }'
}

echo "| N | density | layout | synapses | µs/step fastest | p10 | median | ns/synapse (fastest) | network state |"
echo "|---|---|---|---|---|---|---|---|---|"
if [ "${1:-}" = quick ]; then
  SIZES="63:200000 128:60000 256:20000"
  SPARSE="63:100000 256:20000"
else
  SIZES="63:200000 128:60000 256:20000 512:6000 1024:2000 2048:2000"
  SPARSE="63:100000 256:20000 1024:4000 2048:2000"
fi
for c in $SIZES; do
  case_row "${c%%:*}" "${c##*:}" 1.0
done
for c in $SPARSE; do
  for d in 0.05 0.1 0.3; do
    case_row "${c%%:*}" "${c##*:}" "$d"
    case_row "${c%%:*}" "${c##*:}" "$d" masked
  done
done
