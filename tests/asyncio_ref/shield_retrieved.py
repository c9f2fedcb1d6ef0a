"""shield (CPython 3.11): the awaiter is cancelled, the inner task goes on and then
raises; the shield's outer done-callback removed the callback that would retrieve
it, so "Task exception was never retrieved" is reported. Mirrored by tests/shield.rs
(shield_inner_failure_is_reported)."""
import asyncio
import gc

reports = []


async def main():
    asyncio.get_running_loop().set_exception_handler(lambda lp, ctx: reports.append(ctx["message"]))
    go = asyncio.Event()

    async def inner():
        await go.wait()
        raise ValueError("inner failed")

    inner_task = asyncio.ensure_future(inner())

    async def outer():
        return await asyncio.shield(inner_task)

    o = asyncio.ensure_future(outer())
    await asyncio.sleep(0)
    o.cancel()
    try:
        await o
    except asyncio.CancelledError:
        print("outer: CancelledError")
    go.set()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    print("inner done:", inner_task.done())
    del inner_task
    gc.collect()
    await asyncio.sleep(0)


asyncio.run(main())
print("reports:", reports)
