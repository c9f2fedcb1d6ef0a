//! Seed 004: `gather` over 2,000 coroutines.
//!
//! ```python
//! async def main(i):
//!     await asyncio.sleep(1)
//!     return i
//!
//! loop = asyncio.get_event_loop()
//! coros_list = []
//! for i in range(2000):
//!     coros_list.append(main(i))
//! start = time.time()
//! results = loop.run_until_complete(asyncio.gather(*coros_list))
//! print(len(results), time.time() - start)
//! ```
//!
//! All 2,000 one-second sleeps overlap: the whole gather takes about 1 s, and the
//! results come back in input order.
use std::time::{Duration, Instant};

async fn main_coro(i: usize) -> tulip::Result<usize> {
    tulip::sleep(Duration::from_secs(1)).await?;
    Ok(i)
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lp = tulip::new_event_loop()?;
    tulip::set_event_loop(Some(lp.clone()));
    let mut coros_list = Vec::new();
    for i in 0..2000 {
        coros_list.push(main_coro(i));
    }
    let start = Instant::now();
    // Built outside the loop, as in the seed: the children start when the loop runs.
    let results = lp.run_until_complete(tulip::gather(coros_list))?;
    println!("{} {}", results.len(), start.elapsed().as_secs_f64());
    assert!(results.iter().enumerate().all(|(i, &r)| i == r));
    lp.close()?;
    tulip::set_event_loop(None);
    Ok(())
}
