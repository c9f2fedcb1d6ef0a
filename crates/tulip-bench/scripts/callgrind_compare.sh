#!/usr/bin/env bash
# Instructions of two tulip-bench binaries on the same workloads, counted by
# valgrind's callgrind (deterministic, unlike wall-clock figures on a shared
# machine), and their ratio. Build the "before" binary from a worktree of the older
# commit with its own target dir, copy both binaries aside, then:
#
#   crates/tulip-bench/scripts/callgrind_compare.sh BEFORE AFTER [CONTENDER] [WORKLOAD...]
#   e.g. callgrind_compare.sh /tmp/tb-0a914f1 /tmp/tb-now tulip-threaded yield_many
#
# Build both with `--features tulip-threaded` to compare the threaded contender.
# Defaults: tulip-local; yield_many spawn_join ping_pong. Runs each with --quick.
set -euo pipefail
before=$1 after=$2
contender=${3:-tulip-local}
shift $(($# < 3 ? $# : 3))
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(yield_many spawn_join ping_pong)
count() {
    local out
    out=$(mktemp /tmp/callgrind.XXXXXX)
    valgrind --tool=callgrind --callgrind-out-file="$out" "$1" __run "$contender" "$2" --quick \
        >/dev/null 2>&1
    awk '/^summary:|^totals:/ {print $2; exit}' "$out"
    rm -f "$out"
}
printf '%-12s %14s %14s %7s\n' workload before after ratio
for w in "${workloads[@]}"; do
    b=$(count "$before" "$w")
    a=$(count "$after" "$w")
    printf '%-12s %14d %14d %7.3f\n' "$w" "$b" "$a" "$(echo "$a / $b" | bc -l)"
done
