//! `wait` done/pending sets for each `ReturnWhen`, its timeout, and `as_completed`.
//!
//! The scenarios whose outcome hangs on which sleep ends first run on a virtual
//! clock: exact, and no wall time.
mod common;

use std::time::Duration;

use common::Factory;
use futures::{Stream, StreamExt};
use tulip::{as_completed, create_task, sleep, wait, Error, ReturnWhen, Task};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A task sleeping `n` ms, returning `n`.
fn sleeper(n: u64) -> Task<u64> {
    create_task(async move {
        sleep(ms(n)).await?;
        Ok(n)
    })
    .unwrap()
}

/// The results of done tasks. (`task.await` rather than `try_result()`: on the
/// threaded executor a task can be `done()` a moment before its handle holds the
/// output.)
async fn values(tasks: Vec<Task<u64>>) -> Vec<u64> {
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

fn first_completed(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let tasks = vec![sleeper(60), sleeper(5), sleeper(1000)];
        let (done, pending) = wait(tasks, ReturnWhen::FirstCompleted).await.unwrap();
        assert_eq!(values(done).await, [5]);
        assert_eq!(pending.len(), 2);
        assert!(pending.iter().all(|t| !t.done()));
        // `pending` is in input order and can be waited on again.
        let (done, pending) = wait(pending, ReturnWhen::FirstCompleted).await.unwrap();
        assert_eq!(values(done).await, [60]);
        assert_eq!(pending.len(), 1);
        pending[0].cancel();
        Ok::<_, Error>(())
    })
    .unwrap();
}

fn all_completed(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let tasks = vec![sleeper(30), sleeper(10), sleeper(20)];
        let (done, pending) = wait(tasks, ReturnWhen::AllCompleted).await.unwrap();
        assert!(pending.is_empty());
        // `done` is in completion order.
        assert_eq!(values(done).await, [10, 20, 30]);
        Ok::<_, Error>(())
    })
    .unwrap();
}

fn first_exception(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.set_exception_handler(Some(|_: &tulip::EventLoop, _: &tulip::ExceptionContext| {}));
    lp.run_until_complete(async {
        let ok = sleeper(5);
        let failing = create_task(async {
            sleep(ms(20)).await?;
            panic!("task failed")
        })
        .unwrap();
        let slow = sleeper(1000);
        let (done, pending) = wait(vec![ok, failing, slow], ReturnWhen::FirstException)
            .await
            .unwrap();
        assert_eq!(done.len(), 2, "the ok task and the failed one");
        assert!(done[1].failed());
        let mut done = done.into_iter();
        assert_eq!(done.next().unwrap().await.unwrap(), 5);
        assert!(matches!(
            done.next().unwrap().await,
            Err(Error::Panicked(_))
        ));
        assert_eq!(pending.len(), 1);
        pending[0].cancel();
        // With no failure, FirstException waits for all.
        let (done, pending) = wait(vec![sleeper(5), sleeper(10)], ReturnWhen::FirstException)
            .await
            .unwrap();
        assert_eq!((done.len(), pending.len()), (2, 0));
        Ok::<_, Error>(())
    })
    .unwrap();
}

fn timeout_returns_what_is_done(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let t0 = lp.time();
    lp.run_until_complete(async {
        let tasks = vec![sleeper(1000), sleeper(5)];
        let (done, pending) = wait(tasks, ReturnWhen::AllCompleted)
            .timeout(ms(30))
            .await
            .unwrap();
        assert_eq!(values(done).await, [5]);
        assert_eq!(pending.len(), 1);
        assert!(!pending[0].done(), "wait never cancels");
        pending[0].cancel();
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(lp.time() - t0, ms(30));
}

fn already_done_and_empty(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let t = sleeper(1);
        sleep(ms(10)).await.unwrap();
        assert!(t.done());
        let (done, pending) = wait(vec![t], ReturnWhen::FirstCompleted).await.unwrap();
        assert_eq!((done.len(), pending.len()), (1, 0));
        let none: Vec<Task<()>> = Vec::new();
        assert!(matches!(
            wait(none, ReturnWhen::AllCompleted).await,
            Err(Error::InvalidArgument(_))
        ));
        Ok::<_, Error>(())
    })
    .unwrap();
}

