//! `ping_pong`: two tasks pass a token through two single-slot channels.
//! `main_ping_pong`: the same, with the workload's main future (what `block_on`
//! drives, asyncio's `run(main())`) as one side and one spawned task as the other.
//!
//! Every Rust contender uses the same channel, [`Slot`], written here on nothing
//! but `std::task::Waker` and a `std::sync::Mutex` (uncontended in the
//! single-threaded runtimes), so the figure measures the scheduler, not a
//! channel implementation.

use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Instant;

use super::{ns_per, Metrics, Params};
use crate::runtime::Runtime;

pub fn run<R: Runtime>(rt: &R, p: &Params) -> Metrics {
    let n = p.ping_pong_round_trips;
    let (last, elapsed) = rt.block_on(async move {
        let ping = Slot::new();
        let pong = Slot::new();
        let start = Instant::now();
        let a = {
            let (ping, pong) = (ping.clone(), pong.clone());
            R::spawn(async move { pinger(&ping, &pong, n).await })
        };
        let b = R::spawn(echo(ping, pong, n));
        let last = a.await;
        b.await;
        (last, start.elapsed())
    });
    assert_eq!(last, n - 1, "ping_pong: token lost");
    vec![("ping_pong.ns_per_rt".into(), ns_per(elapsed, n))]
}

/// `main_ping_pong`: the main future passes the token to one spawned task and back.
///
/// On a multi-threaded runtime the main future runs on the calling thread, not on
/// a worker, so every message crosses threads: this row is the cost of waking the
/// `block_on` thread and a worker, where `ping_pong` is the scheduler's own.
pub fn run_main<R: Runtime>(rt: &R, p: &Params) -> Metrics {
    let n = p.ping_pong_round_trips / MAIN_SHARE;
    let (last, elapsed) = rt.block_on(async move {
        let ping = Slot::new();
        let pong = Slot::new();
        let start = Instant::now();
        let echo = R::spawn(echo(ping.clone(), pong.clone(), n));
        let last = pinger(&ping, &pong, n).await;
        echo.await;
        (last, start.elapsed())
    });
    assert_eq!(last, n - 1, "main_ping_pong: token lost");
    vec![("main_ping_pong.ns_per_rt".into(), ns_per(elapsed, n))]
}

/// The pinging side of both rows: sends `0..n` on `ping`, waiting for each echo on
/// `pong`; the last value echoed.
async fn pinger(ping: &Slot<u64>, pong: &Slot<u64>, n: u64) -> u64 {
    let mut last = 0;
    for i in 0..n {
        ping.send(i).await;
        last = pong.recv().await;
    }
    last
}

/// The echo side of both rows: sends back on `pong` each of `n` values from `ping`.
async fn echo(ping: Arc<Slot<u64>>, pong: Arc<Slot<u64>>, n: u64) {
    for _ in 0..n {
        let v = ping.recv().await;
        pong.send(v).await;
    }
}

/// `main_ping_pong` runs this fraction of `ping_pong`'s round trips: a round trip
/// that crosses threads costs microseconds, not the hundred nanoseconds of one that
/// stays on a worker.
const MAIN_SHARE: u64 = 10;

/// A single-slot async channel: `send` waits while the slot is full, `recv` while it is empty.
pub struct Slot<T> {
    inner: Mutex<SlotState<T>>,
}

struct SlotState<T> {
    value: Option<T>,
    sender: Option<Waker>,
    receiver: Option<Waker>,
}

fn park(slot: &mut Option<Waker>, w: &Waker) {
    match slot {
        Some(old) if old.will_wake(w) => {}
        _ => *slot = Some(w.clone()),
    }
}

impl<T> Slot<T> {
    pub fn new() -> Arc<Self> {
        Arc::new(Slot {
            inner: Mutex::new(SlotState {
                value: None,
                sender: None,
                receiver: None,
            }),
        })
    }

    pub async fn send(&self, v: T) {
        let mut v = Some(v);
        poll_fn(|cx| {
            let mut s = self.inner.lock().unwrap();
            if s.value.is_some() {
                park(&mut s.sender, cx.waker());
                return Poll::Pending;
            }
            s.value = v.take();
            let rx = s.receiver.take();
            drop(s);
            if let Some(w) = rx {
                w.wake();
            }
            Poll::Ready(())
        })
        .await
    }

    pub async fn recv(&self) -> T {
        poll_fn(|cx| {
            let mut s = self.inner.lock().unwrap();
            match s.value.take() {
                Some(v) => {
                    let tx = s.sender.take();
                    drop(s);
                    if let Some(w) = tx {
                        w.wake();
                    }
                    Poll::Ready(v)
                }
                None => {
                    park(&mut s.receiver, cx.waker());
                    Poll::Pending
                }
            }
        })
        .await
    }
}
