//! gevent's spawn/joinall over tulip tasks.
use std::time::{Duration, Instant};

use tulip_coro::gevent::{joinall, spawn};

#[test]
fn joinall_without_timeout_waits_for_every_task() {
    let lp = tulip_local::new_event_loop().unwrap();
    let start = Instant::now();
    let joined = lp
        .run_until_complete(async {
            let tasks = (1..=5u64)
                .map(|i| {
                    spawn(async move {
                        tulip_core::sleep(Duration::from_millis(10 * i)).await?;
                        Ok::<_, tulip_core::Error>(i)
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            joinall(tasks, None).await
        })
        .unwrap();
    assert!(joined.unfinished.is_empty());
    let values: Vec<u64> = lp
        .run_until_complete(async {
            let mut v = Vec::new();
            for t in joined.finished {
                v.push(t.await?);
            }
            Ok::<_, tulip_core::Error>(v)
        })
        .unwrap();
    assert_eq!(values, [1, 2, 3, 4, 5]);
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn joinall_with_timeout_returns_only_the_finished_ones() {
    let lp = tulip_local::new_event_loop().unwrap();
    let joined = lp
        .run_until_complete(async {
            let fast = spawn(async { Ok::<_, tulip_core::Error>("fast") })?;
            let slow = spawn(async {
                tulip_core::sleep(Duration::from_secs(10)).await?;
                Ok("slow")
            })?;
            let medium = spawn(async {
                tulip_core::sleep(Duration::from_millis(5)).await?;
                Ok("medium")
            })?;
            joinall(vec![fast, slow, medium], Some(Duration::from_millis(100))).await
        })
        .unwrap();
    let mut finished = joined.finished;
    assert_eq!(finished.len(), 2);
    assert_eq!(finished[0].result().unwrap(), "fast");
    assert_eq!(finished[1].result().unwrap(), "medium");
    assert_eq!(joined.unfinished.len(), 1);
    assert!(!joined.unfinished[0].done(), "the slow task keeps running");
}

#[test]
fn joinall_of_nothing_returns_at_once() {
    let lp = tulip_local::new_event_loop().unwrap();
    let joined = lp
        .run_until_complete(joinall::<(), tulip_core::Error>(Vec::new(), None))
        .unwrap();
    assert!(joined.finished.is_empty() && joined.unfinished.is_empty());
}
