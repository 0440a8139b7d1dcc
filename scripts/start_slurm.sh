#!/usr/bin/env bash
# Start a real SLURM cluster on this machine (for CI and tests).
#
# Installs Debian's slurm-wlm and munge if missing, writes /etc/slurm/slurm.conf
# (cluster "ci": node `hostname -s` in partition "debug"; that node and a second name for
# this machine, `hostname -s`-2, in partition "twonode" for multi-node jobs; one slurmd per
# node name, each on its own port), starts munged, slurmctld and both slurmd, and waits until
# the nodes are idle and srun works on one node and on two.
# Idempotent: when the cluster is already up with this configuration it only
# checks it (about a second). Needs root. Logs: /var/log/slurm/, /tmp/start_slurm.*.log
# On failure it prints one line starting with "start_slurm: " (then a log tail)
# to stderr and exits non-zero.
set -euo pipefail
set -o errtrace  # the ERR trap below also fires inside functions

CONF_DIR=/etc/slurm
CONF="$CONF_DIR/slurm.conf"
LOG_DIR=/var/log/slurm
SPOOL_CTLD=/var/spool/slurmctld
SPOOL_D=/var/spool/slurmd
RUN_DIR=/run/slurm
MUNGE_KEY=/etc/munge/munge.key
APT_LOG=/tmp/start_slurm.apt.log
WAIT_S=${START_SLURM_WAIT_S:-30}
# The clients must read the file written here.
unset SLURM_CONF

die() {  # die MESSAGE [LOGFILE...]: one "start_slurm: " line, then the logs' tails
    trap - ERR
    echo "start_slurm: $1" >&2
    shift
    local f
    for f in "$@"; do
        if [[ -s $f ]]; then
            echo "--- last lines of $f:" >&2
            tail -n 15 "$f" >&2
        fi
    done
    exit 1
}
trap 'die "unexpected failure (exit $?) at line $LINENO: $BASH_COMMAND"' ERR

[[ $(id -u) -eq 0 ]] || die "must run as root (installs packages and starts daemons)"

# Concurrent callers (e.g. pytest-xdist workers) wait for one another here.
exec 9>/tmp/start_slurm.lock
flock -w 300 9 || die "another start_slurm.sh has held /tmp/start_slurm.lock for 300s"

NODE=$(hostname -s)
[[ -n $NODE ]] || die "empty hostname"
NODE2=${NODE}-2  # a second node name on this machine, for multi-node jobs (partition twonode)
CPUS=$(nproc)
MEM_MB=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
# A bit under the machine's memory: slurmd drains a node that has less than RealMemory.
REAL_MEM=$((MEM_MB * 9 / 10))
((REAL_MEM >= 100)) || REAL_MEM=100

# ---------------------------------------------------------------- packages
have_all() {
    command -v munged >/dev/null && command -v slurmctld >/dev/null \
        && command -v slurmd >/dev/null && command -v srun >/dev/null \
        && command -v sinfo >/dev/null
}

install_packages() {
    local pkgs=(slurm-wlm slurmctld slurmd slurm-client munge)
    local added_policy=0
    command -v apt-get >/dev/null || die "slurm/munge missing and apt-get not found (not Debian?)"
    : >"$APT_LOG"
    # Keep the packages' maintainer scripts from starting daemons with their defaults.
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        added_policy=1
    fi
    local ok=0
    if apt-cache policy slurm-wlm 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            "${pkgs[@]}" >>"$APT_LOG" 2>&1 && ok=1
    fi
    if ((!ok)); then  # no package lists yet, or stale ones: update once, retry
        apt-get update -q >>"$APT_LOG" 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            "${pkgs[@]}" >>"$APT_LOG" 2>&1 && ok=1
    fi
    if ((added_policy)); then rm -f /usr/sbin/policy-rc.d; fi
    ((ok)) || die "apt-get install ${pkgs[*]} failed" "$APT_LOG"
    have_all || die "packages installed but munged/slurmctld/slurmd/srun/sinfo not on PATH" "$APT_LOG"
}

