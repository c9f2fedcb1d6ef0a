# Removing a task's done-callbacks leaves the task awaiting it alone: its wake-up
# is a done-callback of asyncio's own, which remove_done_callback(cb) never names.
# Run: python3 tests/asyncio_ref/remove_callbacks_keeps_awaiter.py   (tests/task_outcome.rs)
# Prints:
#   removed 2
#   awaiter got 5
#   trace []
import asyncio


async def main():
    trace = []
    gate = asyncio.get_running_loop().create_future()

    async def child():
        await gate
        return 5

    t = asyncio.create_task(child())
    cb1 = lambda t: trace.append("cb1")
    cb2 = lambda t: trace.append("cb2")
    t.add_done_callback(cb1)

    async def waiter():
        return await t

    w = asyncio.create_task(waiter())
    await asyncio.sleep(0)  # the waiter now awaits t, after cb1
    t.add_done_callback(cb2)
    print("removed", t.remove_done_callback(cb1) + t.remove_done_callback(cb2))
    gate.set_result(None)
    print("awaiter got", await w)
    await asyncio.sleep(0)
    print("trace", trace)


asyncio.run(main())
