//! Running a loop: `run_until_complete` (the main future as the loop's main task)
//! and `run_forever`, with asyncio's checks in front.

use std::future::Future;
use std::pin::pin;

use crate::error::{Error, Result};
use crate::event_loop::EventLoop;
use crate::outcome::TaskError;
use crate::running::{enter_running, has_running_loop};
use crate::spawn::main_task;
use crate::task_future::TaskFuture;

impl EventLoop {
    fn check_can_run(&self) -> Result<()> {
        if self.is_closed() {
            return Err(Error::LoopClosed);
        }
        if self.is_running() {
            return Err(Error::LoopRunning);
        }
        if has_running_loop() {
            return Err(Error::AnotherLoopRunning);
        }
        Ok(())
    }

    /// Runs the loop until `fut` completes and returns what it returned. `fut` runs as
    /// the loop's main task: `current_task()` inside it is that task, and cancelling it
    /// makes its next await point return `Err(Cancelled)`.
    ///
    /// # Errors
    /// The future's own error; and, as `E`: `LoopClosed`, `LoopRunning`,
    /// `AnotherLoopRunning` before starting; `StoppedBeforeComplete` if `stop()` ended
    /// the loop first; `Cancelled` if the main task was cancelled and did not catch
    /// it; `Panicked` if it panicked.
    #[track_caller]
    pub fn run_until_complete<F, T, E>(&self, fut: F) -> std::result::Result<T, E>
    where
        F: Future<Output = std::result::Result<T, E>>,
        E: TaskError,
    {
        self.check_can_run()?;
        // Kept to the end: the main task's header lives as long as a reference does.
        let me = main_task(self, std::panic::Location::caller());
        let common = self.backend().common();
        common.set_main(&me.task);
        let mut out = None;
        {
            let tracked = TaskFuture::main(&me, self.backend_arc(), fut);
            let main = pin!(async {
                out = Some(tracked.await);
            });
            let _running = enter_running(self.clone());
            crate::report::loop_event(self.id(), self.executor(), "started");
            let ran = self.backend().run_until(main);
            crate::report::loop_event(self.id(), self.executor(), "stopped");
            common.clear_main();
            ran?;
        }
        out.unwrap_or(Err(E::from(Error::StoppedBeforeComplete)))
    }

    /// Runs the loop until [`stop`](Self::stop) is called.
    ///
    /// # Errors
    /// `LoopClosed`, `LoopRunning`, `AnotherLoopRunning`.
    pub fn run_forever(&self) -> Result<()> {
        self.check_can_run()?;
        let _running = enter_running(self.clone());
        crate::report::loop_event(self.id(), self.executor(), "started");
        let ran = self.backend().run_forever();
        crate::report::loop_event(self.id(), self.executor(), "stopped");
        ran
    }
}
