#!/usr/bin/env bash
# User-space instructions per 64-byte echo round trip, counted by valgrind's
# callgrind: each contender's `tcp_echo_fixed` (64 connections) runs with LO and
# with HI round trips per connection, and the difference in instructions is divided
# by the difference in round trips, which cancels start-up and set-up. The kernel's
# share is not counted (see `tulip-bench syscalls` for the calls themselves).
#
#   crates/tulip-bench/scripts/echo_instructions.sh BENCH [CONTENDER...]
#   crates/tulip-bench/scripts/echo_instructions.sh target/release/tulip-bench \
#       floor tulip-local tokio-ct smol
#
# Single-threaded contenders only: callgrind runs one thread at a time, and a
# worker that spins while it waits for work would count its spinning.
set -euo pipefail
bench=$1
shift
contenders=("$@")
[ ${#contenders[@]} -gt 0 ] || contenders=(floor tulip-local tokio-ct smol)
lo=20 hi=220 conns=64
count() {
    local out
    out=$(mktemp /tmp/callgrind.XXXXXX)
    valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$bench" __run "$1" tcp_echo_fixed --quick --rounds "$2" >/dev/null 2>&1
    awk '/^summary:|^totals:/ {print $2; exit}' "$out"
    rm -f "$out"
}
printf '%-14s %14s\n' contender 'instr/round trip'
for c in "${contenders[@]}"; do
    a=$(count "$c" $lo)
    b=$(count "$c" $hi)
    printf '%-14s %14.0f\n' "$c" "$(echo "($b - $a) / (($hi - $lo) * $conns)" | bc -l)"
done
