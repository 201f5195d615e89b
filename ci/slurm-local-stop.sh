#!/usr/bin/env bash
# ci/slurm-local-stop.sh: stop the single-node Slurm cluster that ci/slurm-local.sh started.
#
# Stops only the processes named in slurm-local.sh's PID files, each checked against its
# executable (a reused PID is never hit); never kills by name. Cancels the cluster's jobs first
# (only when slurm.conf is ours). Safe to run twice. Packages, state and logs stay; --purge also
# removes $ELISE_SLURM_DIR and the slurm.conf this project wrote.
set -uo pipefail

DIR=${ELISE_SLURM_DIR:-/var/tmp/elise-slurm}
CONF=/etc/slurm/slurm.conf
MARK='# written by elise-lab ci/slurm-local.sh'
PIDS=$DIR/pid

log() { printf '[slurm-local-stop] %s\n' "$*" >&2; }
running() {
  start-stop-daemon --status --pidfile "$PIDS/$1.pid" --exec "/usr/sbin/$1" >/dev/null 2>&1
}
stop_daemon() {  # NAME
  [ -e "$PIDS/$1.pid" ] || return 0
  if running "$1"; then log "stopping $1 (pid $(cat "$PIDS/$1.pid"))"; fi
  start-stop-daemon --stop --quiet --oknodo --pidfile "$PIDS/$1.pid" --exec "/usr/sbin/$1" \
    --retry TERM/15/KILL/5 --remove-pidfile
  rm -f "$PIDS/$1.pid"
}

purge=0
case ${1:-} in
  --purge) purge=1 ;;
  "") ;;
  *) echo "usage: $0 [--purge]" >&2; exit 2 ;;
esac

if ! command -v start-stop-daemon >/dev/null; then
  log "no start-stop-daemon: nothing was started here"
  exit 0
fi

if running slurmctld && [ -e "$CONF" ] && grep -qxF "$MARK" "$CONF"; then
  mapfile -t jobs < <(squeue -h -o %A 2>/dev/null | sort -u)
  if [ ${#jobs[@]} -gt 0 ]; then
    log "cancelling jobs ${jobs[*]}"
    scancel "${jobs[@]}" 2>/dev/null || true
    for _ in $(seq 1 100); do
      [ -z "$(squeue -h -o %A 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
fi

stop_daemon slurmd
stop_daemon slurmctld
stop_daemon munged
rm -f "$PIDS/slurmd.own.pid" "$PIDS/slurmctld.own.pid"

if [ $purge = 1 ]; then
  if [ -e "$CONF" ] && grep -qxF "$MARK" "$CONF"; then rm -f "$CONF"; log "removed $CONF"; fi
  rm -rf "$DIR"
  log "removed $DIR"
fi
log "stopped"
