"""asyncio.wait / as_completed (CPython 3.11): wait([]) is a ValueError;
FIRST_EXCEPTION returns at the first task that raised (a plain exception, not only a
crash), and a cancelled task does not count; as_completed gives a cancelled task as
CancelledError. Mirrored by tests/wait.rs."""
import asyncio

log = []


async def main():
    try:
        await asyncio.wait([])
    except ValueError as e:
        log.append(f"ValueError: {e}")
    print("empty:", log)
    log.clear()

    go = asyncio.Event()

    async def raises():
        await go.wait()
        raise KeyError("raised")

    async def hangs():
        await asyncio.sleep(10)

    cancelled = asyncio.ensure_future(hangs())
    failing = asyncio.ensure_future(raises())
    slow = asyncio.ensure_future(hangs())
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    # The cancelled task is done, but FIRST_EXCEPTION keeps waiting.
    w = asyncio.ensure_future(asyncio.wait([cancelled, failing, slow], return_when=asyncio.FIRST_EXCEPTION))
    await asyncio.sleep(0)
    log.append(f"after cancel: wait done={w.done()}")
    go.set()
    done, pending = await w
    log.append(f"done={sorted(['cancelled' if t is cancelled else 'failing' if t is failing else 'slow' for t in done])}")
    log.append(f"pending={len(pending)}")
    log.append(f"failing raised {type(failing.exception()).__name__}")
    slow.cancel()
    print("first_exception:", log)
    log.clear()

    a = asyncio.ensure_future(hangs())
    b = asyncio.ensure_future(asyncio.sleep(0, result="b"))
    await asyncio.sleep(0)
    a.cancel()
    for f in asyncio.as_completed([a, b]):
        try:
            log.append(f"got {await f}")
        except asyncio.CancelledError:
            log.append("got CancelledError")
    print("as_completed:", log)
    log.clear()


asyncio.run(main())
