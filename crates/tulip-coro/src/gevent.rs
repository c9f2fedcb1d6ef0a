//! gevent's names over tulip tasks: `spawn` and `joinall`.
//!
//! gevent made blocking code cooperative by monkey-patching the standard library; in
//! tulip a greenlet is a task, `gevent.spawn(f, *args)` is [`spawn`], and
//! `gevent.joinall(greenlets, timeout)` is [`joinall`]. Blocking calls do not become
//! cooperative by magic: run them with `tulip::to_thread` (the answer to
//! `monkey.patch_all()`), or use tulip's own sockets.

use std::future::Future;
use std::time::Duration;

use futures::future::{select, Either};
use tulip_core::{Result, Task, TaskError};

/// `gevent.spawn(func)`: starts `fut` as a task on the running loop.
///
/// # Errors
/// `NoRunningLoop` outside a running loop.
pub fn spawn<F, T, E>(fut: F) -> Result<Task<T, E>>
where
    F: Future<Output = std::result::Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: TaskError + Send + 'static,
{
    tulip_core::create_task(fut)
}

/// What [`joinall`] hands back: the tasks that finished, and those still running
/// (in their input order), so no task's result is ever out of reach.
#[derive(Debug)]
pub struct Joined<T, E = tulip_core::Error> {
    /// Done by the time `joinall` returned.
    pub finished: Vec<Task<T, E>>,
    /// Still running (only with a timeout).
    pub unfinished: Vec<Task<T, E>>,
}

/// `gevent.joinall(greenlets, timeout=None)`: waits until every task is done, or
/// `timeout` passes, and returns the tasks split into finished and unfinished.
/// Unfinished tasks keep running.
///
/// # Errors
/// `Cancelled` if the caller is cancelled while it waits (the tasks keep running).
///
/// # Cancel safety
/// Cancel safe: dropping the future leaves every task running.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use tulip::coro::gevent::{joinall, spawn};
/// let lp = tulip::new_event_loop()?;
/// let joined = lp.run_until_complete(async {
///     let quick = spawn(async { Ok::<_, tulip::Error>(1) })?;
///     let slow = spawn(async {
///         tulip::sleep(Duration::from_secs(5)).await?;
///         Ok(2)
///     })?;
///     joinall(vec![quick, slow], Some(Duration::from_millis(20))).await
/// })?;
/// assert_eq!((joined.finished.len(), joined.unfinished.len()), (1, 1));
/// # Ok::<(), tulip::Error>(())
/// ```
pub async fn joinall<T: Send + 'static, E: TaskError>(
    tasks: Vec<Task<T, E>>,
    timeout: Option<Duration>,
) -> Result<Joined<T, E>> {
    if tasks.iter().any(|t| !t.done()) {
        let all_done = tulip_core::all_done(tasks.iter().map(|t| &**t));
        match timeout {
            None => all_done.await?,
            Some(d) => match select(all_done, tulip_core::sleep(d)).await {
                Either::Left((r, _)) => r?,
                Either::Right((r, _)) => r?,
            },
        }
    }
    let (finished, unfinished) = tasks.into_iter().partition(|t| t.done());
    Ok(Joined {
        finished,
        unfinished,
    })
}
