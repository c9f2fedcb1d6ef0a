//! `idle_memory`: N tasks each awaiting a future that never completes; RSS growth per task.
//!
//! The figure includes the join handle the harness keeps for each task.

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
