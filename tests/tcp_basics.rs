//! TCP sockets on every executor: connect errors, echo integrity under concurrency,
//! half-close, resets, socket options, the futures::io traits.
#![cfg(feature = "net")]
mod common;

use std::future::Future;
use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use common::{within, Factory};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use tulip::net::{Error, ListenOptions, TcpListener, TcpStream};

/// Runs `fut` on a fresh loop of `new_loop`'s executor and closes the loop.
fn run<T>(new_loop: Factory, fut: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    let lp = new_loop().unwrap();
    let out = lp.run_until_complete(fut);
    lp.close().unwrap();
    out
}

/// A port nothing listens on: bind, note the port, close.
fn dead_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

fn connection_refused_is_a_clear_error(new_loop: Factory) {
    let addr = dead_port();
    let err = run(new_loop, TcpStream::connect(addr)).unwrap_err();
    assert_eq!(err.io_kind(), Some(ErrorKind::ConnectionRefused));
    let text = err.to_string();
    assert!(text.contains(&addr.to_string()), "{text}");
    assert!(text.to_lowercase().contains("refused"), "{text}");
}

fn unknown_host_is_a_clear_error(new_loop: Factory) {
    let err = within(Duration::from_secs(30), || {
        run(
            new_loop,
            tulip::net::open_connection(("no-such-host.invalid", 80)),
        )
    })
    .unwrap_err();
    assert!(
        matches!(err, tulip::net::Error::Resolve { ref host, .. } if host == "no-such-host.invalid"),
        "{err:?}"
    );
    assert!(err.to_string().contains("no-such-host.invalid"));
}

fn connect_tries_each_resolved_address(new_loop: Factory) {
    run(new_loop, async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let good = l.local_addr().unwrap();
        let addrs = vec![dead_port(), good];
        let s = TcpStream::connect(addrs).await.unwrap();
        assert_eq!(s.peer_addr().unwrap(), good);
        Ok(())
    })
    .unwrap();
}

fn localhost_name_resolves_off_the_loop(new_loop: Factory) {
    run(new_loop, async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let s = TcpStream::connect(("localhost", port)).await.unwrap();
        assert_eq!(s.peer_addr().unwrap().port(), port);
        Ok(())
    })
    .unwrap();
}

/// 64 connections exchange 64-byte messages concurrently; every byte comes back in
/// order (checked per connection with a running checksum).
fn echo_64_connections_no_lost_or_reordered_bytes(new_loop: Factory) {
    const CONNS: usize = 64;
    const ROUNDS: usize = 200;
    within(Duration::from_secs(30), || {
        run(new_loop, async {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap();
            let server = tulip::create_task(async move {
                for _ in 0..CONNS {
                    let (mut s, _) = l.accept().await.unwrap();
                    tulip::create_task(async move {
                        let mut buf = [0u8; 4096];
                        loop {
                            let n = s.read(&mut buf).await.unwrap();
                            if n == 0 {
                                return Ok::<_, Error>(());
                            }
                            s.write_all(&buf[..n]).await?;
                        }
                    })
                    .unwrap();
                }
                Ok::<_, Error>(())
            })
            .unwrap();
            let mut clients = Vec::new();
            for c in 0..CONNS {
                clients.push(
                    tulip::create_task(async move {
                        let mut s = TcpStream::connect(addr).await.unwrap();
                        s.set_nodelay(true).unwrap();
                        let (mut sent_sum, mut got_sum) = (0u64, 0u64);
                        let mut back = [0u8; 64];
                        for r in 0..ROUNDS {
                            let msg: Vec<u8> =
                                (0..64).map(|i| (c * 31 + r * 7 + i) as u8).collect();
                            sent_sum = checksum(sent_sum, &msg);
                            s.write_all(&msg).await.unwrap();
                            let mut got = 0;
                            while got < 64 {
                                let n = s.read(&mut back[got..]).await.unwrap();
                                assert!(n > 0, "early EOF");
                                got += n;
                            }
                            assert_eq!(&back[..], &msg[..], "conn {c} round {r}");
                            got_sum = checksum(got_sum, &back);
                        }
                        Ok::<_, Error>((sent_sum, got_sum))
                    })
                    .unwrap(),
                );
            }
            for c in clients {
                let (a, b) = c.await?;
                assert_eq!(a, b);
            }
            server.await
        })
        .unwrap()
    });
}

fn checksum(acc: u64, data: &[u8]) -> u64 {
    data.iter().fold(acc, |a, &b| {
        a.wrapping_mul(1_000_003).wrapping_add(b as u64)
    })
}

fn half_close_works_both_ways(new_loop: Factory) {
    run(new_loop, async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let (mut s, _) = l.accept().await.unwrap();
        // Client half-closes: server reads the data then EOF, and can still answer.
        c.write_all(b"question").await.unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            let n = s.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"question");
        s.write_all(b"answer").await.unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        // And the other way: the client reads the answer, then EOF.
        let mut got = Vec::new();
        loop {
            let n = c.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"answer");
        Ok(())
    })
    .unwrap();
}

