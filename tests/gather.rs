//! `gather`: input order, error propagation, return-exceptions mode, cancellation.
mod common;

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use common::{until, Factory, Log};
use tulip::{gather, gather_all, gather_local, sleep, Error, Event};

type BoxFut<T> = Pin<Box<dyn Future<Output = tulip::Result<T>> + Send>>;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Children finish in reverse order; the results still come in input order.
fn results_in_input_order(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    let out = lp
        .run_until_complete(async move {
            // Child i waits for child i + 1 (an event each, not a timing guess).
            let events: Vec<Event> = (0..6).map(|_| Event::new()).collect();
            events[5].set();
            let kids = (0..5usize).map(|i| {
                let (l, mine, next) = (l.clone(), events[i].clone(), events[i + 1].clone());
                async move {
                    next.wait().await?;
                    l.push(format!("done {i}"));
                    mine.set();
                    Ok::<_, Error>(i as u64 * 10)
                }
            });
            gather(kids).await
        })
        .unwrap();
    assert_eq!(out, [0, 10, 20, 30, 40]);
    assert_eq!(
        log.take(),
        ["done 4", "done 3", "done 2", "done 1", "done 0"]
    );
}

/// The first `Err` reaches the awaiter at once; the other children keep running.
fn first_error_propagates_others_keep_running(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let finished = Event::new();
        let f2 = finished.clone();
        // The slow child finishes only once the test lets it (after gather returned),
        // so nothing here depends on how long a sleep takes.
        let gate = Event::new();
        let g2 = gate.clone();
        let slow: BoxFut<u32> = Box::pin(async move {
            g2.wait().await?;
            f2.set();
            Ok(1)
        });
        let failing: BoxFut<u32> = Box::pin(async {
            sleep(ms(5)).await?;
            Err(Error::InvalidState("boom"))
        });
        let r = gather(vec![slow, failing]).await;
        assert!(matches!(r, Err(Error::InvalidState("boom"))), "{r:?}");
        assert!(!finished.is_set(), "gather waited for the slow child");
        gate.set();
        // The slow child was not cancelled: it finishes on its own.
        tulip::wait_for(async move { finished.wait().await }, Duration::from_secs(5))
            .await
            .expect("slow child kept running");
        Ok::<_, Error>(())
    })
    .unwrap();
}

/// `gather_all` (return_exceptions=True) waits for every child, giving each outcome.
fn gather_all_returns_every_outcome(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let out = lp
        .run_until_complete(async {
            let a: BoxFut<u32> = Box::pin(async {
                sleep(ms(20)).await?;
                Ok(1)
            });
            let b: BoxFut<u32> = Box::pin(async { Err(Error::TimeoutError(None)) });
            let c: BoxFut<u32> = Box::pin(async { panic!("child panicked") });
            gather_all(vec![a, b, c]).await
        })
        .unwrap();
    assert!(matches!(out[0], Ok(1)));
    assert!(matches!(out[1], Err(Error::TimeoutError(None))));
    assert!(matches!(&out[2], Err(Error::Panicked(m)) if m.contains("child panicked")));
}

/// Cancelling the task awaiting a gather cancels every child; each child's async
/// clean-up runs before the gather reports `Cancelled`.
fn cancel_gather_cancels_children(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let started = Event::new();
        let s = started.clone();
        let outer = tulip::create_task(async move {
            let kids = (0..3).map(|i| {
                let l = l.clone();
                async move {
                    l.push(format!("entered {i}"));
                    if let Err(e) = sleep(Duration::from_secs(10)).await {
                        sleep(ms(2)).await.ok(); // async clean-up
                        l.push(format!("cleanup {i}"));
                        return Err(e);
                    }
                    Ok::<_, Error>(i)
                }
            });
            let g = gather(kids);
            s.set();
            g.await
        })
        .unwrap();
        started.wait().await.unwrap();
        let l3 = log.clone();
        until(move || l3.count(|e| e.starts_with("entered")) == 3).await;
        outer.cancel();
        let r = outer.await;
        assert!(matches!(r, Err(Error::Cancelled(_))), "{r:?}");
        // Every child was cancelled; wait for the last clean-ups (the gather resolves
        // at the first child that ends cancelled, as asyncio's does).
        let l4 = log.clone();
        until(move || l4.count(|e| e.starts_with("cleanup")) == 3).await;
        let mut got: Vec<String> = log
            .take()
            .into_iter()
            .filter(|e| e.starts_with("cleanup"))
            .collect();
        got.sort();
        assert_eq!(got, ["cleanup 0", "cleanup 1", "cleanup 2"]);
        Ok::<_, Error>(())
    })
    .unwrap();
}

