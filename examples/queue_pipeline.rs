//! Producers and consumers over a bounded `Queue`, finished with `join` (the pattern
//! of asyncio's queue docs).
//!
//! ```python
//! async def producer(name, q):
//!     for i in range(4):
//!         await q.put(f"{name}-{i}")      # waits while the queue is full
//!     print(f"{name} finished")
//!
//! async def consumer(name, q):
//!     while True:
//!         item = await q.get()
//!         await asyncio.sleep(0.01)        # work
//!         print(f"{name} handled {item}")
//!         q.task_done()
//!
//! async def main():
//!     q = asyncio.Queue(maxsize=2)
//!     consumers = [asyncio.create_task(consumer(f"c{i}", q)) for i in range(2)]
//!     await asyncio.gather(producer("p0", q), producer("p1", q))
//!     await q.join()                       # every item handled
//!     for c in consumers:
//!         c.cancel()
//!     print("all items handled")
//!
//! asyncio.run(main())
//! ```
use std::time::Duration;

use tulip::{Queue, SyncError};

async fn producer(name: &'static str, q: Queue<String>) -> Result<(), SyncError> {
    for i in 0..4 {
        q.put(format!("{name}-{i}")).await?;
    }
    println!("{name} finished");
    Ok(())
}

async fn consumer(name: String, q: Queue<String>) -> Result<(), SyncError> {
    loop {
        let item = q.get().await?;
        tulip::sleep(Duration::from_millis(10)).await?;
        println!("{name} handled {item}");
        q.task_done()?;
    }
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    tulip::run(async {
        let q = Queue::new(2);
        let consumers = (0..2)
            .map(|i| tulip::create_task(consumer(format!("c{i}"), q.clone())))
            .collect::<tulip::Result<Vec<_>>>()?;
        tulip::gather!(producer("p0", q.clone()), producer("p1", q.clone())).await?;
        q.join().await?;
        for c in &consumers {
            c.cancel();
        }
        println!("all items handled");
        Ok::<_, SyncError>(())
    })?;
    Ok(())
}
