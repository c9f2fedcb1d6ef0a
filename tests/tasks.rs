//! Tasks and promises: results, done-callbacks, names, panics, interleaving.
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{within, Factory, Log};
use tulip::Error;

/// CPython: callbacks are scheduled with call_soon, so 'after set' comes first.
fn done_callbacks_are_scheduled_not_run_inline(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let lp = tulip::get_running_loop().unwrap();
        let p: tulip::Promise<u8> = lp.create_future();
        let l1 = l.clone();
        p.add_done_callback(move |_| l1.push("cb1"));
        let l2 = l.clone();
        p.add_done_callback(move |_| l2.push("cb2"));
        p.set_result(1)?;
        l.push("after set");
        tulip::sleep(Duration::ZERO).await?;
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(log.take(), ["after set", "cb1", "cb2"]);
}

fn task_done_callback_sees_the_finished_task(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    let t = lp
        .run_until_complete(async {
            tulip::create_task(async {
                tulip::sleep(Duration::from_millis(2)).await?;
                Ok::<_, Error>(7)
            })
        })
        .unwrap();
    t.add_done_callback(move |t| l.push(format!("Done {} {}", t.done(), t.cancelled())));
    assert_eq!(lp.run_until_complete(t).unwrap(), 7);
    lp.run_until_complete(tulip::sleep(Duration::ZERO)).unwrap();
    assert_eq!(log.take(), ["Done true false"]);
}

fn promise_result_exception_and_invalid_state(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let p: tulip::Promise<String> = lp.create_future();
    assert!(matches!(p.result(), Err(Error::InvalidState(_))));
    assert!(matches!(p.exception(), Err(Error::InvalidState(_))));
    p.set_result("ok".into()).unwrap();
    assert!(matches!(
        p.set_result("again".into()),
        Err(Error::InvalidState(_))
    ));
    assert!(!p.cancel());
    assert_eq!(p.result().unwrap(), "ok");
    assert!(p.exception().unwrap().is_none());

    let q: tulip::Promise<()> = lp.create_future();
    q.set_exception(Error::exception(std::io::Error::other("disk on fire")))
        .unwrap();
    assert!(q
        .exception()
        .unwrap()
        .unwrap()
        .to_string()
        .contains("disk on fire"));
    let r = lp.run_until_complete(q.clone());
    assert!(matches!(r, Err(Error::Exception(_))));

    let c: tulip::Promise<()> = lp.create_future();
    assert!(c.cancel_with("stop"));
    assert!(c.cancelled());
    assert!(matches!(c.result(), Err(Error::Cancelled(m)) if m.msg.as_deref() == Some("stop")));
}

