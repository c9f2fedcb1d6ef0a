//! The runtime pieces on their own: the executor (spawns, detaches, never panics on
//! a closed loop) and the timer (fires, `reset` moves the deadline both ways).

mod common;

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{record_reports, within, BoxError, Factory};
use hyper::rt::{Executor, Timer};
use tulip_hyper::{TulipExecutor, TulipSleep, TulipTimer};

/// Sets its flag when dropped: tells whether a future was dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A spawn on a closed loop returns normally, drops the future unrun and reports
/// once to the loop's exception handler.
fn spawn_on_closed_loop(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let reports = record_reports(&lp);
    let exec = TulipExecutor::with_loop(lp.clone());
    lp.close().unwrap();
    let dropped = Arc::new(AtomicBool::new(false));
    let ran = Arc::new(AtomicBool::new(false));
    let (flag, r) = (DropFlag(dropped.clone()), ran.clone());
    exec.execute(async move {
        let _flag = flag;
        r.store(true, Ordering::SeqCst);
    });
    assert!(dropped.load(Ordering::SeqCst), "future kept");
    assert!(!ran.load(Ordering::SeqCst), "future ran");
    let got = reports.take();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("could not spawn"), "{got:?}");
    assert!(got[0].contains("LoopClosed"), "{got:?}");
}

/// `TulipExecutor::new()` used where no loop runs drops the future and returns.
fn spawn_without_running_loop(_new_loop: Factory) {
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = DropFlag(dropped.clone());
    TulipExecutor::new().execute(async move {
        let _flag = flag;
    });
    assert!(dropped.load(Ordering::SeqCst));
}

/// Spawned futures run, detached, and end without reports; a future that never
/// ends is cancelled (and dropped) by the loop's shutdown, as `tulip::run` does.
fn spawned_tasks_run_detached(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let reports = record_reports(&lp);
    let ran = Arc::new(AtomicUsize::new(0));
    let parked_dropped = Arc::new(AtomicBool::new(false));
    let (r, flag) = (ran.clone(), DropFlag(parked_dropped.clone()));
    within(Duration::from_secs(30), || {
        lp.run_until_complete(async move {
            let exec = TulipExecutor::new();
            for _ in 0..50 {
                let r = r.clone();
                exec.execute(async move {
                    r.fetch_add(1, Ordering::SeqCst);
                });
            }
            exec.execute(async move {
                let _flag = flag;
                std::future::pending::<()>().await;
            });
            // Wait (bounded) for the 50 to have run.
            let start = Instant::now();
            while r.load(Ordering::SeqCst) < 50 {
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "spawned futures never ran"
                );
                tulip_core::sleep(Duration::from_millis(1)).await?;
            }
            // Cancel what is left, as tulip::run does at shutdown.
            let me = tulip_core::current_task().map(|t| t.id());
            let others: Vec<_> = tulip_core::all_tasks()?
                .into_iter()
                .filter(|t| Some(t.id()) != me)
                .collect();
            // On the threaded loop some of the 50 may still be finishing: they end
            // well even if asked to cancel (they have no await point left).
            for t in &others {
                t.cancel();
            }
            tulip_core::all_done(others.iter()).await?;
            let cancelled = others.iter().filter(|t| t.cancelled()).count();
            assert_eq!(cancelled, 1, "only the parked future ends cancelled");
            Ok::<_, BoxError>(())
        })
        .unwrap();
    });
    assert_eq!(ran.load(Ordering::SeqCst), 50);
    assert!(
        parked_dropped.load(Ordering::SeqCst),
        "the parked future was not dropped"
    );
    assert_eq!(reports.take(), Vec::<String>::new());
}

/// Awaits a hyper sleep inside the loop and says how long it took.
async fn timed(sleep: Pin<Box<dyn hyper::rt::Sleep>>) -> Duration {
    let start = Instant::now();
    sleep.await;
    start.elapsed()
}

/// `sleep` fires no earlier than asked; `reset` to a later deadline waits for the
/// later one (though the first timer was already armed); `reset` to an earlier one
/// fires early (the first deadline is an hour away).
fn timer_sleep_and_reset(new_loop: Factory) {
    let lp = new_loop().unwrap();
    within(Duration::from_secs(30), || {
        lp.run_until_complete(async {
            let timer = TulipTimer::new();
            let waited = timed(timer.sleep(Duration::from_millis(30))).await;
            assert!(waited >= Duration::from_millis(30), "{waited:?}");

            // Armed for +10 ms, then moved to +80 ms.
            let start = Instant::now();
            let mut s = timer.sleep_until(start + Duration::from_millis(10));
            let armed =
                std::future::poll_fn(|cx| Poll::Ready(s.as_mut().poll(cx).is_pending())).await;
            assert!(armed);
            timer.reset(&mut s, start + Duration::from_millis(80));
            s.await;
            assert!(
                start.elapsed() >= Duration::from_millis(80),
                "{:?}",
                start.elapsed()
            );

            // Armed for an hour, then moved to +20 ms.
            let start = Instant::now();
            let mut s = timer.sleep(Duration::from_secs(3600));
            let armed =
                std::future::poll_fn(|cx| Poll::Ready(s.as_mut().poll(cx).is_pending())).await;
            assert!(armed);
            timer.reset(&mut s, start + Duration::from_millis(20));
            s.await;
            let took = start.elapsed();
            assert!(took >= Duration::from_millis(20), "{took:?}");
            assert!(
                took < Duration::from_secs(10),
                "the earlier deadline was ignored: {took:?}"
            );

            // A deadline already past is ready at the first poll.
            TulipSleep::until(Instant::now()).await;
            Ok::<_, BoxError>(())
        })
        .unwrap();
    });
}

/// A sleep of a timer bound to a loop that is closed is ready at once (nothing would
/// ever wake it); a sleep polled outside any loop still fires, from a helper thread.
fn timer_without_a_loop(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let timer = TulipTimer::with_loop(lp.clone());
    lp.close().unwrap();
    futures::executor::block_on(timer.sleep(Duration::from_secs(3600)));

    let start = Instant::now();
    futures::executor::block_on(TulipTimer::new().sleep(Duration::from_millis(20)));
    assert!(start.elapsed() >= Duration::from_millis(20));
}

use std::task::Poll;

per_executor!(
    spawn_on_closed_loop,
    spawn_without_running_loop,
    spawned_tasks_run_detached,
    timer_sleep_and_reset,
    timer_without_a_loop
);
