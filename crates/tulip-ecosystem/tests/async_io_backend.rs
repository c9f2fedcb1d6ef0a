//! smol-ecosystem I/O (`async_io::Async`, `async_io::Timer`) inside tulip loops.
//!
//! On every executor and reactor compiled in: with tulip's own poller async-io runs
//! as a second reactor on its own thread; with `ReactorKind::AsyncIo` (feature
//! `async-io`) the loop drives async-io's reactor itself. Either way no byte is lost
//! and tasks woken by async-io run on the loop.

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use async_io::{Async, Timer};
use common::{within, Factory};
use futures::{AsyncReadExt, AsyncWriteExt};
use tulip::Error;

/// 2,000 ping-pongs of growing messages between two tulip tasks over
/// `Async<UnixStream>`: every byte comes back, in order.
fn async_unix_stream_round_trips_lose_nothing(new_loop: Factory) {
    let lp = new_loop().unwrap();
    within(Duration::from_secs(60), || {
        lp.run_until_complete(async {
            let (a, b) = UnixStream::pair()?;
            let (mut a, mut b) = (Async::new(a)?, Async::new(b)?);
            let echo = tulip::create_task(async move {
                let mut buf = vec![0u8; 4096];
                let mut total = 0usize;
                loop {
                    let n = b.read(&mut buf).await?;
                    if n == 0 {
                        return Ok::<_, Error>(total);
                    }
                    total += n;
                    b.write_all(&buf[..n]).await?;
                }
            })?;
            let mut sent = 0usize;
            for i in 0..2000usize {
                let msg: Vec<u8> = (0..(i % 300) + 1).map(|k| (i * 7 + k) as u8).collect();
                a.write_all(&msg).await?;
                let mut back = vec![0u8; msg.len()];
                a.read_exact(&mut back).await?;
                assert_eq!(back, msg, "round {i}");
                sent += msg.len();
            }
            drop(a);
            assert_eq!(echo.await?, sent);
            Ok::<_, Error>(())
        })
        .unwrap();
    });
    lp.close().unwrap();
}

/// `async_io::Timer` and `tulip::sleep` both fire in a loop, each no earlier than
/// asked; a timer that is dropped before it fires wakes nobody.
fn async_io_timer_and_tulip_sleep_fire(new_loop: Factory) {
    let lp = new_loop().unwrap();
    within(Duration::from_secs(30), || {
        lp.run_until_complete(async {
            let start = Instant::now();
            Timer::after(Duration::from_millis(15)).await;
            assert!(start.elapsed() >= Duration::from_millis(15));
            let t = tulip::create_task(async {
                Timer::after(Duration::from_millis(10)).await;
                Ok::<_, Error>(1)
            })?;
            tulip::sleep(Duration::from_millis(5)).await?;
            assert_eq!(t.await?, 1);
            assert!(start.elapsed() >= Duration::from_millis(25));
            drop(Timer::after(Duration::from_secs(3600)));
            Ok::<_, Error>(())
        })
        .unwrap();
    });
    lp.close().unwrap();
}

/// A task waiting on an `Async` read (a future that knows nothing of tulip's
/// cancellation) is cancelled like any other: it ends cancelled, its future is
/// dropped, and the socket still works for the next reader (no byte lost).
fn cancelling_an_async_read_loses_nothing(new_loop: Factory) {
    let lp = new_loop().unwrap();
    within(Duration::from_secs(30), || {
        lp.run_until_complete(async {
            let (a, b) = UnixStream::pair()?;
            let (a, mut b) = (Async::new(a)?, Async::new(b)?);
            let a = std::sync::Arc::new(a);
            let a2 = a.clone();
            let reader = tulip::create_task(async move {
                let mut one = [0u8; 1];
                (&*a2).read_exact(&mut one).await?;
                Ok::<_, Error>(one[0])
            })?;
            tulip::sleep(Duration::from_millis(10)).await?;
            reader.cancel();
            assert!(reader.await.unwrap_err().is_cancelled());
            b.write_all(b"after").await?;
            let mut buf = [0u8; 5];
            (&*a).read_exact(&mut buf).await?;
            assert_eq!(&buf, b"after");
            Ok::<_, Error>(())
        })
        .unwrap();
    });
    lp.close().unwrap();
}

per_executor!(
    async_unix_stream_round_trips_lose_nothing,
    async_io_timer_and_tulip_sleep_fire,
    cancelling_an_async_read_loses_nothing,
);

#[cfg(feature = "local")]
#[test]
fn the_default_reactor_is_tulips_poller() {
    let lp = tulip::executors::local::new_event_loop().unwrap();
    assert_eq!(lp.reactor().kind(), tulip::ReactorKind::Epoll);
    let lp2 = tulip::executors::local::Builder::new().build().unwrap();
    assert_eq!(lp2.reactor().kind(), tulip::ReactorKind::Epoll);
    assert!(!tulip::ReactorKind::Epoll.wakes_inside_park());
    assert!(tulip::ReactorKind::AsyncIo.wakes_inside_park());
}

#[cfg(all(feature = "async-io", feature = "local", feature = "threaded"))]
#[test]
fn builders_pick_the_async_io_reactor() {
    for lp in [
        common::local_async_io().unwrap(),
        common::threaded_async_io().unwrap(),
    ] {
        assert_eq!(lp.reactor().kind(), tulip::ReactorKind::AsyncIo);
        lp.close().unwrap();
    }
}
