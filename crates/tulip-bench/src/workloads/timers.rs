//! `timers`: N tasks each sleep a pseudo-random 1..=50 ms; total time and lateness past deadline.
//! `sparse_timers`: 1,000 sleepers whose deadlines are 0.5 ms apart, so the loop is
//! idle between them and each wake-up is the reactor's wait timing out; lateness past
//! deadline (the precision of an idle loop's timers, not the cost of a burst).

use std::time::{Duration, Instant};

use super::{Metrics, Params, XorShift, SEED};
use crate::runtime::Runtime;

pub fn run<R: Runtime>(rt: &R, p: &Params) -> Metrics {
    let mut rng = XorShift::new(SEED);
    let delays: Vec<u64> = (0..p.timer_tasks)
        .map(|_| 1 + rng.next_u64() % p.timer_max_ms)
        .collect();
    let (late_ns, total) = rt.block_on(async move {
        let start = Instant::now();
        let handles: Vec<_> = delays
            .into_iter()
            .map(|ms| {
                R::spawn(async move {
                    let d = Duration::from_millis(ms);
                    let deadline = Instant::now() + d;
                    R::sleep(d).await;
                    Instant::now()
                        .saturating_duration_since(deadline)
                        .as_nanos() as u64
                })
            })
            .collect();
        let late = sorted_outputs(handles).await;
        (late, start.elapsed())
    });
    let mut m = vec![("timers.total_ms".into(), total.as_secs_f64() * 1e3)];
    m.extend(lateness("timers", &late_ns));
    m
}

pub fn run_sparse<R: Runtime>(rt: &R, p: &Params) -> Metrics {
    let gap = Duration::from_micros(p.sparse_gap_us);
    // Deadline k·gap for k = 1..=n, spawned in a shuffled order, so no structure
    // gets them sorted for free.
    let mut order: Vec<u32> = (1..=p.sparse_timers as u32).collect();
    shuffle(&mut order, &mut XorShift::new(SEED));
    let late_ns = rt.block_on(async move {
        let start = Instant::now();
        let handles: Vec<_> = order
            .into_iter()
            .map(|k| {
                let deadline = start + gap * k;
                R::spawn(async move {
                    R::sleep(deadline.saturating_duration_since(Instant::now())).await;
                    Instant::now()
                        .saturating_duration_since(deadline)
                        .as_nanos() as u64
                })
            })
            .collect();
        sorted_outputs(handles).await
    });
    lateness("sparse_timers", &late_ns)
}

/// Awaits each handle in turn; their outputs (nanoseconds late), sorted.
async fn sorted_outputs<F: std::future::Future<Output = u64>>(handles: Vec<F>) -> Vec<u64> {
    let mut late = Vec::with_capacity(handles.len());
    for h in handles {
        late.push(h.await);
    }
    late.sort_unstable();
    late
}

/// `NAME.late_p50_us` and `NAME.late_p99_us` of sorted lateness in nanoseconds.
fn lateness(name: &str, sorted_ns: &[u64]) -> Metrics {
    [50.0, 99.0]
        .into_iter()
        .map(|pct| {
            (
                format!("{name}.late_p{pct}_us"),
                percentile(sorted_ns, pct) / 1e3,
            )
        })
        .collect()
}

/// Fisher–Yates with the harness's generator (the Python peer does the same steps).
fn shuffle(v: &mut [u32], rng: &mut XorShift) {
    for i in (1..v.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[u64], pct: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((pct / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64
}
