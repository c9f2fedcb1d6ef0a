"""TaskGroup (CPython 3.11): children that fail in the same loop iteration are all
in the ExceptionGroup, in completion order — the siblings' cancellation comes from
a done-callback one iteration later; a child that ends cancelled is no error; when
the group exits every child is done. Mirrored by tests/task_group.rs."""
import asyncio

log = []


async def fails(name, go):
    await go.wait()
    log.append(f"{name} fails")
    raise ValueError(name)


async def sibling(go):
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        log.append("sibling cancelled")
        raise


async def main():
    go = asyncio.Event()
    kids = []
    try:
        async with asyncio.TaskGroup() as tg:
            kids.append(tg.create_task(fails("a", go)))
            kids.append(tg.create_task(fails("b", go)))
            kids.append(tg.create_task(sibling(go)))
            await asyncio.sleep(0)
            go.set()
            await asyncio.sleep(10)
    except* ValueError as eg:
        log.append(f"group: {[str(e) for e in eg.exceptions]}")
    log.append(f"all done: {all(k.done() for k in kids)}")
    log.append(f"states: {[('cancelled' if k.cancelled() else type(k.exception()).__name__) for k in kids]}")
    print("same iteration:", log)
    log.clear()

    # A child that ends cancelled (cancelled by someone else) is not an error.
    async with asyncio.TaskGroup() as tg:
        t = tg.create_task(asyncio.sleep(10))
        ok = tg.create_task(asyncio.sleep(0, result="ok"))
        await asyncio.sleep(0)
        t.cancel()
    log.append(f"group ok: t.cancelled()={t.cancelled()} ok={ok.result()}")
    print("cancelled child:", log)


asyncio.run(main())
