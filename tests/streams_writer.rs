//! asyncio's StreamWriter and Server on every executor: drain and water marks,
//! write_eof, close / wait_closed, extra info, server lifecycle.
#![cfg(feature = "net")]
mod common;

use std::future::Future;
use std::io::ErrorKind;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{within, Factory};
use tulip::net::{open_connection, start_server, Address, Error, TcpListener, TcpStream};

/// Runs `fut` on a fresh loop of `new_loop`'s executor and closes the loop.
fn run<T>(new_loop: Factory, fut: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    let lp = new_loop().unwrap();
    let out = lp.run_until_complete(fut);
    lp.close().unwrap();
    out
}

/// 16 MiB written in 64 KiB pieces, each followed by `drain`, to a peer that reads
/// 64 KiB every millisecond: the writer's buffer never exceeds the high-water mark
/// plus one piece, and every byte arrives in order.
fn slow_peer_keeps_writer_buffer_bounded(new_loop: Factory) {
    const TOTAL: usize = 16 * 1024 * 1024;
    const PIECE: usize = 64 * 1024;
    within(Duration::from_secs(60), || {
        run(new_loop, async {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap();
            let reader = tulip::create_task(async move {
                let (mut s, _) = l.accept().await.unwrap();
                let mut buf = vec![0u8; PIECE];
                let (mut total, mut sum) = (0usize, 0u64);
                loop {
                    tulip::sleep(Duration::from_millis(1)).await.unwrap();
                    let n = s.read(&mut buf).await.unwrap();
                    if n == 0 {
                        return Ok::<_, Error>((total, sum));
                    }
                    for &b in &buf[..n] {
                        sum = sum.wrapping_mul(31).wrapping_add(b as u64);
                    }
                    total += n;
                }
            })
            .unwrap();
            let (_r, w) = open_connection(addr).await.unwrap();
            let (_low, high) = w.get_write_buffer_limits();
            let mut max_seen = 0;
            let mut sum = 0u64;
            let mut piece = vec![0u8; PIECE];
            for i in 0..TOTAL / PIECE {
                for (j, b) in piece.iter_mut().enumerate() {
                    *b = (i * 7 + j) as u8;
                    sum = sum.wrapping_mul(31).wrapping_add(*b as u64);
                }
                w.write(&piece);
                max_seen = max_seen.max(w.write_buffer_size());
                w.drain().await.unwrap();
            }
            w.close();
            w.wait_closed().await.unwrap();
            let (total, got_sum) = reader.await?;
            assert_eq!(total, TOTAL);
            assert_eq!(got_sum, sum);
            assert!(
                max_seen <= high + PIECE,
                "buffer reached {max_seen}, high-water mark {high}"
            );
            Ok(())
        })
        .unwrap()
    });
}

/// `drain` waits while the buffer is above the high-water mark (peer not reading),
/// and returns once the peer reads.
fn drain_waits_for_a_slow_peer(new_loop: Factory) {
    run(new_loop, async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (_r, w) = open_connection(l.local_addr().unwrap()).await.unwrap();
        let (mut s, _) = l.accept().await.unwrap();
        w.set_write_buffer_limits(1024, None);
        assert_eq!(w.get_write_buffer_limits(), (256, 1024));
        // Far more than the kernel buffers hold.
        let big = vec![1u8; 32 * 1024 * 1024];
        w.write(&big);
        assert!(w.write_buffer_size() > 1024);
        let w2 = w.clone();
        let drained = tulip::create_task(async move { w2.drain().await }).unwrap();
        tulip::sleep(Duration::from_millis(30)).await.unwrap();
        assert!(
            !drained.done(),
            "drain returned while the peer read nothing"
        );
        let mut buf = vec![0u8; 1024 * 1024];
        let mut got = 0;
        while got < big.len() {
            got += s.read(&mut buf).await.unwrap();
        }
        drained.await?;
        assert!(w.write_buffer_size() <= 256);
        Ok(())
    })
    .unwrap();
}

