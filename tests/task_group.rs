//! `TaskGroup`: waits for every child; the first failure cancels the rest (and the
//! body); every error is reported; an outside cancel cancels the children.
mod common;

use std::time::{Duration, Instant};

use common::{until, Factory, Log};
use tulip::{create_task, sleep, Error, Event, TaskGroup, TaskGroupError};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn waits_for_every_child(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    let (a, b) = lp
        .run_until_complete(TaskGroup::run(|tg| async move {
            let l1 = l.clone();
            let a = tg.create_task(async move {
                sleep(ms(20)).await?;
                l1.push("a");
                Ok::<_, Error>(1)
            })?;
            let tg2 = tg.clone();
            let l2 = l.clone();
            let b = tg.create_task(async move {
                // A child can add children too.
                tg2.create_task(async move {
                    sleep(ms(30)).await?;
                    l2.push("grandchild");
                    Ok(())
                })?;
                Ok("b")
            })?;
            Ok((a, b))
        }))
        .unwrap();
    let mut got = log.take();
    got.sort();
    assert_eq!(got, ["a", "grandchild"], "the group waited for all");
    assert!(a.done() && b.done());
    let (a, b) = lp
        .run_until_complete(async { Ok::<_, Error>((a.await?, b.await?)) })
        .unwrap();
    assert_eq!((a, b), (1, "b"));
}

/// The first failure cancels the siblings and the body; the group reports it.
fn first_failure_cancels_siblings(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    let start = Instant::now();
    let r = lp.run_until_complete(TaskGroup::run(|tg| async move {
        for i in 0..3 {
            let l = l.clone();
            tg.create_task(async move {
                if let Err(e) = sleep(Duration::from_secs(10)).await {
                    sleep(ms(2)).await.ok();
                    l.push(format!("sibling {i} cancelled"));
                    return Err(e);
                }
                Ok(())
            })?;
        }
        tg.create_task(async {
            sleep(ms(10)).await?;
            Err::<(), _>(Error::InvalidState("child failed"))
        })?;
        let slept = sleep(Duration::from_secs(10)).await;
        l.push(format!("body woke: cancelled={}", slept.is_err()));
        slept?;
        Ok(())
    }));
    match r {
        Err(TaskGroupError::Failed(errs)) => {
            assert_eq!(errs.len(), 1);
            assert!(matches!(errs[0], Error::InvalidState("child failed")));
        }
        other => panic!("{other:?}"),
    }
    let mut got = log.take();
    got.sort();
    assert_eq!(
        got,
        [
            "body woke: cancelled=true",
            "sibling 0 cancelled",
            "sibling 1 cancelled",
            "sibling 2 cancelled"
        ]
    );
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// Every error is collected: a failure, a sibling failing in its clean-up, a panic,
/// and the body's own error.
fn every_error_reported(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let r = lp.run_until_complete(TaskGroup::run(|tg| async move {
        // The first child must be inside its sleep before the body fails (on a
        // parallel executor a 1 ms sleep does not promise that).
        let started = tulip::Promise::<()>::new();
        let s2 = started.clone();
        tg.create_task(async move {
            let _ = s2.set_result(());
            if sleep(Duration::from_secs(10)).await.is_err() {
                return Err(Error::InvalidState("clean-up failed"));
            }
            Ok(())
        })?;
        tg.create_task(async {
            // Cancelled by the body's failure long before it could fail itself.
            sleep(Duration::from_secs(10)).await?;
            Err::<(), _>(Error::TimeoutError(None))
        })?;
        started.await?;
        sleep(ms(1)).await?;
        Err::<(), _>(Error::InvalidState("body failed"))
    }));
    let errs = match r {
        Err(TaskGroupError::Failed(errs)) => errs,
        other => panic!("{other:?}"),
    };
    let names: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        names,
        [
            "invalid state: clean-up failed",
            "invalid state: body failed",
        ],
        "the body's failure cancelled both children; the one that failed in its \
         clean-up is reported, then the body's error (CPython 3.11 prints \
         [ValueError('clean-up failed'), ValueError('body failed')])"
    );

    let r = lp.run_until_complete(TaskGroup::run(|tg| async move {
        tg.create_task(async {
            sleep(ms(1)).await?;
            if true {
                panic!("child panicked");
            }
            Ok::<(), Error>(())
        })?;
        Ok(())
    }));
    match r {
        Err(TaskGroupError::Failed(errs)) => {
            assert!(matches!(&errs[..], [Error::Panicked(m)] if m.contains("child panicked")))
        }
        other => panic!("{other:?}"),
    }
}

