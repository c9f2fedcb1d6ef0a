//! Tasks and promises: results, done-callbacks, names, panics, interleaving.
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
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
        p.set_result(1).unwrap();
        l.push("after set");
        tulip::sleep(Duration::ZERO).await.unwrap();
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
                tulip::sleep(Duration::from_millis(2)).await.unwrap();
                7
            })
        })
        .unwrap()
        .unwrap();
    t.add_done_callback(move |t| l.push(format!("Done {} {}", t.done(), t.cancelled())));
    assert_eq!(lp.run_until_complete(t).unwrap().unwrap(), 7);
    lp.run_until_complete(tulip::sleep(Duration::ZERO))
        .unwrap()
        .unwrap();
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
    let r = lp.run_until_complete(q.clone()).unwrap();
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
    lp.run_until_complete(tulip::sleep(Duration::ZERO))
        .unwrap()
        .unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

fn panicking_task_is_an_error_for_its_awaiter_and_a_report(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let reports = Arc::new(Mutex::new(Vec::new()));
    let rep = reports.clone();
    lp.set_exception_handler(Some(
        move |_: &tulip::EventLoop, ctx: &tulip::ExceptionContext| {
            rep.lock().unwrap().push(ctx.to_string());
        },
    ));
    let (r, failed, after) = lp
        .run_until_complete(async {
            let t = tulip::create_task(async {
                tulip::sleep(Duration::from_millis(1)).await.unwrap();
                panic!("task went wrong");
            })
            .unwrap();
            let tr = t.task_ref();
            let r: Result<(), Error> = t.await;
            let after = tulip::create_task(async { "still alive" }).unwrap().await;
            (r, tr.failed(), after)
        })
        .unwrap();
    assert!(
        matches!(&r, Err(Error::Panicked(m)) if m.contains("task went wrong")),
        "{r:?}"
    );
    assert!(failed);
    assert_eq!(after.unwrap(), "still alive");
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].contains("task went wrong"));
}

fn names_ids_and_current_task(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let t = tulip::create_task(async {
            let me = tulip::current_task().unwrap();
            (me.id(), me.name())
        })
        .unwrap();
        let id = t.id();
        assert_eq!(t.name(), format!("Task-{id}"));
        t.set_name("worker");
        let (seen_id, seen_name) = t.await.unwrap();
        assert_eq!(seen_id, id);
        assert_eq!(seen_name, "worker");
        let a = tulip::create_task(async {}).unwrap();
        let b = tulip::create_task(async {}).unwrap();
        assert!(a.id() < b.id(), "ids increase in creation order");
    })
    .unwrap();
    assert!(tulip::current_task().is_none());
}

fn all_tasks_lists_the_pending_ones(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let a = tulip::create_task(tulip::sleep(Duration::from_millis(20))).unwrap();
        a.set_name("sleeper");
        let b = tulip::create_task(async {}).unwrap();
        b.await.unwrap();
        let names: Vec<String> = tulip::all_tasks()
            .unwrap()
            .iter()
            .map(|t| t.name())
            .collect();
        assert_eq!(names, ["sleeper"]);
        a.await.unwrap().unwrap();
        assert!(tulip::all_tasks().unwrap().is_empty());
    })
    .unwrap();
}

fn dropping_a_task_handle_detaches_it(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        drop(
            tulip::create_task(async move {
                tulip::sleep(Duration::from_millis(5)).await.unwrap();
                l.push("ran to the end");
            })
            .unwrap(),
        );
        tulip::sleep(Duration::from_millis(30)).await.unwrap();
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
        let a = tulip::create_task(worker("a", la)).unwrap();
        let b = tulip::create_task(worker("b", lb)).unwrap();
        a.await.unwrap();
        b.await.unwrap();
    })
    .unwrap();
    log.take()
}

async fn worker(name: &'static str, log: Log) {
    for i in 0..3 {
        log.push(format!("{name}{i}"));
        tulip::sleep(Duration::ZERO).await.unwrap();
    }
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
                        tulip::sleep(Duration::from_millis(10)).await.unwrap();
                        i
                    })
                    .unwrap()
                })
                .collect();
            let mut sum = 0u64;
            for t in tasks {
                sum += t.await.unwrap();
            }
            sum
        })
        .unwrap()
    });
    assert_eq!(done, (0..10_000u64).sum());
}

fn local_tasks_may_hold_rc(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let r = lp.run_until_complete(async {
        let shared = std::rc::Rc::new(std::cell::RefCell::new(0));
        let s2 = shared.clone();
        let t = tulip::spawn_local(async move {
            tulip::sleep(Duration::from_millis(1)).await.unwrap();
            *s2.borrow_mut() += 1;
        })?;
        t.await?;
        let v = *shared.borrow();
        Ok::<_, Error>(v)
    });
    assert_eq!(r.unwrap().unwrap(), 1);
}

per_executor!(
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
