//! Queue, PriorityQueue, LifoQueue: bounded put/get, `_nowait` errors, join after
//! every `task_done`, shutdown, the Stream side, and cancelled waiters losing nothing.
mod common;

use std::time::Duration;

use common::{Factory, Log};
use futures::StreamExt;
use tulip::{
    create_task, sleep, yield_now, Error, LifoQueue, PriorityQueue, PutError, Queue, SyncError,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Yields until `cond` holds (e.g. the waiters are queued), on any executor; the
/// bound turns a hang into a failure.
async fn until(cond: impl Fn() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "condition never held"
        );
        yield_now().await.unwrap();
    }
}

fn nowait_forms_and_errors(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let q = Queue::new(2);
        assert!(matches!(q.get_nowait(), Err(SyncError::QueueEmpty)));
        q.put_nowait("a").unwrap();
        q.put_nowait("b").unwrap();
        assert!(q.full());
        match q.put_nowait("c") {
            Err(PutError::Full(item)) => assert_eq!(item, "c"), // handed back
            other => panic!("{other:?}"),
        }
        assert_eq!(q.qsize(), 2);
        assert_eq!(q.get().await.unwrap(), "a");
        assert_eq!(q.get_nowait().unwrap(), "b");
        assert!(q.empty());
        Ok::<_, tulip::Error>(())
    })
    .unwrap();
}

/// A bounded queue makes `put` wait for room; items keep their order.
fn bounded_put_waits_for_room(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let q = Queue::new(1);
        let qp = q.clone();
        let lp2 = l.clone();
        let producer = create_task(async move {
            for i in 0..3 {
                qp.put(i).await?;
                lp2.push(format!("put {i}"));
            }
            Ok::<_, SyncError>(())
        })?;
        until(|| q.waiters().1 == 1).await;
        assert_eq!(l.take(), ["put 0"], "the second put waits for room");
        for i in 0..3 {
            assert_eq!(q.get().await?, i);
        }
        producer.await?;
        Ok::<_, SyncError>(())
    })
    .unwrap();
}

/// `join` returns only after a `task_done` for every item put.
fn join_waits_for_every_task_done(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let q = Queue::new(0);
        for i in 0..5 {
            q.put_nowait(i).unwrap();
        }
        let (qc, lc) = (q.clone(), l.clone());
        create_task(async move {
            loop {
                let item = qc.get().await?;
                sleep(ms(2)).await?;
                lc.push(format!("done {item}"));
                qc.task_done()?;
            }
            #[allow(unreachable_code)]
            Ok::<_, SyncError>(())
        })?;
        q.join().await?;
        l.push("joined");
        assert!(matches!(q.task_done(), Err(SyncError::ValueError(_))));
        q.join().await?; // nothing unfinished: at once
        Ok::<_, SyncError>(())
    })
    .unwrap();
    assert_eq!(
        log.take(),
        ["done 0", "done 1", "done 2", "done 3", "done 4", "joined"]
    );
}

fn priority_and_lifo_order(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let pq = PriorityQueue::new(0);
        for (p, name) in [(3, "low"), (1, "high"), (2, "mid")] {
            pq.put((p, name)).await.unwrap();
        }
        let mut got = Vec::new();
        while let Ok((_, name)) = pq.get_nowait() {
            got.push(name);
        }
        assert_eq!(got, ["high", "mid", "low"]);

        let lq = LifoQueue::new(0);
        for i in 0..3 {
            lq.put_nowait(i).unwrap();
        }
        assert_eq!(lq.get().await.unwrap(), 2);
        assert_eq!(lq.get().await.unwrap(), 1);
        Ok::<_, tulip::Error>(())
    })
    .unwrap();
}

/// `shutdown()` (3.13): puts fail, getters drain what is left and then fail.
/// `shutdown(immediate)` drops the items, counts them done, and fails getters at once.
fn shutdown_graceful_and_immediate(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let q = Queue::new(1);
        q.put_nowait(1).unwrap();
        let qp = q.clone();
        let blocked_put =
            create_task(async move { Ok::<_, Error>(qp.put(2).await.map_err(|e| e.into_inner())) })
                .unwrap();
        until(|| q.waiters().1 == 1).await;
        q.shutdown(false);
        assert_eq!(blocked_put.await.unwrap(), Err(2), "the item came back");
        assert!(matches!(q.put_nowait(3), Err(PutError::ShutDown(3))));
        assert_eq!(q.get().await.unwrap(), 1);
        assert!(matches!(q.get().await, Err(SyncError::QueueShutDown)));

        let q = Queue::new(0);
        q.put_nowait("x").unwrap();
        q.put_nowait("y").unwrap();
        let qj = q.clone();
        let joiner = create_task(async move { qj.join().await }).unwrap();
        let empty = Queue::<u8>::new(0);
        let eg = empty.clone();
        let getter = create_task(async move { eg.get().await }).unwrap();
        until(|| empty.waiters().0 == 1).await;
        q.shutdown(true);
        empty.shutdown(true);
        assert!(q.empty());
        joiner.await.unwrap();
        assert!(matches!(getter.await, Err(SyncError::QueueShutDown)));
        Ok::<_, tulip::Error>(())
    })
    .unwrap();
}

/// An item put for a getter that is then cancelled goes to the next getter; a
/// cancelled put hands its item back.
fn cancelled_waiters_lose_nothing(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let q = Queue::new(1);
        let qa = q.clone();
        let a = create_task(async move { qa.get().await }).unwrap();
        until(|| q.waiters().0 == 1).await;
        let qb = q.clone();
        let b = create_task(async move { qb.get().await }).unwrap();
        until(|| q.waiters().0 == 2).await;
        a.cancel(); // A is cancelled and, before it runs (on one thread)...
        q.put_nowait("item").unwrap(); // ...woken for the item
        assert!(matches!(a.await, Err(e) if e.is_cancelled()));
        let got = tulip::wait_for(b, Duration::from_secs(5)).await;
        assert_eq!(got.unwrap(), "item");

        q.put_nowait("first").unwrap();
        let qp = q.clone();
        let p = create_task(async move { Ok::<_, Error>(qp.put("second").await) }).unwrap();
        until(|| q.waiters().1 == 1).await;
        p.cancel();
        match p.await.unwrap() {
            Err(PutError::Cancelled(item, _)) => assert_eq!(item, "second"),
            other => panic!("{other:?}"),
        }
        assert_eq!(q.qsize(), 1);
        // `?` turns a PutError into tulip's error type.
        let r: tulip::Result<()> = async { Ok(q.put_nowait("x")?) }.await;
        assert!(matches!(r, Err(Error::Exception(_))));
        Ok::<_, tulip::Error>(())
    })
    .unwrap();
}

/// The receiving side as a `futures::Stream`, ending at shutdown.
fn queue_as_stream(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let got: Vec<u32> = lp
        .run_until_complete(async {
            let q = Queue::new(2);
            let qp = q.clone();
            create_task(async move {
                for i in 0..6 {
                    qp.put(i).await?;
                }
                qp.shutdown(false);
                Ok::<_, SyncError>(())
            })
            .unwrap();
            Ok::<_, Error>(q.stream().collect::<Vec<_>>().await)
        })
        .unwrap();
    assert_eq!(got, [0, 1, 2, 3, 4, 5]);
}

per_executor!(
    nowait_forms_and_errors,
    bounded_put_waits_for_room,
    join_waits_for_every_task_done,
    priority_and_lifo_order,
    shutdown_graceful_and_immediate,
    cancelled_waiters_lose_nothing,
    queue_as_stream,
);
