//! Which thread runs a task, and blocking calls made harmless with `to_thread`.
//!
//! Part 1 spawns tasks that note the thread running each of their steps. On the
//! threaded executor (`--no-default-features --features threaded`) the steps spread
//! over the worker threads; on the default single-threaded loop they all run on one.
//!
//! Part 2 is the tutorials' gevent idea ("monkey.patch_all() makes blocking I/O
//! cooperative"), the asyncio way: each blocking call (here a 300 ms `thread::sleep`
//! standing for `requests.get`) runs on the blocking pool through `to_thread`, so five
//! of them take about 300 ms in all, and a heartbeat task keeps ticking on the loop
//! meanwhile.
//!
//! ```sh
//! cargo run --example threaded_workers
//! cargo run --example threaded_workers --no-default-features --features threaded
//! ```
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn thread_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .to_string()
}

/// A blocking call, as `requests.get(url)` is in the gevent tutorial.
fn blocking_fetch(url: &str) -> usize {
    std::thread::sleep(Duration::from_millis(300));
    url.len() * 100
}

async fn spread(steps_per_thread: Arc<Mutex<BTreeMap<String, usize>>>) -> tulip::Result<()> {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let tally = steps_per_thread.clone();
            tulip::create_task(async move {
                let first = thread_name();
                for _ in 0..50 {
                    // A little CPU work per step, then let others run.
                    let _ = (0..20_000u64).fold(0u64, |a, b| a.wrapping_add(b * b));
                    *tally.lock().unwrap().entry(thread_name()).or_default() += 1;
                    tulip::yield_now().await?;
                }
                println!(
                    "  task {i} started on {first}, finished on {}",
                    thread_name()
                );
                Ok::<_, tulip::Error>(())
            })
        })
        .collect::<Result<_, _>>()?;
    for t in tasks {
        t.await?;
    }
    Ok(())
}

async fn patched_fetches() -> tulip::Result<()> {
    const URLS: [&str; 5] = [
        "https://a.example/",
        "https://bb.example/",
        "https://ccc.example/",
        "https://dddd.example/",
        "https://eeeee.example/",
    ];
    let heartbeat = tulip::create_task(async {
        let mut beats = 0;
        loop {
            if tulip::sleep(Duration::from_millis(50)).await.is_err() {
                // Cancelled: report how often the loop got to run.
                return Ok::<_, tulip::Error>(beats);
            }
            beats += 1;
        }
    })?;
    let start = Instant::now();
    let fetches: Vec<_> = URLS
        .iter()
        .enumerate()
        .map(|(i, url)| {
            tulip::create_task(async move {
                println!("  fetch {i} open: {url}");
                let size = tulip::to_thread(move || blocking_fetch(url)).await?;
                println!("  fetch {i} done: {size} bytes");
                Ok::<_, tulip::Error>(size)
            })
        })
        .collect::<Result<_, _>>()?;
    for f in fetches {
        f.await?;
    }
    let took = start.elapsed();
    heartbeat.cancel();
    let beats = heartbeat.await?;
    println!(
        "  {} blocking calls of 300 ms took {:.2} s together; the loop ticked {beats} times meanwhile",
        URLS.len(),
        took.as_secs_f64()
    );
    Ok(())
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lp = tulip::new_event_loop()?;
    tulip::set_event_loop(Some(lp.clone()));
    println!("Part 1: tasks and the threads that ran them");
    let tally = Arc::new(Mutex::new(BTreeMap::new()));
    lp.run_until_complete(spread(tally.clone()))?;
    for (thread, steps) in tally.lock().unwrap().iter() {
        println!("  {thread}: {steps} steps");
    }
    println!("Part 2: blocking calls on the blocking pool (to_thread)");
    lp.run_until_complete(patched_fetches())?;
    lp.close()?;
    tulip::set_event_loop(None);
    Ok(())
}
