//! A generator as a consumer that the producer drives with `send`.
//!
//! Python seed:
//!
//! ```python
//! def consumer():
//!     r = ''
//!     while True:
//!         n = yield r
//!         if not n:
//!             return
//!         print('[CONSUMER] Consuming %s...' % n)
//!         r = '200 OK'
//!
//! def produce(c):
//!     c.send(None)
//!     n = 0
//!     while n < 5:
//!         n = n + 1
//!         print('[PRODUCER] Producing %s...' % n)
//!         r = c.send(n)
//!         print('[PRODUCER] Consumer return: %s' % r)
//!     c.close()
//!
//! c = consumer()
//! produce(c)
//! ```
//!
//! Run with `cargo run --example producer_consumer`.

use tulip::coro::{Error, Generator, GeneratorState};

fn consumer() -> Generator<&'static str, i32> {
    Generator::new(|co| async move {
        let mut r = "";
        loop {
            let n = co.yield_(r).await?;
            if n == 0 {
                return Ok(());
            }
            println!("[CONSUMER] Consuming {n}...");
            r = "200 OK";
        }
    })
}

fn produce(mut c: Generator<&'static str, i32>) -> Result<(), Error> {
    c.start()?; // c.send(None)
    let mut n = 0;
    while n < 5 {
        n += 1;
        println!("[PRODUCER] Producing {n}...");
        let GeneratorState::Yielded(r) = c.send(n)? else {
            break; // the consumer returned
        };
        println!("[PRODUCER] Consumer return: {r}");
    }
    c.close()?;
    Ok(())
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let c = consumer();
    produce(c)?;
    Ok(())
}
