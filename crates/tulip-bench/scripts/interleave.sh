#!/usr/bin/env bash
# Before/after of one workload on a shared machine: runs `tulip-bench __run C W
# --quick` for each contender on the BEFORE binary and on the AFTER binary (peers
# from AFTER only), in turns, REPS times, and prints each figure's median with every
# round's value.
#
#   crates/tulip-bench/scripts/interleave.sh BEFORE AFTER WORKLOAD REPS TULIP_CONTENDERS PEERS
#   crates/tulip-bench/scripts/interleave.sh /work/target-prev/release/tulip-bench \
#       target/release/tulip-bench tcp_echo 5 tulip-threaded,tulip-local tokio-mt,tokio-ct
#
# Each binary: `cargo build --release -p tulip-bench --features tulip-threaded` in a
# worktree of its commit. `SIZE=full` runs the workloads at full size (200,000 tasks
# for spawn_join, 100,000 sleepers for timers) instead of `--quick`.
set -euo pipefail
size=--quick
[ "${SIZE:-quick}" = full ] && size=
before=$1 after=$2 workload=$3 reps=$4 ours=$5 peers=${6:-}
out=$(mktemp)
for _ in $(seq "$reps"); do
    for c in ${ours//,/ }; do
        echo "before:$c $("$before" __run "$c" "$workload" $size 2>/dev/null)" >>"$out"
        echo "after:$c $("$after" __run "$c" "$workload" $size 2>/dev/null)" >>"$out"
    done
    for c in ${peers//,/ }; do
        echo "$c $("$after" __run "$c" "$workload" $size 2>/dev/null)" >>"$out"
    done
done
python3 - "$out" <<'PY'
import collections, json, statistics, sys
figures = collections.defaultdict(lambda: collections.defaultdict(list))
order = []
for line in open(sys.argv[1]):
    who, result = line.split(" ", 1)
    if who not in order:
        order.append(who)
    for name, value in json.loads(result).items():
        figures[who][name].append(value)
for who in order:
    for name, values in sorted(figures[who].items()):
        rounds = ", ".join(f"{v:,.0f}" for v in values)
        print(f"{who:24} {name:28} median {statistics.median(values):>12,.1f}   ({rounds})")
PY
rm -f "$out"
