//! Seeing into a loop: debug mode's slow-step reports, the task dump, loop metrics.
//! Each scenario runs on every executor compiled in.
//!
//! asyncio reference: `tests/asyncio_ref/slow_callback.py` (debug mode names the task
//! that blocked the loop; with debug off nothing is said).
#![cfg(feature = "net")]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Factory;
use tulip::introspect::{TaskState, Waiting};
use tulip::{Error, EventLoop, ExceptionContext};

/// Collects what reaches `lp`'s exception handler.
fn collect_reports(lp: &EventLoop) -> Arc<Mutex<Vec<ExceptionContext>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    lp.set_exception_handler(Some(move |_: &EventLoop, ctx: &ExceptionContext| {
        log.lock().unwrap().push(ctx.clone());
    }));
    seen
}

/// A task that blocks its thread for 300 ms, spawned on the line this returns.
fn block_the_loop(lp: &EventLoop) -> u32 {
    let line = line!() + 2;
    lp.run_until_complete(async {
        let t = tulip::create_task(async {
            std::thread::sleep(Duration::from_millis(300));
            Ok::<_, Error>(())
        })?;
        t.set_name("blocker");
        t.await
    })
    .unwrap();
    line
}

fn debug_mode_names_the_task_that_blocked_the_loop_and_where_it_was_spawned(new_loop: Factory) {
    let lp = new_loop().unwrap();
    assert!(!lp.get_debug(), "off unless asked (TULIP_DEBUG unset)");
    lp.set_debug(true);
    assert!(lp.get_debug());
    assert_eq!(lp.slow_callback_duration(), Duration::from_millis(100));
    let seen = collect_reports(&lp);
    let line = block_the_loop(&lp);
    let seen = seen.lock().unwrap();
    let slow: Vec<_> = seen
        .iter()
        .filter(|c| c.message.starts_with("Executing task"))
        .collect();
    assert_eq!(slow.len(), 1, "{seen:?}");
    let msg = &slow[0].message;
    assert!(msg.contains("\"blocker\""), "{msg}");
    assert!(
        msg.contains(&format!("tests/debugging.rs:{line}:")),
        "{msg} (line {line})"
    );
    let took: f64 = msg
        .rsplit("took ")
        .next()
        .and_then(|s| s.strip_suffix(" seconds"))
        .unwrap()
        .parse()
        .unwrap();
    assert!(took >= 0.3, "{msg}");
    let task = slow[0].task.as_ref().expect("the task is in the context");
    assert_eq!(task.name(), "blocker");
    assert_eq!(task.spawn_site().line(), line);
    lp.close().unwrap();
}

fn with_debug_off_a_blocked_loop_reports_nothing(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let seen = collect_reports(&lp);
    block_the_loop(&lp);
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
    lp.close().unwrap();
}

fn debug_mode_reports_a_slow_callback_and_its_threshold_is_settable(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.set_debug(true);
    lp.set_slow_callback_duration(Duration::from_millis(20));
    let seen = collect_reports(&lp);
    lp.call_soon(|| std::thread::sleep(Duration::from_millis(30)))
        .unwrap();
    lp.run_until_complete(tulip::sleep(Duration::from_millis(1)))
        .unwrap();
    let seen = seen.lock().unwrap();
    assert!(
        seen.iter()
            .any(|c| c.message.starts_with("Executing a callback took")),
        "{seen:?}"
    );
    lp.close().unwrap();
}

fn an_unretrieved_exception_names_its_spawn_site(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let seen = collect_reports(&lp);
    let reported = seen.clone();
    let line = line!() + 2;
    lp.run_until_complete(async move {
        drop(tulip::create_task(async {
            Err::<(), _>(Error::InvalidArgument("boom"))
        })?);
        until(move || !reported.lock().unwrap().is_empty()).await;
        Ok::<_, Error>(())
    })
    .unwrap();
    let seen = seen.lock().unwrap();
    let ctx = seen
        .iter()
        .find(|c| c.message == "Task exception was never retrieved")
        .expect("reported");
    let shown = ctx.to_string();
    assert!(
        shown.contains(&format!("spawned at tests/debugging.rs:{line}:")),
        "{shown}"
    );
    lp.close().unwrap();
}