/// `gather!` over futures of different types gives a tuple in argument order.
fn gather_macro_heterogeneous(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let (n, s, v) = lp
        .run_until_complete(async {
            tulip::gather!(
                async {
                    sleep(ms(15)).await?;
                    Ok::<_, Error>(7u8)
                },
                async {
                    sleep(ms(5)).await?;
                    Ok("text".to_string())
                },
                async { Ok(vec![1, 2]) },
            )
            .await
        })
        .unwrap();
    assert_eq!((n, s.as_str(), v), (7, "text", vec![1, 2]));
}

/// asyncio's `loop.run_until_complete(asyncio.gather(*coros))`: gather built outside
/// the loop spawns its children once the loop polls it. An empty gather is `[]`.
fn gather_built_outside_the_loop(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let g = gather((0..100u32).map(|i| async move {
        sleep(ms(1)).await?;
        Ok::<_, Error>(i)
    }));
    let out = lp.run_until_complete(g).unwrap();
    assert_eq!(out, (0..100).collect::<Vec<_>>());
    let none: Vec<BoxFut<u8>> = Vec::new();
    assert!(lp.run_until_complete(gather(none)).unwrap().is_empty());
}

/// `gather_local` runs `!Send` futures as local tasks.
fn gather_local_not_send(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let out = lp
        .run_until_complete(async {
            let shared = Rc::new(5);
            let kids = (0..3).map(|i| {
                let shared = shared.clone();
                async move {
                    sleep(ms(1)).await?;
                    Ok::<_, Error>(*shared + i)
                }
            });
            Ok::<_, Error>(gather_local(kids).await)
        })
        .unwrap();
    match out {
        Ok(v) => assert_eq!(v, [5, 6, 7]),
        // An executor without local tasks on this thread says so.
        Err(e) => assert!(matches!(e, Error::WrongThread), "{e:?}"),
    }
}

/// A child that logs its start, sleeps `secs`, and logs its cancellation.
async fn child(log: Log, i: u32, secs: u64) -> tulip::Result<u32> {
    log.push(format!("start {i}"));
    if let Err(e) = sleep(Duration::from_secs(secs)).await {
        log.push(format!("cancelled {i}"));
        return Err(e);
    }
    log.push(format!("done {i}"));
    Ok(i)
}

/// A child that logs its start, waits for `go`, and returns `i`.
async fn waiter(log: Log, i: u32, go: Event) -> tulip::Result<u32> {
    log.push(format!("start {i}"));
    go.wait().await?;
    log.push(format!("done {i}"));
    Ok(i)
}

/// asyncio_ref/gather_cancel.py, "before run": a gather cancelled before it ran never
/// starts its children and resolves to `Cancelled`.
fn gather_cancelled_before_it_ran(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let g = gather((0..2).map(|i| child(log.clone(), i, 10)));
    log.push(format!("cancel -> {}", g.cancel()));
    let r = lp.run_until_complete(g);
    if matches!(r, Err(Error::Cancelled(_))) {
        log.push("gather: Cancelled");
    }
    assert_eq!(log.take(), ["cancel -> true", "gather: Cancelled"]);
}

/// asyncio_ref/gather_cancel.py, "while running": `cancel()` on the gather cancels
/// every running child; the gather resolves to `Cancelled`.
fn gather_cancel_while_running(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let g = gather((0..2).map(|i| child(l.clone(), i, 10)));
        let handle = g.handle();
        let children = handle.children();
        let l2 = l.clone();
        until(move || l2.count(|e| e.starts_with("start")) == 2).await;
        l.push(format!("cancel -> {}", handle.cancel()));
        if let Err(Error::Cancelled(_)) = g.await {
            l.push("gather: Cancelled");
        }
        tulip::all_done(children.iter()).await?;
        assert!(children.iter().all(|c| c.cancelled()));
        assert!(handle.done());
        Ok::<_, Error>(())
    })
    .unwrap();
    let mut got = log.take();
    let want = [
        "start 0",
        "start 1",
        "cancel -> true",
        "cancelled 0",
        "cancelled 1",
        "gather: Cancelled",
    ];
    if !common::in_order(new_loop) {
        got.sort();
        let mut want = want.map(String::from).to_vec();
        want.sort();
        assert_eq!(got, want);
        return;
    }
    assert_eq!(got, want);
}

