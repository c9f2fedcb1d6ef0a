//! asyncio's subprocesses: [`create_subprocess_exec`], [`create_subprocess_shell`] and
//! the [`Process`] they give.
//!
//! What tulip does, and where it differs from asyncio:
//!
//! - Spawning is `std::process::Command` (fork/exec or `posix_spawn`, on the calling
//!   thread, as asyncio's `Popen` is). The pipes are made here, close-on-exec, so a
//!   child spawned by another thread at the same moment never inherits them; the
//!   parent's ends are non-blocking and registered with the running loop's reactor.
//! - Exit: each child gets a pidfd (Linux 5.3 and later), registered with the loop's
//!   reactor like a socket; it becomes readable when the child exits, and `wait()`
//!   reaps it. No thread per child, and several loops in several threads can spawn at
//!   once. Where pidfds are unavailable, one process-wide thread subscribes to
//!   SIGCHLD and reaps tulip's children (only those, by pid).
//! - Cancelling a task inside [`Process::wait`] or [`Process::communicate`] leaves the
//!   child running, as asyncio does; kill it yourself if that is what you want.
//! - Dropping a [`Process`] never blocks: its pipes close, and a child that still
//!   runs is handed to the process-wide watcher thread, which reaps it when it exits,
//!   so no zombie is left (asyncio's child watcher does the same for a transport
//!   that was closed early).
//! - Writing to the stdin of a child that has closed it is `BrokenPipe`: Rust ignores
//!   SIGPIPE at start-up.

mod cell;
mod child;
mod options;
mod pipe;
mod watcher;

pub use child::{create_subprocess_exec, create_subprocess_shell, Process};
pub use options::{Stdio, SubprocessOptions};
pub use pipe::{PipeReader, PipeWriter};
