# What asyncio's debug mode says about a task that blocks the loop (tests/debugging.rs).
# With debug on, the step that took 0.3 s is named, with where the task was created;
# with debug off, nothing is said.
import asyncio
import logging
import time

logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")


async def blocker():
    time.sleep(0.3)


async def main():
    t = asyncio.create_task(blocker(), name="blocker")
    await t


for debug in (True, False):
    print(f"--- debug={debug}")
    asyncio.run(main(), debug=debug)
