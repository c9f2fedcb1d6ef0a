#!/usr/bin/env bash
# One tulip contender against one peer, in pairs: each round runs both back to back
# (which goes first alternates), so a slow stretch of a shared machine hits both
# sides of a pair. Prints, per figure, each round's ratio, the median ratio and in
# how many rounds tulip was the better one. A ratio above 1.00 means tulip is
# better (faster, more throughput, less memory), whichever way the figure points.
#
#   crates/tulip-bench/scripts/paired.sh BENCH CONTENDER PEER WORKLOAD REPS
#   crates/tulip-bench/scripts/paired.sh target/release/tulip-bench \
#       tulip-threaded tokio-mt tcp_echo 9
#
# BENCH: `cargo build --release -p tulip-bench --features tulip-threaded`.
# Workloads run at full size unless `SIZE=quick`.
set -euo pipefail
size=
[ "${SIZE:-full}" = quick ] && size=--quick
bench=$1 ours=$2 peer=$3 workload=$4 reps=$5
out=$(mktemp)
for round in $(seq "$reps"); do
    if [ $((round % 2)) -eq 1 ]; then order="$ours $peer"; else order="$peer $ours"; fi
    for c in $order; do
        echo "$round $c $("$bench" __run "$c" "$workload" $size 2>/dev/null)" >>"$out"
    done
done
python3 - "$out" "$ours" "$peer" <<'PY'
import collections, json, statistics, sys
path, ours, peer = sys.argv[1:]
runs = collections.defaultdict(dict)
for line in open(path):
    rnd, who, result = line.split(" ", 2)
    runs[int(rnd)][who] = json.loads(result)
names = sorted({n for r in runs.values() for n in r.get(ours, {})})
print(f"{ours} vs {peer}: ratio > 1.00 = {ours} better")
for name in names:
    higher_better = name.endswith("_per_s")
    ratios = []
    for rnd in sorted(runs):
        a, b = runs[rnd].get(ours, {}).get(name), runs[rnd].get(peer, {}).get(name)
        if a and b:
            ratios.append(a / b if higher_better else b / a)
    if not ratios:
        continue
    wins = sum(r > 1.0 for r in ratios)
    rounds = ", ".join(f"{r:.2f}" for r in ratios)
    print(f"  {name:28} median {statistics.median(ratios):.2f}  better in {wins}/{len(ratios)}   ({rounds})")
PY
rm -f "$out"
