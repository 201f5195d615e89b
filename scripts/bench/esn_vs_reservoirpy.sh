#!/usr/bin/env bash
# Times the same echo-state-network workload in elise-lab (elise_baselines::EsnCore) and in
# ReservoirPy, on this machine in one run, and prints the ratio.
#
# Workload: N reservoir units, recurrent density D, spectral radius 0.9, leak rate 0.3, tanh,
# 13-dimensional input (sines), STEPS state updates, no readout training; one core, f64.
# Only the stepping loop is timed on both sides (construction excluded).
#
# Usage: scripts/bench/esn_vs_reservoirpy.sh [N=1000] [DENSITY=0.1] [STEPS=10000]
# ReservoirPy is installed from PyPI into a throwaway virtual environment under /tmp.
set -euo pipefail
N=${1:-1000}
DENSITY=${2:-0.1}
STEPS=${3:-10000}
cd "$(dirname "$0")/../.."

VENV=$(mktemp -d /tmp/elise-bench-venv.XXXXXX)
trap 'rm -rf "$VENV"' EXIT
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet reservoirpy numpy scipy

# One BLAS thread, like our single-threaded step.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

ours=$(cargo bench --quiet -p elise-baselines --bench workload -- esn "$N" "$DENSITY" "$STEPS" 2>/dev/null |
  awk '/^seconds/ {print $2}')

theirs=$("$VENV/bin/python" - "$N" "$DENSITY" "$STEPS" <<'PY'
import sys, time
import numpy as np
import reservoirpy as rpy
from reservoirpy.nodes import Reservoir
if hasattr(rpy, "__version__") and rpy.__version__.startswith("0.3"):
    rpy.verbosity(0)  # removed in 0.4
n, density, steps = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
k = np.arange(steps)[:, None] * 0.05 + np.arange(13)[None, :]
u = np.sin(k)
res = Reservoir(units=n, sr=0.9, lr=0.3, rc_connectivity=density, input_connectivity=1.0,
                activation="tanh", seed=1)
res.run(u[:10])                      # initialise weights outside the timed region
getattr(res, "reset", lambda: None)()
t0 = time.perf_counter()
states = res.run(u)
print(time.perf_counter() - t0)
PY
)

python3 - "$ours" "$theirs" "$N" "$DENSITY" "$STEPS" <<'PY'
import sys
ours, theirs = float(sys.argv[1]), float(sys.argv[2])
n, d, steps = sys.argv[3], sys.argv[4], int(sys.argv[5])
print(f"ESN N={n} density={d} steps={steps}")
print(f"  elise-lab   : {ours:8.3f} s  ({ours / steps * 1e6:8.1f} us/step)")
print(f"  ReservoirPy : {theirs:8.3f} s  ({theirs / steps * 1e6:8.1f} us/step)")
print(f"  ratio ReservoirPy / elise-lab: {theirs / ours:.1f}x")
PY
