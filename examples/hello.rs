//! Seeds 000/001/002, "Hello world": a coroutine thrown into the loop.
//!
//! ```python
//! async def hello():
//!     print("Hello world!")
//!     await asyncio.sleep(1)
//!     print("Hello again!")
//! loop = asyncio.get_event_loop()
//! loop.run_until_complete(hello())
//! loop.close()
//! ```
use std::time::Duration;

async fn hello() -> tulip::Result<()> {
    println!("Hello world!");
    tulip::sleep(Duration::from_secs(1)).await?;
    println!("Hello again!");
    Ok(())
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lp = tulip::get_event_loop()?;
    lp.run_until_complete(hello())?;
    lp.close()?;
    Ok(())
}