# ---------------------------------------------------------------- munge
munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
    local user=root
    getent passwd munge >/dev/null && user=munge
    install -d -m 0700 -o "$user" -g "$user" /etc/munge /var/lib/munge /var/log/munge
    install -d -m 0755 -o "$user" -g "$user" /run/munge
    if [[ ! -s $MUNGE_KEY ]]; then
        if command -v mungekey >/dev/null; then
            mungekey --create --keyfile="$MUNGE_KEY" --force >/dev/null 2>&1 \
                || die "mungekey could not create $MUNGE_KEY"
        else
            dd if=/dev/urandom of="$MUNGE_KEY" bs=1024 count=1 status=none
        fi
    fi
    chown "$user:$user" "$MUNGE_KEY"
    chmod 0400 "$MUNGE_KEY"
    # A stale pid/socket from a dead munged makes a new one refuse to start.
    if ! pgrep -x munged >/dev/null; then
        rm -f /run/munge/munged.pid /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock
    fi
    if [[ $user == munge ]]; then
        runuser -u munge -- munged >/dev/null 2>&1 9>&- || true
    fi
    if ! munge_ok; then  # fall back to running it as root
        chown root:root "$MUNGE_KEY" /etc/munge /var/lib/munge /var/log/munge /run/munge
        munged --force >/dev/null 2>&1 9>&- || true
    fi
    for _ in $(seq 1 10); do
        munge_ok && return 0
        sleep 0.5
    done
    die "munged is not working (munge -n | unmunge fails)" /var/log/munge/munged.log
}

# ---------------------------------------------------------------- config
write_conf() {  # prints "changed" when the file was (re)written
    local tmp
    tmp=$(mktemp /tmp/start_slurm.conf.XXXXXX)
    cat >"$tmp" <<EOF
# Written by scripts/start_slurm.sh: a single-node cluster for CI and tests.
ClusterName=ci
SlurmctldHost=${NODE}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
SwitchType=switch/none
# No systemd or cgroup delegation in containers: no cgroup plugins.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=${LOG_DIR}/jobcomp.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
JobRequeue=1
MinJobAge=60
# Time limits: kill at the limit, SIGKILL KillWait s after SIGTERM.
OverTimeLimit=0
KillWait=10
InactiveLimit=0
SlurmctldTimeout=60
SlurmdTimeout=60
StateSaveLocation=${SPOOL_CTLD}
# Two slurmd daemons on this machine, one per node name: each its own spool, pid and log.
SlurmdSpoolDir=${SPOOL_D}/%n
SlurmctldPidFile=${RUN_DIR}/slurmctld.pid
SlurmdPidFile=${RUN_DIR}/slurmd-%n.pid
SlurmctldLogFile=${LOG_DIR}/slurmctld.log
SlurmdLogFile=${LOG_DIR}/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=${NODE} NodeAddr=127.0.0.1 NodeHostname=${NODE} Port=6818 CPUs=${CPUS} RealMemory=${REAL_MEM} State=UNKNOWN
NodeName=${NODE2} NodeAddr=127.0.0.1 NodeHostname=${NODE} Port=6819 CPUs=${CPUS} RealMemory=${REAL_MEM} State=UNKNOWN
PartitionName=debug Nodes=${NODE} Default=YES MaxTime=INFINITE State=UP
PartitionName=twonode Nodes=${NODE},${NODE2} MaxTime=INFINITE State=UP
EOF
    mkdir -p "$CONF_DIR"
    if [[ -f $CONF ]] && cmp -s "$tmp" "$CONF"; then
        rm -f "$tmp"
    else
        install -m 0644 "$tmp" "$CONF"
        rm -f "$tmp"
        echo changed
    fi
}

# ---------------------------------------------------------------- daemons
ctld_up() { timeout 10 scontrol ping 2>/dev/null | grep -q 'is UP'; }
pid_alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
node_state() { { timeout 10 sinfo -h -n "$NODE" -o %T 2>/dev/null || true; } | head -n 1; }
srun_ok() { timeout 30 srun --immediate=20 -N 1 -n 1 -t 1 true >/dev/null 2>&1; }

stop_daemon() {  # stop_daemon PIDFILE: TERM, then KILL after 10 s
    local pidfile=$1 pid
    [[ -s $pidfile ]] || return 0
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 40); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

