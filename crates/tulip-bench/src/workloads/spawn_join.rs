//! `spawn_join`: spawn N tasks that return their index, await them all.

use std::time::Instant;

use super::{ns_per, Metrics, Params};
use crate::runtime::Runtime;

pub fn run<R: Runtime>(rt: &R, p: &Params) -> Metrics {
    let n = p.spawn_tasks;
    let (sum, elapsed) = rt.block_on(async move {
        let start = Instant::now();
        let handles: Vec<_> = (0..n).map(|i| R::spawn(async move { i })).collect();
        let mut sum = 0u64;
        for h in handles {
            sum += h.await;
        }
        (sum, start.elapsed())
    });
    assert_eq!(sum, n * (n - 1) / 2, "spawn_join: wrong sum");
    vec![("spawn_join.ns_per_task".into(), ns_per(elapsed, n))]
}
