//! tulip's streams and the `futures::io` world, on every executor: asyncio's reader and
//! writer over any byte stream (`streams_from_io`, `from_async_read`,
//! `from_async_write`); third-party combinators on tulip's types (`futures::io::copy`,
//! `lines`, `StreamExt::forward` into a queue's `Sink`, listeners' `incoming()`,
//! `socket2::SockRef`); `reunite` keeping buffered bytes; vectored writes.
#![cfg(feature = "net")]
mod common;

use std::collections::BTreeSet;
use std::future::Future;
use std::io::{ErrorKind, IoSlice};
use std::sync::Arc;
use std::time::Duration;

use common::{within, Factory};
use futures::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use futures::{FutureExt, StreamExt};
use tulip::net::{
    open_connection, start_server, streams_from_io, Error, StreamReader, StreamWriter, TcpListener,
    TcpStream, UdpSocket, UnixStream,
};

/// How long any scenario may take (a hang bound, not a timing figure).
const BOUND: Duration = Duration::from_secs(60);

/// Runs `fut` on a fresh loop of `new_loop`'s executor and closes the loop.
fn run<T>(new_loop: Factory, fut: impl Future<Output = Result<T, Error>>) -> T {
    within(BOUND, || {
        let lp = new_loop().unwrap();
        let out = lp.run_until_complete(fut);
        lp.close().unwrap();
        out.unwrap()
    })
}

/// Byte `i` of a test stream: not periodic over any small power of two.
fn pattern(i: usize, seed: u8) -> u8 {
    (i.wrapping_mul(31) ^ (i >> 9) ^ seed as usize) as u8
}

fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| pattern(i, seed)).collect()
}

/// 1 MiB each way through reader/writer pairs made by `streams_from_io` over both
/// ends of a socket pair, in 64 KiB pieces with `drain`; `write_eof` ends each
/// direction; every byte checked.
fn streams_from_io_carry_a_mebibyte_each_way(new_loop: Factory) {
    const TOTAL: usize = 1 << 20;
    run(new_loop, async {
        let (a, b) = UnixStream::pair()?;
        let (ra, wa) = streams_from_io(a);
        let (rb, wb) = streams_from_io(b);
        async fn send(w: StreamWriter, data: Vec<u8>) -> Result<(), Error> {
            for piece in data.chunks(64 * 1024) {
                w.write(piece);
                w.drain().await?;
            }
            w.write_eof();
            Ok(())
        }
        async fn recv(mut r: StreamReader) -> Result<Vec<u8>, Error> {
            r.read_to_end().await
        }
        let sa = tulip::create_task(send(wa.clone(), payload(TOTAL, 1)))?;
        let sb = tulip::create_task(send(wb.clone(), payload(TOTAL, 2)))?;
        let got_b = tulip::create_task(recv(rb))?;
        let got_a = recv(ra).await?;
        sa.await?;
        sb.await?;
        assert!(got_a == payload(TOTAL, 2), "a received other bytes");
        assert!(got_b.await? == payload(TOTAL, 1), "b received other bytes");
        for w in [wa, wb] {
            assert!(w.get_extra_info("peername").is_none());
            w.close();
            w.wait_closed().await?;
        }
        Ok(())
    })
}

/// A writer over an `AsyncWrite`: the buffer above the high-water mark makes `drain`
/// wait until the background writes bring it to the low-water mark, so the water
/// marks bound the buffer as on a socket; every byte arrives in order.
fn async_write_writer_respects_water_marks(new_loop: Factory) {
    const PIECE: usize = 256 * 1024;
    const PIECES: usize = 16;
    run(new_loop, async {
        let (a, b) = UnixStream::pair()?;
        let w = StreamWriter::from_async_write(a);
        let r = StreamReader::from_async_read(b, tulip::net::DEFAULT_LIMIT);
        let (low, high) = w.get_write_buffer_limits();
        assert_eq!((low, high), (16 * 1024, 64 * 1024));
        let reader = tulip::create_task(async move {
            let mut r = r;
            r.read_to_end().await
        })?;
        let mut max_seen = 0;
        for i in 0..PIECES {
            w.write(&payload(PIECE, i as u8));
            max_seen = max_seen.max(w.write_buffer_size());
            w.drain().await?;
            assert!(
                w.write_buffer_size() <= low,
                "drain returned above the low-water mark"
            );
        }
        w.close();
        w.wait_closed().await?;
        let got = reader.await?;
        let want: Vec<u8> = (0..PIECES).flat_map(|i| payload(PIECE, i as u8)).collect();
        assert_eq!(got.len(), want.len());
        assert!(got == want, "bytes differ");
        assert!(max_seen <= low + PIECE, "buffer reached {max_seen}");
        Ok(())
    })
}

