"""Python peer of tulip-bench: the same workloads on asyncio (or uvloop).

Run by the harness as `python3 -c <this file> LOOP WORKLOAD PARAMS_JSON`, where
LOOP is `asyncio` or `uvloop`. Prints one JSON object: the figures, keyed as in
the Rust harness, or {"na": reason} when the loop is not installed.
"""

import asyncio
import json
import sys
import time

MASK = (1 << 64) - 1


def xorshift(seed):
    x = seed or 1
    while True:
        x ^= (x << 13) & MASK
        x ^= x >> 7
        x ^= (x << 17) & MASK
        yield x


def rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def percentile(sorted_vals, pct):
    if not sorted_vals:
        return 0.0
    rank = -(-pct * len(sorted_vals) // 100)  # ceil
    rank = min(max(int(rank), 1), len(sorted_vals))
    return float(sorted_vals[rank - 1])


async def spawn_join(p):
    n = p["spawn_tasks"]

    async def task(i):
        return i

    start = time.perf_counter_ns()
    tasks = [asyncio.create_task(task(i)) for i in range(n)]
    total = 0
    for t in tasks:
        total += await t
    elapsed = time.perf_counter_ns() - start
    assert total == n * (n - 1) // 2
    return {"spawn_join.ns_per_task": elapsed / n}


async def ping_pong(p):
    # asyncio.Queue(maxsize=1) is asyncio's own single-slot channel.
    n = p["ping_pong_round_trips"]
    ping, pong = asyncio.Queue(maxsize=1), asyncio.Queue(maxsize=1)

    async def a():
        last = 0
        for i in range(n):
            await ping.put(i)
            last = await pong.get()
        return last

    async def b():
        for _ in range(n):
            await pong.put(await ping.get())

    start = time.perf_counter_ns()
    ta, tb = asyncio.create_task(a()), asyncio.create_task(b())
    last = await ta
    await tb
    elapsed = time.perf_counter_ns() - start
    assert last == n - 1
    return {"ping_pong.ns_per_rt": elapsed / n}


async def main_ping_pong(p):
    # The main coroutine is one side, one task the other (tulip-bench's MAIN_SHARE).
    n = p["ping_pong_round_trips"] // 10
    ping, pong = asyncio.Queue(maxsize=1), asyncio.Queue(maxsize=1)

    async def echo():
        for _ in range(n):
            await pong.put(await ping.get())

    start = time.perf_counter_ns()
    t = asyncio.create_task(echo())
    last = 0
    for i in range(n):
        await ping.put(i)
        last = await pong.get()
    await t
    elapsed = time.perf_counter_ns() - start
    assert last == n - 1
    return {"main_ping_pong.ns_per_rt": elapsed / n}


async def yield_many(p):
    tasks, per = p["yield_tasks"], p["yields_per_task"]

    async def task():
        for _ in range(per):
            await asyncio.sleep(0)
        return per

    start = time.perf_counter_ns()
    handles = [asyncio.create_task(task()) for _ in range(tasks)]
    done = 0
    for h in handles:
        done += await h
    elapsed = time.perf_counter_ns() - start
    assert done == tasks * per
    return {"yield_many.ns_per_yield": elapsed / (tasks * per)}


async def timers(p):
    rng = xorshift(p["seed"])
    delays = [1 + next(rng) % p["timer_max_ms"] for _ in range(p["timer_tasks"])]

    async def task(ms):
        deadline = time.perf_counter_ns() + ms * 1_000_000
        await asyncio.sleep(ms / 1000)
        return max(0, time.perf_counter_ns() - deadline)

    start = time.perf_counter_ns()
    handles = [asyncio.create_task(task(ms)) for ms in delays]
    late = [await h for h in handles]
    total = time.perf_counter_ns() - start
    late.sort()
    return {
        "timers.total_ms": total / 1e6,
        "timers.late_p50_us": percentile(late, 50) / 1e3,
        "timers.late_p99_us": percentile(late, 99) / 1e3,
    }


async def sparse_timers(p):
    gap_ns = p["sparse_gap_us"] * 1000
    order = list(range(1, p["sparse_timers"] + 1))
    rng = xorshift(p["seed"])
    for i in range(len(order) - 1, 0, -1):
        j = next(rng) % (i + 1)
        order[i], order[j] = order[j], order[i]

    async def task(deadline):
        await asyncio.sleep(max(0, deadline - time.perf_counter_ns()) / 1e9)
        return max(0, time.perf_counter_ns() - deadline)

    start = time.perf_counter_ns()
    handles = [asyncio.create_task(task(start + k * gap_ns)) for k in order]
    late = sorted([await h for h in handles])
    return {
        "sparse_timers.late_p50_us": percentile(late, 50) / 1e3,
        "sparse_timers.late_p99_us": percentile(late, 99) / 1e3,
    }


async def echo(conns, size, duration_s):
    async def serve(reader, writer):
        while True:
            data = await reader.read(64 * 1024)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    streams = [await asyncio.open_connection("127.0.0.1", port) for _ in range(conns)]
    msg = b"\x5a" * size
    start = time.perf_counter()

    async def client(reader, writer):
        done = 0
        while time.perf_counter() - start < duration_s:
            writer.write(msg)
            await writer.drain()
            await reader.readexactly(size)
            done += 1
        writer.close()
        return done

    counts = await asyncio.gather(*(client(r, w) for r, w in streams))
    elapsed = time.perf_counter() - start
    server.close()
    return sum(counts), elapsed


async def tcp_echo(p):
    conns, dur = p["tcp_connections"], p["tcp_duration_s"]
    small, t_small = await echo(conns, p["tcp_small_bytes"], dur)
    large, t_large = await echo(conns, p["tcp_large_bytes"], dur)
    return {
        "tcp_echo.small_rt_per_s": small / t_small,
        "tcp_echo.large_mb_per_s": large / t_large * p["tcp_large_bytes"] / 1e6,
    }


async def idle_memory(p):
    n = p["idle_tasks"]
    loop = asyncio.get_running_loop()
    await asyncio.sleep(0)
    before = rss_bytes()
    never = loop.create_future()  # shared, like Rust's zero-sized `pending()`

    async def idle():
        await never

    tasks = [asyncio.create_task(idle()) for _ in range(n)]
    for _ in range(4):
        await asyncio.sleep(0)
    after = rss_bytes()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"idle_memory.bytes_per_task": max(0, after - before) / n}


