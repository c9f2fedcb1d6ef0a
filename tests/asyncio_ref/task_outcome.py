# The three endings of a task, as CPython 3.11 reports them.
# Run: python3 tests/asyncio_ref/task_outcome.py   (tests/task_outcome.rs asserts this trace)
import asyncio


async def main():
    trace = []

    # 1. A body that lets the cancel propagate ends *cancelled*.
    async def sleeper():
        await asyncio.sleep(10)
        return "never"

    t = asyncio.create_task(sleeper())
    await asyncio.sleep(0)
    t.cancel("stop it")
    try:
        await t
    except asyncio.CancelledError as e:
        trace.append(f"await: CancelledError {e.args}")
    trace.append(f"cancelled={t.cancelled()} done={t.done()}")
    try:
        t.exception()
    except asyncio.CancelledError:
        trace.append("exception(): CancelledError")
    try:
        t.result()
    except asyncio.CancelledError:
        trace.append("result(): CancelledError")

    # 2. A body that raises ends *raised*; result()/exception() readable again and again.
    async def boom():
        raise ValueError("bad")

    t = asyncio.create_task(boom())
    try:
        await t
    except ValueError as e:
        trace.append(f"await: ValueError {e}")
    trace.append(f"cancelled={t.cancelled()} exception={t.exception()!r}")
    trace.append(f"exception again={t.exception()!r}")
    try:
        t.result()
    except ValueError:
        trace.append("result(): ValueError")

    # 3. A body that catches the cancel and returns ends with a *result*.
    async def stubborn():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            return "caught"

    t = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    t.cancel()
    trace.append(f"await: {await t}")
    trace.append(f"cancelled={t.cancelled()} cancelling={t.cancelling()}")

    # 4. cancelling() counts requests; uncancel() withdraws one.
    t = asyncio.create_task(sleeper())
    await asyncio.sleep(0)
    t.cancel()
    t.cancel()
    trace.append(f"cancelling={t.cancelling()}")
    trace.append(f"uncancel={t.uncancel()}")
    try:
        await t
    except asyncio.CancelledError:
        trace.append(f"still cancelled={t.cancelled()}")

    for line in trace:
        print(line)


asyncio.run(main())
