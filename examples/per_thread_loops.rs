//! Seed 004's policy rules: one loop per thread.
//!
//! - on the main thread `get_event_loop()` creates and sets a loop the first time;
//! - on any other thread it is an error until `set_event_loop(new_event_loop())`;
//! - the two threads' loops are different loops.
use std::time::Duration;

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let main_loop = tulip::get_event_loop()?;
    println!("main thread: get_event_loop() -> loop #{}", main_loop.id());

    let worker = std::thread::spawn(|| -> Result<u64, tulip::Error> {
        match tulip::get_event_loop() {
            Err(e) => println!("worker thread: get_event_loop() -> Error: {e}"),
            Ok(lp) => println!("worker thread: unexpected loop #{}", lp.id()),
        }
        tulip::set_event_loop(Some(tulip::new_event_loop()?));
        let lp = tulip::get_event_loop()?;
        println!("worker thread: after set_event_loop -> loop #{}", lp.id());
        lp.run_until_complete(tulip::sleep(Duration::from_millis(10)))?;
        println!("worker thread: ran a coroutine on its own loop");
        lp.close()?;
        Ok(lp.id())
    });
    // The thread's own outcome (it may have panicked), then what it returned.
    let other_id = worker.join().map_err(|_| "worker thread panicked")?;
    let other_id = other_id?;

    println!(
        "the loops are {}",
        if other_id == main_loop.id() {
            "the same"
        } else {
            "different"
        }
    );
    main_loop.run_until_complete(async {
        let running = tulip::get_running_loop()?;
        println!(
            "inside run_until_complete: get_running_loop() -> loop #{}",
            running.id()
        );
        Ok::<_, tulip::Error>(())
    })?;
    match tulip::get_running_loop() {
        Err(e) => println!("outside: get_running_loop() -> Error: {e}"),
        Ok(_) => return Err("a loop is running outside run_until_complete".into()),
    }
    Ok(())
}
