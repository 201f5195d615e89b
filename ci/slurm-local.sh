#!/usr/bin/env bash
# ci/slurm-local.sh: a single-node Slurm cluster on localhost, for the harness's Slurm test.
#
# Installs Debian's Slurm (slurmctld, slurmd and slurm-client: the parts of slurm-wlm) and munge
# when they are missing, writes /etc/slurm/slurm.conf and starts munged, slurmctld and slurmd in
# the background, then waits until the node is idle. Needs root and apt (a Debian machine
# without systemd is fine). Idempotent: what already runs (by this script) is left alone; a
# changed configuration restarts the two Slurm daemons. ci/slurm-local-stop.sh stops exactly
# what this started (PID files, checked against the executable; never by name).
#
# Usage: ci/slurm-local.sh [start|status]          (default: start)
# Environment (optional):
#   ELISE_SLURM_DIR      state, logs, PID files        (default /var/tmp/elise-slurm)
#   ELISE_SLURM_CPUS     CPUs the node declares        (default: nproc; may exceed the real
#                        count so that a small array runs in one wave)
#   ELISE_SLURM_TIMEOUT  seconds to wait for a daemon  (default 60)
# Exit code 0: the cluster is up. 3: cannot run here (not root, no apt); the reason is printed.
# Any other non-zero code: a real failure (see the logs under $ELISE_SLURM_DIR/log).
#
# Things that matter on such machines: munged must run as user munge and wants its key owned by
# munge with mode 0600 and a /run/munge it can write; slurmctld runs as user slurm and needs its
# state directory owned by slurm; "localhost" as node and controller name keeps the host name
# and DNS out of it; proctrack/linuxproc + task/none avoid cgroups (absent in many containers).
set -euo pipefail

DIR=${ELISE_SLURM_DIR:-/var/tmp/elise-slurm}
TIMEOUT=${ELISE_SLURM_TIMEOUT:-60}
CONF=/etc/slurm/slurm.conf
MARK='# written by elise-lab ci/slurm-local.sh'
PIDS=$DIR/pid
LOGS=$DIR/log
PACKAGES=(munge slurmctld slurmd slurm-client)

log() { printf '[slurm-local] %s\n' "$*" >&2; }
fail() { log "ERROR: $*"; exit 1; }
cannot() { log "cannot start a local Slurm here: $*"; exit 3; }

# running NAME: the PID file of NAME names a live process executing /usr/sbin/NAME.
running() {
  start-stop-daemon --status --pidfile "$PIDS/$1.pid" --exec "/usr/sbin/$1" >/dev/null 2>&1
}

install_packages() {
  local p missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  log "installing ${missing[*]} (apt)"
  apt-get update -qq >/dev/null
  # The packages' maintainer scripts try to start services; without an init system they only
  # print that they could not.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${PACKAGES[@]}" >/dev/null 2>"$DIR/apt.err" || { cat "$DIR/apt.err" >&2; fail "apt-get install failed"; }
}

# write_conf: (re)writes slurm.conf; returns 0 if it changed, 1 if it was already so.
write_conf() {
  local cpus mem new
  cpus=${ELISE_SLURM_CPUS:-$(nproc)}
  mem=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
  mem=${mem:-1024}
  if [ -e "$CONF" ] && ! grep -qxF "$MARK" "$CONF"; then
    fail "$CONF was not written by this script (a real cluster's?); not touching it"
  fi
  new=$(mktemp)
  cat >"$new" <<EOF
$MARK
# Single-node test cluster; regenerated on every start.
ClusterName=elise-local
SlurmctldHost=localhost
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$DIR/state/ctld
SlurmdSpoolDir=$DIR/state/d
SlurmctldPidFile=$PIDS/slurmctld.own.pid
SlurmdPidFile=$PIDS/slurmd.own.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
KillWait=5
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
NodeName=localhost CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  if [ -e "$CONF" ] && cmp -s "$new" "$CONF"; then rm -f "$new"; return 1; fi
  mkdir -p /etc/slurm
  install -m 0644 "$new" "$CONF"
  rm -f "$new"
  return 0
}

munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munged() {
  running munged && return 0
  if munge_works; then
    log "munged (not started by this script) already answers; using it"
    return 0
  fi
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null \
      || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown munge:munge /etc/munge /etc/munge/munge.key /var/lib/munge /var/log/munge
  chmod 0700 /etc/munge
  chmod 0600 /etc/munge/munge.key
  install -d -o munge -g munge -m 0755 /run/munge
  log "starting munged"
  start-stop-daemon --start --quiet --oknodo --background --chuid munge:munge \
    --make-pidfile --pidfile "$PIDS/munged.pid" --output "$LOGS/munged.out" \
    --exec /usr/sbin/munged -- --foreground --force
  local i
  for ((i = 0; i < TIMEOUT * 10; i++)); do munge_works && return 0; sleep 0.1; done
  tail -n 5 "$LOGS/munged.out" >&2 || true
  fail "munged did not answer within ${TIMEOUT}s"
}

start_daemon() {  # NAME
  running "$1" && return 0
  log "starting $1"
  start-stop-daemon --start --quiet --oknodo --background \
    --make-pidfile --pidfile "$PIDS/$1.pid" --output "$LOGS/$1.out" \
    --exec "/usr/sbin/$1" -- -D
  local i
  for ((i = 0; i < 50; i++)); do running "$1" && return 0; sleep 0.1; done
  tail -n 20 "$LOGS/$1.out" >&2 || true
  fail "$1 did not start"
}

stop_daemon() {  # NAME
  [ -e "$PIDS/$1.pid" ] || return 0
  start-stop-daemon --stop --quiet --oknodo --pidfile "$PIDS/$1.pid" --exec "/usr/sbin/$1" \
    --retry TERM/15/KILL/5 --remove-pidfile
}

wait_for_node() {
  local i state=""
  for ((i = 0; i < TIMEOUT * 5; i++)); do
    for d in slurmctld slurmd; do
      running "$d" || { tail -n 20 "$LOGS/$d.out" >&2 || true; fail "$d exited"; }
    done
    state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
    case $state in
      idle | mixed | allocated | completing) log "node localhost is $state"; return 0 ;;
      *drain* | down*) scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 0.2
  done
  sinfo -R >&2 || true
  fail "node not ready within ${TIMEOUT}s (state: ${state:-unknown})"
}

start() {
  local t0=$SECONDS changed=0
  [ "$(id -u)" = 0 ] || cannot "not root (munged and slurmd must be started as root)"
  command -v apt-get >/dev/null && command -v dpkg-query >/dev/null \
    || cannot "no apt-get/dpkg (not a Debian-like system)"
  install -d -m 0755 "$DIR" "$PIDS" "$DIR/state" "$DIR/state/d"
  install_packages
  command -v start-stop-daemon >/dev/null || cannot "no start-stop-daemon"
  install -d -o slurm -g slurm -m 0755 "$LOGS" "$DIR/state/ctld"
  write_conf && changed=1
  start_munged
  if [ $changed = 1 ] && { running slurmctld || running slurmd; }; then
    log "configuration changed: restarting slurmd and slurmctld"
    stop_daemon slurmd
    stop_daemon slurmctld
  fi
  start_daemon slurmctld
  start_daemon slurmd
  wait_for_node
  log "ready after $((SECONDS - t0)) s ($CONF, logs in $LOGS)"
}

status() {
  local d
  for d in munged slurmctld slurmd; do
    if running "$d"; then echo "$d: running (pid $(cat "$PIDS/$d.pid"))"; else echo "$d: not running (by this script)"; fi
  done
  sinfo 2>&1 || true
}

case ${1:-start} in
  start) start ;;
  status) status ;;
  *) echo "usage: $0 [start|status]" >&2; exit 2 ;;
esac
