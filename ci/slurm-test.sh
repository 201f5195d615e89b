#!/usr/bin/env bash
# ci/slurm-test.sh [COMMAND...]: run COMMAND (default: the Slurm integration test,
# crates/sweep/tests/slurm.rs) with a real single-node Slurm cluster up and ELISE_SLURM_TEST=1.
#
# Starts the cluster with ci/slurm-local.sh (installs Slurm and munge with apt when missing;
# needs root) and stops its daemons afterwards, unless they were already running before (then
# they are left as found). Where no cluster can start (not root, no apt) it prints SKIPPED with
# the reason and runs COMMAND without ELISE_SLURM_TEST (the Slurm test then reports itself
# skipped). Any other failure fails. ./ci/test runs the whole suite through this script, so the
# Slurm test adds only its own run time and the cluster start, not another build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# = 0 ]; then set -- cargo test --workspace --test slurm -- --nocapture; fi
# Four CPUs declared, so that the test's 4-task array runs in one wave even on 2 cores (its
# tasks mostly sleep).
export ELISE_SLURM_CPUS=${ELISE_SLURM_CPUS:-4}
t0=$SECONDS
before=$(./ci/slurm-local.sh status 2>/dev/null | grep -c ': running' || true)
set +e
./ci/slurm-local.sh start
rc=$?
set -e
if [ $rc = 3 ]; then
  echo "SKIPPED the Slurm integration test: no local cluster can be started here (reason above)."
  exec "$@"
elif [ $rc != 0 ]; then
  echo "ci/slurm-local.sh failed (exit $rc)" >&2
  exit $rc
fi
echo "local Slurm cluster up after $((SECONDS - t0)) s"
if [ "$before" = 0 ]; then trap './ci/slurm-local-stop.sh' EXIT; fi
ELISE_SLURM_TEST=1 "$@"
