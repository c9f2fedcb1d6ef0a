//! tests/asyncio_ref/outcome_port.py in tulip: a task that is cancelled and cleans
//! up, a task that raises — and what each reports afterwards (docs/asyncio-to-tulip.md
//! walks through it line by line).
use std::time::Duration;

use tulip::Error;

async fn worker(n: u32) -> Result<(), Error> {
    // `finally:` is a guard: it runs however the body ends.
    struct Finally(u32);
    impl Drop for Finally {
        fn drop(&mut self) {
            println!("worker {} cleaning up", self.0);
        }
    }
    let _finally = Finally(n);
    tulip::sleep(Duration::from_secs(10)).await?; // the cancel arrives here
    Ok(())
}

async fn failing() -> Result<(), Error> {
    tulip::sleep(Duration::from_millis(10)).await?;
    Err(Error::exception(std::io::Error::other("bad input")))
}

fn main() -> Result<(), Error> {
    tulip::run(async {
        let w = tulip::create_task(worker(1))?;
        let f = tulip::create_task(failing())?;
        tulip::sleep(Duration::from_millis(20)).await?;
        w.cancel();
        let wr = w.task_ref();
        if let Err(Error::Cancelled(_)) = w.await {
            println!("worker cancelled: {}", wr.cancelled());
        }
        let fr = f.task_ref();
        if let Err(e) = f.await {
            println!(
                "failing raised: {e} | exception(): {:?}",
                fr.exception()?.map(|e| e.to_string())
            );
        }
        Ok(())
    })
}
