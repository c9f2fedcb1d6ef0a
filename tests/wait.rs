//! `wait` done/pending sets for each `ReturnWhen`, its timeout, and `as_completed`.
mod common;

use std::time::Duration;

use common::Factory;
use futures::{Stream, StreamExt};
use tulip::{as_completed, create_task, sleep, wait, Error, ReturnWhen, Task};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A task sleeping `n` ms, returning `n`.
fn sleeper(n: u64) -> Task<tulip::Result<u64>> {
    create_task(async move {
        sleep(ms(n)).await?;
        Ok(n)
    })
    .unwrap()
}

/// The results of done tasks. (`task.await` rather than `try_result()`: on the
/// threaded executor a task can be `done()` a moment before its handle holds the
/// output.)
async fn values(tasks: Vec<Task<tulip::Result<u64>>>) -> Vec<u64> {
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap().unwrap());
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
        assert_eq!(done.next().unwrap().await.unwrap().unwrap(), 5);
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
    })
    .unwrap();
}

fn timeout_returns_what_is_done(new_loop: Factory) {
    let lp = new_loop().unwrap();
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
    })
    .unwrap();
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
            Err(Error::InvalidState(_))
        ));
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
        assert!(matches!(waiter.await.unwrap(), Err(Error::Cancelled(_))));
        assert!(!inner_ref.done());
        sleep(ms(60)).await.unwrap();
        assert!(inner_ref.done() && !inner_ref.cancelled());
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
                order.push(r.unwrap().unwrap());
            }
            order
        })
        .unwrap();
    assert_eq!(order, [10, 20, 30, 40]);
}

per_executor!(
    first_completed,
    all_completed,
    first_exception,
    timeout_returns_what_is_done,
    already_done_and_empty,
    cancelled_wait_leaves_tasks_running,
    as_completed_in_completion_order,
);