/// `write_eof` over an `AsyncWrite` is its `poll_close` after the buffer: the peer
/// reads the data then end of stream, and can still answer on the other direction.
fn async_write_write_eof_half_closes(new_loop: Factory) {
    run(new_loop, async {
        let (a, b) = UnixStream::pair()?;
        let (ra, wa) = streams_from_io(a);
        let (mut rb, wb) = streams_from_io(b);
        wa.write(b"question");
        wa.write_eof();
        assert!(wa.can_write_eof());
        assert_eq!(rb.read_to_end().await?, b"question");
        assert!(rb.at_eof());
        wb.write(b"answer");
        wb.close();
        wb.wait_closed().await?;
        let mut ra = ra;
        assert_eq!(ra.read_to_end().await?, b"answer");
        wa.close();
        wa.wait_closed().await?;
        Ok(())
    })
}

/// A write end whose peer is gone: the error surfaces in `wait_closed` and `drain`,
/// and later writes are dropped, as on a socket.
fn async_write_error_surfaces(new_loop: Factory) {
    run(new_loop, async {
        let (a, b) = UnixStream::pair()?;
        drop(b);
        let w = StreamWriter::from_async_write(a);
        w.write(b"nobody reads this");
        w.close();
        let e = w.wait_closed().await.unwrap_err();
        assert_eq!(e.io_kind(), Some(ErrorKind::BrokenPipe), "{e}");
        assert_eq!(
            w.drain().await.unwrap_err().io_kind(),
            Some(ErrorKind::BrokenPipe)
        );
        assert!(w.is_closing());
        w.write(b"dropped");
        assert_eq!(w.write_buffer_size(), 0);
        Ok(())
    })
}

/// A server echoes with `futures::io::copy` from its `StreamReader` into its
/// `StreamWriter` (then `AsyncWriteExt::close`); the client writes 1 MiB through its
/// `TcpStream`'s `AsyncWrite`, half-closes, and reads everything back through
/// `AsyncRead`: every byte checked.
fn futures_copy_between_tulip_streams(new_loop: Factory) {
    const TOTAL: usize = 1 << 20;
    run(new_loop, async {
        let server = start_server(
            |r, mut w| async move {
                let copied = futures::io::copy(r, &mut w).await.unwrap();
                assert_eq!(copied, TOTAL as u64);
                AsyncWriteExt::close(&mut w).await.unwrap();
            },
            "127.0.0.1:0",
        )
        .await?;
        let addr = server.local_addr().unwrap();
        let s = Arc::new(TcpStream::connect(addr).await?);
        let sender = tulip::create_task({
            let s = s.clone();
            async move {
                (&*s).write_all(&payload(TOTAL, 7)).await?;
                s.shutdown(std::net::Shutdown::Write)?;
                Ok::<_, Error>(())
            }
        })?;
        let mut back = Vec::new();
        (&*s).read_to_end(&mut back).await?;
        sender.await?;
        assert_eq!(back.len(), TOTAL);
        assert!(back == payload(TOTAL, 7), "echoed bytes differ");
        server.close();
        server.wait_closed().await?;
        Ok(())
    })
}

/// `AsyncBufReadExt::lines` straight on a `StreamReader` (its own buffer), and
/// `futures::io::BufReader::lines` over one: 2000 lines each, in order.
fn lines_on_a_stream_reader(new_loop: Factory) {
    const LINES: usize = 2000;
    run(new_loop, async {
        let want: Vec<String> = (0..LINES)
            .map(|i| format!("line {i} {}", "x".repeat(i % 97)))
            .collect();
        for buffered in [false, true] {
            let (a, b) = UnixStream::pair()?;
            let (r, _w) = a.into_streams();
            let (_rb, wb) = b.into_streams();
            let text: String = want.iter().map(|l| format!("{l}\n")).collect();
            let writer = tulip::create_task(async move {
                for piece in text.as_bytes().chunks(1000) {
                    wb.write(piece);
                    wb.drain().await?;
                }
                wb.close();
                wb.wait_closed().await
            })?;
            let got: Vec<String> = if buffered {
                futures::io::BufReader::new(r)
                    .lines()
                    .map(|l| l.unwrap())
                    .collect()
                    .await
            } else {
                r.lines().map(|l| l.unwrap()).collect().await
            };
            writer.await?;
            assert_eq!(got, want, "buffered={buffered}");
        }
        Ok(())
    })
}

