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
/// SIGINT and SIGTERM close the server (as aiohttp's `run_app`): while it serves,
/// the running loop's handlers for those two signals are replaced by one that
/// closes it, and removed when it is done (so a later Ctrl-C has its default
/// effect again, as after aiohttp's `run_app` returns). Cancelling the task, or
/// closing the server from [`run_server`]'s caller, stops it too.
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
    let _signals = CloseOnSignals::install(srv);
    let served = srv.serve_forever().await;
    srv.close();
    let closed = srv.wait_closed().await;
    served.and(closed)
}

/// SIGINT / SIGTERM handlers on the running loop that close a server, removed when
/// dropped (also when the serving future is dropped rather than finished).
struct CloseOnSignals {
    lp: Option<tulip_core::EventLoop>,
    installed: Vec<i32>,
}

impl CloseOnSignals {
    fn install(srv: &Server) -> CloseOnSignals {
        let Ok(lp) = tulip_core::get_running_loop() else {
            return CloseOnSignals {
                lp: None,
                installed: Vec::new(),
            };
        };
        let mut installed = Vec::new();
        for sig in [tulip_core::signal::SIGINT, tulip_core::signal::SIGTERM] {
            let srv = srv.clone();
            let added = lp.add_signal_handler(sig, move || {
                tracing::info!(target: "tulip_web::server", signal = sig, "closing on signal");
                srv.close();
            });
            // A platform or loop that refuses signal handlers still serves; it is
            // stopped by cancelling or closing instead.
            if added.is_ok() {
                installed.push(sig);
            }
        }
        CloseOnSignals {
            lp: Some(lp),
            installed,
        }
    }
}

impl Drop for CloseOnSignals {
    fn drop(&mut self) {
        if let Some(lp) = &self.lp {
            for sig in self.installed.drain(..) {
                let _ = lp.remove_signal_handler(sig);
            }
        }
    }
}
