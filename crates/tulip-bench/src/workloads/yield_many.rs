//! `yield_many`: T tasks each yield to the scheduler K times.

use std::time::Instant;

use super::{ns_per, Metrics, Params};
use crate::runtime::Runtime;

pub fn run<R: Runtime>(rt: &R, p: &Params) -> Metrics {
    let (tasks, per) = (p.yield_tasks, p.yields_per_task);
    let (done, elapsed) = rt.block_on(async move {
        let start = Instant::now();
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                R::spawn(async move {
                    for _ in 0..per {
                        R::yield_now().await;
                    }
                    per
                })
            })
            .collect();
        let mut done = 0u64;
        for h in handles {
            done += h.await;
        }
        (done, start.elapsed())
    });
    assert_eq!(done, tasks * per);
    vec![(
        "yield_many.ns_per_yield".into(),
        ns_per(elapsed, tasks * per),
    )]
}
