//! `run(main)`: asyncio's front door. A new loop, run `main` to completion, cancel
//! whatever tasks are left and let them clean up, close the loop.

use std::future::Future;
use std::sync::{Arc, Mutex};

use tulip_signal::{is_default, is_main_thread, SIGINT};

use crate::current::current_task;
use crate::error::Error;
use crate::event_loop::EventLoop;
use crate::header::TaskRef;
use crate::outcome::TaskError;
use crate::policy::{new_event_loop, set_event_loop};
use crate::running::has_running_loop;
use crate::signals::{add as add_signal, remove as remove_signal, SignalHandler};
use crate::spawn::all_done;

/// Runs `main` on a new loop and closes the loop (asyncio's `asyncio.run`).
///
/// The new loop is this thread's loop while `main` runs. Afterwards every task still
/// pending is cancelled and run until it finishes its clean-up.
///
/// Ctrl-C, as in asyncio 3.11: on the main thread, when SIGINT has its default
/// disposition, `run` handles SIGINT while `main` runs. The first SIGINT cancels the
/// main task, so its clean-up runs; if it ends cancelled, `run` returns
/// `Error::KeyboardInterrupt`. That first SIGINT also puts the default disposition
/// back, so a second one, during clean-up, kills the process as Ctrl-C normally does.
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
#[track_caller]
pub fn run<F, T, E>(main: F) -> std::result::Result<T, E>
where
    F: Future<Output = std::result::Result<T, E>>,
    E: TaskError,
{
    if has_running_loop() {
        return Err(E::from(Error::AnotherLoopRunning));
    }
    run_on(new_event_loop()?, main)
}

/// [`run`] on a loop the caller built (of whichever executor): `lp` becomes this
/// thread's loop while `main` runs, and is closed afterwards.
///
/// # Errors
/// As [`run`]; `LoopClosed` if `lp` is closed, `LoopRunning` if it runs.
#[track_caller]
pub fn run_on<F, T, E>(lp: EventLoop, main: F) -> std::result::Result<T, E>
where
    F: Future<Output = std::result::Result<T, E>>,
    E: TaskError,
{
    if has_running_loop() {
        return Err(E::from(Error::AnotherLoopRunning));
    }
    set_event_loop(Some(lp.clone()));
    let sigint = Sigint::install(&lp);
    let out = match &sigint {
        Some(s) => {
            let main_of = s.state.clone();
            lp.run_until_complete(async move {
                main_of.started();
                main.await
            })
        }
        None => lp.run_until_complete(main),
    };
    let out = match sigint.map(|s| s.finish(&lp)) {
        Some(true) if out.as_ref().is_err_and(|e| e.as_cancelled().is_some()) => {
            Err(E::from(Error::KeyboardInterrupt))
        }
        _ => out,
    };
    cancel_all_tasks(&lp);
    let _ = lp.close();
    set_event_loop(None);
    out
}

/// `run`'s SIGINT handling: the handler cancels the main task once it is known.
struct Sigint {
    state: Arc<MainOf>,
    handler: SignalHandler,
}

/// The main task, and whether SIGINT came.
#[derive(Default)]
struct MainOf(Mutex<(bool, Option<TaskRef>)>);

impl MainOf {
    /// Called first thing inside the main task.
    fn started(&self) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match current_task() {
            Some(t) if g.0 => {
                t.cancel();
            }
            t => g.1 = t,
        }
    }

    fn interrupt(&self) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        g.0 = true;
        if let Some(t) = g.1.take() {
            t.cancel();
        }
    }
}

impl Sigint {
    fn install(lp: &EventLoop) -> Option<Sigint> {
        if !(is_main_thread() && is_default(SIGINT)) {
            return None;
        }
        let state = Arc::new(MainOf::default());
        let (s, id) = (state.clone(), lp.id());
        let handler: SignalHandler = Arc::new(move || {
            s.interrupt();
            // The next Ctrl-C is not ours: default action (asyncio raises
            // KeyboardInterrupt from its handler on the second one).
            let _ = remove_signal(id, SIGINT, None);
        });
        add_signal(&lp.backend_arc(), SIGINT, handler.clone()).ok()?;
        Some(Sigint { state, handler })
    }

    /// Removes the handler if it is still ours; true if SIGINT came.
    fn finish(self, lp: &EventLoop) -> bool {
        let _ = remove_signal(lp.id(), SIGINT, Some(&self.handler));
        self.state.0.lock().unwrap_or_else(|e| e.into_inner()).0
    }
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