/// Yields until `f` holds (a bounded number of times: nothing here waits on time).
async fn until(mut f: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if f() {
            return;
        }
        tulip::sleep(Duration::ZERO).await.unwrap();
    }
    panic!("condition never held");
}

fn the_dump_names_each_wait_and_who_awaits_whom_from_another_thread(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let lp2 = lp.clone();
    lp.run_until_complete(async move {
        let hour = Duration::from_secs(3600);
        let sleeper = tulip::create_task(async move { tulip::sleep(hour).await })?;
        sleeper.set_name("sleeper");

        let lock = Arc::new(tulip::Lock::new());
        let guard = lock.acquire().await?;
        let l2 = lock.clone();
        let locker = tulip::create_task(async move {
            let _g = l2.acquire().await?;
            Ok::<_, Error>(())
        })?;
        locker.set_name("locker");

        let queue = tulip::Queue::<u32>::new(0);
        let q2 = queue.clone();
        let getter = tulip::create_task(async move { q2.get().await.map(|_| ()) })?;
        getter.set_name("getter");

        let promise = tulip::Promise::<u32>::new();
        let p2 = promise.clone();
        let promised = tulip::create_task(async move { p2.await.map(|_| ()) })?;
        promised.set_name("promised");

        let inner = tulip::create_task(async move { tulip::sleep(hour).await })?;
        inner.set_name("inner");
        let inner_id = inner.id();
        let outer = tulip::create_task(async move { inner.await.map(|()| 1u8) })?;
        outer.set_name("outer");

        let listener = tulip::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (mut reader, _writer) = tulip::net::open_connection(addr).await.unwrap();
        let (_accepted, _) = listener.accept().await.unwrap();
        let socket = tulip::create_task(async move {
            let _ = reader.read(10).await;
            Ok::<_, Error>(())
        })?;
        socket.set_name("socket");

        let names = [
            "sleeper", "locker", "getter", "promised", "inner", "outer", "socket",
        ];
        let lp3 = lp2.clone();
        until(move || {
            let tasks = lp3.tasks();
            names.iter().all(|n| {
                tasks
                    .iter()
                    .any(|t| t.name == *n && t.waiting_on.is_some() && t.polls >= 1)
            })
        })
        .await;

        // From another thread, while the loop runs (the main task waits for it).
        let (loop_id, executor) = (lp2.id(), lp2.executor());
        // The job starts inside the main task's poll: wait until that poll is over.
        let (tasks, dump) = tulip::to_thread(move || {
            for _ in 0..1_000_000 {
                let main_running = lp2
                    .tasks()
                    .iter()
                    .any(|t| t.is_main && t.state == TaskState::Running);
                if !main_running {
                    break;
                }
                std::thread::yield_now();
            }
            (lp2.tasks(), lp2.dump_tasks())
        })
        .await?;
        let by = |n: &str| tasks.iter().find(|t| t.name == n).unwrap().clone();
        assert!(matches!(
            by("sleeper").waiting_on,
            Some(Waiting::Sleep { .. })
        ));
        assert!(matches!(
            by("locker").waiting_on,
            Some(Waiting::Lock { .. })
        ));
        assert!(matches!(
            by("getter").waiting_on,
            Some(Waiting::Queue { .. })
        ));
        assert!(matches!(
            by("promised").waiting_on,
            Some(Waiting::Promise { .. })
        ));
        assert_eq!(by("outer").waiting_on, Some(Waiting::Task { id: inner_id }));
        assert!(matches!(
            by("socket").waiting_on,
            Some(Waiting::Readable { .. })
        ));
        for n in names {
            let t = by(n);
            assert_eq!(t.state, TaskState::Pending, "{t:?}");
            assert_eq!(t.spawn_site.file(), "tests/debugging.rs");
            assert!(!t.is_main);
        }
        let main = tasks.iter().find(|t| t.is_main).expect("main in the dump");
        assert_eq!(main.state, TaskState::Pending);
        assert_eq!(main.waiting_on, Some(Waiting::Thread));

        // The tree: "inner" hangs under "outer"; every wait is in words.
        let outer_line = dump.lines().position(|l| l.contains("\"outer\"")).unwrap();
        let inner_line = dump.lines().nth(outer_line + 1).unwrap();
        assert!(inner_line.contains("\"inner\""), "{dump}");
        let indent = |l: &str| l.find("task ").unwrap();
        assert!(
            indent(inner_line) > indent(dump.lines().nth(outer_line).unwrap()),
            "{dump}"
        );
        assert!(dump.contains("on task"), "{dump}");
        assert!(dump.contains("on sleep until +"), "{dump}");
        assert!(dump.contains("on lock 0x"), "{dump}");
        assert!(dump.contains("on queue 0x"), "{dump}");
        assert!(dump.contains("on promise 0x"), "{dump}");
        assert!(dump.contains(&format!("-> {addr})")), "{dump}");
        assert!(dump.contains("on a blocking-pool thread"), "{dump}");
        assert!(
            dump.starts_with(&format!("loop {loop_id} ({executor}): ")),
            "{dump}"
        );

        outer.cancel();
        for t in [&sleeper, &locker, &promised, &socket] {
            t.cancel();
        }
        getter.cancel();
        drop(guard);
        let _ = promise.set_result(1);
        tulip::sleep(Duration::from_millis(1)).await?;
        Ok::<_, Error>(())
    })
    .unwrap();
    lp.close().unwrap();
}

