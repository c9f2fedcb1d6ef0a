# A task that raises (tulip: returns an error or panics), as CPython 3.11 reports it
# (tests/tasks.rs, tests/threaded_faults.rs, tests/loop_lifecycle.rs).
# Run: python3 tests/asyncio_ref/raised_task.py
import asyncio
import gc


async def main():
    loop = asyncio.get_running_loop()
    trace = []
    loop.set_exception_handler(lambda lp, ctx: trace.append(
        f"handler: {ctx['message']}: {ctx['exception']}"))

    # Awaited: the awaiter gets the exception; the task is done, not cancelled, and
    # its exception stays readable; nothing goes to the exception handler.
    async def boom():
        await asyncio.sleep(0.001)
        raise RuntimeError("task went wrong")

    t = asyncio.create_task(boom())
    try:
        await t
    except RuntimeError as e:
        trace.append(f"awaiter got: {e}")
    trace.append(f"done={t.done()} cancelled={t.cancelled()} exception={t.exception()}")

    async def fine():
        return "still alive"

    trace.append(f"next task: {await asyncio.create_task(fine())}")

    # Detached (handle dropped unread): one report per task.
    async def lost(i):
        raise RuntimeError(f"boom {i}")

    tasks = [asyncio.create_task(lost(i)) for i in range(2)]
    await asyncio.wait(tasks)
    del tasks
    gc.collect()
    await asyncio.sleep(0)
    for line in trace:
        print(line)


asyncio.run(main())

# The main coroutine raising: run_until_complete raises it; no report.
loop = asyncio.new_event_loop()
loop.set_exception_handler(lambda lp, ctx: print(f"handler: {ctx['message']}"))


async def main_blows_up():
    raise RuntimeError("main blew up")


try:
    loop.run_until_complete(main_blows_up())
except RuntimeError as e:
    print(f"run_until_complete raised: {e}")


async def five():
    return 5


print(f"the loop is still usable: {loop.run_until_complete(five())}")
loop.close()
