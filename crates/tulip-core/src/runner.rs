//! `run(main)`: asyncio's front door. A new loop, run `main` to completion, cancel
//! whatever tasks are left and let them clean up, close the loop.

use std::future::Future;

use crate::error::Error;
use crate::event_loop::EventLoop;
use crate::outcome::TaskError;
use crate::policy::{new_event_loop, set_event_loop};
use crate::running::has_running_loop;
use crate::spawn::all_done;

/// Runs `main` on a new loop and closes the loop (asyncio's `asyncio.run`).
///
/// The new loop is this thread's loop while `main` runs. Afterwards every task still
/// pending is cancelled and run until it finishes its clean-up.
///
/// # Errors
/// `AnotherLoopRunning` if called inside a running loop; otherwise as
/// [`EventLoop::run_until_complete`].
///
/// # Examples
/// ```
/// # tulip_core::set_default_loop_factory(tulip_local::new_event_loop);
/// let out = tulip_core::run(async { Ok::<_, tulip_core::Error>("hi") })?;
/// assert_eq!(out, "hi");
/// # Ok::<(), tulip_core::Error>(())
/// ```
pub fn run<F, T, E>(main: F) -> std::result::Result<T, E>
where
    F: Future<Output = std::result::Result<T, E>>,
    E: TaskError,
{
    if has_running_loop() {
        return Err(E::from(Error::AnotherLoopRunning));
    }
    let lp = new_event_loop()?;
    set_event_loop(Some(lp.clone()));
    let out = lp.run_until_complete(main);
    cancel_all_tasks(&lp);
    let _ = lp.close();
    set_event_loop(None);
    out
}

/// Cancels every pending task of `lp` and runs the loop until all of them are done.
pub fn cancel_all_tasks(lp: &EventLoop) {
    let tasks = lp.backend().common().live_tasks();
    if tasks.is_empty() {
        return;
    }
    for t in &tasks {
        t.cancel();
    }
    let _ = lp.run_until_complete::<_, (), Error>(all_done(tasks.iter()));
}
