//! `idle_memory`: N tasks each awaiting a future that never completes; RSS growth per task.
//! `idle_promise`: the same, each task awaiting its own one-shot channel (tulip's
//! `Promise`, tokio's `oneshot`), whose other end the harness keeps.
//!
//! The figures include the join handle (and the channel's other end) the harness
//! keeps for each task. Each workload runs in a child process of its own, so one
//! does not reuse the memory the other freed.

use super::{rss_bytes, Metrics, Params};
use crate::runtime::Runtime;

pub fn run<R: Runtime>(rt: &R, p: &Params) -> Metrics {
    let n = p.idle_tasks;
    let growth = rt.block_on(async move {
        // Let the runtime settle (worker threads, timer wheel, first allocations).
        R::yield_now().await;
        let before = rss_bytes();
        let handles: Vec<_> = (0..n)
            .map(|_| R::spawn(std::future::pending::<()>()))
            .collect();
        // Let every task be polled once so it is parked on its future, not just queued.
        for _ in 0..4 {
            R::yield_now().await;
        }
        let after = rss_bytes();
        // Dropping the handles cancels (smol) or detaches (tokio); the runtime is dropped next.
        drop(handles);
        after.saturating_sub(before)
    });
    vec![(
        "idle_memory.bytes_per_task".into(),
        growth as f64 / n as f64,
    )]
}

pub fn run_promise<R: Runtime>(rt: &R, p: &Params) -> Metrics {
    let n = p.idle_tasks;
    let growth = rt.block_on(async move {
        R::yield_now().await;
        let before = rss_bytes();
        let (keeps, handles): (Vec<_>, Vec<_>) = (0..n)
            .map(|_| {
                let (keep, wait) = R::oneshot();
                (keep, R::spawn(wait))
            })
            .unzip();
        for _ in 0..4 {
            R::yield_now().await;
        }
        let after = rss_bytes();
        for keep in keeps {
            R::fire(keep);
        }
        for h in handles {
            h.await;
        }
        after.saturating_sub(before)
    });
    vec![(
        "idle_promise.bytes_per_task".into(),
        growth as f64 / n as f64,
    )]
}
