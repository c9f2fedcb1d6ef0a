//! The speed figure's tulip-web side: `GET /` answers `Hello, World!`.
//!
//! `cargo run --release -p tulip-web --example hello -- local|threaded [ADDR]`
//! (default 127.0.0.1:8080) serves until killed. `scripts/bench_hello.sh` runs it
//! against wrk next to `hyper_tokio_hello`.
use tulip_web::{Application, Request, Response};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let executor = args.first().map_or("local", String::as_str);
    let addr = args
        .get(1)
        .map_or("127.0.0.1:8080", String::as_str)
        .to_string();
    let lp = match executor {
        "local" => tulip_local::new_event_loop()?,
        "threaded" => tulip_threaded::new_event_loop()?,
        other => return Err(format!("unknown executor {other:?}: local or threaded").into()),
    };
    lp.run_until_complete(async move {
        let mut app = Application::new();
        app.router
            .add_get("/", |_r: Request| async { Response::text("Hello, World!") });
        let srv = app.serve(addr).await?;
        println!("tulip-web ({executor}) on http://{}", srv.local_addr());
        srv.serve_forever().await
    })?;
    Ok(())
}
