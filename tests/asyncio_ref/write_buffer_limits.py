"""asyncio's write-buffer limits: get_write_buffer_limits() answers (low, high),
the reverse of set_write_buffer_limits(high, low)'s arguments; low defaults to high // 4.

Expected output (CPython 3.11):
    default (16384, 65536)
    high=1024 (256, 1024)
    64K/16K (16384, 65536)
"""
import asyncio


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    t = writer.transport
    print("default", t.get_write_buffer_limits())
    t.set_write_buffer_limits(high=1024)
    print("high=1024", t.get_write_buffer_limits())
    t.set_write_buffer_limits(64 * 1024, 16 * 1024)
    print("64K/16K", t.get_write_buffer_limits())
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()


asyncio.run(main())