fn a_running_task_shows_as_running_and_cancelling_as_cancelling(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let lp2 = lp.clone();
    lp.run_until_complete(async move {
        let me = tulip::current_task().unwrap();
        // Seen from inside its own step, the main task is running.
        let infos = lp2.tasks();
        let main = infos.iter().find(|t| t.id == me.id()).unwrap();
        assert_eq!(main.state, TaskState::Running);
        assert!(main.is_main);
        let t = tulip::create_task(async {
            // Swallows the first cancel, then waits again: "cancelling" meanwhile.
            let _ = tulip::sleep(Duration::from_secs(3600)).await;
            tulip::sleep(Duration::from_secs(3600)).await
        })?;
        let id = t.id();
        let lp3 = lp2.clone();
        until(move || {
            lp3.tasks()
                .iter()
                .any(|i| i.id == id && i.waiting_on.is_some())
        })
        .await;
        t.cancel();
        let lp3 = lp2.clone();
        until(move || {
            lp3.tasks()
                .iter()
                .any(|i| i.id == id && i.state == TaskState::Cancelling && i.polls >= 2)
        })
        .await;
        t.cancel();
        let _ = t.await;
        Ok::<_, Error>(())
    })
    .unwrap();
    lp.close().unwrap();
}

fn debug_mode_records_each_tasks_age(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let lp2 = lp.clone();
    lp.run_until_complete(async move {
        let before = tulip::create_task(tulip::sleep(Duration::from_secs(3600)))?;
        lp2.set_debug(true);
        let after = tulip::create_task(tulip::sleep(Duration::from_secs(3600)))?;
        let infos = lp2.tasks();
        let age = |id| infos.iter().find(|t| t.id == id).unwrap().age;
        assert_eq!(age(before.id()), None, "spawned with debug off");
        assert!(age(after.id()).is_some());
        before.cancel();
        after.cancel();
        lp2.set_debug(false);
        Ok::<_, Error>(())
    })
    .unwrap();
    lp.close().unwrap();
}

