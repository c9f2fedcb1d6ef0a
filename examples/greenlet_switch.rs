//! Greenlets switching to each other explicitly.
//!
//! Python seed:
//!
//! ```python
//! from greenlet import greenlet
//! import time
//!
//! def func1():
//!     print("func11")
//!     gr2.switch()
//!     time.sleep(1)
//!     print("func22")
//!     gr2.switch()
//!
//! def func2():
//!     print("func33")
//!     gr1.switch()
//!     time.sleep(1)
//!     print("func44")
//!
//! start = time.time()
//! gr1 = greenlet(func1)
//! gr2 = greenlet(func2)
//! gr1.switch()
//! print(time.time() - start)
//! ```
//!
//! Prints func11, func33, func22, func44, then about 2 seconds: switching
//! does not make blocking calls like `sleep` run concurrently.
//! Run with `cargo run --example greenlet_switch`.

use std::thread;
use std::time::{Duration, Instant};

use tulip::coro::{Error, Greenlet};

async fn func1(gr2: Greenlet) -> Result<(), Error> {
    println!("func11");
    gr2.switch(()).await?;
    thread::sleep(Duration::from_secs(1));
    println!("func22");
    gr2.switch(()).await?;
    Ok(())
}

async fn func2(gr1: Greenlet) -> Result<(), Error> {
    println!("func33");
    gr1.switch(()).await?;
    thread::sleep(Duration::from_secs(1));
    println!("func44");
    Ok(())
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    // Each body needs the other's handle: make both, then give them bodies.
    let gr1 = Greenlet::empty();
    let gr2 = Greenlet::empty();
    gr1.set_run({
        let gr2 = gr2.clone();
        move |()| func1(gr2)
    })?;
    gr2.set_run({
        let gr1 = gr1.clone();
        move |()| func2(gr1)
    })?;
    gr1.switch_from_main(())?;
    println!("{}", start.elapsed().as_secs_f64());
    Ok(())
}
