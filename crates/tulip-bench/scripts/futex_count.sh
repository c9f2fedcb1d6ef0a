#!/usr/bin/env bash
# Futex calls (parks and unparks of threads) of one contender on one workload, counted
# by strace over the whole child process: how often the workers of a multi-threaded
# executor went to sleep and were woken. Compare two binaries of tulip-bench, or a
# tulip contender with a peer.
#
#   crates/tulip-bench/scripts/futex_count.sh BIN CONTENDER WORKLOAD
#   e.g. futex_count.sh target/release/tulip-bench tulip-threaded spawn_join
#
# Needs strace. The workload runs at full size (slower under strace; only the count
# matters).
set -euo pipefail
bin=$1 contender=$2 workload=$3
out=$(mktemp /tmp/futex.XXXXXX)
strace -f -c -o "$out" "$bin" __run "$contender" "$workload" >/dev/null
calls=$(awk '$NF == "futex" {print $4}' "$out")
echo "$contender $workload: ${calls:-0} futex calls"
rm -f "$out"
