"""What asyncio 3.11 raises when a TLS handshake takes longer than ssl_handshake_timeout,
and for ssl-only arguments without ssl."""
import asyncio
import ssl


async def main():
    held = []

    async def silent(reader, writer):
        held.append(writer)  # accept, never answer

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    ctx = ssl.create_default_context()
    try:
        await asyncio.open_connection(
            "127.0.0.1", port, ssl=ctx, server_hostname="localhost", ssl_handshake_timeout=0.3
        )
    except BaseException as e:
        print("timeout:", type(e).__name__, e)
    for kw in ({"server_hostname": "localhost"}, {"ssl_handshake_timeout": 0.3}):
        try:
            await asyncio.open_connection("127.0.0.1", port, **kw)
        except BaseException as e:
            print("without ssl:", type(e).__name__, e)
    try:
        await asyncio.start_server(silent, "127.0.0.1", 0, ssl_handshake_timeout=0.3)
    except BaseException as e:
        print("server without ssl:", type(e).__name__, e)
    server.close()


asyncio.run(main())
