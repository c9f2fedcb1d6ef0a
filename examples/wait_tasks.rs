//! Seed 003, sections 6–7: two tasks made with `ensure_future`, run with `wait`.
//!
//! ```python
//! async def func1():
//!     print(1)
//!     await asyncio.sleep(1)
//!     print(2)
//!
//! async def func2():
//!     print(3)
//!     await asyncio.sleep(1)
//!     print(4)
//!
//! tasks = [asyncio.ensure_future(func1()), asyncio.ensure_future(func2())]
//! start = time.time()
//! loop = asyncio.get_event_loop()
//! loop.run_until_complete(asyncio.wait(tasks))
//! end = time.time()
//! print(end - start)
//! ```
//!
//! Prints `1 3 2 4` (one per line), then the elapsed time, about 1 s: the two sleeps
//! overlap.
use std::time::{Duration, Instant};

use tulip::ReturnWhen;

async fn func1() -> tulip::Result<()> {
    println!("1");
    tulip::sleep(Duration::from_secs(1)).await?;
    println!("2");
    Ok(())
}

async fn func2() -> tulip::Result<()> {
    println!("3");
    tulip::sleep(Duration::from_secs(1)).await?;
    println!("4");
    Ok(())
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lp = tulip::new_event_loop()?;
    tulip::set_event_loop(Some(lp.clone()));
    // `ensure_future` outside a running loop is `lp.create_task` on this thread's loop.
    let tasks = vec![lp.create_task(func1())?, lp.create_task(func2())?];
    let start = Instant::now();
    lp.run_until_complete(tulip::wait(tasks, ReturnWhen::AllCompleted))?;
    println!("{}", start.elapsed().as_secs_f64());
    lp.close()?;
    tulip::set_event_loop(None);
    Ok(())
}
