"""gather's cancellable handle (CPython 3.11): gather(...).cancel() cancels every
unfinished child (children cancelled before they ran never start); a child's
cancellation propagates as CancelledError; with return_exceptions a cancelled child
is a CancelledError in the list. Mirrored by tests/gather.rs."""
import asyncio

log = []


async def child(i, delay):
    log.append(f"start {i}")
    try:
        await asyncio.sleep(delay)
    except asyncio.CancelledError:
        log.append(f"cancelled {i}")
        raise
    log.append(f"done {i}")
    return i


async def waiter(i, go):
    log.append(f"start {i}")
    await go.wait()
    log.append(f"done {i}")
    return i


async def main():
    # Cancelled before it ran: the children never start.
    g = asyncio.gather(child(0, 10), child(1, 10))
    log.append(f"cancel -> {g.cancel()}")
    try:
        await g
    except asyncio.CancelledError:
        log.append("gather: CancelledError")
    print("before run:", log)
    log.clear()

    # Cancelled while the children run: each is cancelled, the gather raises.
    g = asyncio.gather(child(0, 10), child(1, 10))
    await asyncio.sleep(0)
    log.append(f"cancel -> {g.cancel()}")
    try:
        await g
    except asyncio.CancelledError:
        log.append("gather: CancelledError")
    print("while running:", log)
    log.clear()

    # One child cancelled (by someone else): the gather raises CancelledError.
    go = asyncio.Event()
    a = asyncio.ensure_future(child(0, 10))
    b = asyncio.ensure_future(waiter(1, go))
    g = asyncio.gather(a, b)
    await asyncio.sleep(0)
    a.cancel()
    try:
        await g
    except asyncio.CancelledError:
        log.append("gather: CancelledError")
    go.set()
    await b
    print("child cancelled:", log)
    log.clear()

    # return_exceptions: the cancelled child is a CancelledError in the list.
    go = asyncio.Event()
    a = asyncio.ensure_future(child(0, 10))
    b = asyncio.ensure_future(waiter(1, go))
    g = asyncio.gather(a, b, return_exceptions=True)
    await asyncio.sleep(0)
    a.cancel()
    await asyncio.sleep(0)
    go.set()
    out = await g
    log.append(f"results {[type(r).__name__ if isinstance(r, BaseException) else r for r in out]}")
    print("return_exceptions:", log)


asyncio.run(main())
