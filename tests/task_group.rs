//! `TaskGroup`: waits for every child; the first failure cancels the rest (and the
//! body); every error is reported; an outside cancel cancels the children.
mod common;

use std::time::{Duration, Instant};

use common::{Factory, Log};
use tulip::{create_task, sleep, Error, TaskGroup, TaskGroupError};

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
        .unwrap()
        .unwrap();
    let mut got = log.take();
    got.sort();
    assert_eq!(got, ["a", "grandchild"], "the group waited for all");
    assert!(a.done() && b.done());
    let (a, b) = lp.run_until_complete(async { (a.await, b.await) }).unwrap();
    assert_eq!((a.unwrap(), b.unwrap()), (1, "b"));
}

/// The first failure cancels the siblings and the body; the group reports it.
fn first_failure_cancels_siblings(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    let start = Instant::now();
    let r = lp
        .run_until_complete(TaskGroup::run(|tg| async move {
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
        }))
        .unwrap();
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
    let r = lp
        .run_until_complete(TaskGroup::run(|tg| async move {
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
                Err::<(), _>(Error::TimeoutError)
            })?;
            started.await?;
            sleep(ms(1)).await?;
            Err::<(), _>(Error::InvalidState("body failed"))
        }))
        .unwrap();
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

    let r = lp
        .run_until_complete(TaskGroup::run(|tg| async move {
            tg.create_task(async {
                sleep(ms(1)).await?;
                if true {
                    panic!("child panicked");
                }
                Ok::<(), Error>(())
            })?;
            Ok(())
        }))
        .unwrap();
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
        let outer = create_task(TaskGroup::run(|tg| async move {
            let l = l.clone();
            tg.create_task(async move {
                if let Err(e) = sleep(Duration::from_secs(10)).await {
                    l.push("child cancelled");
                    return Err(e);
                }
                Ok(())
            })?;
            Ok::<_, Error>(())
        }))
        .unwrap();
        sleep(ms(5)).await.unwrap();
        outer.cancel();
        let r = outer.await.unwrap();
        assert!(matches!(r, Err(TaskGroupError::Cancelled(_))), "{r:?}");
        assert_eq!(log.take(), ["child cancelled"]);
    })
    .unwrap();
}

fn create_task_after_exit_fails(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let tg = lp
        .run_until_complete(TaskGroup::run(
            |tg| async move { Ok::<_, Error>(tg.clone()) },
        ))
        .unwrap()
        .unwrap();
    lp.run_until_complete(async move {
        let r = tg.create_task(async { Ok(()) });
        assert!(matches!(r, Err(Error::InvalidState(_))));
    })
    .unwrap();
}

per_executor!(
    waits_for_every_child,
    first_failure_cancels_siblings,
    every_error_reported,
    outside_cancel_cancels_children,
    create_task_after_exit_fails,
);