/// `StreamExt::forward` from a stream of 1000 numbers into a bounded queue's `Sink`:
/// the consumer gets them all in order and the queue never holds more than its
/// `maxsize`.
fn forward_into_a_queue_sink(new_loop: Factory) {
    const N: u32 = 1000;
    const MAX: usize = 4;
    run(new_loop, async {
        let q = tulip::Queue::new(MAX);
        let consumer = tulip::create_task({
            let q = q.clone();
            async move {
                let mut got = Vec::new();
                let mut max_seen = 0;
                loop {
                    max_seen = max_seen.max(q.qsize());
                    match q.get().await {
                        Ok(v) => got.push(v),
                        Err(tulip::SyncError::QueueShutDown) => break,
                        Err(e) => return Err(e),
                    }
                }
                Ok((got, max_seen))
            }
        })?;
        let mut sink = q.sink();
        futures::stream::iter((0..N).map(Ok))
            .forward(&mut sink)
            .await
            .unwrap();
        q.shutdown(false);
        let (got, max_seen) = consumer.await.unwrap();
        assert_eq!(got, (0..N).collect::<Vec<_>>());
        assert!(max_seen <= MAX, "queue held {max_seen}");
        // A shut-down queue refuses the sink.
        let e = futures::SinkExt::send(&mut sink, 1).await.unwrap_err();
        assert!(matches!(e, tulip::SyncError::QueueShutDown), "{e}");
        Ok(())
    })
}

/// `incoming()` accepts N connections as a `Stream`, TCP and Unix; each client sends
/// its number, and every number arrives once.
fn incoming_accepts_n_connections(new_loop: Factory) {
    const N: usize = 40;
    run(new_loop, async {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        let addr = l.local_addr()?;
        let mut clients = Vec::new();
        for i in 0..N {
            clients.push(tulip::create_task(async move {
                let mut s = TcpStream::connect(addr).await?;
                s.write_all(format!("{i:04}").as_bytes()).await?;
                Ok::<_, Error>(s)
            })?);
        }
        let mut seen = BTreeSet::new();
        let mut incoming = l.incoming().take(N);
        while let Some(conn) = incoming.next().await {
            let mut conn = conn?;
            let mut buf = [0u8; 4];
            conn.read_exact(&mut buf).await?;
            let n: usize = std::str::from_utf8(&buf).unwrap().parse().unwrap();
            assert!(seen.insert(n), "{n} twice");
        }
        assert_eq!(seen, (0..N).collect());
        for c in clients {
            c.await?;
        }

        let dir =
            std::env::temp_dir().join(format!("tulip-incoming-{}-{:p}", std::process::id(), &seen));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("sock");
        let _ = std::fs::remove_file(&path);
        let ul = tulip::net::UnixListener::bind(&path)?;
        let mut uclients = Vec::new();
        for _ in 0..3 {
            uclients.push(UnixStream::connect(&path).await?);
        }
        let accepted: Vec<_> = ul.incoming().take(3).collect().await;
        assert_eq!(accepted.iter().filter(|c| c.is_ok()).count(), 3);
        drop(ul);
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    })
}

