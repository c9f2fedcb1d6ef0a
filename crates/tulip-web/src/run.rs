//! [`run_app`]: serve an application until it is told to stop, then close cleanly
//! (aiohttp's `web.run_app`).

use tulip_net::ToAddrs;

use crate::app::Application;
use crate::error::Error;
use crate::server::Server;

/// Serves `app` on `addr` until the server is closed or the awaiting task is
/// cancelled, then closes it, waits for its connections and runs the clean-up
/// hooks (aiohttp's `web.run_app(app, host=..., port=...)`).
///
/// Signals: SIGINT / SIGTERM are not wired yet; cancel the task (or close the server
/// from [`run_server`]'s caller) to stop.
///
/// # Errors
/// As [`Application::serve`]; `Cancelled` when the task was cancelled (after the
/// clean shutdown); a clean-up hook's error.
///
/// # Cancel safety
/// Cancelling shuts the server down cleanly, then returns `Err(Cancelled)`.
pub async fn run_app(app: Application, addr: impl ToAddrs) -> Result<(), Error> {
    let srv = app.serve(addr).await?;
    tracing::info!(target: "tulip_web::server", addr = %srv.local_addr(), "running");
    run_server(&srv).await
}

/// The second half of [`run_app`], for a server already started with
/// [`Application::serve`] (so its caller knows the address): serves until closed or
/// cancelled, then closes cleanly.
///
/// # Errors
/// As [`run_app`].
///
/// # Cancel safety
/// As [`run_app`].
pub async fn run_server(srv: &Server) -> Result<(), Error> {
    // HOOK(signals): when tulip's signal handlers land, close the server on SIGINT /
    // SIGTERM here (race `srv.serve_forever()` against the signal, then fall through).
    let served = srv.serve_forever().await;
    srv.close();
    let closed = srv.wait_closed().await;
    served.and(closed)
}
