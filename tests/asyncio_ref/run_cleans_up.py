# asyncio.run(): returns main's value, then cancels the tasks left over and lets them
# clean up (even with awaits) before closing the loop (tests/loop_lifecycle.rs).
# Run: python3 tests/asyncio_ref/run_cleans_up.py
import asyncio

trace = []


async def leftover(started):
    started.set()
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        await asyncio.sleep(0.001)
        trace.append("leftover cleaned")
        raise


async def main():
    started = asyncio.Event()
    asyncio.create_task(leftover(started))
    await started.wait()
    return "m2"


trace.append(f"run returned {asyncio.run(main())}")
for line in trace:
    print(line)