fn remove_done_callback_stops_it(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let p: tulip::Promise<()> = lp.create_future();
    let h = hits.clone();
    let id = p.add_done_callback(move |_| {
        h.fetch_add(1, Ordering::SeqCst);
    });
    assert_eq!(p.remove_done_callback(id), 1);
    assert_eq!(p.remove_done_callback(id), 0);
    p.set_result(()).unwrap();
    lp.run_until_complete(tulip::sleep(Duration::ZERO)).unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

/// raised_task.py: a panic is the task's raised exception. The awaiter gets it as
/// `Err(Panicked)`, the task is failed (not cancelled) and `exception()` still gives
/// it after the await; the exception was retrieved, so nothing goes to the exception
/// handler, and the loop goes on. Detached panicking tasks are reported, once each.
fn panicking_task_is_an_error_for_its_awaiter_and_a_report(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let reports = Log::default();
    reports.reports_of(&lp, "");
    let (r, state, exc, after, lost) = lp
        .run_until_complete(async {
            let t = tulip::create_task(async {
                tulip::sleep(Duration::from_millis(1)).await?;
                if std::hint::black_box(true) {
                    panic!("task went wrong");
                }
                Ok::<(), Error>(())
            })?;
            let tr = t.task_ref();
            let r = t.await;
            let state = (tr.done(), tr.cancelled(), tr.failed());
            let exc = tr.exception()?;
            let after = tulip::create_task(async { Ok::<_, Error>("still alive") })?.await?;
            let lost: Vec<tulip::TaskRef> = (0..2)
                .map(|i| {
                    let t = tulip::create_task(async move {
                        if std::hint::black_box(true) {
                            panic!("boom {i}");
                        }
                        Ok::<(), Error>(())
                    })?;
                    Ok::<_, Error>(t.task_ref()) // the handle is dropped here
                })
                .collect::<Result<_, _>>()?;
            tulip::all_done(lost.iter()).await?;
            Ok::<_, Error>((r, state, exc, after, lost.len()))
        })
        .unwrap();
    assert!(
        matches!(&r, Err(Error::Panicked(m)) if m.contains("task went wrong")),
        "{r:?}"
    );
    assert_eq!(state, (true, false, true));
    assert!(
        matches!(&exc, Some(Error::Panicked(m)) if m.contains("task went wrong")),
        "{exc:?}"
    );
    assert_eq!(after, "still alive");
    assert_eq!(lost, 2);
    let mut reports = reports.take();
    reports.sort(); // the detached tasks may finish in either order on threaded
    assert_eq!(
        reports,
        [
            "Task exception was never retrieved: task panicked: boom 0",
            "Task exception was never retrieved: task panicked: boom 1",
        ]
    );
}

fn names_ids_and_current_task(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let t = tulip::create_task(async {
            let me = tulip::current_task().unwrap();
            Ok::<_, Error>((me.id(), me.name()))
        })?;
        let id = t.id();
        assert_eq!(t.name(), format!("Task-{id}"));
        t.set_name("worker");
        let (seen_id, seen_name) = t.await?;
        assert_eq!(seen_id, id);
        // On the threaded loop the task may have run before `set_name`.
        if common::in_order(new_loop) {
            assert_eq!(seen_name, "worker");
        }
        let a = tulip::create_task(async { Ok::<_, Error>(()) })?;
        let b = tulip::create_task(async { Ok::<_, Error>(()) })?;
        assert!(a.id() < b.id(), "ids increase in creation order");
        Ok::<_, Error>(())
    })
    .unwrap();
    assert!(tulip::current_task().is_none());
}

fn all_tasks_lists_the_pending_ones(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        // The sleeper waits for `go`, not for a time: it is pending until we say so.
        let go = tulip::Promise::<()>::new();
        let g = go.clone();
        let a = tulip::create_task(g)?;
        a.set_name("sleeper");
        let b = tulip::create_task(async { Ok::<_, Error>(()) })?;
        b.await?;
        let names: Vec<String> = tulip::all_tasks()?.iter().map(|t| t.name()).collect();
        assert_eq!(names, ["sleeper"]);
        go.set_result(())?;
        a.await?;
        assert!(tulip::all_tasks()?.is_empty());
        Ok::<_, Error>(())
    })
    .unwrap();
}

fn dropping_a_task_handle_detaches_it(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let finished = tulip::Promise::<()>::new();
        let f = finished.clone();
        drop(tulip::create_task(async move {
            tulip::sleep(Duration::from_millis(5)).await?;
            l.push("ran to the end");
            f.set_result(())
        })?);
        finished.await
    })
    .unwrap();
    assert_eq!(log.take(), ["ran to the end"]);
}

/// Each task resumes after its own `sleep(0)`, in its own order, on any executor.
fn sleep_zero_yields_and_each_task_resumes_in_order(new_loop: Factory) {
    let all = run_two_workers(&new_loop().unwrap());
    for name in ["a", "b"] {
        let mine: Vec<&String> = all.iter().filter(|s| s.starts_with(name)).collect();
        assert_eq!(
            mine,
            [
                &format!("{name}0"),
                &format!("{name}1"),
                &format!("{name}2")
            ]
        );
    }
}

/// Runs workers "a" and "b" (three `sleep(0)` steps each) as two tasks; the log.
fn run_two_workers(lp: &tulip::EventLoop) -> Vec<String> {
    let log = Log::default();
    let (la, lb) = (log.clone(), log.clone());
    lp.run_until_complete(async move {
        let a = tulip::create_task(worker("a", la))?;
        let b = tulip::create_task(worker("b", lb))?;
        a.await?;
        b.await
    })
    .unwrap();
    log.take()
}

