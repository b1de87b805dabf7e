#!/usr/bin/env bash
# A sweep through a real single-node Slurm: starts munged, slurmctld and
# slurmd on localhost from a generated slurm.conf (in WORK_DIR, nothing in
# /etc is touched), submits the sweep as a job array with the merge step
# `tessera sweep --slurm` wrote, waits (bounded), and compares the merged
# results.csv and results.json byte for byte with a local run of the same
# sweep; stops the daemons it started. Exits 77 (skipped) with the reason
# printed only when Slurm cannot start here (not root, packages missing,
# daemons refusing to start).
# Usage: slurm_test.sh TESSERA SOURCE_DIR WORK_DIR
set -uo pipefail
tessera=$1 src=$2 work=$3

skip() { echo "SKIP: $*"; exit 77; }
die() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "the daemons run as root here and this is uid $(id -u)"
for cmd in munged slurmctld slurmd sbatch squeue sinfo scontrol; do
  command -v "$cmd" >/dev/null ||
    skip "$cmd is not installed (bash scripts/setup.sh installs slurm-wlm and munge)"
done

rm -rf "$work"
mkdir -p "$work"/{state,spool,munge}
chmod 700 "$work/munge"
state=$work
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  [ -f "$state/munge/munged.pid" ] && kill "$(cat "$state/munge/munged.pid")" 2>/dev/null
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
}
trap cleanup EXIT

# munge: a fresh key and a private socket.
dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$state/munge/munge.key"
socket=$state/munge/munge.socket
munged --force --key-file="$state/munge/munge.key" --socket="$socket" \
  --pid-file="$state/munge/munged.pid" --log-file="$state/munge/munged.log" \
  --seed-file="$state/munge/munged.seed" ||
  skip "munged does not start: $(tail -n 3 "$state/munge/munged.log" 2>/dev/null)"

# Slurm: controller and one node on 127.0.0.1, ports picked for this run.
port=$((20000 + RANDOM % 20000))
host=$(hostname -s)
cpus=$(nproc)
cat > "$state/slurm.conf" <<EOF
ClusterName=tessera-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$state/state
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SlurmdTimeout=60
NodeName=tessera-node NodeHostname=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=512 State=UNKNOWN
PartitionName=tessera Nodes=tessera-node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$state/slurm.conf

slurmctld -D -c -f "$SLURM_CONF" >"$state/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" -N tessera-node >"$state/slurmd.out" 2>&1 &
pids+=($!)

ready=""
for _ in $(seq 60); do
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null ||
      skip "a Slurm daemon exited at start: $(tail -n 3 "$state"/slurm*.out "$state"/slurm*.log 2>/dev/null | tr '\n' ' ')"
  done
  st=$(sinfo -h -n tessera-node -o %T 2>/dev/null)
  case "$st" in idle*|mixed*|allocated*) ready=1; break ;; esac
  sleep 0.5
done
[ -n "$ready" ] || skip "the node did not become idle in 30 s (state '${st:-none}'): $(tail -n 3 "$state/slurmd.log" 2>/dev/null | tr '\n' ' ')"
echo "slurm: node tessera-node is up ($(sinfo -h -o '%P %D %T'))"

# The sweep: 12 points, 3 array tasks.
cat > "$work/grid.toml" <<EOF
[sweep]
model = "$src/models/encoder_layer/encoder_layer.onnx"
[axes]
sram_bytes = [1048576, 4194304, 33554432]
dram_bandwidth_gbps = [25.6, 51.2, 68.0, 102.4]
EOF
"$tessera" sweep "$work/grid.toml" --out "$work/cluster" --slurm --shards 3 ||
  die "tessera sweep --slurm"
start=$(date +%s)
bash "$work/cluster/slurm/submit.sh" || die "submit.sh: $(tail -n 3 "$state/slurmctld.log")"

# Wait (bounded) for the array and the merge to leave the queue.
deadline=$((start + 150))
while [ -n "$(squeue -h 2>/dev/null)" ]; do
  [ "$(date +%s)" -lt "$deadline" ] || { squeue; die "jobs still queued after 150 s"; }
  sleep 1
done
echo "slurm: array and merge finished in $(( $(date +%s) - start )) s"
[ -f "$work/cluster/results.csv" ] ||
  die "the merge wrote no results: $(cat "$work/cluster/slurm/"*.log 2>/dev/null | tail -n 5)"
for i in 0 1 2; do
  n=$(($(wc -l < "$work/cluster/shards/$i/results.csv") - 1))
  echo "slurm: shard $i ran $n points"
done

# The same sweep locally.
"$tessera" sweep "$work/grid.toml" --out "$work/local" --jobs 2 --no-plots ||
  die "local sweep"
for f in results.csv results.json; do
  cmp "$work/local/$f" "$work/cluster/$f" ||
    die "$f differs between the Slurm run and the local run"
  echo "ok: $f of the Slurm run equals the local run's byte for byte"
done
[ -f "$work/cluster/report.html" ] && echo "ok: the merge step drew the report"
exit 0
