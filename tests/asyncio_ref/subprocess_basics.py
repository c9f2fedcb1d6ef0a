"""asyncio's subprocess behaviour that tests/subprocess.rs asserts: returncode after
kill is -9 and the reader then reaches EOF; stderr=STDOUT merges; cwd and env are
honoured; communicate feeds stdin while reading both pipes; a missing program is
FileNotFoundError; an exit code comes back as is."""
import asyncio
import os
import signal
from asyncio.subprocess import PIPE, STDOUT, DEVNULL


async def main():
    p = await asyncio.create_subprocess_exec("cat", stdin=PIPE, stdout=PIPE)
    p.stdin.write(b"x" * 1000)
    await p.stdin.drain()
    print("first", len(await p.stdout.readexactly(1000)))
    p.kill()
    print("rest", await p.stdout.read(), "rc", await p.wait())

    p = await asyncio.create_subprocess_shell(
        "echo out; echo err >&2", stdout=PIPE, stderr=STDOUT)
    out, err = await p.communicate()
    print("merged", sorted(out.split()), err)

    p = await asyncio.create_subprocess_exec(
        "/bin/sh", "-c", 'pwd; echo "$FOO"; echo "${HOME:-unset}"',
        stdout=PIPE, cwd="/tmp", env={"FOO": "bar"})
    out, _ = await p.communicate()
    print("cwd/env", out.split())

    p = await asyncio.create_subprocess_exec(
        "python3", "-c",
        "import sys; d=sys.stdin.buffer.read(); sys.stdout.buffer.write(d[::-1]); "
        "sys.stderr.buffer.write(b'%d' % len(d))",
        stdin=PIPE, stdout=PIPE, stderr=PIPE)
    out, err = await p.communicate(b"abc" * 5)
    print("communicate", out[:6], err, p.returncode)

    p = await asyncio.create_subprocess_exec("sh", "-c", "exit 3", stdout=DEVNULL)
    print("exit", await p.wait(), await p.wait())

    p = await asyncio.create_subprocess_exec("sleep", "10")
    p.terminate()
    print("terminate", await p.wait())
    try:
        p.kill()
    except ProcessLookupError as e:
        print("kill after exit", type(e).__name__)

    try:
        await asyncio.create_subprocess_exec("/nonexistent/program")
    except FileNotFoundError as e:
        print("missing", type(e).__name__)

    p = await asyncio.create_subprocess_shell("printf '%0100d\\nok\\n' 0", stdout=PIPE, limit=16)
    try:
        await p.stdout.readline()
    except ValueError as e:
        print("long line", type(e).__name__)
    print("next line", await p.stdout.readline(), await p.wait())

    p = await asyncio.create_subprocess_exec("head", "-c", "10", stdin=PIPE, stdout=PIPE)
    out, _ = await p.communicate(b"y" * (4 << 20))
    print("early exit", len(out), p.returncode)


asyncio.run(main())
