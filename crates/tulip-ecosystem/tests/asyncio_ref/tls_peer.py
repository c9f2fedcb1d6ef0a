"""The python3 asyncio + ssl peer of tests/tls.rs.

    tls_peer.py server CERT KEY       serve one TLS connection on 127.0.0.1:0; prints
                                      "PORT <n>" first
    tls_peer.py client CA PORT NAME   connect to 127.0.0.1:PORT over TLS, verifying
                                      the server's certificate against CA for NAME
    tls_peer.py starttls CA PORT NAME connect in plain text, send "STARTTLS\n", read
                                      "GO\n", upgrade with writer.start_tls (3.11),
                                      send "secret\n", expect "tls: secret\n"

The exchange, both ways: the client sends an 8-byte big-endian length N, then N bytes
of pattern(seed=1); the server checks every byte, then answers N bytes of
pattern(seed=2), which the client checks. Each side prints "OK <N>" and exits 0, or
prints what differed and exits 1. The pattern is the Rust test's `pattern`.
"""

import asyncio
import ssl
import sys


def pattern(n, seed):
    return bytes(((i * 31) ^ (i >> 9) ^ seed) & 0xFF for i in range(n))


def first_difference(got, want):
    if len(got) != len(want):
        return f"length {len(got)} != {len(want)}"
    for i, (a, b) in enumerate(zip(got, want)):
        if a != b:
            return f"byte {i}: {a} != {b}"
    return None


async def serve(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    done = asyncio.get_running_loop().create_future()

    async def handle(reader, writer):
        try:
            n = int.from_bytes(await reader.readexactly(8), "big")
            got = await reader.readexactly(n)
            diff = first_difference(got, pattern(n, 1))
            if diff is None:
                writer.write(pattern(n, 2))
                await writer.drain()
            writer.close()
            await writer.wait_closed()
            done.set_result(diff or n)
        except Exception as e:  # reported to the test through the exit status
            done.set_result(f"server error: {e!r}")

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    print("PORT", server.sockets[0].getsockname()[1], flush=True)
    result = await asyncio.wait_for(done, 60)
    server.close()
    await server.wait_closed()
    return result


async def connect(ca, port, name, n=1 << 20):
    ctx = ssl.create_default_context(cafile=ca)
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=ctx, server_hostname=name
    )
    writer.write(n.to_bytes(8, "big") + pattern(n, 1))
    await writer.drain()
    got = await reader.readexactly(n)
    writer.close()
    try:
        await writer.wait_closed()
    except (ConnectionError, ssl.SSLError):
        pass
    return first_difference(got, pattern(n, 2)) or n


async def starttls(ca, port, name):
    ctx = ssl.create_default_context(cafile=ca)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"STARTTLS\n")
    if (line := await reader.readline()) != b"GO\n":
        return f"plain-text answer {line!r}"
    await writer.start_tls(ctx, server_hostname=name)
    writer.write(b"secret\n")
    line = await reader.readline()
    writer.close()
    try:
        await writer.wait_closed()
    except (ConnectionError, ssl.SSLError):
        pass
    return 1 if line == b"tls: secret\n" else f"TLS answer {line!r}"


def main():
    mode = sys.argv[1]
    if mode == "server":
        result = asyncio.run(serve(sys.argv[2], sys.argv[3]))
    elif mode == "starttls":
        result = asyncio.run(starttls(sys.argv[2], int(sys.argv[3]), sys.argv[4]))
    elif mode == "client":
        result = asyncio.run(connect(sys.argv[2], int(sys.argv[3]), sys.argv[4]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    if isinstance(result, int):
        print("OK", result, flush=True)
    else:
        print("FAILED", result, flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
