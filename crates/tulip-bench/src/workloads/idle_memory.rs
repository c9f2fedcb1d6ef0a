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
        let (growth, handles) = growth_while_parked::<R, _>(|| {
            (0..n)
                .map(|_| R::spawn(std::future::pending::<()>()))
                .collect::<Vec<_>>()
        })
        .await;
        // Dropping the handles cancels (smol) or detaches (tokio); the runtime is dropped next.
        drop(handles);
        growth
    });
    per_task("idle_memory", growth, n)
}

pub fn run_promise<R: Runtime>(rt: &R, p: &Params) -> Metrics {
    let n = p.idle_tasks;
    let growth = rt.block_on(async move {
        let (growth, (keeps, handles)) = growth_while_parked::<R, _>(|| {
            (0..n)
                .map(|_| {
                    let (keep, wait) = R::oneshot();
                    (keep, R::spawn(wait))
                })
                .unzip::<_, _, Vec<_>, Vec<_>>()
        })
        .await;
        for keep in keeps {
            R::fire(keep);
        }
        for h in handles {
            h.await;
        }
        growth
    });
    per_task("idle_promise", growth, n)
}

/// How much the resident set grew while `spawn_all` started the tasks and every
/// task was polled once (parked on its future, not just queued); and what
/// `spawn_all` returned, for the caller to end the tasks with.
async fn growth_while_parked<R: Runtime, T>(spawn_all: impl FnOnce() -> T) -> (u64, T) {
    // Let the runtime settle (worker threads, timer wheel, first allocations).
    R::yield_now().await;
    let before = rss_bytes();
    let started = spawn_all();
    for _ in 0..4 {
        R::yield_now().await;
    }
    (rss_bytes().saturating_sub(before), started)
}

/// `NAME.bytes_per_task`.
fn per_task(name: &str, growth: u64, n: u64) -> Metrics {
    vec![(format!("{name}.bytes_per_task"), growth as f64 / n as f64)]
}
