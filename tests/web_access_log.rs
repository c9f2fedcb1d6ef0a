//! tulip-web's access log goes through `tracing`, on the `tulip_web::access` target,
//! and is off unless the application turns it on (aiohttp's `access_log=None`).
//!
//! A process-wide subscriber records every event's target and fields; each scenario
//! tells its own requests apart by a query string unique to it.
#![cfg(feature = "web")]
mod common;
mod web_support;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};

use common::Factory;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use tulip::web::client;
use web_support::{run, test_app, Hits};

/// Every event seen: "target: field=value ...".
static EVENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Recorder;

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(format!("{}:", event.metadata().target()));
        event.record(&mut fields);
        EVENTS.lock().unwrap().push(fields.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| tracing::subscriber::set_global_default(Recorder).unwrap());
}

/// Access-log lines for requests whose URI carries `tag`.
fn access_lines(tag: &str) -> Vec<String> {
    EVENTS
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.starts_with("tulip_web::access:") && e.contains(tag))
        .cloned()
        .collect()
}

fn access_log_is_off_by_default_and_logs_each_request_when_on(new_loop: Factory) {
    install();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    run(new_loop, async {
        for on in [false, true] {
            let tag = format!("tag{}", NEXT.fetch_add(1, Ordering::SeqCst));
            let mut app = test_app(&Hits::default());
            app.access_log = on;
            let srv = app.serve("127.0.0.1:0").await.unwrap();
            let r = client::get(srv.local_addr(), &format!("/slow/0?{tag}"))
                .await
                .unwrap();
            assert_eq!(r.text(), "slept 0");
            let missing = client::get(srv.local_addr(), &format!("/nope?{tag}"))
                .await
                .unwrap();
            assert_eq!(missing.status, 404);
            srv.close();
            srv.wait_closed().await.unwrap();
            let lines = access_lines(&tag);
            if on {
                assert_eq!(lines.len(), 2, "{lines:?}");
                assert!(lines[0].contains("method=GET"), "{}", lines[0]);
                assert!(
                    lines[0].contains(&format!("uri=/slow/0?{tag}")),
                    "{}",
                    lines[0]
                );
                assert!(lines[0].contains("status=200"), "{}", lines[0]);
                assert!(lines[1].contains("status=404"), "{}", lines[1]);
            } else {
                assert!(lines.is_empty(), "{lines:?}");
            }
        }
    });
}

per_executor!(access_log_is_off_by_default_and_logs_each_request_when_on);
