"""Condition.notify()/notify_all() without holding the lock (CPython 3.11):
RuntimeError. Mirrored by tests/locks.rs (condition_notify_needs_the_lock)."""
import asyncio

log = []


async def main():
    cond = asyncio.Condition()
    try:
        cond.notify()
    except RuntimeError as e:
        log.append(f"notify: RuntimeError: {e}")
    try:
        cond.notify_all()
    except RuntimeError as e:
        log.append(f"notify_all: RuntimeError: {e}")
    async with cond:
        cond.notify()
        cond.notify_all()
        log.append("notify while held: ok")
    print(log)


asyncio.run(main())
