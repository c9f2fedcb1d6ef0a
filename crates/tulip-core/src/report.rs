//! Where tulip's reports go when no exception handler takes them: `tracing` events
//! with the `tracing` feature, one line on stderr without it. The only place the
//! library writes diagnostics itself.

use crate::loop_common::ExceptionContext;

/// The default exception handler's output.
#[cfg(feature = "tracing")]
pub(crate) fn default_report(loop_id: Option<u64>, ctx: &ExceptionContext) {
    let task = ctx.task.as_ref().map(|t| t.name());
    let site = ctx.task.as_ref().map(|t| t.spawn_site().to_string());
    let error = ctx.error.as_ref().map(|e| e.to_string());
    if ctx.error.is_some() {
        tracing::error!(
            target: "tulip",
            loop_id,
            task = task.as_deref(),
            spawn_site = site.as_deref(),
            error = error.as_deref(),
            "{}",
            ctx.message
        );
    } else {
        tracing::warn!(
            target: "tulip",
            loop_id,
            task = task.as_deref(),
            spawn_site = site.as_deref(),
            "{}",
            ctx.message
        );
    }
}

/// The default exception handler's output.
#[cfg(not(feature = "tracing"))]
pub(crate) fn default_report(loop_id: Option<u64>, ctx: &ExceptionContext) {
    use std::io::Write as _;
    let mut err = std::io::stderr().lock();
    let _ = match loop_id {
        Some(id) => writeln!(err, "tulip: loop {id}: {ctx}"),
        None => writeln!(err, "tulip: {ctx}"),
    };
}

/// A loop's life event (`started`, `stopped`, `closed`) as a `tracing` event.
#[cfg(feature = "tracing")]
pub(crate) fn loop_event(loop_id: u64, executor: &'static str, what: &'static str) {
    tracing::debug!(target: "tulip", loop_id, executor, "loop {what}");
}

/// Without the `tracing` feature, loop events go nowhere.
#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn loop_event(_loop_id: u64, _executor: &'static str, _what: &'static str) {}
