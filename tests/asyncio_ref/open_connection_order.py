"""Seeds 001/002 (wget) against local servers: three tasks each print a start
line, open a connection, send a request and print the header lines. asyncio prints
all three start lines before any header line, every run: opening a connection
always takes at least one loop iteration. tests/fairness.rs
(`three_open_connections_print_every_start_before_any_header`) asserts the same
order with a server on another thread and one in the same loop."""
import asyncio
import socket
import threading


def thread_server(lsock):
    # Answers each connection at once, from another thread.
    while True:
        try:
            conn, _ = lsock.accept()
        except OSError:
            return
        with conn:
            data = b''
            while b'\r\n\r\n' not in data:
                data += conn.recv(1024)
            path = data.split()[1].decode()
            conn.sendall(('HTTP/1.0 200 OK\r\nX-Path: %s\r\n\r\n' % path).encode())


async def wget(log, port, path):
    log.append('wget %s...' % path)
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    writer.write(('GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' % path).encode())
    await writer.drain()
    while True:
        line = await reader.readline()
        if line in (b'\r\n', b''):
            break
        log.append('%s header > %s' % (path, line.decode().rstrip()))
    writer.close()


async def main():
    lsock = socket.socket()
    lsock.bind(('127.0.0.1', 0))
    lsock.listen(16)
    threading.Thread(target=thread_server, args=(lsock,), daemon=True).start()
    port = lsock.getsockname()[1]
    for run in range(20):
        log = []
        await asyncio.wait([asyncio.create_task(wget(log, port, p))
                            for p in ['/a', '/b', '/c']])
        assert all(l.startswith('wget') for l in log[:3]), log
        if run == 0:
            print('\n'.join(log))
    print('20 runs: every start line first')
    lsock.close()


asyncio.run(main())