/// asyncio_ref/gather_cancel.py, "child cancelled": without return_exceptions a
/// child's cancellation propagates as `Cancelled` at once; the other child goes on.
fn gather_child_cancellation_propagates(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let go = Event::new();
        let a = tulip::create_task(child(l.clone(), 0, 10))?;
        let b = tulip::create_task(waiter(l.clone(), 1, go.clone()))?;
        let (a_ref, b_ref) = (a.task_ref(), b.task_ref());
        let g = gather(vec![Box::pin(a) as BoxFut<u32>, Box::pin(b) as BoxFut<u32>]);
        let l2 = l.clone();
        until(move || l2.count(|e| e.starts_with("start")) == 2).await;
        a_ref.cancel();
        if let Err(Error::Cancelled(_)) = g.await {
            l.push("gather: Cancelled");
        }
        go.set();
        tulip::all_done([b_ref.clone()].iter()).await?;
        assert!(a_ref.cancelled() && !b_ref.cancelled());
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(
        starts_in_either_order(new_loop, log.take()),
        [
            "start 0",
            "start 1",
            "cancelled 0",
            "gather: Cancelled",
            "done 1"
        ]
    );
}

/// The trace with its first two entries (the two children's starts) sorted when tasks
/// run in parallel: both start before the test goes on, in either order; what follows
/// the test itself sequences.
fn starts_in_either_order(new_loop: Factory, mut got: Vec<String>) -> Vec<String> {
    if !common::in_order(new_loop) && got.len() >= 2 {
        got[..2].sort();
    }
    got
}

/// asyncio_ref/gather_cancel.py, "return_exceptions": a cancelled child is a
/// `Cancelled` error in the list.
fn gather_all_lists_cancelled_child(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let go = Event::new();
        let a = tulip::create_task(child(l.clone(), 0, 10))?;
        let b = tulip::create_task(waiter(l.clone(), 1, go.clone()))?;
        let a_ref = a.task_ref();
        let g = gather_all(vec![Box::pin(a) as BoxFut<u32>, Box::pin(b) as BoxFut<u32>]);
        let l2 = l.clone();
        until(move || l2.count(|e| e.starts_with("start")) == 2).await;
        a_ref.cancel();
        let l3 = l.clone();
        until(move || l3.count(|e| e == "cancelled 0") == 1).await;
        go.set();
        let out = g.await?;
        let names: Vec<String> = out
            .iter()
            .map(|r| match r {
                Ok(v) => v.to_string(),
                Err(Error::Cancelled(_)) => "Cancelled".into(),
                Err(e) => format!("{e:?}"),
            })
            .collect();
        l.push(format!("results {names:?}"));
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(
        starts_in_either_order(new_loop, log.take()),
        [
            "start 0",
            "start 1",
            "cancelled 0",
            "done 1",
            r#"results ["Cancelled", "1"]"#
        ]
    );
}

/// Children are never silently detached: a gather dropped before it resolved (here:
/// never polled) cancels its children. (No asyncio counterpart: a Python gather
/// cannot be dropped; this is Rust's spelling of cancelling it.)
fn dropped_gather_cancels_children(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let g = gather((0..3).map(|i| child(l.clone(), i, 10)));
        let children = g.handle().children();
        drop(g);
        tulip::all_done(children.iter()).await?;
        assert!(children.iter().all(|c| c.cancelled()));
        Ok::<_, Error>(())
    })
    .unwrap();
    assert!(log.take().iter().all(|e| !e.starts_with("done")));
}

per_executor!(
    results_in_input_order,
    first_error_propagates_others_keep_running,
    gather_all_returns_every_outcome,
    cancel_gather_cancels_children,
    gather_macro_heterogeneous,
    gather_built_outside_the_loop,
    gather_local_not_send,
    gather_cancelled_before_it_ran,
    gather_cancel_while_running,
    gather_child_cancellation_propagates,
    gather_all_lists_cancelled_child,
    dropped_gather_cancels_children,
);
