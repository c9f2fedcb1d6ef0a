//! Finding a blocking call, a stuck task and a leaked task (docs/debugging.md shows
//! this program's output).
//!
//! `cargo run --example debugging`

use std::time::Duration;

use tulip::Error;

fn main() -> Result<(), Error> {
    let lp = tulip::new_event_loop()?;

    // 1. A blocking call: debug mode names the task whose step took too long.
    println!("== a blocking call, debug mode on");
    lp.set_debug(true);
    lp.run_until_complete(async {
        let t = tulip::create_task(async {
            std::thread::sleep(Duration::from_millis(300)); // should be to_thread
            Ok::<_, Error>(())
        })?;
        t.set_name("resize-images");
        t.await
    })?;
    lp.set_debug(false);

    // 2. A stuck task: the dump says what each task waits on, and who awaits whom.
    println!("\n== a stuck task: the dump, taken from another thread");
    let watcher = lp.clone();
    lp.run_until_complete(async move {
        let lock = std::sync::Arc::new(tulip::Lock::new());
        let held = lock.acquire().await?; // never released below: the bug
        let l2 = lock.clone();
        let worker = tulip::create_task(async move {
            let _g = l2.acquire().await?;
            Ok::<_, Error>(())
        })?;
        worker.set_name("worker");
        let supervisor = tulip::create_task(async move { worker.await.map(|()| "done") })?;
        supervisor.set_name("supervisor");
        tulip::sleep(Duration::from_millis(10)).await?;
        let dump = tulip::to_thread(move || watcher.dump_tasks()).await?;
        print!("{dump}");
        supervisor.cancel();
        drop(held);
        let _ = supervisor.await;
        Ok::<_, Error>(())
    })?;

    // 3. A leaked task: after the work is done, stats() and the dump still show it.
    println!("\n== a leaked task: what is left after the work is done");
    lp.run_until_complete(async {
        let forgotten = tulip::create_task(async {
            tulip::sleep(Duration::from_secs(3600)).await // nobody awaits or cancels it
        })?;
        forgotten.set_name("forgotten-poller");
        drop(forgotten); // detached, still running
        tulip::sleep(Duration::from_millis(1)).await
    })?;
    let s = lp.stats();
    println!(
        "live tasks {}, pending timers {}, iterations {}, task steps {}, callbacks {}",
        s.live_tasks, s.pending_timers, s.iterations, s.task_steps, s.callbacks_run
    );
    print!("{}", lp.dump_tasks());
    lp.close()?;
    Ok(())
}
