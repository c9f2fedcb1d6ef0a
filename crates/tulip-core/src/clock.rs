//! Deadlines on the loop's clock (`Instant`), saturating instead of panicking.

use std::time::{Duration, Instant};

/// How far ahead "never" is: a deadline past what the clock can hold saturates here
/// (thirty years; asyncio accepts `math.inf`, tokio saturates too).
const NEVER: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// The instant `delay` from now, saturating: a delay the clock cannot add (say
/// `Duration::MAX`) means "never" instead of a panic.
///
/// # Examples
/// ```
/// use std::time::{Duration, Instant};
/// assert!(tulip::deadline_after(Duration::MAX) > Instant::now());
/// ```
pub fn deadline_after(delay: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(delay.min(NEVER)).unwrap_or(now)
}
