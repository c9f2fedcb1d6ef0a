"""asyncio.run under Ctrl-C (3.11), what tests/signal_exit.rs asserts of
examples/run_cleanup.rs: the first SIGINT cancels main, whose clean-up runs, and
run raises KeyboardInterrupt. With a slow clean-up a second SIGINT is not swallowed:
asyncio raises KeyboardInterrupt inside the clean-up (caught here, so "exit 0");
tulip cannot raise into running code and restores the default action instead, so
the program dies of SIGINT (docs/asyncio-to-tulip.md). Run with no argument: it
starts itself as a child twice and prints what it saw."""
import asyncio
import os
import signal
import subprocess
import sys


async def main(slow):
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    print("listening on %s:%d" % server.sockets[0].getsockname(), flush=True)
    try:
        await asyncio.sleep(60)
    finally:
        print("clean-up: closing the server", flush=True)
        server.close()
        await server.wait_closed()
        if slow:
            print("clean-up: slow", flush=True)
            await asyncio.sleep(60)
        print("clean-up done", flush=True)


def child(slow):
    try:
        asyncio.run(main(slow))
    except KeyboardInterrupt:
        print("KeyboardInterrupt", flush=True)


def parent():
    for slow, interrupts in ((False, 1), (True, 2)):
        p = subprocess.Popen([sys.executable, __file__, "slow" if slow else "fast"],
                             stdout=subprocess.PIPE, text=True)
        lines = [p.stdout.readline().strip()]
        for i in range(interrupts):
            p.send_signal(signal.SIGINT)
            if i + 1 < interrupts:
                lines += [p.stdout.readline().strip(), p.stdout.readline().strip()]
        lines += p.stdout.read().splitlines()
        print("slow" if slow else "fast", "exit", p.wait(), lines[1:])


if len(sys.argv) > 1:
    child(sys.argv[1] == "slow")
else:
    parent()
