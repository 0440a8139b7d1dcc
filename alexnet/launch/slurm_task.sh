#!/bin/sh
# How every task of hydra/launcher=slurm starts python: sh slurm_task.sh PYTHON ARGS...
# SLURM's warning and preemption signals can come at any moment, even before python has set its
# handlers, and USR1/USR2's default action kills. Here python starts with USR1, USR2 and TERM
# ignored (an ignored signal stays ignored across exec), and this shell writes each warning
# signal that arrives meanwhile to $ALEXNET_EARLY_SIGNALS, which the run reads when it sets its
# handlers (alexnet.launch.requeue.install_signal_flag) and then requeues at its first batch boundary.
ALEXNET_EARLY_SIGNALS="${TMPDIR:-/tmp}/alexnet-signals-${SLURM_JOB_ID:-0}-${SLURM_PROCID:-0}-$$"
export ALEXNET_EARLY_SIGNALS
rm -f "$ALEXNET_EARLY_SIGNALS"
trap '' USR1 USR2 TERM
"$@" &
child=$!
trap 'echo USR1 >> "$ALEXNET_EARLY_SIGNALS"' USR1
trap 'echo USR2 >> "$ALEXNET_EARLY_SIGNALS"' USR2
status=0
while kill -0 "$child" 2>/dev/null; do
  wait "$child"
  status=$?
done
rm -f "$ALEXNET_EARLY_SIGNALS"
exit "$status"
