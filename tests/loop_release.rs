//! What a loop releases (issue 15, findings 3–6): refused callbacks are dropped,
//! never forgotten; closing or dropping a loop drops every parked task's future
//! (destructors run, sockets close, worker threads end); a destructor that panics
//! while a task is cancelled becomes that task's error; huge durations mean "never".
//!
//! The tests count fds and threads of the whole process, so they take one lock and
//! run one at a time.
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use common::Factory;
use tulip::Error;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    common::warm_up_process_globals();
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Waits (at most 10 s) until no threaded loop's worker is alive in the process; a
/// thread that was just joined can stay listed in /proc for a moment. Returns how
/// many are left.
fn settled_workers() -> usize {
    let start = std::time::Instant::now();
    while threads() != 0 && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(1));
    }
    threads()
}

/// The threaded loops' worker threads alive in the process (by name: the test
/// harness starts and ends its own threads meanwhile).
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("tulip-worker"))
        .count()
}

/// Counts its drops.
struct Token(Arc<AtomicUsize>);

impl Drop for Token {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Ten tasks parked where only the loop can reach them: five on a long sleep, five
/// reading a socket whose peer (kept in the same task) never writes. Each owns a
/// token.
fn park_ten(lp: &tulip::EventLoop, dropped: &Arc<AtomicUsize>) {
    let d = dropped.clone();
    lp.run_until_complete(async move {
        let parked = Arc::new(AtomicUsize::new(0));
        for i in 0..10 {
            let token = Token(d.clone());
            let parked = parked.clone();
            let pair = if i % 2 == 1 {
                Some(tulip::net::UnixStream::pair()?)
            } else {
                None
            };
            tulip::create_task(async move {
                let _token = token;
                parked.fetch_add(1, Ordering::SeqCst);
                match pair {
                    Some((mut ours, _theirs)) => {
                        let mut buf = [0u8; 16];
                        ours.read(&mut buf).await?;
                    }
                    None => tulip::sleep(Duration::from_secs(3600)).await?,
                }
                Ok::<_, Error>(())
            })?;
        }
        common::until(|| parked.load(Ordering::SeqCst) == 10).await;
        Ok::<_, Error>(())
    })
    .unwrap();
}

/// Finding 4: `close()` drops every parked task's future, on both executors.
fn close_releases_parked_tasks(new_loop: Factory) {
    let _serial = serial();
    let fds_before = common::open_fds();
    let dropped = Arc::new(AtomicUsize::new(0));
    let lp = new_loop().unwrap();
    park_ten(&lp, &dropped);
    assert_eq!(dropped.load(Ordering::SeqCst), 0);
    lp.close().unwrap();
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        10,
        "every parked future dropped"
    );
    drop(lp);
    assert_eq!(
        common::fds_settled(fds_before),
        fds_before,
        "no fd left open"
    );
}

/// Finding 4: dropping the last handle without `close()` does the same, and a
/// threaded loop's workers end.
fn dropping_the_loop_releases_parked_tasks(new_loop: Factory) {
    let _serial = serial();
    assert_eq!(settled_workers(), 0, "no worker thread before");
    let fds_before = common::open_fds();
    let dropped = Arc::new(AtomicUsize::new(0));
    let lp = new_loop().unwrap();
    park_ten(&lp, &dropped);
    drop(lp);
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        10,
        "every parked future dropped"
    );
    assert_eq!(
        common::fds_settled(fds_before),
        fds_before,
        "no fd left open"
    );
    assert_eq!(settled_workers(), 0, "no worker thread left");
}

/// Finding 4: whoever awaits a task the closing loop released hears it was cancelled.
fn a_released_task_ends_cancelled(new_loop: Factory) {
    let _serial = serial();
    let lp = new_loop().unwrap();
    let t = lp
        .run_until_complete(async {
            let t = tulip::create_task(async {
                tulip::sleep(Duration::from_secs(3600)).await?;
                Ok::<_, Error>(())
            })?;
            tulip::sleep(Duration::from_millis(1)).await?;
            Ok::<_, Error>(t)
        })
        .unwrap();
    lp.close().unwrap();
    assert!(t.done() && t.cancelled());
    let r = futures::executor::block_on(t);
    assert!(matches!(r, Err(Error::Cancelled(_))), "{r:?}");
}

