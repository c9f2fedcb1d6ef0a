//! Spinning: a thread with nothing to do looks again for a few microseconds before
//! it sleeps, when the work it waits for is likely to come from a running thread a
//! moment later (a message passed between two tasks). Sleeping there costs the
//! pusher a wake-up syscall and the sleeper a wait in the kernel, each time.
//!
//! Two kinds of thread spin: a worker before it parks (one worker at a time, see
//! `idle.rs`) and the driver before it waits in the reactor, after it ran a step of
//! its own (the main future, a local task) while a worker was awake
//! (`threaded_loop.rs`). Both back off the same way when their spins find nothing.

use std::ops::ControlFlow;

/// A spinning thread looks for work this many times, with this many spin-loop hints
/// between two looks: about 20 µs on the machine the benchmarks ran on.
const SPIN_ROUNDS: u32 = 64;
const SPIN_PAUSES: u32 = 16;

/// Looks with `look` up to `SPIN_ROUNDS` times, `SPIN_PAUSES` spin-loop hints apart,
/// until it breaks; returns what it broke with, `None` if it never did.
pub(crate) fn spin<T>(mut look: impl FnMut() -> ControlFlow<T>) -> Option<T> {
    for _ in 0..SPIN_ROUNDS {
        for _ in 0..SPIN_PAUSES {
            std::hint::spin_loop();
        }
        if let ControlFlow::Break(t) = look() {
            return Some(t);
        }
    }
    None
}

/// Spins that find nothing make the next ones rarer. A spin pays when work comes
/// from another thread a moment later (message passing between tasks: ping_pong
/// parks 3.2x slower without it); it is CPU for nothing when work comes from the
/// network, which the spinner does not watch (the HTTP rows spent 9% more CPU per
/// request spinning). After `n` spins in a row that found nothing, a thread sleeps
/// the next `2^n - 1` times without spinning (`n` at most `MAX_SKIP_SHIFT`); one
/// that finds work starts over at every sleep.
#[derive(Default)]
pub(crate) struct SpinBackoff {
    misses: u32,
    skip: u32,
}

const MAX_SKIP_SHIFT: u32 = 6;
const FREE_MISSES: u32 = 2;

impl SpinBackoff {
    /// False when this sleep should not spin first (and counts it).
    pub(crate) fn try_spin(&mut self) -> bool {
        if self.skip > 0 {
            self.skip -= 1;
            return false;
        }
        true
    }

    /// What the spin found.
    pub(crate) fn record(&mut self, found: bool) {
        if found {
            self.misses = 0;
        } else {
            self.misses = (self.misses + 1).min(FREE_MISSES + MAX_SKIP_SHIFT);
            self.skip = (1 << self.misses.saturating_sub(FREE_MISSES)) - 1;
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::ops::ControlFlow;

    use super::{spin, SpinBackoff, SPIN_ROUNDS};

    #[test]
    fn a_spin_looks_a_bounded_number_of_times_and_stops_at_a_find() {
        let mut looks = 0;
        assert_eq!(
            spin(|| -> ControlFlow<()> {
                looks += 1;
                ControlFlow::Continue(())
            }),
            None
        );
        assert_eq!(looks, SPIN_ROUNDS);
        let mut looks = 0;
        let found = spin(|| {
            looks += 1;
            if looks == 3 {
                ControlFlow::Break("work")
            } else {
                ControlFlow::Continue(())
            }
        });
        assert_eq!((found, looks), (Some("work"), 3));
    }

    /// The parks a worker spins at, out of `parks`, when every spin finds what
    /// `found` says.
    fn spins(b: &mut SpinBackoff, parks: usize, found: bool) -> Vec<usize> {
        (0..parks)
            .filter(|_| {
                let spin = b.try_spin();
                if spin {
                    b.record(found);
                }
                spin
            })
            .collect()
    }

    #[test]
    fn spins_that_pay_keep_spinning() {
        let mut b = SpinBackoff::default();
        assert_eq!(spins(&mut b, 10, true), (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn misses_make_spins_rarer_up_to_a_bound() {
        let mut b = SpinBackoff::default();
        // Two misses are free; then the gaps double: 1, 3, 7, ... parks skipped.
        assert_eq!(spins(&mut b, 30, false), [0, 1, 2, 4, 8, 16]);
        // The gap stops growing at 2^6 - 1 parks.
        let mut b = SpinBackoff::default();
        let at = spins(&mut b, 1000, false);
        let gaps: Vec<_> = at.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(gaps.iter().max(), Some(&64));
        assert!(gaps.ends_with(&[64, 64, 64]));
    }

    #[test]
    fn one_spin_that_pays_starts_over() {
        let mut b = SpinBackoff::default();
        spins(&mut b, 200, false);
        // Wait out the current gap, then a spin that finds work.
        while !b.try_spin() {}
        b.record(true);
        assert_eq!(spins(&mut b, 5, true), [0, 1, 2, 3, 4]);
    }
}
