"""A cancelled handle lets go of its callback at once (CPython 3.11: Handle.cancel()
clears _callback and _args), not when its deadline comes: what the callback holds is
freed by the cancel. A sleep that is cancelled lets go of its task the same way.
Mirrored by tests/timer_release.rs.

Prints:
  call_later held before cancel: True
  call_later held after cancel: False
  call_soon held after cancel: False
  ran: []
  sleeper cancelled
"""
import asyncio
import gc
import weakref


class Held:
    pass


async def main():
    loop = asyncio.get_running_loop()
    ran = []

    held = Held()
    alive = weakref.ref(held)
    h = loop.call_later(3600, lambda h=held: ran.append("later"))
    del held
    gc.collect()
    print("call_later held before cancel:", alive() is not None)
    h.cancel()
    gc.collect()
    print("call_later held after cancel:", alive() is not None)

    held = Held()
    alive = weakref.ref(held)
    h = loop.call_soon(lambda h=held: ran.append("soon"))
    del held
    h.cancel()
    gc.collect()
    print("call_soon held after cancel:", alive() is not None)
    await asyncio.sleep(0)
    print("ran:", ran)

    t = asyncio.create_task(asyncio.sleep(3600))
    await asyncio.sleep(0)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        print("sleeper cancelled")


asyncio.run(main())