/// `socket2::SockRef` on tulip's sockets reads the options tulip set and the OS's.
fn sockref_reads_options(new_loop: Factory) {
    run(new_loop, async {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        assert!(
            socket2::SockRef::from(&l).reuse_address()?,
            "asyncio sets SO_REUSEADDR"
        );
        let c = TcpStream::connect(l.local_addr()?).await?;
        for on in [true, false, true] {
            c.set_nodelay(on)?;
            assert_eq!(socket2::SockRef::from(&c).tcp_nodelay()?, on);
        }
        assert!(socket2::SockRef::from(&c).recv_buffer_size()? > 0);
        let u = UdpSocket::bind("127.0.0.1:0").await?;
        assert_eq!(
            socket2::SockRef::from(&u).local_addr()?.as_socket(),
            Some(u.local_addr()?)
        );
        let (a, _b) = UnixStream::pair()?;
        assert_eq!(socket2::SockRef::from(&a).r#type()?, socket2::Type::STREAM);
        use std::os::fd::{AsFd, AsRawFd};
        assert_eq!(c.as_fd().as_raw_fd(), c.as_raw_fd());
        Ok(())
    })
}

/// `reunite` gives back the stream and the bytes the reader had buffered: a 100 KiB
/// tail after a line, read partly into the reader, arrives whole as buffered bytes
/// plus what the stream reads next. A wrong type, two halves of different streams,
/// or a writer with bytes still buffered are refused with both handed back.
fn reunite_keeps_buffered_bytes(new_loop: Factory) {
    const TAIL: usize = 100 * 1024;
    run(new_loop, async {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        let (r, w) = open_connection(l.local_addr()?).await?;
        let (mut peer, _) = l.accept().await?;
        let mut msg = b"hello\n".to_vec();
        msg.extend_from_slice(&payload(TAIL, 3));
        peer.write_all(&msg).await?;
        peer.shutdown(std::net::Shutdown::Write)?;
        let mut r = r;
        assert_eq!(r.readline().await?, b"hello\n");
        let before = r.buffered();
        // Wrong type: both handed back, still usable.
        let e = r.reunite::<UnixStream>(w).unwrap_err();
        assert!(e.reason().contains("type"), "{e}");
        let (r, w) = (e.reader, e.writer);
        assert_eq!(r.buffered(), before);
        let (mut s, buffered): (TcpStream, Vec<u8>) = r.reunite(w).unwrap();
        assert_eq!(buffered.len(), before);
        let mut rest = buffered;
        s.read_to_end(&mut rest).await?;
        assert_eq!(rest.len(), TAIL);
        assert!(rest == payload(TAIL, 3), "bytes lost or reordered");
        // The stream still writes.
        s.write_all(b"bye").await?;
        let mut bye = [0u8; 3];
        peer.read_exact(&mut bye).await?;
        assert_eq!(&bye, b"bye");

        // Halves of two different streams.
        let (a, b) = UnixStream::pair()?;
        let (ra, wa) = a.into_streams();
        let (rb, wb) = b.into_streams();
        let e = ra.reunite::<UnixStream>(wb).unwrap_err();
        assert!(e.reason().contains("halves"), "{e}");
        drop((e, rb, wa));

        // A writer with bytes queued is refused until flushed; `streams_from_io`
        // halves reunite into the type they were made from.
        let (a, b) = UnixStream::pair()?;
        let (ra, mut wa) = streams_from_io(a);
        let big = payload(4 << 20, 9);
        AsyncWriteExt::write(&mut wa, &big).await?;
        assert!(wa.write_buffer_size() > 0);
        let e = ra.reunite::<UnixStream>(wa).unwrap_err();
        assert!(e.reason().contains("buffered"), "{e}");
        let (ra, mut wa) = (e.reader, e.writer);
        let drainer = tulip::create_task(async move {
            let mut b = b;
            let mut got = vec![0u8; 4 << 20];
            b.read_exact(&mut got).await?;
            Ok::<_, Error>(got)
        })?;
        wa.flush().await?;
        assert_eq!(wa.write_buffer_size(), 0);
        let (_a, buffered): (UnixStream, Vec<u8>) = ra.reunite(wa).unwrap();
        assert!(buffered.is_empty());
        assert!(drainer.await? == big, "flushed bytes differ");
        Ok(())
    })
}

/// `into_inner` on a reader of an `AsyncRead` gives the end back with the bytes it
/// had buffered (the rest of the data follows in the end); a writer of an
/// `AsyncWrite` gives its end back once flushed; the wrong type hands them back.
fn into_inner_of_separate_ends(new_loop: Factory) {
    run(new_loop, async {
        let data = payload(50_000, 4);
        let mut src = b"first\n".to_vec();
        src.extend_from_slice(&data);
        let mut r = StreamReader::from_async_read(futures::io::Cursor::new(src), 1024);
        assert_eq!(r.readline().await?, b"first\n");
        let r = r.into_inner::<UnixStream>().unwrap_err();
        let (mut cur, buffered) = r.into_inner::<futures::io::Cursor<Vec<u8>>>().unwrap();
        let mut rest = buffered;
        cur.read_to_end(&mut rest).await?;
        assert!(rest == data, "bytes lost");

        let (a, b) = UnixStream::pair()?;
        let mut w = StreamWriter::from_async_write(a);
        w.write(b"queued");
        w.flush().await?;
        let w = w.into_inner::<TcpStream>().unwrap_err();
        let mut a: UnixStream = w.clone().into_inner().unwrap();
        assert!(w.is_closing(), "clones of a detached writer are closed");
        w.write(b"dropped");
        a.write_all(b"+direct").await?;
        drop(a);
        let mut b = b;
        let mut got = Vec::new();
        b.read_to_end(&mut got).await?;
        assert_eq!(got, b"queued+direct");
        Ok(())
    })
}

/// Vectored writes: one `write_vectored` on a fresh `TcpStream` sends all three slices
/// in one `sendmsg` (the default `AsyncWrite` method would send only the first), and a
/// `StreamWriter`'s vectored write queues them all; the bytes arrive intact and in
/// order.
fn vectored_writes_arrive_intact(new_loop: Factory) {
    run(new_loop, async {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        let mut c = TcpStream::connect(l.local_addr()?).await?;
        let (mut s, _) = l.accept().await?;
        let parts = [payload(1000, 1), payload(1, 2), payload(3000, 3)];
        let slices: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
        let n = c.write_vectored(&slices).await?;
        assert_eq!(
            n, 4001,
            "one sendmsg should take every slice on an empty socket"
        );
        let mut got = vec![0u8; 4001];
        s.read_exact(&mut got).await?;
        assert_eq!(got, parts.concat());

        let (_r, mut w) = c.into_streams();
        let n = w.write_vectored(&slices).await?;
        assert_eq!(n, 4001);
        w.flush().await?;
        let mut got = vec![0u8; 4001];
        s.read_exact(&mut got).await?;
        assert_eq!(got, parts.concat());
        Ok(())
    })
}

/// `AsyncWrite` on a `StreamWriter` keeps the water marks: once the buffer is above
/// the high-water mark, `poll_write` is `Pending` (the peer is not reading), and it
/// goes on once the peer reads; `flush` waits for every byte, `close` for the end.
fn async_write_on_stream_writer_waits_above_high_water(new_loop: Factory) {
    run(new_loop, async {
        let (a, b) = UnixStream::pair()?;
        let (_ra, mut w) = a.into_streams();
        w.set_write_buffer_limits(1024, Some(256));
        let big = payload(2 << 20, 5);
        assert_eq!(AsyncWriteExt::write(&mut w, &big).await?, big.len());
        assert!(
            w.write_buffer_size() > 1024,
            "the socket took 2 MiB at once"
        );
        assert!(
            AsyncWriteExt::write(&mut w, b"more")
                .now_or_never()
                .is_none(),
            "poll_write above the high-water mark must wait"
        );
        let reader = tulip::create_task(async move {
            let mut b = b;
            let mut got = Vec::new();
            b.read_to_end(&mut got).await?;
            Ok::<_, Error>(got)
        })?;
        w.write_all(b"more").await?;
        w.flush().await?;
        assert_eq!(w.write_buffer_size(), 0);
        AsyncWriteExt::close(&mut w).await?;
        let e = AsyncWriteExt::write(&mut w, b"late").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BrokenPipe);
        let got = reader.await?;
        assert_eq!(got.len(), big.len() + 4);
        assert!(got[..big.len()] == big[..] && &got[big.len()..] == b"more");
        Ok(())
    })
}

/// Readers and writers over any byte stream stay `Send + Sync`, as over a socket,
/// so they move between tasks of the threaded executor.
#[test]
fn streams_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<StreamReader>();
    send_sync::<StreamWriter>();
    send_sync::<tulip::QueueSink<u8>>();
    send_sync::<tulip::net::Incoming<'static, TcpListener>>();
}

per_executor!(
    futures_copy_between_tulip_streams,
    lines_on_a_stream_reader,
    forward_into_a_queue_sink,
    incoming_accepts_n_connections,
    sockref_reads_options,
    reunite_keeps_buffered_bytes,
    into_inner_of_separate_ends,
    vectored_writes_arrive_intact,
    async_write_on_stream_writer_waits_above_high_water,
    streams_from_io_carry_a_mebibyte_each_way,
    async_write_writer_respects_water_marks,
    async_write_write_eof_half_closes,
    async_write_error_surfaces,
);
