//! `wait_for` and `timeout` / `timeout_at` scopes: expiry cancels the work, its
//! clean-up runs first, the caller sees `TimeoutError`, and no cancel leaks.
mod common;

use std::time::{Duration, Instant};

use common::{until, Factory, Log};
use tulip::{create_task, current_task, sleep, timeout, timeout_at, wait_for, Error, Timeout};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A body that sleeps `n` ms; when cancelled it cleans up asynchronously and logs it.
/// The log without `long_job`'s "started" marks.
fn events(log: &Log) -> Vec<String> {
    log.take().into_iter().filter(|e| e != "started").collect()
}

async fn long_job(log: Log, n: u64) -> tulip::Result<&'static str> {
    log.push("started");
    if let Err(e) = sleep(ms(n)).await {
        sleep(ms(10)).await?;
        log.push("cleanup done");
        return Err(e);
    }
    Ok("finished")
}

fn wait_for_expiry_runs_cleanup_first(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    let start = Instant::now();
    let r = lp
        .run_until_complete(async move {
            let r = wait_for(long_job(l.clone(), 10_000), ms(20)).await;
            l.push("wait_for returned");
            r
        })
        .unwrap();
    assert!(matches!(r, Err(Error::TimeoutError)), "{r:?}");
    assert_eq!(events(&log), ["cleanup done", "wait_for returned"]);
    assert!(start.elapsed() < Duration::from_secs(5));
}

fn wait_for_in_time(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let r = lp
        .run_until_complete(wait_for(long_job(Log::default(), 5), ms(2000)))
        .unwrap();
    assert_eq!(r.unwrap().unwrap(), "finished");
}

/// Cancelling the task in `wait_for` cancels the inner task and waits for it.
fn wait_for_cancelled_from_outside(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let l2 = l.clone();
        let outer = create_task(wait_for(long_job(l, 10_000), Duration::from_secs(60))).unwrap();
        until(|| l2.count(|e| e == "started") == 1).await;
        outer.cancel();
        let r = outer.await.unwrap();
        assert!(matches!(r, Err(Error::Cancelled(_))), "{r:?}");
        assert_eq!(events(&log), ["cleanup done"]);
    })
    .unwrap();
}

fn timeout_scope_expires(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let cm = timeout(ms(20));
        let r = cm.run(long_job(l.clone(), 10_000)).await;
        assert!(matches!(r, Err(Error::TimeoutError)), "{r:?}");
        assert!(cm.expired());
        assert_eq!(events(&log), ["cleanup done"]);
        // The scope's own cancel does not leak into the task.
        let me = current_task().unwrap();
        assert_eq!(me.cancelling(), 0);
        sleep(ms(1)).await.expect("no stray cancel after the scope");
    })
    .unwrap();
}

fn timeout_scope_in_time(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let cm = timeout_at(Instant::now() + Duration::from_secs(5));
        let r = cm.run(long_job(Log::default(), 5)).await;
        assert_eq!(r.unwrap().unwrap(), "finished");
        assert!(!cm.expired());
        sleep(ms(1)).await.unwrap();
    })
    .unwrap();
}

/// `reschedule` from inside the scope, both earlier and later (asyncio 3.11).
fn timeout_reschedule(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let cm = Timeout::new(None);
        let inner = cm.clone();
        let start = Instant::now();
        let r = cm
            .run(async move {
                inner.reschedule(Some(Instant::now() + ms(20)));
                sleep(Duration::from_secs(10)).await
            })
            .await;
        assert!(matches!(r, Err(Error::TimeoutError)));
        assert!(start.elapsed() < Duration::from_secs(5));

        let cm = timeout(ms(10));
        let inner = cm.clone();
        let r = cm
            .run(async move {
                inner.reschedule(Some(Instant::now() + Duration::from_secs(5)));
                sleep(ms(40)).await
            })
            .await;
        assert!(r.unwrap().is_ok());
        assert!(!cm.expired());
    })
    .unwrap();
}

/// A cancel from outside during a scope stays a cancel, not a timeout.
fn timeout_outside_cancel_propagates(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let cm = timeout(Duration::from_secs(10));
        let cm2 = cm.clone();
        let started = tulip::Promise::<()>::new();
        let s2 = started.clone();
        let t = create_task(async move {
            let _ = s2.set_result(());
            cm2.run(sleep(Duration::from_secs(10))).await
        })
        .unwrap();
        started.await.unwrap();
        t.cancel();
        let r = t.await.unwrap();
        assert!(matches!(r, Ok(Err(Error::Cancelled(_)))), "{r:?}");
        assert!(!cm.expired());
    })
    .unwrap();
}

/// A body parked on a future tulip cannot reach is dropped at expiry; the task lives.
fn timeout_over_foreign_future(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let r = timeout(ms(10)).run(futures::future::pending::<()>()).await;
        assert!(matches!(r, Err(Error::TimeoutError)));
        sleep(ms(1)).await.expect("task still usable");
    })
    .unwrap();
}

/// Nested scopes: the inner one expires, the outer one does not see it.
fn nested_timeouts(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let outer = timeout(Duration::from_secs(5));
        let r = outer
            .run(async {
                let inner = timeout(ms(10)).run(sleep(Duration::from_secs(10))).await;
                assert!(matches!(inner, Err(Error::TimeoutError)));
                sleep(ms(5)).await?;
                Ok::<_, Error>("outer body done")
            })
            .await;
        assert_eq!(r.unwrap().unwrap(), "outer body done");
        assert!(!outer.expired());
        // Entering a scope twice is an error, as in asyncio.
        assert!(matches!(
            outer.run(async {}).await,
            Err(Error::InvalidState(_))
        ));
    })
    .unwrap();
}

per_executor!(
    wait_for_expiry_runs_cleanup_first,
    wait_for_in_time,
    wait_for_cancelled_from_outside,
    timeout_scope_expires,
    timeout_scope_in_time,
    timeout_reschedule,
    timeout_outside_cancel_propagates,
    timeout_over_foreign_future,
    nested_timeouts,
);
