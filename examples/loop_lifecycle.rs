//! Seed 004: as long as the loop is not closed it can run again; once closed it
//! refuses work.
//!
//! ```python
//! loop = asyncio.get_event_loop()
//! loop.run_until_complete(do_some_work(loop, 1))
//! loop.run_until_complete(do_some_work(loop, 3))
//! loop.close()
//! loop.run_until_complete(do_some_work(loop, 3))  # RuntimeError: Event loop is closed
//! ```
use std::time::Duration;

async fn do_some_work(x: u64) -> tulip::Result<()> {
    println!("Waiting {x}");
    tulip::sleep(Duration::from_millis(x * 100)).await?;
    println!("Done after {x} (x 100 ms)");
    Ok(())
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lp = tulip::get_event_loop()?;
    lp.run_until_complete(do_some_work(1))?;
    lp.run_until_complete(do_some_work(3))?;
    lp.close()?;
    match lp.run_until_complete(do_some_work(3)) {
        Err(e) => println!("Error: {e} ({e:?})"),
        Ok(_) => return Err("a closed loop ran a coroutine".into()),
    }
    Ok(())
}
