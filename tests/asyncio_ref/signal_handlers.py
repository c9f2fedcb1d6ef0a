"""What loop.add_signal_handler / remove_signal_handler do (tests/signals.rs asserts
the same): the handler runs on the loop's thread as a callback, later handlers replace
earlier ones, removal restores the default disposition, bad signals are errors."""
import asyncio
import os
import signal
import threading


async def main():
    loop = asyncio.get_running_loop()
    got = []
    loop.add_signal_handler(signal.SIGUSR1, lambda: got.append(("first", threading.get_ident())))
    loop.add_signal_handler(signal.SIGUSR1, lambda: got.append(("second", threading.get_ident())))
    os.kill(os.getpid(), signal.SIGUSR1)
    while not got:
        await asyncio.sleep(0.001)
    print("handler:", got[0][0], "on loop thread:", got[0][1] == threading.get_ident())
    print("remove:", loop.remove_signal_handler(signal.SIGUSR1))
    print("default restored:", signal.getsignal(signal.SIGUSR1) == signal.SIG_DFL)
    print("remove again:", loop.remove_signal_handler(signal.SIGUSR1))
    for bad in (0, 1000):
        try:
            loop.add_signal_handler(bad, lambda: None)
        except Exception as e:
            print("add", bad, type(e).__name__, e)
    for sig in (signal.SIGKILL, signal.SIGSTOP):
        try:
            loop.add_signal_handler(sig, lambda: None)
        except Exception as e:
            print("add", sig.name, type(e).__name__, e)
    try:
        loop.remove_signal_handler(1000)
    except Exception as e:
        print("remove 1000", type(e).__name__, e)


asyncio.run(main())