async def idle_promise(p):
    n = p["idle_tasks"]
    loop = asyncio.get_running_loop()
    await asyncio.sleep(0)
    before = rss_bytes()

    async def idle(fut):
        await fut

    futs = [loop.create_future() for _ in range(n)]
    tasks = [asyncio.create_task(idle(f)) for f in futs]
    for _ in range(4):
        await asyncio.sleep(0)
    after = rss_bytes()
    for f in futs:
        f.set_result(None)
    await asyncio.gather(*tasks)
    return {"idle_promise.bytes_per_task": max(0, after - before) / n}


async def web_serve(p):
    """web_hello's Python side: aiohttp serves GET / until stdin closes; the Rust
    harness drives the clients and reads this process's CPU time."""
    try:
        from aiohttp import web
    except ImportError:
        return {"na": "aiohttp not installed (pip install aiohttp)"}

    async def hello(request):
        return web.Response(text="Hello, World!")

    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(json.dumps({"addr": f"127.0.0.1:{port}"}), flush=True)
    # A helper thread blocks on stdin; the loop serves meanwhile.
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()
    return {"served": 1}


WORKLOADS = {
    "spawn_join": spawn_join,
    "ping_pong": ping_pong,
    "main_ping_pong": main_ping_pong,
    "yield_many": yield_many,
    "timers": timers,
    "sparse_timers": sparse_timers,
    "tcp_echo": tcp_echo,
    "idle_memory": idle_memory,
    "idle_promise": idle_promise,
    "web_serve": web_serve,
}


def main():
    loop_kind, workload, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    if loop_kind == "uvloop":
        try:
            import uvloop
        except ImportError:
            print(json.dumps({"na": "uvloop not installed (pip install uvloop)"}))
            return
        runner = uvloop.run
    else:
        runner = asyncio.run
    print(json.dumps(runner(WORKLOADS[workload](params))))


main()
