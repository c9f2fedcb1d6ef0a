# A task holding a Condition's lock calls wait() with a cancel already requested:
# asyncio releases the lock (the next waiter takes it), then the cancel is raised at
# the wait and wait() takes the lock again, behind that waiter, before it raises.
# tests/locks.rs, condition_wait_with_a_cancel_already_requested, asserts this order.
import asyncio


async def main():
    cond = asyncio.Condition()
    order = []

    async def other():
        async with cond:
            order.append("other has the lock")

    await cond.acquire()
    o = asyncio.create_task(other())
    await asyncio.sleep(0)  # other queues on the lock
    asyncio.current_task().cancel()
    try:
        await cond.wait()
        order.append("wait returned")
    except asyncio.CancelledError:
        order.append(f"wait raised CancelledError, locked={cond.locked()}")
    asyncio.current_task().uncancel()
    cond.release()
    await o
    order.append(f"end, locked={cond.locked()}")
    print(order)


asyncio.run(main())
