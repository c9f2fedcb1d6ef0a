//! Seed 003 §5.1: three greenlets handing control round, g1 → g2 → g3 → g1.
//!
//! Python seed (the `time.sleep` calls block the one thread: switching does not make
//! them overlap, so the program takes about 4 s):
//!
//! ```python
//! from greenlet import greenlet
//! from time import sleep
//! def func1():
//!   print(" Synergetic process 1")
//!   sleep(2)
//!   g2.switch()
//!   print(" Synergetic process 1 Resume operation ")
//!
//! def func2():
//!   print(" Synergetic process 2")
//!   sleep(1)
//!   g3.switch()
//! def func3():
//!   print(" Synergetic process 3")
//!   sleep(1)
//!   g1.switch()
//!
//! if __name__ == '__main__':
//!   g1 = greenlet(func1)
//!   g2 = greenlet(func2)
//!   g3 = greenlet(func3)
//!   g1.switch()
//! ```
//!
//! Prints the seed's four lines, leading spaces included (python3 with greenlet 3.5
//! prints the same: tests/asyncio_ref/greenlet_switch3.py). When g1 returns, control
//! goes back to main, its parent; g2 and g3 stay suspended in their `switch` and are
//! never resumed, as in Python.
//!
//! Run with `cargo run --example greenlet_switch3`.

use std::rc::Rc;
use std::thread;
use std::time::Duration;

use tulip::coro::{Error, Greenlet};

/// The seed's program: `unit` is its one-second sleep (`Duration::ZERO` in the test),
/// `say` its `print`. Returns g1, g2 and g3 after `g1.switch()` came back to main.
pub fn run(unit: Duration, say: impl Fn(&str) + 'static) -> Result<[Greenlet; 3], Error> {
    let say: Rc<dyn Fn(&str)> = Rc::new(say);
    // Each body needs the next one's handle: make all three, then give them bodies.
    let (g1, g2, g3) = (Greenlet::empty(), Greenlet::empty(), Greenlet::empty());
    g1.set_run({
        let (g2, say) = (g2.clone(), say.clone());
        move |()| async move {
            say(" Synergetic process 1");
            thread::sleep(unit * 2);
            g2.switch(()).await?;
            say(" Synergetic process 1 Resume operation ");
            Ok(())
        }
    })?;
    g2.set_run({
        let (g3, say) = (g3.clone(), say.clone());
        move |()| async move {
            say(" Synergetic process 2");
            thread::sleep(unit);
            g3.switch(()).await?;
            Ok(())
        }
    })?;
    g3.set_run({
        let (g1, say) = (g1.clone(), say.clone());
        move |()| async move {
            say(" Synergetic process 3");
            thread::sleep(unit);
            g1.switch(()).await?;
            Ok(())
        }
    })?;
    g1.switch_from_main(())?; // "let g1 take the CPU"
    Ok([g1, g2, g3])
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    run(Duration::from_secs(1), |line| println!("{line}"))?;
    Ok(())
}
