"""wait_for (CPython 3.11): swallowed cancel returns the value; timeout=0 cancels
before the body runs; clean-up ends before TimeoutError; its __cause__ is the
CancelledError. Mirrored by tests/timeouts.rs (wait_for_*)."""
import asyncio

log = []


async def swallows():
    log.append("started")
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        log.append("swallowed")
        return "value after cancel"
    return "finished"


async def body():
    log.append("body ran")
    return 1


async def cleans_up():
    log.append("started")
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        await asyncio.sleep(0.01)
        log.append("cleanup done")
        raise


async def main():
    r = await asyncio.wait_for(swallows(), 0.02)
    log.append(f"wait_for returned {r!r}")
    print("swallowed:", log)
    log.clear()

    try:
        await asyncio.wait_for(body(), 0)
    except TimeoutError as e:
        log.append(f"TimeoutError cause={type(e.__cause__).__name__}")
    print("zero:", log)
    log.clear()

    try:
        await asyncio.wait_for(cleans_up(), 0.02)
    except TimeoutError as e:
        log.append(f"TimeoutError cause={type(e.__cause__).__name__}")
    print("cleanup:", log)


asyncio.run(main())
