//! Seed 002's aiohttp server: `/` and `/hello/{name}`, each answering after 0.5 s.
//!
//! ```python
//! async def index(request):
//!     await asyncio.sleep(0.5)
//!     return web.Response(body=b'<h1>Index</h1>')
//! async def hello(request):
//!     await asyncio.sleep(0.5)
//!     text = '<h1>hello, %s!</h1>' % request.match_info['name']
//!     return web.Response(body=text.encode('utf-8'))
//! async def init(loop):
//!     app = web.Application(loop=loop)
//!     app.router.add_route('GET', '/', index)
//!     app.router.add_route('GET', '/hello/{name}', hello)
//!     srv = await loop.create_server(app.make_handler(), '127.0.0.1', 8000)
//!     print('Server started at http://127.0.0.1:8000...')
//!     return srv
//! loop = asyncio.get_event_loop()
//! loop.run_until_complete(init(loop))
//! loop.run_forever()
//! ```
//!
//! `cargo run --example web_server [ADDR]` (default 127.0.0.1:8000) serves until
//! SIGINT / SIGTERM, then closes the server and exits 0. `--self-test` serves on a free port instead, fetches `/` and
//! `/hello/tulip` with tulip's own client, prints them and exits.
use std::time::Duration;

use tulip::web::{Application, Request, Response, Server};

async fn index(_request: Request) -> tulip::web::Result<Response> {
    tulip::sleep(Duration::from_millis(500)).await?;
    Response::new(b"<h1>Index</h1>".to_vec()).content_type("text/html")
}

async fn hello(request: Request) -> tulip::web::Result<Response> {
    tulip::sleep(Duration::from_millis(500)).await?;
    let text = format!("<h1>hello, {}!</h1>", request.match_info["name"]);
    Response::new(text.into_bytes()).content_type("text/html")
}

async fn init(addr: &str) -> tulip::web::Result<Server> {
    let mut app = Application::new();
    app.router.add_route("GET", "/", index);
    app.router.add_route("GET", "/hello/{name}", hello);
    let srv = app.serve(addr).await?;
    println!("Server started at http://{}...", srv.local_addr());
    Ok(srv)
}

#[allow(dead_code)] // also compiled into the tour and tests/signal_exit.rs
pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let self_test = args.iter().any(|a| a == "--self-test");
    let addr = args.iter().find(|a| !a.starts_with("--")).cloned();
    serve(addr, self_test)
}

/// The `--self-test` mode: what the tour runs.
#[allow(dead_code)]
pub fn self_test() -> Result<(), Box<dyn std::error::Error>> {
    serve(None, true)
}

/// Serves on `addr`; until SIGINT or SIGTERM (then closes the server, lets the
/// requests in flight finish, prints "server closed" and returns), or with
/// `self_test`, for two requests.
pub fn serve(addr: Option<String>, self_test: bool) -> Result<(), Box<dyn std::error::Error>> {
    let addr = addr.unwrap_or_else(|| {
        if self_test {
            "127.0.0.1:0"
        } else {
            "127.0.0.1:8000"
        }
        .into()
    });
    let lp = tulip::new_event_loop()?;
    tulip::set_event_loop(Some(lp.clone()));
    let srv = lp.run_until_complete(init(&addr))?;
    if self_test {
        let at = srv.local_addr();
        lp.run_until_complete(async {
            for path in ["/", "/hello/tulip"] {
                let resp = tulip::web::client::get(at, path).await?;
                println!("GET {path} -> {} {}", resp.status.as_u16(), resp.text());
            }
            srv.close();
            srv.wait_closed().await?;
            Ok::<_, tulip::web::Error>(())
        })?;
    } else {
        // Not in the seed (its server dies with Ctrl-C): asyncio's way to stop a
        // `run_forever` server cleanly, a signal handler that closes it and stops.
        for sig in [tulip::signal::SIGINT, tulip::signal::SIGTERM] {
            let (srv, handle) = (srv.clone(), lp.clone());
            lp.add_signal_handler(sig, move || {
                println!("signal {sig}: closing the server");
                srv.close();
                handle.stop();
            })?;
        }
        lp.run_forever()?;
        lp.run_until_complete(srv.wait_closed())?;
        println!("server closed");
    }
    lp.close()?;
    tulip::set_event_loop(None);
    Ok(())
}
