#!/usr/bin/env bash
# Before/after of criterion benches on a shared machine: runs the BEFORE and AFTER
# bench binaries in turns, REPS times each, and prints every bench's middle
# estimate per round and the median of them. A baseline saved minutes earlier
# (`--save-baseline`, then `--baseline`) compares against another stretch of the
# machine; on this VM that alone moved benches by ±25%.
#
#   crates/tulip-bench/scripts/criterion_ab.sh BEFORE AFTER FILTER REPS
#   crates/tulip-bench/scripts/criterion_ab.sh /tmp/core-before /tmp/core-after threaded:: 3
#
# Each binary: in a worktree of its commit, `cargo bench --no-run -p tulip-bench
# --features tulip-threaded --bench core` prints its path (target/release/deps/core-*);
# copy it out. Each round runs 1 s of warm-up and 3 s of measurement per bench.
set -euo pipefail
before=$1 after=$2 filter=$3 reps=$4
out=$(mktemp)
for _ in $(seq "$reps"); do
    for side in before after; do
        bin=$before
        [ "$side" = after ] && bin=$after
        "$bin" --bench "$filter" --noplot --warm-up-time 1 --measurement-time 3 2>/dev/null |
            awk -v side="$side" '
                /^[^ ]/ && !/^Benchmarking/ { name = $1 }
                /time:/ { sub(/.*time: *\[/, ""); print side, name, $3, $4 }' >>"$out"
    done
done
python3 - "$out" <<'PY'
import collections, statistics, sys
scale = {"ns": 1e-3, "µs": 1.0, "us": 1.0, "ms": 1e3, "s": 1e6}
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    side, name, value, unit = line.split()
    runs[(name, side)].append(float(value) * scale[unit])
for name in sorted({n for n, _ in runs}):
    b, a = runs[(name, "before")], runs[(name, "after")]
    if not b or not a:
        continue
    mb, ma = statistics.median(b), statistics.median(a)
    fmt = lambda xs: ", ".join(f"{x:,.1f}" for x in xs)
    print(f"{name:32} before {mb:10,.1f} µs ({fmt(b)})")
    print(f"{'':32} after  {ma:10,.1f} µs ({fmt(a)})  after/before {ma / mb:.2f}")
PY
rm -f "$out"
