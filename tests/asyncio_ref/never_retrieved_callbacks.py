# "Task exception was never retrieved" waits for the task's done-callbacks: one of
# them may retrieve the exception (a TaskGroup's does).
# Run: python3 tests/asyncio_ref/never_retrieved_callbacks.py
#   (tests/task_outcome.rs::done_callbacks_run_before_the_unretrieved_report asserts this trace)
import asyncio
import gc


async def main():
    loop = asyncio.get_running_loop()
    log = []
    loop.set_exception_handler(lambda lp, ctx: log.append(
        f"report: {ctx['message']}: {ctx['exception']}"))

    async def boom(msg):
        raise ValueError(msg)

    # A TaskGroup child that fails, its handle dropped: the group retrieves it.
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(boom("child"))
    except* ValueError as eg:
        log.append(f"group raised: {[str(e) for e in eg.exceptions]}")
    gc.collect()

    # Detached, with a done-callback that reads exception(): retrieved.
    t = asyncio.create_task(boom("read by callback"))
    t.add_done_callback(lambda t: log.append(f"callback read: {t.exception()}"))
    del t
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    gc.collect()

    # Detached, with a done-callback that does not: reported, after the callback ran.
    t = asyncio.create_task(boom("unread"))
    t.add_done_callback(lambda t: log.append("callback ran"))
    del t
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    gc.collect()
    for line in log:
        print(line)


asyncio.run(main())