fn stats_count_steps_callbacks_tasks_timers_and_sources(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let before = lp.stats();
    assert_eq!(before.executor, lp.executor());
    assert_eq!(before.live_tasks, 0);
    let lp2 = lp.clone();
    lp.run_until_complete(async move {
        let sleepers: Vec<_> = (0..5)
            .map(|_| tulip::create_task(tulip::sleep(Duration::from_secs(3600))))
            .collect::<Result<_, _>>()?;
        for _ in 0..3 {
            lp2.call_soon(|| {})?;
        }
        let listener = tulip::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        // Every sleeper has armed its timer (on the threaded executor they run on
        // workers, in no set order), the callbacks have run, and the loop has
        // published its sampled figures since (every few iterations).
        let lp3 = lp2.clone();
        until(move || {
            let s = lp3.stats();
            lp3.tasks()
                .iter()
                .filter(|t| !t.is_main && t.polls >= 1)
                .count()
                >= 5
                && s.callbacks_run >= 3
                && s.pending_timers >= 5
                && s.task_steps >= 6
                // A worker publishes its steps every 64 and when it parks.
                && (s.executor != "threaded" || s.workers.iter().map(|w| w.task_steps).sum::<u64>() >= 5)
        })
        .await;
        let s = lp2.stats();
        assert_eq!(s.live_tasks, 5, "{s:?}");
        assert!(s.pending_timers >= 5, "{s:?}");
        assert!(s.io_sources >= 1, "{s:?}");
        assert!(s.callbacks_run >= 3, "{s:?}");
        assert!(s.task_steps >= 6, "{s:?}");
        assert!(s.iterations >= 2, "{s:?}");
        if s.executor == "threaded" {
            assert!(!s.workers.is_empty());
            let on_workers: u64 = s.workers.iter().map(|w| w.task_steps).sum();
            assert!(on_workers >= 5, "{s:?}");
        } else {
            assert!(s.workers.is_empty());
        }
        drop(listener);
        for t in &sleepers {
            t.cancel();
        }
        for t in sleepers {
            let _ = t.await;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    let after = lp.stats();
    assert_eq!(after.live_tasks, 0);
    assert!(after.task_steps > before.task_steps);
    lp.close().unwrap();
}

/// `waits` counts the times the loop went to wait in the poller: never while the
/// main future only yields (something is always ready), at least once for a sleep
/// with nothing else to do.
fn stats_count_the_waits_in_the_poller(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        for _ in 0..100 {
            tulip::yield_now().await?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    let s = lp.stats();
    assert_eq!(s.waits, 0, "{s:?}");
    assert!(s.iterations >= 100, "{s:?}");
    lp.run_until_complete(tulip::sleep(Duration::from_millis(5)))
        .unwrap();
    let s = lp.stats();
    assert!(s.waits >= 1, "{s:?}");
    lp.close().unwrap();
}

fn debug_mode_reports_a_blocking_call_made_on_the_loops_thread(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let seen = collect_reports(&lp);
    let mut ids = Vec::new();
    for debug in [false, true] {
        lp.set_debug(debug);
        let id = lp
            .run_until_complete(async {
                let t = tulip::create_task(async {
                    // Waits for the pool's threads: blocks whatever thread runs this step.
                    tulip::ThreadPool::new(1).shutdown(true);
                    Ok::<_, Error>(())
                })?;
                let id = t.id();
                t.await?;
                Ok::<_, Error>(id)
            })
            .unwrap();
        ids.push(id);
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "only with debug on: {seen:?}");
    let msg = &seen[0].message;
    assert!(
        msg.starts_with("ThreadPool::shutdown(wait=true) blocks the thread of running loop"),
        "{msg}"
    );
    assert!(msg.contains("spawned at tests/debugging.rs:"), "{msg}");
    assert_eq!(seen[0].task.as_ref().unwrap().id(), ids[1]);
    lp.close().unwrap();
}

fn spawn_sites_point_at_the_users_line_through_task_groups(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let sites = lp
        .run_until_complete(tulip::TaskGroup::run(|tg| async move {
            let t = tg.create_task(async { Ok::<_, Error>(()) })?;
            let here = line!() - 1;
            let u = tulip::create_task(async { Ok::<_, Error>(()) })?;
            Ok::<_, Error>(vec![
                (t.spawn_site().to_string(), here),
                (u.spawn_site().to_string(), here + 2),
            ])
        }))
        .unwrap();
    for (site, line) in sites {
        assert!(
            site.starts_with(&format!("tests/debugging.rs:{line}:")),
            "{site} (line {line})"
        );
    }
    lp.close().unwrap();
}

per_executor!(
    spawn_sites_point_at_the_users_line_through_task_groups,
    debug_mode_reports_a_blocking_call_made_on_the_loops_thread,
    debug_mode_names_the_task_that_blocked_the_loop_and_where_it_was_spawned,
    with_debug_off_a_blocked_loop_reports_nothing,
    debug_mode_reports_a_slow_callback_and_its_threshold_is_settable,
    an_unretrieved_exception_names_its_spawn_site,
    the_dump_names_each_wait_and_who_awaits_whom_from_another_thread,
    a_running_task_shows_as_running_and_cancelling_as_cancelling,
    debug_mode_records_each_tasks_age,
    stats_count_steps_callbacks_tasks_timers_and_sources,
    stats_count_the_waits_in_the_poller,
);
