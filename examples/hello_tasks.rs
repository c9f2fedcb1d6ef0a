//! Seeds 000/001/002: two `hello()` coroutines in one loop, one thread.
//!
//! ```python
//! async def hello():
//!     print('Hello world! (%s)' % threading.current_thread())
//!     await asyncio.sleep(1)
//!     print('Hello again! (%s)' % threading.current_thread())
//! loop = asyncio.get_event_loop()
//! tasks = [hello(), hello()]
//! loop.run_until_complete(asyncio.wait(tasks))
//! loop.close()
//! ```
//!
//! Both "Hello world!" lines come first, then both "Hello again!" about 1 s later,
//! printed by the same thread: the two coroutines ran concurrently on one thread.
use std::time::{Duration, Instant};

fn current_thread() -> String {
    let t = std::thread::current();
    format!("<{}, {:?}>", t.name().unwrap_or("unnamed"), t.id())
}

async fn hello() -> tulip::Result<()> {
    println!("Hello world! ({})", current_thread());
    tulip::sleep(Duration::from_secs(1)).await?;
    println!("Hello again! ({})", current_thread());
    Ok(())
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let lp = tulip::get_event_loop()?;
    lp.run_until_complete(async {
        let tasks = [tulip::create_task(hello())?, tulip::create_task(hello())?];
        for t in tasks {
            t.await?;
        }
        Ok::<_, tulip::Error>(())
    })?;
    lp.close()?;
    println!("(both done in {:.2} s)", start.elapsed().as_secs_f64());
    Ok(())
}
