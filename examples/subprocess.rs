//! asyncio's subprocesses: run a command and stream its output line by line, then
//! `communicate` with input.
//!
//! ```python
//! async def main():
//!     p = await asyncio.create_subprocess_shell(
//!         "for i in 1 2 3; do echo line $i; done", stdout=PIPE)
//!     while line := await p.stdout.readline():
//!         print("got", line)
//!     print("exit", await p.wait())
//!     p = await asyncio.create_subprocess_exec("tr", "a-z", "A-Z", stdin=PIPE, stdout=PIPE)
//!     out, _ = await p.communicate(b"hello, tulip\n")
//!     print("tr said", out, "exit", p.returncode)
//! asyncio.run(main())
//! ```
//!
//! `cargo run --example subprocess`
use tulip::net::process::{
    create_subprocess_exec, create_subprocess_shell, Stdio, SubprocessOptions,
};

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    tulip::run(async {
        let opts = SubprocessOptions::new().stdout(Stdio::Pipe);
        let mut p = create_subprocess_shell("for i in 1 2 3; do echo line $i; done", opts).await?;
        let out = p.stdout.as_mut().expect("stdout is a pipe");
        loop {
            let line = out.readline().await?;
            if line.is_empty() {
                break; // end of file: the child closed its stdout
            }
            println!("got {:?}", String::from_utf8_lossy(&line));
        }
        println!("exit {}", p.wait().await?);

        let opts = SubprocessOptions::new()
            .stdin(Stdio::Pipe)
            .stdout(Stdio::Pipe);
        let mut p = create_subprocess_exec("tr", ["a-z", "A-Z"], opts).await?;
        let (out, _) = p.communicate(Some(b"hello, tulip\n")).await?;
        let out = out.expect("stdout is a pipe");
        println!(
            "tr said {:?}, exit {:?}",
            String::from_utf8_lossy(&out),
            p.returncode()
        );
        Ok::<_, tulip::net::Error>(())
    })?;
    Ok(())
}
