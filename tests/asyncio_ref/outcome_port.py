# The asyncio program that docs/asyncio-to-tulip.md ports to tulip
# (examples/outcome_port.rs prints the same lines).
import asyncio


async def worker(n):
    try:
        await asyncio.sleep(10)
    finally:
        print(f"worker {n} cleaning up")


async def failing():
    await asyncio.sleep(0.01)
    raise ValueError("bad input")


async def main():
    w = asyncio.create_task(worker(1))
    f = asyncio.create_task(failing())
    await asyncio.sleep(0.02)
    w.cancel()
    try:
        await w
    except asyncio.CancelledError:
        print("worker cancelled:", w.cancelled())
    try:
        await f
    except ValueError as e:
        print("failing raised:", e, "| exception():", repr(f.exception()))


asyncio.run(main())
