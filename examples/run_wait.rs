//! Seed 003, section 7.5 example 3: `asyncio.run(asyncio.wait(coroutine_list))`.
//!
//! ```python
//! async def func():
//!     print(" Execute the internal code of the synergetic function ")
//!     response = await asyncio.sleep(2)
//!     print("IO The request ends with the result: ", response)
//!
//! coroutine_list = [func(), func()]
//! done, pending = asyncio.run(asyncio.wait(coroutine_list))
//! ```
//!
//! The coroutines are created before any loop exists; `wait` wraps each in a task
//! once the loop runs. Both start, both end about 2 s later; then the sizes of the
//! `done` and `pending` sets are printed.
use std::time::Duration;

use tulip::ReturnWhen;

async fn func() -> tulip::Result<()> {
    println!(" Execute the internal code of the synergetic function ");
    // asyncio.sleep() returns None; tulip's returns (), shown as Python shows None.
    let () = tulip::sleep(Duration::from_secs(2)).await?;
    println!("IO The request ends with the result:  None");
    Ok(())
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let coroutine_list = vec![func(), func()];
    let (done, pending) = tulip::run(async move {
        let tasks = coroutine_list
            .into_iter()
            .map(tulip::create_task)
            .collect::<tulip::Result<Vec<_>>>()?;
        tulip::wait(tasks, ReturnWhen::AllCompleted).await
    })?;
    println!("done: {}, pending: {}", done.len(), pending.len());
    Ok(())
}
