//! Seed 004: a done-callback on a future.
//!
//! ```python
//! def done_callback(futu):
//!     print('Done')
//! futu = asyncio.ensure_future(do_some_work(3))
//! futu.add_done_callback(done_callback)
//! loop.run_until_complete(futu)
//! ```
use std::time::Duration;

async fn do_some_work(x: u64) -> tulip::Result<u64> {
    println!("Waiting {x}");
    tulip::sleep(Duration::from_millis(x * 100)).await?;
    Ok(x)
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lp = tulip::new_event_loop()?;
    tulip::set_event_loop(Some(lp.clone()));
    let futu = lp.create_task(do_some_work(3))?;
    futu.add_done_callback(|_task| println!("Done"));
    let x = lp.run_until_complete(futu)?;
    // The callback was scheduled with call_soon when the task finished; give it the
    // loop iteration it is waiting for.
    lp.run_until_complete(tulip::sleep(Duration::ZERO))?;
    println!("result: {x}");
    lp.close()?;
    Ok(())
}
