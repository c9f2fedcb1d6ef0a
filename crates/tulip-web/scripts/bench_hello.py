#!/usr/bin/env python3
"""The speed figure: tulip-web's hello on tulip-local and tulip-threaded against
hyper on tokio current_thread and multi_thread, in one run; plus hyper on tulip
without tulip-web (tulip-hyper's glue alone), which splits the difference into the
runtime's share and tulip-web's.

Each server is pinned to CPU 0 (taskset), wrk to CPU 1. The four servers take
turns for ROUNDS rounds; each turn is a 2 s warm-up and a DURATION s measurement.
Printed per server: the median requests/s and the median server CPU (user + system,
from /proc/PID/stat) per request, in microseconds.

    python3 crates/tulip-web/scripts/bench_hello.py [--rounds 3] [--duration 10] [--conns 64]

Needs wrk and taskset; builds the two examples in release mode first.
"""
import argparse
import os
import socket
import statistics
import subprocess
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BIN = os.path.join(TARGET, "release", "examples")
HZ = os.sysconf("SC_CLK_TCK")

SERVERS = [
    ("tulip-web on tulip-local", ["hello", "local"]),
    ("hyper on tulip-local (no tulip-web)", ["hyper_tulip_hello", "local"]),
    ("hyper on tokio current_thread", ["hyper_tokio_hello", "current_thread"]),
    ("tulip-web on tulip-threaded", ["hello", "threaded"]),
    ("hyper on tulip-threaded (no tulip-web)", ["hyper_tulip_hello", "threaded"]),
    ("hyper on tokio multi_thread", ["hyper_tokio_hello", "multi_thread"]),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def wait_listening(port):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def wrk(port, seconds, conns):
    out = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t1", f"-c{conns}", f"-d{seconds}s",
         f"http://127.0.0.1:{port}/"],
        check=True, capture_output=True, text=True).stdout
    reqs = int(next(l for l in out.splitlines() if "requests in" in l).split()[0])
    errors = [l.strip() for l in out.splitlines() if "Non-2xx" in l or "Socket errors" in l]
    return reqs, errors


def measure(argv, duration, conns):
    port = free_port()
    server = subprocess.Popen(
        ["taskset", "-c", "0", os.path.join(BIN, argv[0]), argv[1], f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL)
    try:
        wait_listening(port)
        wrk(port, 2, conns)
        before = cpu_ticks(server.pid)
        start = time.monotonic()
        reqs, errors = wrk(port, duration, conns)
        took = time.monotonic() - start
        ticks = cpu_ticks(server.pid) - before
    finally:
        server.kill()
        server.wait()
    return reqs / took, ticks / HZ * 1e6 / reqs, errors


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--conns", type=int, default=64)
    a = p.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "tulip-web", "--examples"],
                   cwd=ROOT, check=True)
    results = {name: [] for name, _ in SERVERS}
    for r in range(a.rounds):
        for name, argv in SERVERS:
            rps, cpu_us, errors = measure(argv, a.duration, a.conns)
            results[name].append((rps, cpu_us))
            print(f"round {r + 1}: {name:40} {rps:9.0f} req/s {cpu_us:6.2f} us CPU/req {' '.join(errors)}",
                  flush=True)
    print(f"\nmedians of {a.rounds} rounds, wrk -t1 -c{a.conns} -d{a.duration}s, server on CPU 0:")
    for name, _ in SERVERS:
        rps = statistics.median(x[0] for x in results[name])
        cpu = statistics.median(x[1] for x in results[name])
        print(f"{name:40} {rps:9.0f} req/s {cpu:6.2f} us CPU/req")


if __name__ == "__main__":
    main()
