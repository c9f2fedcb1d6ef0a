#!/usr/bin/env bash
# Context switches per request of one hello server, per thread: the server pinned to
# CPU 0 (as bench_hello.py pins it), wrk on CPU 1 for 3 s after a 1 s warm-up; the
# switch counts come from /proc/PID/task/*/status.
#
#   crates/tulip-web/scripts/switches_hello.sh hyper_tulip_hello threaded
#   crates/tulip-web/scripts/switches_hello.sh hyper_tokio_hello multi_thread
#
# Needs wrk, taskset and the examples built: cargo build --release -p tulip-web --examples
set -euo pipefail
example=$1 flavor=$2
bin=${CARGO_TARGET_DIR:-$(dirname "$0")/../../../target}/release/examples/$example
port=$((20000 + RANDOM % 10000))
taskset -c 0 "$bin" "$flavor" "127.0.0.1:$port" >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
snapshot() {
    for t in /proc/"$pid"/task/*; do
        echo "$(tr ' ' _ <"$t/comm") $(awk '/ctxt_switches/ {print $2}' "$t/status" | tr '\n' ' ')"
    done
}
taskset -c 1 wrk -t1 -c64 -d1s "http://127.0.0.1:$port/" >/dev/null
before=$(snapshot)
load=$(taskset -c 1 wrk -t1 -c64 -d3s "http://127.0.0.1:$port/")
after=$(snapshot)
reqs=$(awk '/requests in/ {print $1}' <<<"$load")
echo "$example $flavor: $reqs requests"
paste <(echo "$before") <(echo "$after") | awk -v r="$reqs" \
    '{printf "  %-18s voluntary %.3f  involuntary %.3f per request\n", $1, ($5-$2)/r, ($6-$3)/r}'