/// Finding 5: a destructor that panics while a cancelled task's future is dropped is
/// that task's panic (raised, reported), not the caller's.
fn a_panicking_destructor_during_cancel_is_the_tasks_error(new_loop: Factory) {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("destructor exploded");
        }
    }
    let _serial = serial();
    let lp = new_loop().unwrap();
    let reports = common::Log::default();
    let r = reports.clone();
    lp.set_exception_handler(Some(
        move |_: &tulip::EventLoop, ctx: &tulip::ExceptionContext| r.push(ctx.message.clone()),
    ));
    let (failed, exc) = lp
        .run_until_complete(async {
            let started = tulip::Promise::<()>::new();
            let s = started.clone();
            let t = tulip::create_task(async move {
                let _bomb = Bomb;
                s.set_result(())?;
                // A future tulip cannot reach: the cancel is enforced by dropping.
                futures::future::pending::<()>().await;
                Ok::<_, Error>(())
            })?;
            started.await?;
            t.cancel();
            let r = t.task_ref();
            let out = t.await;
            assert!(matches!(&out, Err(Error::Panicked(m)) if m.contains("destructor exploded")));
            Ok::<_, Error>((r.failed(), r.exception()?))
        })
        .unwrap();
    assert!(failed);
    assert!(matches!(exc, Some(Error::Panicked(_))));
    // It was awaited, so retrieved: no "never retrieved" report.
    assert!(reports.take().is_empty());
    lp.close().unwrap();
}

/// Finding 6: a duration past what the clock can hold means "never", not a panic.
fn huge_durations_mean_never(new_loop: Factory) {
    let _serial = serial();
    let lp = new_loop().unwrap();
    let h = lp.call_later(Duration::MAX, || {}).unwrap();
    h.cancel();
    let lp2 = lp.clone();
    let (v, cancelled) = lp
        .run_until_complete(async move {
            let t = tulip::create_task(async {
                tulip::sleep(Duration::MAX).await?;
                Ok::<_, Error>(())
            })?;
            tulip::sleep(Duration::from_millis(1)).await?;
            t.cancel();
            let r = t.task_ref();
            let _ = t.await;
            let v = tulip::wait_for(async { Ok::<_, Error>(7) }, Duration::MAX).await?;
            let _ = lp2;
            Ok::<_, Error>((v, r.cancelled()))
        })
        .unwrap();
    assert_eq!((v, cancelled), (7, true));
    let f = tulip::run_coroutine_threadsafe(async { Ok::<_, Error>(5) }, &lp).unwrap();
    let lp3 = lp.clone();
    let waiter = std::thread::spawn(move || {
        let v = f.result(Some(Duration::MAX));
        lp3.call_soon_threadsafe({
            let lp = lp3.clone();
            move || lp.stop()
        })
        .unwrap();
        v
    });
    lp.run_forever().unwrap();
    assert_eq!(waiter.join().unwrap().unwrap(), 5);
    lp.close().unwrap();
}

per_executor!(
    close_releases_parked_tasks,
    dropping_the_loop_releases_parked_tasks,
    a_released_task_ends_cancelled,
    a_panicking_destructor_during_cancel_is_the_tasks_error,
    huge_durations_mean_never,
);

/// Finding 3: when `call_soon_threadsafe` races `close()`, every callback is either
/// run or dropped — none is forgotten with what it owns. 300 races.
#[cfg(feature = "local")]
#[test]
fn refused_callbacks_are_dropped_not_forgotten() {
    let _serial = serial();
    for _ in 0..300 {
        let lp = tulip::executors::local::new_event_loop().unwrap();
        // Bind the loop to this thread, so the racing thread is a foreign one.
        lp.run_until_complete(async { Ok::<_, Error>(()) }).unwrap();
        let dropped = Arc::new(AtomicUsize::new(0));
        let (lp2, d) = (lp.clone(), dropped.clone());
        let pusher = std::thread::spawn(move || {
            let mut made = 0usize;
            loop {
                let token = Token(d.clone());
                made += 1;
                if lp2.call_soon_threadsafe(move || drop(token)).is_err() {
                    return made;
                }
                if made > 100_000 {
                    return made;
                }
            }
        });
        std::thread::yield_now();
        lp.close().unwrap();
        let made = pusher.join().unwrap();
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            made,
            "a refused callback was leaked"
        );
    }
}