/// Cancelling the task that runs the group cancels the children; the group reports
/// `Cancelled` once they are done.
fn outside_cancel_cancels_children(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let l1 = l.clone();
        let outer = create_task(TaskGroup::run(|tg| async move {
            let l = l1.clone();
            tg.create_task(async move {
                l.push("child started");
                if let Err(e) = sleep(Duration::from_secs(10)).await {
                    l.push("child cancelled");
                    return Err(e);
                }
                Ok(())
            })?;
            Ok::<_, Error>(())
        }))
        .unwrap();
        let l2 = l.clone();
        until(move || l2.count(|e| e == "child started") == 1).await;
        outer.cancel();
        let r = outer.await;
        assert!(matches!(r, Err(TaskGroupError::Cancelled(_))), "{r:?}");
        assert_eq!(log.take(), ["child started", "child cancelled"]);
        Ok::<_, Error>(())
    })
    .unwrap();
}

fn create_task_after_exit_fails(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let tg = lp
        .run_until_complete(TaskGroup::run(
            |tg| async move { Ok::<_, Error>(tg.clone()) },
        ))
        .unwrap();
    lp.run_until_complete(async move {
        let r = tg.create_task(async { Ok(()) });
        assert!(matches!(r, Err(Error::InvalidState(_))));
        Ok::<_, Error>(())
    })
    .unwrap();
}

/// asyncio_ref/task_group_failures.py, "same iteration": two children fail in the
/// same loop iteration; the siblings are cancelled one hop later (a done-callback),
/// so both errors are in the group, in completion order; every child is done when
/// the group exits. (On the threaded executor the two failing children run in
/// parallel, so the second may be cancelled before it fails: there only the errors
/// that happened are reported, in the order they happened.)
fn failures_of_one_iteration_all_reported(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    let kids = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let k2 = kids.clone();
    let r = lp.run_until_complete(TaskGroup::run(|tg| async move {
        let go = Event::new();
        for name in ["a", "b"] {
            let (l, go) = (l.clone(), go.clone());
            let t = tg.create_task(async move {
                go.wait().await?;
                l.push(format!("{name} fails"));
                Err::<(), _>(Error::InvalidState(name))
            })?;
            k2.lock().unwrap().push(t.task_ref());
        }
        let l3 = l.clone();
        let t = tg.create_task(async move {
            if let Err(e) = sleep(Duration::from_secs(10)).await {
                l3.push("sibling cancelled");
                return Err(e);
            }
            Ok(())
        })?;
        k2.lock().unwrap().push(t.task_ref());
        tulip::yield_now().await?;
        go.set();
        sleep(Duration::from_secs(10)).await?;
        Ok(())
    }));
    let errs = match r {
        Err(TaskGroupError::Failed(errs)) => errs,
        other => panic!("{other:?}"),
    };
    let names: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
    let kids = kids.lock().unwrap().clone();
    let all_done = kids.iter().all(|k| k.done());
    let states: Vec<&str> = kids
        .iter()
        .map(|k| {
            if k.cancelled() {
                "cancelled"
            } else if k.failed() {
                "raised"
            } else {
                "returned"
            }
        })
        .collect();
    let got = log.take();
    let failed: Vec<String> = got
        .iter()
        .filter_map(|e| e.strip_suffix(" fails"))
        .map(|n| format!("invalid state: {n}"))
        .collect();
    if common::in_order(new_loop) {
        assert_eq!(names, failed, "every failure, in completion order");
    } else {
        // In parallel, a child can log its failure before another that completes first.
        let (mut names, mut failed) = (names, failed);
        names.sort();
        failed.sort();
        assert_eq!(names, failed, "every failure");
    }
    assert!(all_done, "every child is done when the group exits");
    assert_eq!(states[2], "cancelled");
    if common::in_order(new_loop) {
        assert_eq!(got, ["a fails", "b fails", "sibling cancelled"]);
        assert_eq!(states, ["raised", "raised", "cancelled"]);
    }
}

/// asyncio_ref/task_group_failures.py, "cancelled child": a child that ends cancelled
/// (cancelled by someone else) is no error and cancels nothing.
fn cancelled_child_is_no_error(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let (cancelled, ok) = lp
        .run_until_complete(TaskGroup::run(|tg| async move {
            let t = tg.create_task(sleep(Duration::from_secs(10)))?;
            let ok = tg.create_task(async { Ok::<_, Error>("ok") })?;
            tulip::yield_now().await?;
            t.cancel();
            Ok((t, ok))
        }))
        .unwrap();
    assert!(cancelled.cancelled());
    let ok = lp.run_until_complete(ok).unwrap();
    assert_eq!(ok, "ok");
}

per_executor!(
    waits_for_every_child,
    first_failure_cancels_siblings,
    every_error_reported,
    outside_cancel_cancels_children,
    create_task_after_exit_fails,
    failures_of_one_iteration_all_reported,
    cancelled_child_is_no_error,
);