/// The server resets one connection while the client is reading it: that read fails
/// with a reset, and another connection to the same server is unaffected.
fn peer_reset_mid_read_fails_that_stream_only(new_loop: Factory) {
    run(new_loop, async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let mut victim = TcpStream::connect(addr).await.unwrap();
        let (doomed, _) = l.accept().await.unwrap();
        let mut other = TcpStream::connect(addr).await.unwrap();
        let (mut other_srv, _) = l.accept().await.unwrap();
        let reader = tulip::create_task(async move {
            let mut buf = [0u8; 16];
            victim.read(&mut buf).await
        })
        .unwrap();
        tulip::sleep(Duration::from_millis(20)).await.unwrap();
        doomed.set_linger_zero().unwrap();
        drop(doomed);
        // The task's body returned the read's error: the task raised it.
        let err = reader.await.unwrap_err();
        assert_eq!(err.io_kind(), Some(ErrorKind::ConnectionReset), "{err:?}");
        other.write_all(b"still fine").await.unwrap();
        let mut buf = [0u8; 10];
        let mut got = 0;
        while got < 10 {
            got += other_srv.read(&mut buf[got..]).await.unwrap();
        }
        assert_eq!(&buf, b"still fine");
        Ok(())
    })
    .unwrap();
}

/// The peer resets while we keep writing: a write fails (reset or broken pipe).
fn peer_reset_mid_write_fails_that_stream_only(new_loop: Factory) {
    run(new_loop, async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let writer = TcpStream::connect(addr).await.unwrap();
        let (doomed, _) = l.accept().await.unwrap();
        let chunk = vec![7u8; 64 * 1024];
        let task = tulip::create_task(write_forever(writer, chunk)).unwrap();
        tulip::sleep(Duration::from_millis(20)).await.unwrap();
        doomed.set_linger_zero().unwrap();
        drop(doomed);
        let err = task.await.unwrap_err();
        assert!(
            matches!(
                err.io_kind(),
                Some(ErrorKind::ConnectionReset | ErrorKind::BrokenPipe)
            ),
            "{err:?}"
        );
        // The listener still serves.
        let c = TcpStream::connect(addr).await.unwrap();
        let (s, _) = l.accept().await.unwrap();
        assert_eq!(s.peer_addr().unwrap(), c.local_addr().unwrap());
        Ok(())
    })
    .unwrap();
}

/// Writes `chunk` again and again until a write fails.
async fn write_forever(mut s: TcpStream, chunk: Vec<u8>) -> Result<(), Error> {
    loop {
        s.write_all(&chunk).await?;
    }
}

fn socket_options_and_addresses(new_loop: Factory) {
    run(new_loop, async {
        let opts = ListenOptions {
            reuse_port: true,
            backlog: 16,
            ..Default::default()
        };
        let l = TcpListener::bind_with("127.0.0.1:0", opts).await.unwrap();
        let addr = l.local_addr().unwrap();
        // reuse_port: a second listener can share the port.
        let l2 = TcpListener::bind_with(addr, opts).await.unwrap();
        assert_eq!(l2.local_addr().unwrap(), addr);
        // Without it, binding the same port fails with a clear error.
        let busy = TcpListener::bind(addr).await.unwrap_err();
        assert_eq!(busy.io_kind(), Some(ErrorKind::AddrInUse));
        assert!(busy.to_string().contains(&addr.to_string()));
        let c = TcpStream::connect(addr).await.unwrap();
        c.set_nodelay(true).unwrap();
        assert!(c.nodelay().unwrap());
        assert_eq!(c.peer_addr().unwrap(), addr);
        assert_eq!(c.local_addr().unwrap().ip(), addr.ip());
        Ok(())
    })
    .unwrap();
}

fn futures_io_traits_work(new_loop: Factory) {
    run(new_loop, async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let (mut s, _) = l.accept().await.unwrap();
        AsyncWriteExt::write_all(&mut c, b"through futures::io")
            .await
            .unwrap();
        AsyncWriteExt::close(&mut c).await.unwrap();
        let mut got = String::new();
        s.read_to_string(&mut got).await.unwrap();
        assert_eq!(got, "through futures::io");
        Ok(())
    })
    .unwrap();
}

/// A task blocked in `read` is cancelled: the read returns `Cancelled` (so the task
/// can clean up), and the stream still works afterwards.
fn cancelled_read_returns_cancelled_and_loses_nothing(new_loop: Factory) {
    run(new_loop, async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let (mut s, _) = l.accept().await.unwrap();
        let reader = tulip::create_task(async move {
            let mut buf = [0u8; 8];
            let first = c.peer_addr().map(|_| ());
            let mut c = c;
            let r = c.read(&mut buf).await;
            Ok::<_, Error>((first, r.map_err(|e| e.is_cancelled()), c))
        })
        .unwrap();
        tulip::sleep(Duration::from_millis(10)).await.unwrap();
        reader.cancel();
        let (_, r, mut c) = reader.await?;
        assert_eq!(r, Err(true));
        s.write_all(b"after").await.unwrap();
        let mut buf = [0u8; 5];
        let mut got = 0;
        while got < 5 {
            got += c.read(&mut buf[got..]).await.unwrap();
        }
        assert_eq!(&buf, b"after");
        Ok(())
    })
    .unwrap();
}

per_executor!(
    connection_refused_is_a_clear_error,
    unknown_host_is_a_clear_error,
    connect_tries_each_resolved_address,
    localhost_name_resolves_off_the_loop,
    echo_64_connections_no_lost_or_reordered_bytes,
    half_close_works_both_ways,
    peer_reset_mid_read_fails_that_stream_only,
    peer_reset_mid_write_fails_that_stream_only,
    socket_options_and_addresses,
    futures_io_traits_work,
    cancelled_read_returns_cancelled_and_loses_nothing,
);