fn write_eof_half_closes_and_reading_continues(new_loop: Factory) {
    run(new_loop, async {
        let server = start_server(
            |mut r, w| async move {
                let all = r.read_to_end().await.unwrap();
                w.write(format!("got {} bytes", all.len()).as_bytes());
                w.close();
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut r, w) = open_connection(server.local_addr().unwrap()).await.unwrap();
        assert!(w.can_write_eof());
        w.writelines([&b"hello "[..], b"world"]);
        w.write_eof();
        w.write(b"ignored after eof");
        assert_eq!(r.read_to_end().await?, b"got 11 bytes");
        server.close();
        server.wait_closed().await
    })
    .unwrap();
}

fn close_and_wait_closed(new_loop: Factory) {
    run(new_loop, async {
        let server = start_server(
            |mut r, _w| async move {
                assert_eq!(r.read_to_end().await.unwrap(), b"bye");
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (_r, w) = open_connection(server.local_addr().unwrap()).await.unwrap();
        assert!(!w.is_closing());
        w.write(b"bye");
        w.close();
        assert!(w.is_closing());
        w.wait_closed().await?;
        server.close();
        server.wait_closed().await
    })
    .unwrap();
}

fn extra_info_peername_and_sockname(new_loop: Factory) {
    run(new_loop, async {
        let seen = Arc::new(std::sync::Mutex::new(None));
        let s2 = seen.clone();
        let server = start_server(
            move |_r, w| {
                *s2.lock().unwrap() = w.get_extra_info("peername");
                w.write(b"!");
                async {}
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let addr = server.local_addr().unwrap();
        assert_eq!(server.sockets(), vec![Address::Inet(addr)]);
        let (mut r, w) = open_connection(addr).await.unwrap();
        assert_eq!(r.read(1).await.unwrap(), b"!");
        assert_eq!(w.get_extra_info("peername"), Some(Address::Inet(addr)));
        let me = w.get_extra_info("sockname").unwrap();
        assert_eq!(w.get_extra_info("nonsense"), None);
        server.close();
        server.wait_closed().await.unwrap();
        assert_eq!(*seen.lock().unwrap(), Some(me));
        Ok(())
    })
    .unwrap();
}

/// The peer resets while we write: `drain` reports the error, the writer is closing,
/// and the server's other connections are unaffected.
fn reset_peer_surfaces_in_drain(new_loop: Factory) {
    run(new_loop, async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (_r, w) = open_connection(l.local_addr().unwrap()).await.unwrap();
        let (doomed, _) = l.accept().await.unwrap();
        doomed.set_linger_zero().unwrap();
        drop(doomed);
        let piece = vec![0u8; 64 * 1024];
        let err = loop {
            w.write(&piece);
            if let Err(e) = w.drain().await {
                break e;
            }
            tulip::sleep(Duration::from_millis(1)).await.unwrap();
        };
        assert!(
            matches!(
                err.io_kind(),
                Some(ErrorKind::ConnectionReset | ErrorKind::BrokenPipe)
            ),
            "{err:?}"
        );
        assert!(w.is_closing());
        assert!(w.wait_closed().await.is_err());
        let ok = TcpStream::connect(l.local_addr().unwrap()).await;
        assert!(ok.is_ok());
        Ok(())
    })
    .unwrap();
}

/// `close` stops accepting (new connections are refused once `wait_closed`
/// returns) but lets running connections finish; `wait_closed` waits for them.
fn server_close_waits_for_connections(new_loop: Factory) {
    run(new_loop, async {
        let finished = Arc::new(AtomicUsize::new(0));
        let f2 = finished.clone();
        let server = start_server(
            move |mut r, w| {
                let f = f2.clone();
                async move {
                    let line = r.readline().await.unwrap();
                    w.write(&line);
                    w.close();
                    f.fetch_add(1, Ordering::SeqCst);
                }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let addr = server.local_addr().unwrap();
        let (mut r, w) = open_connection(addr).await.unwrap();
        tulip::sleep(Duration::from_millis(10)).await.unwrap();
        assert!(server.is_serving());
        server.close();
        assert!(!server.is_serving());
        let s2 = server.clone();
        let waiter = tulip::create_task(async move { s2.wait_closed().await }).unwrap();
        tulip::sleep(Duration::from_millis(20)).await.unwrap();
        assert!(
            !waiter.done(),
            "wait_closed returned with a connection open"
        );
        w.write(b"last\n");
        assert_eq!(r.readline().await.unwrap(), b"last\n");
        waiter.await?;
        assert_eq!(finished.load(Ordering::SeqCst), 1);
        let refused = open_connection(addr).await.unwrap_err();
        assert_eq!(refused.io_kind(), Some(ErrorKind::ConnectionRefused));
        Ok(())
    })
    .unwrap();
}

/// Cancelling `serve_forever` closes the server (asyncio's behaviour).
fn cancelling_serve_forever_closes_the_server(new_loop: Factory) {
    run(new_loop, async {
        let server = start_server(|_r, _w| async {}, "127.0.0.1:0")
            .await
            .unwrap();
        let s2 = server.clone();
        let t = tulip::create_task(async move { s2.serve_forever().await }).unwrap();
        tulip::sleep(Duration::from_millis(10)).await.unwrap();
        assert!(server.is_serving());
        t.cancel();
        // serve_forever returned the cancel: the task ends cancelled.
        assert!(t.await.unwrap_err().is_cancelled());
        assert!(!server.is_serving());
        server.wait_closed().await
    })
    .unwrap();
}

per_executor!(
    slow_peer_keeps_writer_buffer_bounded,
    drain_waits_for_a_slow_peer,
    write_eof_half_closes_and_reading_continues,
    close_and_wait_closed,
    extra_info_peername_and_sockname,
    reset_peer_surfaces_in_drain,
    server_close_waits_for_connections,
    cancelling_serve_forever_closes_the_server,
);