async fn worker(name: &'static str, log: Log) -> Result<(), Error> {
    for i in 0..3 {
        log.push(format!("{name}{i}"));
        tulip::sleep(Duration::ZERO).await?;
    }
    Ok(())
}

/// CPython: a0 b0 a1 b1 a2 b2 — sleep(0) yields exactly one loop iteration. Only the
/// single-threaded loop promises asyncio's interleaving; a parallel executor runs the
/// two tasks' steps at the same time.
#[cfg(feature = "local")]
#[test]
fn sleep_zero_interleaves_tasks_round_robin_on_the_asyncio_loop() {
    let lp = tulip::executors::local::new_event_loop().unwrap();
    assert_eq!(run_two_workers(&lp), ["a0", "b0", "a1", "b1", "a2", "b2"]);
}

fn ten_thousand_tasks_sleeping_10ms_finish_together(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let done = within(Duration::from_secs(1), || {
        lp.run_until_complete(async {
            let tasks: Vec<_> = (0..10_000)
                .map(|i| {
                    tulip::create_task(async move {
                        tulip::sleep(Duration::from_millis(10)).await?;
                        Ok::<_, Error>(i)
                    })
                })
                .collect::<Result<_, _>>()?;
            let mut sum = 0u64;
            for t in tasks {
                sum += t.await?;
            }
            Ok::<_, Error>(sum)
        })
        .unwrap()
    });
    assert_eq!(done, (0..10_000u64).sum::<u64>());
}

fn local_tasks_may_hold_rc(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let r = lp.run_until_complete(async {
        let shared = std::rc::Rc::new(std::cell::RefCell::new(0));
        let s2 = shared.clone();
        let t = tulip::spawn_local(async move {
            tulip::sleep(Duration::from_millis(1)).await?;
            *s2.borrow_mut() += 1;
            Ok::<_, Error>(())
        })?;
        t.await?;
        let v = *shared.borrow();
        Ok::<_, Error>(v)
    });
    assert_eq!(r.unwrap(), 1);
}

/// A waker that counts its wake-ups.
struct Counting(AtomicUsize);

impl std::task::Wake for Counting {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A `Task` handle polled again with another waker (as `select!` or a re-created
/// combinator does) wakes that one when the task finishes, and not the first: the
/// awaiter keeps one entry, refreshed in place.
fn a_task_handle_polled_again_wakes_the_latest_waker(new_loop: Factory) {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let lp = new_loop().unwrap();
    let (first, latest) = lp
        .run_until_complete(async {
            let gate = tulip::Promise::<()>::new();
            let g = gate.clone();
            let mut child = tulip::create_task(async move {
                g.await?;
                Ok::<_, Error>(7)
            })?;
            let r = child.task_ref();
            let first = Arc::new(Counting(AtomicUsize::new(0)));
            let latest = Arc::new(Counting(AtomicUsize::new(0)));
            for w in [&first, &latest] {
                let waker = Waker::from(w.clone());
                let polled = std::pin::Pin::new(&mut child).poll(&mut Context::from_waker(&waker));
                assert!(matches!(polled, Poll::Pending));
            }
            gate.set_result(())?;
            common::until(|| r.done() && latest.0.load(Ordering::SeqCst) > 0).await;
            assert_eq!(child.await?, 7);
            Ok::<_, Error>((
                first.0.load(Ordering::SeqCst),
                latest.0.load(Ordering::SeqCst),
            ))
        })
        .unwrap();
    assert_eq!((first, latest), (0, 1));
}

per_executor!(
    a_task_handle_polled_again_wakes_the_latest_waker,
    done_callbacks_are_scheduled_not_run_inline,
    task_done_callback_sees_the_finished_task,
    promise_result_exception_and_invalid_state,
    remove_done_callback_stops_it,
    panicking_task_is_an_error_for_its_awaiter_and_a_report,
    names_ids_and_current_task,
    all_tasks_lists_the_pending_ones,
    dropping_a_task_handle_detaches_it,
    sleep_zero_yields_and_each_task_resumes_in_order,
    ten_thousand_tasks_sleeping_10ms_finish_together,
    local_tasks_may_hold_rc,
);
