#!/usr/bin/env bash
# Times FORCE at N = 1000 in elise-lab (elise_baselines::ForceCore) against a plain NumPy FORCE
# loop ("what a user would write", written here from Sussillo & Abbott 2009, not copied), on
# this machine in one run, and prints the ratio.
#
# Workload: N units, J sparse with p = 0.1 scaled by g = 1.5 (NumPy: a dense matrix with zeros,
# as in the paper's demo code), tau = 10 ms, dt = 1 ms, one output fed back, a sine target of
# period 100 steps, an RLS update (P is N x N) on every 2nd step, STEPS steps; one core, f64.
#
# Usage: scripts/bench/force_vs_numpy.sh [N=1000] [STEPS=2000]
set -euo pipefail
N=${1:-1000}
STEPS=${2:-2000}
cd "$(dirname "$0")/../.."

VENV=$(mktemp -d /tmp/elise-bench-venv.XXXXXX)
trap 'rm -rf "$VENV"' EXIT
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet numpy

export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

ours=$(cargo bench --quiet -p elise-baselines --bench workload -- force "$N" "$STEPS" 2>/dev/null |
  awk '/^seconds/ {print $2}')

theirs=$("$VENV/bin/python" - "$N" "$STEPS" <<'PY'
import sys, time
import numpy as np
n, steps = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(1)
p, g, alpha, dt_tau = 0.1, 1.5, 1.0, 0.1
J = g * (rng.random((n, n)) < p) * rng.normal(0.0, 1.0 / np.sqrt(p * n), (n, n))
wf = rng.uniform(-1.0, 1.0, n)
w = np.zeros(n)
P = np.eye(n) / alpha
x = 0.5 * rng.normal(size=n)
r = np.tanh(x)
z = 0.0
t0 = time.perf_counter()
for k in range(steps):
    x += dt_tau * (-x + J @ r + wf * z)
    r = np.tanh(x)
    z = w @ r
    if (k + 1) % 2 == 0:
        f = np.sin(2 * np.pi * k / 100.0)
        Pr = P @ r
        c = 1.0 / (1.0 + r @ Pr)
        P -= c * np.outer(Pr, Pr)
        w -= (c * (z - f)) * Pr
print(time.perf_counter() - t0)
PY
)

python3 - "$ours" "$theirs" "$N" "$STEPS" <<'PY'
import sys
ours, theirs = float(sys.argv[1]), float(sys.argv[2])
n, steps = sys.argv[3], int(sys.argv[4])
print(f"FORCE N={n} steps={steps} (RLS every 2nd step)")
print(f"  elise-lab : {ours:8.3f} s  ({ours / steps * 1e6:8.1f} us/step)")
print(f"  NumPy     : {theirs:8.3f} s  ({theirs / steps * 1e6:8.1f} us/step)")
print(f"  ratio NumPy / elise-lab: {theirs / ours:.1f}x")
PY
