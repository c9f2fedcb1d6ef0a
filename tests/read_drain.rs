//! A short read means "drained" (the next read waits for an edge instead of trying a
//! `recv`) only where the reactor reports a peer's shutdown. These scenarios are the
//! orderings that rule could get wrong. None may lose the end of the stream or a byte.
//!
//! - the data and the FIN are queued before the socket is even registered;
//! - they are queued after registration, before the first read;
//! - the FIN comes while the reader waits after a short read;
//! - many small writes race a reader that always asks for more than is there.
#![cfg(feature = "net")]
mod common;

use std::io::Write;
use std::net::Shutdown;
use std::time::Duration;

use common::Factory;
use tulip::net::{Error, TcpListener, TcpStream};

/// Runs `fut` on a fresh loop of `new_loop`'s executor, bounded: a lost end of stream
/// is a timeout error here, not a hang.
fn run<T: Send + 'static>(
    new_loop: Factory,
    fut: impl std::future::Future<Output = Result<T, Error>> + Send + 'static,
) -> T {
    let lp = new_loop().unwrap();
    let out = lp
        .run_until_complete(tulip::wait_for(fut, Duration::from_secs(30)))
        .unwrap();
    lp.close().unwrap();
    out
}

/// Reads until end of stream with a buffer far larger than any one arrival.
async fn read_all(s: &mut TcpStream) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// The peer wrote and shut down before tulip accepted (and registered) the socket:
/// the first read is short, the second must still see the end.
fn data_and_fin_queued_before_registration(new_loop: Factory) {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();
    let mut peer = std::net::TcpStream::connect(addr).unwrap();
    peer.write_all(b"hello").unwrap();
    peer.shutdown(Shutdown::Write).unwrap();
    let (accepted, _) = std_listener.accept().unwrap();
    let got = run(new_loop, async move {
        let mut s = TcpStream::from_std(accepted)?;
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).await?;
        let rest = read_all(&mut s).await?;
        Ok((buf[..n].to_vec(), rest))
    });
    assert_eq!(got.0, b"hello");
    assert_eq!(
        got.1, b"",
        "the end of the stream came right after the data"
    );
    drop(peer);
}

/// The data and the FIN arrive after registration, before the first read.
fn data_and_fin_queued_before_the_first_read(new_loop: Factory) {
    let got = run(new_loop, async {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        let addr = l.local_addr()?;
        let writer = std::thread::spawn(move || {
            let mut peer = std::net::TcpStream::connect(addr).unwrap();
            peer.write_all(b"ping").unwrap();
            peer.shutdown(Shutdown::Write).unwrap();
            peer
        });
        let (mut s, _) = l.accept().await?;
        // Registered now; let the peer's bytes and FIN land before reading.
        let peer = tulip::to_thread(move || writer.join().unwrap()).await?;
        let all = read_all(&mut s).await?;
        drop(peer);
        Ok(all)
    });
    assert_eq!(got, b"ping");
}

/// A short read, then the reader waits; the peer sends more, then shuts down.
fn fin_while_waiting_after_a_short_read(new_loop: Factory) {
    let got = run(new_loop, async {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        let addr = l.local_addr()?;
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let writer = std::thread::spawn(move || {
            let mut peer = std::net::TcpStream::connect(addr).unwrap();
            peer.write_all(b"first").unwrap();
            go_rx.recv().unwrap();
            peer.write_all(b"second").unwrap();
            peer.shutdown(Shutdown::Write).unwrap();
        });
        let (mut s, _) = l.accept().await?;
        let mut buf = [0u8; 4096];
        let mut first = Vec::new();
        while first.len() < 5 {
            let n = s.read(&mut buf).await?;
            assert!(n > 0, "end of stream before the first write");
            first.extend_from_slice(&buf[..n]);
        }
        go_tx.send(()).unwrap();
        let rest = read_all(&mut s).await?;
        tulip::to_thread(move || writer.join().unwrap()).await?;
        Ok((first, rest))
    });
    assert_eq!(got.0, b"first");
    assert_eq!(got.1, b"second");
}

/// 2,000 small writes with pauses between some of them, read with a 64 KiB buffer:
/// every byte arrives, in order, and the end of the stream is seen.
fn many_small_writes_lose_no_byte(new_loop: Factory) {
    let expected: Vec<u8> = (0..2_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let want = expected.clone();
    let got = run(new_loop, async move {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        let addr = l.local_addr()?;
        let writer = std::thread::spawn(move || {
            let mut peer = std::net::TcpStream::connect(addr).unwrap();
            peer.set_nodelay(true).unwrap();
            for (i, chunk) in want.chunks(4).enumerate() {
                peer.write_all(chunk).unwrap();
                if i % 100 == 0 {
                    std::thread::yield_now();
                }
            }
            peer.shutdown(Shutdown::Write).unwrap();
        });
        let (mut s, _) = l.accept().await?;
        let all = read_all(&mut s).await?;
        tulip::to_thread(move || writer.join().unwrap()).await?;
        Ok(all)
    });
    assert_eq!(got.len(), expected.len());
    assert_eq!(got, expected);
}

per_executor!(
    data_and_fin_queued_before_registration,
    data_and_fin_queued_before_the_first_read,
    fin_while_waiting_after_a_short_read,
    many_small_writes_lose_no_byte,
);
