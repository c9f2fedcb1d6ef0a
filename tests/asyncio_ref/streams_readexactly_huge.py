"""asyncio 3.11: readexactly(n) for an n far beyond what will ever come (2**40, and
sys.maxsize) with 20 KB sent then EOF: IncompleteReadError with the 20 KB as
partial; the reader never reserves n bytes.  tests/streams_reader.rs
(`readexactly_huge_n_*`) asserts the same."""
import asyncio
import sys


async def main():
    payload = bytes(i % 251 for i in range(20 * 1024))

    async def handle(reader, writer):
        writer.write(payload)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, '127.0.0.1', 0)
    port = server.sockets[0].getsockname()[1]
    for n in [1 << 40, sys.maxsize]:
        reader, writer = await asyncio.open_connection('127.0.0.1', port)
        try:
            await reader.readexactly(n)
        except asyncio.IncompleteReadError as e:
            print('socket', 'IncompleteReadError', len(e.partial), e.partial == payload,
                  e.expected == n)
        print('at_eof', reader.at_eof())
        writer.close()
    server.close()
    await server.wait_closed()
    r = asyncio.StreamReader(limit=2 ** 16)
    r.feed_data(payload)
    r.feed_eof()
    try:
        await r.readexactly(1 << 40)
    except asyncio.IncompleteReadError as e:
        print('fed', 'IncompleteReadError', len(e.partial), e.partial == payload)


asyncio.run(main())
