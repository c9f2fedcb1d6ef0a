//! `yield from`: a generator delegating to a sub-generator.
//!
//! Python seed:
//!
//! ```python
//! def func1():
//!     yield 1
//!     yield from func2()
//!     yield 3
//!
//! def func2():
//!     yield 2
//!     yield 4
//!
//! for item in func1():
//!     print(item)
//! ```
//!
//! Prints 1, 2, 4, 3. Run with `cargo run --example yield_from`.

use tulip::coro::Generator;

fn func1() -> Generator<i32> {
    Generator::new(|co| async move {
        co.yield_(1).await?;
        co.yield_from(func2()).await?;
        co.yield_(3).await?;
        Ok(())
    })
}

fn func2() -> Generator<i32> {
    Generator::new(|co| async move {
        co.yield_(2).await?;
        co.yield_(4).await?;
        Ok(())
    })
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    for item in func1() {
        println!("{item}");
    }
    Ok(())
}
