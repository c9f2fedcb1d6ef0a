#!/usr/bin/env bash
# Instructions per request, counted by valgrind's callgrind (deterministic, unlike
# wall-clock figures on a shared machine): runs one hello server under callgrind,
# loads it with wrk for 8 s, stops it and divides its instruction count (start-up
# included, a fraction of a percent) by the requests served.
#
#   crates/tulip-web/scripts/callgrind_hello.sh hello local
#   crates/tulip-web/scripts/callgrind_hello.sh hyper_tulip_hello local
#   crates/tulip-web/scripts/callgrind_hello.sh hyper_tokio_hello current_thread
#
# Needs valgrind, wrk, curl and the examples built:
#   cargo build --release -p tulip-web --examples
set -euo pipefail
example=$1 flavor=$2
bin=${CARGO_TARGET_DIR:-$(dirname "$0")/../../../target}/release/examples/$example
port=$((20000 + RANDOM % 10000))
out=$(mktemp /tmp/callgrind.XXXXXX)
valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$flavor" "127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.2; done
load=$(wrk -t1 -c16 -d8s "http://127.0.0.1:$port/")
kill -INT "$pid"; sleep 0.5; kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
reqs=$(awk '/requests in/ {print $1}' <<<"$load")
ir=$(awk '/^summary:|^totals:/ {print $2; exit}' "$out")
echo "$example $flavor: $reqs requests, $((ir / reqs)) instructions per request"
[ -n "${KEEP:-}" ] && cp "$out" "$KEEP"; rm -f "$out"
