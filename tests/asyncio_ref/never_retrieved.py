# "Task exception was never retrieved": only for a raised task nobody retrieved.
# Run: python3 tests/asyncio_ref/never_retrieved.py   (tests/task_outcome.rs asserts this trace)
import asyncio
import gc


async def main():
    loop = asyncio.get_running_loop()
    reports = []
    loop.set_exception_handler(lambda lp, ctx: reports.append(
        f"{ctx['message']}: {type(ctx['exception']).__name__} {ctx['exception']}"))
    print("handler is set:", loop.get_exception_handler() is not None)

    async def boom(msg):
        raise ValueError(msg)

    # awaited: retrieved, never reported
    t = asyncio.create_task(boom("awaited"))
    try:
        await t
    except ValueError:
        pass
    # exception() read: retrieved
    t = asyncio.create_task(boom("read"))
    await asyncio.sleep(0)
    t.exception()
    # cancelled: not an exception, never reported
    t = asyncio.create_task(asyncio.sleep(10))
    await asyncio.sleep(0)
    t.cancel()
    await asyncio.sleep(0)
    # detached and failed: reported
    t = asyncio.create_task(boom("lost"))
    await asyncio.sleep(0)
    del t
    gc.collect()
    await asyncio.sleep(0)
    for r in reports:
        print(r)


asyncio.run(main())
