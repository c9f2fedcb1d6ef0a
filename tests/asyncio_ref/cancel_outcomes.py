# How a cancelled task ends, as CPython 3.11 reports it (tests/task_cancel.rs).
# Run: python3 tests/asyncio_ref/cancel_outcomes.py
import asyncio


async def main():
    trace = []

    # 1. The cancel propagates out of the body: the task ends cancelled.
    started = asyncio.Event()

    async def sleeper():
        started.set()
        await asyncio.sleep(10)

    t = asyncio.create_task(sleeper())
    await started.wait()
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        trace.append("propagated: await raised CancelledError")
    trace.append(f"propagated: done={t.done()} cancelled={t.cancelled()}")
    try:
        t.exception()
    except asyncio.CancelledError:
        trace.append("propagated: exception() raised CancelledError")

    # 2. Cancelled before its first step: the body never runs.
    ran = []

    async def body():
        ran.append(True)

    t = asyncio.create_task(body())
    trace.append(f"before start: cancel()={t.cancel()}")
    try:
        await t
    except asyncio.CancelledError:
        trace.append(f"before start: cancelled={t.cancelled()} ran={bool(ran)}")

    # 3. The body swallows the cancel at its first await and carries on.
    started = asyncio.Event()

    async def stubborn():
        started.set()
        cancels = 0
        for d in (10, 0.001, 0.001):
            try:
                await asyncio.sleep(d)
            except asyncio.CancelledError:
                cancels += 1
        return cancels

    t = asyncio.create_task(stubborn())
    await started.wait()
    t.cancel()
    trace.append(f"swallowed: await={await t} cancelled={t.cancelled()}")

    # 4. Cancelling a task that awaits another task cancels both.
    inner_started, outer_started = asyncio.Event(), asyncio.Event()

    async def inner_body():
        inner_started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            trace.append("inner saw the cancel")
            raise

    inner = asyncio.create_task(inner_body())

    async def outer_body():
        outer_started.set()
        return await inner

    outer = asyncio.create_task(outer_body())
    await inner_started.wait()
    await outer_started.wait()
    outer.cancel()
    try:
        await outer
    except asyncio.CancelledError:
        trace.append(f"nested: outer cancelled={outer.cancelled()} inner cancelled={inner.cancelled()}")

    # 5. A task awaiting a future, cancelled: the future is cancelled, the task too.
    fut = asyncio.get_running_loop().create_future()
    started = asyncio.Event()

    async def waiter():
        started.set()
        return await fut

    t = asyncio.create_task(waiter())
    await started.wait()
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        trace.append(f"future: task cancelled={t.cancelled()} future cancelled={fut.cancelled()}")

    # 6. A cancelled main coroutine: run_until_complete raises CancelledError.
    for line in trace:
        print(line)


asyncio.run(main())

loop = asyncio.new_event_loop()


async def main_task():
    me = asyncio.current_task()
    asyncio.get_running_loop().call_later(0.005, me.cancel)
    await asyncio.sleep(10)


try:
    loop.run_until_complete(main_task())
except asyncio.CancelledError:
    print("main: run_until_complete raised CancelledError")
loop.close()