/// Cancelling the task awaiting `wait` gives it `Cancelled`; the waited tasks go on.
fn cancelled_wait_leaves_tasks_running(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let inner = sleeper(30);
        let inner_ref = inner.task_ref();
        // The waiter must be inside `wait` before it is cancelled: wait for that
        // event rather than for some milliseconds (a loaded machine may take longer).
        let started = tulip::Promise::<()>::new();
        let s2 = started.clone();
        let waiter = create_task(async move {
            let _ = s2.set_result(());
            wait(vec![inner], ReturnWhen::AllCompleted).await
        })
        .unwrap();
        started.await.unwrap();
        sleep(ms(1)).await.unwrap();
        waiter.cancel();
        assert!(matches!(waiter.await, Err(Error::Cancelled(_))));
        assert!(!inner_ref.done());
        tulip::all_done([inner_ref.clone()].iter()).await?;
        assert!(inner_ref.done() && !inner_ref.cancelled());
        Ok::<_, Error>(())
    })
    .unwrap();
}

fn as_completed_in_completion_order(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let order = lp
        .run_until_complete(async {
            let tasks = vec![sleeper(40), sleeper(10), sleeper(30), sleeper(20)];
            let mut stream = as_completed(tasks);
            assert_eq!(stream.size_hint(), (4, Some(4)));
            let mut order = Vec::new();
            while let Some(r) = stream.next().await {
                order.push(r.unwrap());
            }
            Ok::<_, Error>(order)
        })
        .unwrap();
    assert_eq!(order, [10, 20, 30, 40]);
}

/// asyncio_ref/wait_semantics.py, "empty": `wait([])` is an invalid argument
/// (asyncio: ValueError).
fn wait_empty_is_invalid_argument(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let r = lp.run_until_complete(async {
        let none: Vec<Task<u64>> = Vec::new();
        wait(none, ReturnWhen::FirstCompleted).await
    });
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
}

/// asyncio_ref/wait_semantics.py, "first_exception": a cancelled task does not count;
/// `FirstException` returns at the first task that *raised* (a returned error, not
/// only a panic).
fn first_exception_at_a_raised_error(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let go = tulip::Event::new();
        let g2 = go.clone();
        let cancelled = sleeper(10_000);
        let failing = create_task(async move {
            g2.wait().await?;
            Err::<u64, _>(Error::InvalidState("raised"))
        })?;
        let slow = sleeper(10_000);
        let (c_ref, f_ref) = (cancelled.task_ref(), failing.task_ref());
        cancelled.cancel();
        tulip::all_done([c_ref.clone()].iter()).await?;
        let w = create_task(wait(
            vec![cancelled, failing, slow],
            ReturnWhen::FirstException,
        ))?;
        tulip::yield_now().await?;
        tulip::yield_now().await?;
        // The cancelled task is done, but FirstException keeps waiting.
        assert!(!w.done(), "a cancelled task is not an exception");
        go.set();
        let (done, pending) = w.await?;
        let mut names: Vec<&str> = done
            .iter()
            .map(|t| {
                if **t == c_ref {
                    "cancelled"
                } else if **t == f_ref {
                    "failing"
                } else {
                    "slow"
                }
            })
            .collect();
        names.sort();
        assert_eq!(names, ["cancelled", "failing"]);
        assert_eq!(pending.len(), 1);
        assert!(matches!(
            f_ref.exception(),
            Ok(Some(Error::InvalidState("raised")))
        ));
        pending[0].cancel();
        Ok::<_, Error>(())
    })
    .unwrap();
}

/// asyncio_ref/wait_semantics.py, "as_completed": a cancelled task comes out as
/// `Cancelled`.
fn as_completed_gives_cancelled(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let got = lp
        .run_until_complete(async {
            let a = sleeper(10_000);
            let b = create_task(async { Ok::<_, Error>(7) })?;
            let (a_ref, b_ref) = (a.task_ref(), b.task_ref());
            tulip::all_done([b_ref].iter()).await?;
            a.cancel();
            tulip::all_done([a_ref].iter()).await?;
            let mut got = Vec::new();
            let mut s = as_completed(vec![b, a]);
            while let Some(r) = s.next().await {
                got.push(match r {
                    Ok(v) => format!("got {v}"),
                    Err(Error::Cancelled(_)) => "got Cancelled".into(),
                    Err(e) => format!("{e:?}"),
                });
            }
            Ok::<_, Error>(got)
        })
        .unwrap();
    assert_eq!(got, ["got 7", "got Cancelled"]);
}

per_executor!(virtual:
    first_completed,
    all_completed,
    first_exception,
    timeout_returns_what_is_done,
    already_done_and_empty,
    as_completed_in_completion_order,
);

per_executor!(
    cancelled_wait_leaves_tasks_running,
    wait_empty_is_invalid_argument,
    first_exception_at_a_raised_error,
    as_completed_gives_cancelled,
);
