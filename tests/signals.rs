//! `EventLoop::add_signal_handler` / `remove_signal_handler` on every executor, with
//! signals sent to this very process with kill(2). The expected behaviour is what
//! tests/asyncio_ref/signal_handlers.py prints under CPython.
//!
//! Signal dispositions are process-wide, so every scenario holds `SERIAL` (the test
//! harness runs tests on parallel threads).
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::ThreadId;

use common::{until, Factory};
use tulip::signal::{is_default, raise, SIGKILL, SIGSTOP, SIGUSR1, SIGUSR2};
use tulip::Error;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

per_executor!(
    handler_runs_as_a_loop_callback,
    later_handler_replaces_earlier,
    removal_restores_default,
    bad_signals_are_errors,
    close_removes_handlers,
    no_task_is_visible,
    every_signal_is_handled,
    two_loops_in_two_threads,
);

/// The handler runs on a thread of this loop, as a callback: `get_running_loop()`
/// there is the loop (on the single-threaded loop: the thread running it).
fn handler_runs_as_a_loop_callback(new_loop: Factory) {
    let _g = serial();
    let lp = new_loop().unwrap();
    let seen: Arc<Mutex<Vec<(u64, ThreadId)>>> = Arc::default();
    let s = seen.clone();
    lp.add_signal_handler(SIGUSR1, move || {
        let id = tulip::get_running_loop().unwrap().id();
        s.lock().unwrap().push((id, std::thread::current().id()));
    })
    .unwrap();
    let runner = std::thread::current().id();
    lp.run_until_complete(async {
        raise(SIGUSR1).unwrap();
        until(|| !seen.lock().unwrap().is_empty()).await;
        Ok::<_, Error>(())
    })
    .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, lp.id());
    if common::in_order(new_loop) {
        assert_eq!(seen[0].1, runner);
    }
    assert!(lp.remove_signal_handler(SIGUSR1).unwrap());
    lp.close().unwrap();
}

fn later_handler_replaces_earlier(new_loop: Factory) {
    let _g = serial();
    let lp = new_loop().unwrap();
    let got: Arc<Mutex<Vec<&str>>> = Arc::default();
    let (a, b) = (got.clone(), got.clone());
    lp.add_signal_handler(SIGUSR1, move || a.lock().unwrap().push("first"))
        .unwrap();
    lp.add_signal_handler(SIGUSR1, move || b.lock().unwrap().push("second"))
        .unwrap();
    lp.run_until_complete(async {
        raise(SIGUSR1).unwrap();
        until(|| !got.lock().unwrap().is_empty()).await;
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(*got.lock().unwrap(), ["second"]);
    lp.close().unwrap();
}

fn removal_restores_default(new_loop: Factory) {
    let _g = serial();
    let lp = new_loop().unwrap();
    assert!(is_default(SIGUSR2));
    lp.add_signal_handler(SIGUSR2, || {}).unwrap();
    assert!(!is_default(SIGUSR2));
    assert!(lp.remove_signal_handler(SIGUSR2).unwrap());
    assert!(is_default(SIGUSR2), "the default disposition is back");
    assert!(
        !lp.remove_signal_handler(SIGUSR2).unwrap(),
        "nothing left to remove"
    );
    lp.close().unwrap();
}

fn bad_signals_are_errors(new_loop: Factory) {
    let _g = serial();
    let lp = new_loop().unwrap();
    for bad in [0, -1, 1000] {
        match lp.add_signal_handler(bad, || {}) {
            Err(Error::InvalidArgument(m)) => assert_eq!(m, "invalid signal number"),
            other => panic!("signal {bad}: {other:?}"),
        }
        assert!(matches!(
            lp.remove_signal_handler(bad),
            Err(Error::InvalidArgument("invalid signal number"))
        ));
    }
    for sig in [SIGKILL, SIGSTOP] {
        match lp.add_signal_handler(sig, || {}) {
            Err(Error::InvalidArgument(m)) => assert!(m.contains("cannot be caught"), "{m}"),
            other => panic!("signal {sig}: {other:?}"),
        }
    }
    lp.close().unwrap();
    assert!(matches!(
        lp.add_signal_handler(SIGUSR1, || {}),
        Err(Error::LoopClosed)
    ));
}

fn close_removes_handlers(new_loop: Factory) {
    let _g = serial();
    let lp = new_loop().unwrap();
    lp.add_signal_handler(SIGUSR1, || {}).unwrap();
    lp.add_signal_handler(SIGUSR2, || {}).unwrap();
    assert!(!is_default(SIGUSR1) && !is_default(SIGUSR2));
    lp.close().unwrap();
    assert!(is_default(SIGUSR1) && is_default(SIGUSR2));
}

/// The loop watches its signal pipe without a task of its own.
fn no_task_is_visible(new_loop: Factory) {
    let _g = serial();
    let lp = new_loop().unwrap();
    lp.add_signal_handler(SIGUSR1, || {}).unwrap();
    let tasks = lp
        .run_until_complete(async {
            raise(SIGUSR1).unwrap();
            tulip::sleep(std::time::Duration::from_millis(5)).await?;
            Ok::<_, Error>(tulip::all_tasks()?.len())
        })
        .unwrap();
    assert_eq!(tasks, 0, "no task watches the signal pipe");
    lp.close().unwrap();
}

/// Each signal sent after the previous one was handled runs the handler once more.
fn every_signal_is_handled(new_loop: Factory) {
    const SENDS: usize = 50;
    let _g = serial();
    let lp = new_loop().unwrap();
    let n = Arc::new(AtomicUsize::new(0));
    let c = n.clone();
    lp.add_signal_handler(SIGUSR1, move || {
        c.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();
    lp.run_until_complete(async {
        for i in 1..=SENDS {
            raise(SIGUSR1).unwrap();
            until(|| n.load(Ordering::SeqCst) == i).await;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(n.load(Ordering::SeqCst), SENDS);
    lp.close().unwrap();
}

/// Two loops in two threads with a handler for the same signal: each one's handler
/// runs, on its own loop (asyncio allows signal handlers on the main thread only).
fn two_loops_in_two_threads(new_loop: Factory) {
    let _g = serial();
    let ready = Arc::new(std::sync::Barrier::new(3));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let ready = ready.clone();
            std::thread::spawn(move || {
                let lp = new_loop().unwrap();
                let hits = Arc::new(AtomicUsize::new(0));
                let (h, me) = (hits.clone(), lp.id());
                lp.add_signal_handler(SIGUSR1, move || {
                    assert_eq!(tulip::get_running_loop().unwrap().id(), me);
                    h.fetch_add(1, Ordering::SeqCst);
                })
                .unwrap();
                ready.wait();
                lp.run_until_complete(async {
                    until(|| hits.load(Ordering::SeqCst) >= 1).await;
                    Ok::<_, Error>(())
                })
                .unwrap();
                lp.close().unwrap();
            })
        })
        .collect();
    ready.wait();
    raise(SIGUSR1).unwrap();
    for t in threads {
        t.join().unwrap();
    }
    assert!(is_default(SIGUSR1));
}
