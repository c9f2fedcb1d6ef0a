//! Which thread runs a task, and blocking calls made harmless with `to_thread`.
//!
//! Part 1 needs the threaded executor compiled in (`--features threaded`): it builds a
//! threaded loop explicitly (`tulip::executors::threaded::Builder`) and spawns tasks
//! that note the thread running each of their steps; the steps run on the worker
//! threads, never on the thread that runs the loop. A build with only the local
//! executor says so in one line instead: there every task runs on the one thread.
//!
//! Part 2 is the tutorials' gevent idea ("monkey.patch_all() makes blocking I/O
//! cooperative"), the asyncio way, on the default loop: each blocking call (here a
//! 300 ms `thread::sleep` standing for `requests.get`) runs on the blocking pool
//! through `to_thread`, so five of them take about 300 ms in all, and a heartbeat task
//! keeps ticking on the loop meanwhile.
//!
//! ```sh
//! cargo run --example threaded_workers --features threaded
//! cargo run --example threaded_workers        # local executor only: Part 1 says so
//! ```
#[cfg(feature = "threaded")]
use std::collections::BTreeMap;
#[cfg(feature = "threaded")]
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[cfg(feature = "threaded")]
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

#[cfg(feature = "threaded")]
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

/// Part 1: eight tasks on a threaded loop of four workers; how many steps each
/// thread ran.
#[cfg(feature = "threaded")]
pub fn steps_per_thread() -> tulip::Result<BTreeMap<String, usize>> {
    let lp = tulip::executors::threaded::Builder::new()
        .workers(4)
        .build()?;
    let tally = Arc::new(Mutex::new(BTreeMap::new()));
    lp.run_until_complete(spread(tally.clone()))?;
    lp.close()?; // joins the workers
    let tally = tally.lock().unwrap().clone();
    Ok(tally)
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("Part 1: tasks and the threads that ran them");
    #[cfg(feature = "threaded")]
    {
        println!(
            "  (a threaded loop with 4 workers; this thread is {})",
            thread_name()
        );
        for (thread, steps) in steps_per_thread()? {
            println!("  {thread}: {steps} steps");
        }
    }
    #[cfg(not(feature = "threaded"))]
    println!(
        "  This build has only the local executor, so every task runs on this one thread, \
         as in asyncio; `cargo run --example threaded_workers --features threaded` compiles \
         the threaded executor in and shows tasks on worker threads."
    );
    println!("Part 2: blocking calls on the blocking pool (to_thread)");
    let lp = tulip::new_event_loop()?;
    tulip::set_event_loop(Some(lp.clone()));
    lp.run_until_complete(patched_fetches())?;
    lp.close()?;
    tulip::set_event_loop(None);
    Ok(())
}
