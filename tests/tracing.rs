//! With the `tracing` feature: a span per task (named, with its id and spawn site)
//! entered around each poll; the slow-step report and the loop's life as events.
//!
//! A small recording subscriber, installed as the global default (worker threads of
//! the threaded executor report to it too); one test function, so nothing else in
//! this binary writes to it meanwhile.
#![cfg(feature = "tracing")]

mod common;

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

#[derive(Default)]
struct Seen {
    /// Span id → (name, fields).
    spans: HashMap<u64, (String, HashMap<String, String>)>,
    /// Span ids in the order they were entered.
    entered: Vec<u64>,
    /// Events: level, message, fields.
    events: Vec<(tracing::Level, String, HashMap<String, String>)>,
}

#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Seen>>,
    next: Arc<AtomicU64>,
}

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(
            field.name().to_string(),
            format!("{value:?}").trim_matches('"').to_string(),
        );
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut fields = HashMap::new();
        span.record(&mut Fields(&mut fields));
        let mut seen = self.seen.lock().unwrap();
        seen.spans
            .insert(id, (span.metadata().name().to_string(), fields));
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut seen = self.seen.lock().unwrap();
        if let Some((_, fields)) = seen.spans.get_mut(&span.into_u64()) {
            values.record(&mut Fields(fields));
        }
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = HashMap::new();
        event.record(&mut Fields(&mut fields));
        let message = fields.remove("message").unwrap_or_default();
        let level = *event.metadata().level();
        self.seen
            .lock()
            .unwrap()
            .events
            .push((level, message, fields));
    }
    fn enter(&self, span: &Id) {
        self.seen.lock().unwrap().entered.push(span.into_u64());
    }
    fn exit(&self, _: &Id) {}
}

fn spans_events_and_the_default_handler_go_through_tracing(
    new_loop: common::Factory,
    rec: &Recorder,
) {
    let lp = new_loop().unwrap();
    lp.set_debug(true);
    let site = lp
        .run_until_complete(async {
            let t = tulip::create_task(async {
                tulip::sleep(Duration::from_millis(1)).await?;
                std::thread::sleep(Duration::from_millis(120)); // a slow step
                Ok::<_, tulip::Error>(5)
            })?;
            t.set_name("traced");
            let site = t.spawn_site().to_string();
            assert_eq!(t.await?, 5);
            Ok::<_, tulip::Error>(site)
        })
        .unwrap();
    assert!(site.starts_with("tests/tracing.rs:"), "{site}");
    // An unretrieved exception with no handler set: the default handler's event.
    lp.run_until_complete(async {
        drop(tulip::create_task(async {
            Err::<(), _>(tulip::Error::InvalidArgument("lost"))
        })?);
        tulip::sleep(Duration::from_millis(1)).await?;
        for _ in 0..10_000 {
            tulip::sleep(Duration::ZERO).await?;
            if tulip::all_tasks()?.is_empty() {
                break;
            }
        }
        Ok::<_, tulip::Error>(())
    })
    .unwrap();
    lp.close().unwrap();

    let seen = rec.seen.lock().unwrap();
    let (span_id, (_, fields)) = seen
        .spans
        .iter()
        .find(|(_, (name, f))| {
            name == "task" && f.get("name").map(String::as_str) == Some("traced")
        })
        .expect("a span named after the task");
    assert!(fields.contains_key("id"), "{fields:?}");
    assert_eq!(fields.get("spawn_site").unwrap(), &site, "{fields:?}");
    let entered = seen.entered.iter().filter(|id| *id == span_id).count();
    assert!(entered >= 2, "entered around each of its polls: {entered}");
    let slow = seen
        .events
        .iter()
        .find(|(_, m, _)| m.starts_with("Executing task \"traced\""))
        .expect("the slow step as an event");
    assert_eq!(slow.0, tracing::Level::WARN);
    let lost = seen
        .events
        .iter()
        .find(|(_, m, _)| m == "Task exception was never retrieved")
        .expect("the unretrieved exception as an event");
    assert_eq!(lost.0, tracing::Level::ERROR);
    assert!(
        lost.2.get("error").unwrap().contains("lost"),
        "{:?}",
        lost.2
    );
    for what in ["loop started", "loop stopped", "loop closed"] {
        assert!(
            seen.events
                .iter()
                .any(|(_, m, f)| m == what && f.get("loop_id") == Some(&lp.id().to_string())),
            "{what}"
        );
    }
}

#[test]
fn tracing_sees_tasks_slow_steps_and_loop_events_on_every_executor() {
    let rec = Recorder::default();
    tracing::subscriber::set_global_default(rec.clone()).unwrap();
    let mut factories: Vec<common::Factory> = Vec::new();
    #[cfg(feature = "local")]
    factories.push(tulip::executors::local::new_event_loop);
    #[cfg(feature = "threaded")]
    factories.push(tulip::executors::threaded::new_event_loop);
    for f in factories {
        spans_events_and_the_default_handler_go_through_tracing(f, &rec);
        *rec.seen.lock().unwrap() = Seen::default();
    }
}