healthy() {  # the node is usable and (when idle) srun runs a step
    local st
    st=$(node_state)
    case $st in
        idle) srun_ok ;;
        mixed | allocated | completing) ctld_up ;;  # busy: srun would wait for it
        *) return 1 ;;
    esac
}

# ---------------------------------------------------------------- main
have_all || install_packages
munge_ok || start_munge

changed=$(write_conf)
all_slurmd_alive() {
    local node
    for node in "$NODE" "$NODE2"; do pid_alive "$RUN_DIR/slurmd-$node.pid" || return 1; done
}
if [[ -z $changed ]] && all_slurmd_alive && healthy; then
    exit 0
fi

install -d -m 0755 "$LOG_DIR" "$SPOOL_CTLD" "$SPOOL_D/$NODE" "$SPOOL_D/$NODE2" "$RUN_DIR"

if [[ -n $changed ]]; then  # a new configuration: restart them all
    stop_daemon "$RUN_DIR/slurmd.pid"  # a single-node cluster this script started before
    stop_daemon "$RUN_DIR/slurmd-$NODE.pid"
    stop_daemon "$RUN_DIR/slurmd-$NODE2.pid"
    stop_daemon "$RUN_DIR/slurmctld.pid"
fi

if ! ctld_up; then
    stop_daemon "$RUN_DIR/slurmctld.pid"
    slurmctld >"$LOG_DIR/slurmctld.out" 2>&1 9>&- \
        || die "slurmctld failed to start" "$LOG_DIR/slurmctld.out" "$LOG_DIR/slurmctld.log"
    for _ in $(seq 1 $((WAIT_S * 2))); do
        ctld_up && break
        sleep 0.5
    done
    ctld_up || die "slurmctld is not answering (scontrol ping) after ${WAIT_S}s" \
        "$LOG_DIR/slurmctld.out" "$LOG_DIR/slurmctld.log"
fi

for node in "$NODE" "$NODE2"; do
    if ! pid_alive "$RUN_DIR/slurmd-$node.pid"; then
        slurmd -N "$node" >"$LOG_DIR/slurmd-$node.out" 2>&1 9>&- \
            || die "slurmd -N $node failed to start" "$LOG_DIR/slurmd-$node.out" \
                "$LOG_DIR/slurmd-$node.log"
    fi
done

wait_node_up() {  # wait_node_up NODE: until SLURM reports it usable (resumed once if down)
    local node=$1 state="" resumed=0 reason
    for _ in $(seq 1 $((WAIT_S * 2))); do
        state=$({ timeout 10 sinfo -h -n "$node" -o %T 2>/dev/null || true; } | head -n 1)
        case $state in
            idle | mixed | allocated | completing) return 0 ;;
            down | down~ | drained | draining | drain | fail | failing)
                if ((!resumed)); then
                    scontrol update nodename="$node" state=resume >/dev/null 2>&1 || true
                    resumed=1
                fi
                ;;
        esac
        pid_alive "$RUN_DIR/slurmd-$node.pid" \
            || die "slurmd -N $node exited" "$LOG_DIR/slurmd-$node.out" "$LOG_DIR/slurmd-$node.log"
        sleep 0.5
    done
    reason=$(timeout 10 sinfo -h -n "$node" -o %E 2>/dev/null || true)
    die "node $node is '${state:-unknown}' after ${WAIT_S}s, not idle${reason:+ (reason: $reason)}" \
        "$LOG_DIR/slurmd-$node.log"
}
wait_node_up "$NODE"
wait_node_up "$NODE2"

if [[ $(node_state) == idle ]] && ! srun_ok; then
    die "the node is idle but 'srun -n 1 true' fails" "$LOG_DIR/slurmctld.log"
fi
if [[ $(node_state) == idle ]] \
    && ! timeout 30 srun --immediate=20 -p twonode -N 2 -n 2 -t 1 true >/dev/null 2>&1; then
    die "the nodes are idle but 'srun -p twonode -N 2 true' fails" "$LOG_DIR/slurmctld.log" \
        "$LOG_DIR/slurmd-$NODE2.log"
fi
exit 0
