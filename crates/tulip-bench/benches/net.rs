//! Micro-benchmarks of tulip's I/O paths (criterion): the reactor's wait and
//! notification, and a TCP echo over loopback on one loop, which goes through the
//! short-read rule on every read.
//!
//! `cargo bench -p tulip-bench --bench net` (or `-- reactor::` to pick a group). Compare
//! `ReactorKind::Epoll` (Linux's default) with `ReactorKind::Polling` side by side.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use tulip::net::{TcpListener, TcpStream};
use tulip::reactor::Reactor;
use tulip::ReactorKind;

/// The kinds to compare: tulip's own epoll set where it exists, and `polling`.
fn kinds() -> Vec<(&'static str, ReactorKind)> {
    let mut kinds = vec![("polling", ReactorKind::Polling)];
    if ReactorKind::default() != ReactorKind::Polling {
        kinds.insert(0, ("default", ReactorKind::default()));
    }
    kinds
}

/// A notification followed by the wait it ends: what a loop pays each time another
/// thread (or an async-io waker) hands it work while it sleeps.
fn reactor(c: &mut Criterion) {
    for (name, kind) in kinds() {
        let r = Reactor::with_kind(kind).expect("reactor");
        c.bench_function(&format!("reactor::notify_then_wait/{name}"), |b| {
            b.iter(|| {
                r.notify().expect("notify");
                r.wait(Some(Duration::from_secs(5))).expect("wait")
            })
        });
        c.bench_function(&format!("reactor::zero_timeout_wait/{name}"), |b| {
            b.iter(|| r.wait(Some(Duration::ZERO)).expect("wait"))
        });
    }
}

/// 1,000 round trips of 64 bytes between two tasks of one loop over loopback TCP.
fn tcp(c: &mut Criterion) {
    for (name, kind) in kinds() {
        let lp = tulip::executors::local::Builder::new()
            .reactor(kind)
            .build()
            .expect("loop");
        c.bench_function(&format!("tcp::echo_64b_1k/{name}"), |b| {
            b.iter(|| {
                lp.run_until_complete(async {
                    let l = TcpListener::bind("127.0.0.1:0").await?;
                    let addr = l.local_addr()?;
                    let server = tulip::create_task(async move {
                        let (mut s, _) = l.accept().await?;
                        let mut buf = [0u8; 4096];
                        loop {
                            let n = s.read(&mut buf).await?;
                            if n == 0 {
                                return Ok::<_, tulip::net::Error>(());
                            }
                            s.write_all(&buf[..n]).await?;
                        }
                    })?;
                    let mut c = TcpStream::connect(addr).await?;
                    let msg = [7u8; 64];
                    let mut buf = [0u8; 64];
                    for _ in 0..1_000 {
                        c.write_all(&msg).await?;
                        let mut got = 0;
                        while got < 64 {
                            let n = c.read(&mut buf[got..]).await?;
                            assert!(n > 0, "server closed early");
                            got += n;
                        }
                    }
                    drop(c);
                    server.await?;
                    Ok::<_, tulip::net::Error>(black_box(buf[0]))
                })
                .expect("echo")
            })
        });
        lp.close().expect("close");
    }
}

criterion_group!(benches, reactor, tcp);
criterion_main!(benches);
