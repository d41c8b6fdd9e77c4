#!/usr/bin/env bash
# udll assign as a real Slurm array job, on one machine.
#
#   bash benches/slurm_shards.sh WORKDIR [N_IMAGES] [SAMPLE] [SHARD_COUNTS]
#
# Brings up a single-node Slurm (Debian's slurm-wlm and munge; slurmctld +
# slurmd on this host, proctrack/linuxproc, no cgroups, no accounting) in
# WORKDIR/slurm, then:
#   1. writes a synthetic input of N_IMAGES (default 1 000 000) 32 x 32
#      uint8 images with `udll synth` (a chunk at a time);
#      (without labels: at 100 poses per object a million images are 10 000
#      classes, and the accuracy's matching is cubic in the classes; the
#      accuracy of sharded assignment is measured on MNIST instead);
#   2. fits a model on a seeded sample of SAMPLE images (default 20 000)
#      with `udll run --fit-sample` (landmark mode, 2 000 landmarks, or
#      SAMPLE / 4 when that is fewer);
#   3. assigns the whole input unsharded (the reference bytes);
#   4. for each shard count N in SHARD_COUNTS (default "1 4 8"): submits
#      `sbatch --array=0-(N-1) --wait`, each task running the static binary
#      on its shard under /usr/bin/time -v; merges; compares the merged
#      labels.csv with the unsharded one byte for byte; prints wall time and
#      each shard's peak RSS;
#   5. once more with the largest N, requeues one running task mid-way
#      (scontrol requeue: Slurm kills it and runs it again) and checks the
#      merged bytes are still equal.
# Needs root (apt-get, munged, slurmd). UDLL_BIN: the binary to run (default
# the static build, built here if missing). Exits non-zero on any mismatch.
set -euo pipefail

WORK=$(realpath -m "${1:?usage: slurm_shards.sh WORKDIR [N_IMAGES] [SAMPLE] [SHARD_COUNTS]}")
N_IMAGES=${2:-1000000}
SAMPLE=${3:-20000}
COUNTS=${4:-"1 4 8"}
REPO=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$WORK"

if [ -z "${UDLL_BIN:-}" ]; then
    UDLL_BIN=$REPO/target/static/x86_64-unknown-linux-gnu/release/udll
    if [ ! -x "$UDLL_BIN" ]; then
        (cd "$REPO" && RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked \
            --target x86_64-unknown-linux-gnu --target-dir target/static)
    fi
fi
echo "binary: $UDLL_BIN"

# --- a single-node Slurm -----------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi
S=$WORK/slurm
mkdir -p "$S/state" "$S/spool" /run/munge
chown munge:munge /run/munge 2>/dev/null || true
if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 2>/dev/null
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
fi
pgrep -x munged >/dev/null || munged --force
HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
cat > "$S/slurm.conf" <<EOF
ClusterName=udll
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
JobRequeue=1
ReturnToService=2
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/slurmctld.log
SlurmdLogFile=$S/slurmd.log
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=main Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$S/slurm.conf
pkill -x slurmctld 2>/dev/null || true
pkill -x slurmd 2>/dev/null || true
sleep 1
slurmctld -c
slurmd
for _ in $(seq 60); do
    if sinfo -h -o %T 2>/dev/null | grep -q idle; then break; fi
    sleep 1
done
sinfo
trap 'pkill -x slurmd; pkill -x slurmctld' EXIT

# --- the input and the model --------------------------------------------------
cd "$WORK"
seconds() { /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1; }
if [ ! -s input.npy ]; then
    echo "synth: $N_IMAGES images"
    /usr/bin/time -f "synth: %e s, peak RSS %M kB" "$UDLL_BIN" synth --n "$N_IMAGES" --poses 100 --seed 1 --out input.npy --quiet
fi
LANDMARKS=$(( SAMPLE / 4 < 2000 ? SAMPLE / 4 : 2000 ))
if [ ! -s model/manifest.json ]; then
    /usr/bin/time -f "fit on $SAMPLE: %e s, peak RSS %M kB" "$UDLL_BIN" run --data input.npy \
        --fit-sample "$SAMPLE" --landmarks "$LANDMARKS" --clusters 100 --preset synthetic --seed 1 --out model --quiet --no-report
fi
if [ ! -s whole/labels.csv ]; then
    /usr/bin/time -f "unsharded assign: %e s, peak RSS %M kB" "$UDLL_BIN" assign --model model --data input.npy \
        --out whole --quiet --no-report
fi
WANT=$(sha256sum whole/labels.csv | cut -c1-64)
echo "unsharded labels.csv: $WANT"

# --- array jobs ----------------------------------------------------------------
cat > shard.sbatch <<EOF
#!/bin/bash
#SBATCH --job-name=udll-assign
#SBATCH --cpus-per-task=1
#SBATCH --output=$WORK/logs/%A_%a.out
# Each task: one slice of the input, the static binary, its peak RSS.
N=\$1
I=\$SLURM_ARRAY_TASK_ID
exec /usr/bin/time -f "%e s %M kB" -o $WORK/logs/rss-\$N-\$I.txt \
    $UDLL_BIN assign --model $WORK/model --data $WORK/input.npy \
    --shard \$I/\$N --threads 1 --out $WORK/shards-\$N/s\$I --quiet --no-report
EOF
mkdir -p logs
status=0
run_array() { # N [requeue]
    local n=$1 requeue=${2:-}
    rm -rf "shards-$n" "merged-$n" logs/rss-"$n"-*.txt
    local t0 t1 job
    t0=$(date +%s.%N)
    if [ -n "$requeue" ]; then
        job=$(sbatch --parsable --array=0-$((n - 1)) shard.sbatch "$n")
        # Wait for task 1 to run a while, then have Slurm kill and requeue it.
        for _ in $(seq 600); do
            if squeue -h -j "${job}_1" -t R 2>/dev/null | grep -q .; then break; fi
            sleep 0.5
        done
        sleep 5
        echo "requeue ${job}_1 (running: $(squeue -h -j "${job}_1" -o %T))"
        scontrol requeue "${job}_1"
        while squeue -h -j "$job" 2>/dev/null | grep -q .; do sleep 2; done
        sacct >/dev/null 2>&1 || true
    else
        sbatch --wait --array=0-$((n - 1)) shard.sbatch "$n" >/dev/null
    fi
    t1=$(date +%s.%N)
    local dirs=()
    for i in $(seq 0 $((n - 1))); do dirs+=("shards-$n/s$i"); done
    "$UDLL_BIN" merge "${dirs[@]}" --out "merged-$n" --quiet >/dev/null
    local got
    got=$(sha256sum "merged-$n/labels.csv" | cut -c1-64)
    local rss
    rss=$(cat logs/rss-"$n"-*.txt | awk '{print $3}' | sort -n | tail -1)
    printf "N=%-2s %s wall %6.1f s  max per-shard peak RSS %d kB  merged %s  %s\n" "$n" "${requeue:+(one task requeued)}" \
        "$(echo "$t1 - $t0" | bc)" "$rss" "${got:0:16}" "$([ "$got" = "$WANT" ] && echo SAME || echo DIFFERENT)"
    cat logs/rss-"$n"-*.txt | sed "s/^/    shard time, RSS: /"
    [ "$got" = "$WANT" ] || status=1
}
for n in $COUNTS; do run_array "$n"; done
last=$(echo "$COUNTS" | awk '{print $NF}')
[ "$last" -ge 2 ] && run_array "$last" requeue
exit $status
