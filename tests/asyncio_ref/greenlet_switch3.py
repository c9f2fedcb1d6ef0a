"""Seed 003 §5.1: three greenlets, g1 -> g2 -> g3 -> g1 (needs `pip install greenlet`).

examples/greenlet_switch3.rs prints the same four lines; tests/examples.rs checks them
(the last line here is not in the seed: it shows which greenlets finished).
When g1 returns, control goes back to main; g2 and g3 stay suspended and are never
resumed. SLEEP_SCALE=0 skips the blocking sleeps (2 s + 1 s + 1 s).
"""
import os
from time import sleep

from greenlet import greenlet

SCALE = float(os.environ.get("SLEEP_SCALE", "1"))


def func1():
    print(" Synergetic process 1")
    sleep(2 * SCALE)
    g2.switch()
    print(" Synergetic process 1 Resume operation ")


def func2():
    print(" Synergetic process 2")
    sleep(1 * SCALE)
    g3.switch()


def func3():
    print(" Synergetic process 3")
    sleep(1 * SCALE)
    g1.switch()


if __name__ == "__main__":
    g1 = greenlet(func1)
    g2 = greenlet(func2)
    g3 = greenlet(func3)
    g1.switch()
    print("g1 dead:", g1.dead, "g2 dead:", g2.dead, "g3 dead:", g3.dead)
