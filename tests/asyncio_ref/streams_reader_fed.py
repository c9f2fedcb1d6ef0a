"""asyncio 3.11's StreamReader fed by hand (no socket): readline over the limit,
readuntil over the limit, feed_eof, set_exception.  tests/streams_reader.rs asserts
the same trace (scenarios `fed_*`)."""
import asyncio


def show(tag, f):
    try:
        r = f()
        print(tag, 'ok', r)
    except Exception as e:  # noqa: BLE001
        print(tag, type(e).__name__, e.args[0] if e.args else '')


async def main():
    # A: the separator is found past the limit: ValueError, the line up to and
    # including the separator is discarded, the next line is intact.
    r = asyncio.StreamReader(limit=8)
    r.feed_data(b'0123456789abcdefghij\nnext\n')
    try:
        await r.readline()
    except ValueError as e:
        print('A readline ValueError', e)
    print('A buffered', len(r._buffer))
    print('A readline', await r.readline())

    # A line of exactly `limit` bytes before the separator is fine; one more is not.
    r = asyncio.StreamReader(limit=8)
    r.feed_data(b'01234567\n012345678\nz\n')
    print('A2 readline', await r.readline())
    try:
        await r.readline()
    except ValueError as e:
        print('A2 readline ValueError', e)
    print('A2 readline', await r.readline())

    # B: no separator within the limit: ValueError, the buffer is cleared; bytes
    # fed afterwards (the rest of the long line) are what the next readline sees.
    r = asyncio.StreamReader(limit=8)
    r.feed_data(b'0123456789abcdefghij')
    try:
        await r.readline()
    except ValueError as e:
        print('B readline ValueError', e)
    print('B buffered', len(r._buffer))
    r.feed_data(b'tail\nnext\n')
    print('B readline', await r.readline())
    print('B readline', await r.readline())

    # C: readuntil over the limit keeps the data (LimitOverrunError.consumed).
    r = asyncio.StreamReader(limit=8)
    r.feed_data(b'0123456789\n')
    try:
        await r.readuntil(b'\n')
    except asyncio.LimitOverrunError as e:
        print('C readuntil LimitOverrunError', e.consumed)
    print('C buffered', len(r._buffer))
    print('C readexactly', await r.readexactly(11))

    # D: a readline waiting while data is fed in pieces by another task: the
    # overrun is seen once 9 bytes are buffered; what is fed later is kept.
    r = asyncio.StreamReader(limit=8)

    async def reader():
        try:
            line = await r.readline()
            print('D readline', line)
        except ValueError as e:
            print('D readline ValueError', e)
        print('D readline', await r.readline())

    t = asyncio.create_task(reader())
    for piece in [b'0123', b'4567', b'89ab', b'cd\nxy\n']:
        await asyncio.sleep(0)
        print('D feed', piece)
        r.feed_data(piece)
    await t

    # E: feed_eof: the partial line, then b'' for ever; at_eof.
    r = asyncio.StreamReader(limit=8)
    r.feed_data(b'abc')
    r.feed_eof()
    print('E readline', await r.readline())
    print('E readline', await r.readline())
    print('E at_eof', r.at_eof())
    try:
        await r.readexactly(1)
    except asyncio.IncompleteReadError as e:
        print('E readexactly IncompleteReadError', e.partial, e.expected)

    # F: set_exception: every read raises it, even with data buffered.
    r = asyncio.StreamReader(limit=8)
    r.feed_data(b'data\n')
    r.set_exception(ConnectionResetError('reset by test'))
    for name, coro in [('read', lambda: r.read(2)),
                       ('readline', r.readline),
                       ('readexactly', lambda: r.readexactly(1)),
                       ('readuntil', lambda: r.readuntil(b'\n'))]:
        try:
            await coro()
        except ConnectionResetError as e:
            print('F', name, 'ConnectionResetError', e)
    print('F buffered', len(r._buffer))

    # G: set_exception wakes a waiting read.
    r = asyncio.StreamReader(limit=8)

    async def waiter():
        try:
            await r.readexactly(4)
        except ConnectionResetError as e:
            print('G readexactly ConnectionResetError', e)

    t = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    r.feed_data(b'ab')
    await asyncio.sleep(0)
    print('G set_exception')
    r.set_exception(ConnectionResetError('reset by test'))
    await t


asyncio.run(main())
