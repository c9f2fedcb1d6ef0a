"""asyncio.timeout / timeout_at (CPython 3.11): a past deadline lets the body start
and cancels it at its first await; the TimeoutError comes from the CancelledError
(3.11 raises it while handling it: __context__; tulip: source()); a body
that swallows the cancel and returns makes the scope return normally with
expired() True; when(), reschedule() and its RuntimeError once finished.
Mirrored by tests/timeouts.rs (timeout_*)."""
import asyncio

log = []


async def main():
    loop = asyncio.get_running_loop()
    # A past deadline: the body starts, its first await is cancelled.
    try:
        async with asyncio.timeout_at(loop.time() - 1) as cm:
            log.append("body started")
            await asyncio.sleep(10)
            log.append("not reached")
    except TimeoutError as e:
        cause = e.__cause__ or e.__context__
        log.append(f"TimeoutError from {type(cause).__name__}")
    log.append(f"expired={cm.expired()}")
    print("past:", log)
    log.clear()

    # The body swallows the cancel and returns normally.
    async with asyncio.timeout(0.01) as cm:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            log.append("swallowed")
    log.append(f"scope returned normally, expired={cm.expired()}")
    log.append(f"cancelling={asyncio.current_task().cancelling()}")
    await asyncio.sleep(0)
    log.append("no stray cancel")
    print("swallow:", log)
    log.clear()

    # when(), reschedule() while active, RuntimeError once finished.
    async with asyncio.timeout(None) as cm:
        log.append(f"when={cm.when()}")
        cm.reschedule(loop.time() + 10)
        log.append(f"rescheduled={cm.when() is not None}")
        cm.reschedule(None)
        log.append(f"when={cm.when()}")
    try:
        cm.reschedule(None)
    except RuntimeError as e:
        log.append(f"RuntimeError: {e}")
    print("reschedule:", log)


asyncio.run(main())
