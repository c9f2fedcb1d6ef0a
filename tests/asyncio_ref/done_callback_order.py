# Done-callbacks and awaiters run in the order they were registered, each its own
# callback; one that raises does not stop the rest.
# Run: python3 tests/asyncio_ref/done_callback_order.py   (tests/task_outcome.rs)
import asyncio


async def main():
    loop = asyncio.get_running_loop()
    trace = []
    loop.set_exception_handler(lambda lp, ctx: trace.append(f"handler: {ctx['message']}"))

    fut = loop.create_future()
    fut.add_done_callback(lambda f: trace.append("cb1"))

    async def waiter():
        await fut
        trace.append("awaiter")

    w = asyncio.create_task(waiter())
    await asyncio.sleep(0)          # the waiter is now awaiting, after cb1

    def bad(f):
        trace.append("cb2 raises")
        raise RuntimeError("oops")

    fut.add_done_callback(bad)
    fut.add_done_callback(lambda f: trace.append("cb3"))
    fut.set_result(1)
    await w

    async def child():
        await asyncio.sleep(0)
        return 5

    t = asyncio.create_task(child())
    t.add_done_callback(lambda t: trace.append(f"task cb1 result={t.result()}"))

    async def task_waiter():
        v = await t
        trace.append(f"task awaiter {v}")

    tw = asyncio.create_task(task_waiter())
    await asyncio.sleep(0)
    t.add_done_callback(lambda t: trace.append("task cb2"))
    await tw
    for line in trace:
        print(line)


asyncio.run(main())
