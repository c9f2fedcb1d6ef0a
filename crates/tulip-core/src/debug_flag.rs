//! Whether debug mode is on anywhere: the process-wide count every step reads first,
//! and the environment variables that switch it on (the reports are in `debug.rs`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// asyncio's default `slow_callback_duration`.
pub(crate) const DEFAULT_SLOW: Duration = Duration::from_millis(100);

/// Loops with debug mode on, in the process.
static DEBUG_LOOPS: AtomicUsize = AtomicUsize::new(0);

#[inline(always)]
pub(crate) fn any_debug() -> bool {
    DEBUG_LOOPS.load(Ordering::Relaxed) != 0
}

pub(crate) fn count_debug(on: bool) {
    if on {
        DEBUG_LOOPS.fetch_add(1, Ordering::Relaxed);
    } else {
        DEBUG_LOOPS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `TULIP_DEBUG` (anything but empty or `0`) or asyncio's `PYTHONASYNCIODEBUG`
/// (anything but empty), read once: new loops start in debug mode.
pub(crate) fn env_debug() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        let value = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        value("TULIP_DEBUG").is_some_and(|v| v != "0") || value("PYTHONASYNCIODEBUG").is_some()
    })
}
