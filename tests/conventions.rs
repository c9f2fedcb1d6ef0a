//! Rust conventions users rely on: errors are `std::error::Error` and keep their
//! causes across conversions, public types are `Debug`, handles have the auto traits
//! they need to cross threads, asyncio's names answer in asyncio's order, and Rust's
//! names (`len`, `is_empty`) sit beside asyncio's (`qsize`, `empty`).
mod common;

use std::error::Error as StdError;
use std::fmt;
use std::io;

use common::Factory;
use tulip::{Cancelled, Error, LifoQueue, PriorityQueue, Queue, SyncError};

/// A user error with a cause of its own.
#[derive(Debug)]
struct Outer(io::Error);

impl fmt::Display for Outer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("outer failed")
    }
}

impl StdError for Outer {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.0)
    }
}

/// The first error in `e`'s `source()` chain that is a `T`.
fn find_in_chain<'a, T: StdError + 'static>(e: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut cur = e.source();
    while let Some(c) = cur {
        if let Some(t) = c.downcast_ref::<T>() {
            return Some(t);
        }
        cur = c.source();
    }
    None
}

fn is_error<E: StdError + Send + Sync + 'static>() {}

#[test]
fn error_types_are_std_errors() {
    is_error::<Cancelled>();
    is_error::<Error>();
    is_error::<SyncError>();
    is_error::<tulip::PutError<String>>();
    is_error::<tulip::TaskGroupError<Error>>();
    is_error::<tulip::coro::Error>();
    #[cfg(feature = "net")]
    {
        is_error::<tulip::net::Error>();
        is_error::<tulip::web::Error>();
    }
    #[cfg(feature = "hyper")]
    is_error::<tulip::hyper::Error>();

    // Cancelled reads as asyncio's CancelledError, message included.
    let c = Cancelled {
        msg: Some("bye".into()),
    };
    assert_eq!(c.to_string(), "cancelled: bye");
    let boxed: Box<dyn StdError + Send + Sync> = Box::new(c.clone());
    assert_eq!(boxed.to_string(), "cancelled: bye");
    assert_eq!(Error::from(c).to_string(), "cancelled: bye");
}

#[test]
fn io_error_is_the_source_of_tulip_io() {
    let e = Error::from(io::Error::from(io::ErrorKind::AddrInUse));
    assert!(e.to_string().starts_with("i/o error: "), "{e}");
    let src = e.source().expect("an Io error has its io::Error as source");
    let io = src
        .downcast_ref::<io::Error>()
        .expect("the io::Error itself");
    assert_eq!(io.kind(), io::ErrorKind::AddrInUse);
}

#[test]
fn exception_keeps_the_wrapped_errors_causes() {
    let e = Error::exception(Outer(io::Error::from(io::ErrorKind::NotFound)));
    assert_eq!(e.to_string(), "outer failed");
    let io = find_in_chain::<io::Error>(&e).expect("the cause survives the wrap");
    assert_eq!(io.kind(), io::ErrorKind::NotFound);
    // And the wrapped error itself is still there to match on.
    match &e {
        Error::Exception(inner) => assert!(inner.downcast_ref::<Outer>().is_some()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn timeout_cause_survives_sync_error() {
    let core = Error::TimeoutError(Some(Cancelled::default()));
    assert!(find_in_chain::<Cancelled>(&core).is_some());
    // tulip::sync::Error wraps a core error transparently, both ways.
    let sync = SyncError::from(core);
    assert!(find_in_chain::<Cancelled>(&sync).is_some());
    let back = Error::from(sync);
    assert!(find_in_chain::<Cancelled>(&back).is_some());
}

#[cfg(feature = "net")]
#[test]
fn net_error_causes_survive_into_tulip_error() {
    // A failed connect: the OS error is the cause, in net::Error and after `?` into
    // tulip::Error.
    let net = tulip::net::Error::Connect {
        target: "127.0.0.1:9".into(),
        source: io::Error::from(io::ErrorKind::ConnectionRefused),
    };
    let refused = |e: &(dyn StdError + 'static)| {
        find_in_chain::<io::Error>(e).map(|io| io.kind()) == Some(io::ErrorKind::ConnectionRefused)
    };
    assert!(refused(&net));
    let text = net.to_string();
    let core: Error = net.into();
    assert_eq!(core.to_string(), text);
    assert!(refused(&core), "{core:?}: source chain lost");

    // A plain OS error goes to tulip::Error::Io, still the source.
    let net = tulip::net::Error::from(io::Error::from(io::ErrorKind::BrokenPipe));
    let core: Error = net.into();
    assert!(matches!(core, Error::Io(_)));
    assert_eq!(
        find_in_chain::<io::Error>(&core).map(|e| e.kind()),
        Some(io::ErrorKind::BrokenPipe)
    );
}

#[cfg(feature = "net")]
#[test]
fn web_other_error_keeps_its_causes() {
    let boxed: Box<dyn StdError + Send + Sync> =
        Box::new(Outer(io::Error::from(io::ErrorKind::TimedOut)));
    let e = tulip::web::Error::from(boxed);
    assert_eq!(e.to_string(), "outer failed");
    assert_eq!(
        find_in_chain::<io::Error>(&e).map(|e| e.kind()),
        Some(io::ErrorKind::TimedOut)
    );
}

#[cfg(feature = "hyper")]
#[test]
fn hyper_server_error_has_its_source() {
    let boxed: Box<dyn StdError + Send + Sync> = Box::new(io::Error::other("h2 failed"));
    let e = tulip::hyper::Error::Server(boxed);
    assert_eq!(
        find_in_chain::<io::Error>(&e).map(|e| e.to_string()),
        Some("h2 failed".to_string())
    );
}

#[test]
fn queues_answer_to_rust_and_asyncio_names() {
    let q = Queue::new(0);
    assert!(q.is_empty() && q.empty());
    assert_eq!((q.len(), q.qsize()), (0, 0));
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    assert!(!q.is_empty() && !q.empty());
    assert_eq!((q.len(), q.qsize()), (2, 2));

    let p = PriorityQueue::new(0);
    p.put_nowait(3).unwrap();
    assert_eq!(
        (p.len(), p.qsize(), p.is_empty(), p.empty()),
        (1, 1, false, false)
    );
    let l: LifoQueue<u8> = LifoQueue::new(0);
    assert_eq!(
        (l.len(), l.qsize(), l.is_empty(), l.empty()),
        (0, 0, true, true)
    );
}

/// `Default` is asyncio's no-argument constructor: unbounded.
#[test]
fn default_queues_are_unbounded() {
    let q: Queue<u8> = Queue::default();
    let p: PriorityQueue<u8> = PriorityQueue::default();
    let l: LifoQueue<u8> = LifoQueue::default();
    assert_eq!((q.maxsize(), p.maxsize(), l.maxsize()), (0, 0, 0));
    for i in 0..1000 {
        q.put_nowait(i as u8).unwrap();
    }
    assert!(!q.full());
}

/// Tasks and loops go in hash sets, as asyncio's `background_tasks = set()`.
// Both hash and compare by id, which never changes; clippy sees the atomics inside.
#[allow(clippy::mutable_key_type)]
fn tasks_and_loops_are_hashable(new_loop: Factory) {
    use std::collections::HashSet;
    let lp = new_loop().unwrap();
    let other = new_loop().unwrap();
    let loops: HashSet<tulip::EventLoop> = [lp.clone(), lp.clone(), other.clone()].into();
    assert_eq!(loops.len(), 2);
    lp.run_until_complete(async {
        let mut background = HashSet::new();
        let a = tulip::create_task(async { Ok::<_, Error>(1) })?;
        let b = tulip::create_task(async { Ok::<_, Error>(2) })?;
        background.insert(a.task_ref());
        background.insert(b.task_ref());
        background.insert(a.task_ref());
        assert_eq!(background.len(), 2);
        assert!(background.contains(&b.task_ref()));
        assert_eq!(a.await? + b.await?, 3);
        Ok::<_, Error>(())
    })
    .unwrap();
    other.close().unwrap();
}

/// asyncio's `get_write_buffer_limits()` answers `(low, high)`; low defaults to
/// high / 4 (tests/asyncio_ref/write_buffer_limits.py).
#[cfg(feature = "net")]
fn write_buffer_limits_in_asyncio_order(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let (a, _b) = tulip::net::UnixStream::pair()?;
        let w = tulip::net::StreamWriter::from_async_write(a);
        assert_eq!(w.get_write_buffer_limits(), (16 * 1024, 64 * 1024));
        w.set_write_buffer_limits(1024, None);
        assert_eq!(w.get_write_buffer_limits(), (256, 1024));
        w.set_write_buffer_limits(64 * 1024, Some(16 * 1024));
        assert_eq!(w.get_write_buffer_limits(), (16 * 1024, 64 * 1024));
        assert_eq!((w.get_write_buffer_size(), w.write_buffer_size()), (0, 0));
        Ok::<_, tulip::net::Error>(())
    })
    .unwrap();
}

/// The queue futures print as what they are, parked or not.
fn queue_futures_are_debug(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let q: Queue<u8> = Queue::new(1);
        let get = q.get();
        assert!(format!("{get:?}").starts_with("Get {"), "{get:?}");
        drop(get);
        q.put_nowait(1).unwrap();
        let put = q.put(2);
        let text = format!("{put:?}");
        assert!(
            text.starts_with("Put {") && text.contains("qsize: 1"),
            "{text}"
        );
        drop(put);
        let join = q.join();
        assert!(format!("{join:?}").starts_with("Join {"));
        drop(join);
        Ok::<_, Error>(())
    })
    .unwrap();
}

#[cfg(feature = "net")]
per_executor!(write_buffer_limits_in_asyncio_order);
mod debug {
    use super::*;
    per_executor!(queue_futures_are_debug);
}
mod hash {
    use super::*;
    per_executor!(tasks_and_loops_are_hashable);
}

#[cfg(feature = "local")]
#[test]
fn local_loop_is_debug() {
    let lp = tulip::executors::local::LocalLoop::new().unwrap();
    let text = format!("{lp:?}");
    assert!(
        text.starts_with("LocalLoop {") && text.contains("closed: false"),
        "{text}"
    );
}

/// Handles cross threads and clone cheaply, as a Rust user expects of them.
#[test]
fn handles_have_their_auto_traits() {
    fn send_sync_clone<T: Send + Sync + Clone>() {}
    fn send_sync<T: Send + Sync>() {}
    fn send_unpin<T: Send + Unpin>() {}
    send_sync_clone::<tulip::EventLoop>();
    send_sync_clone::<tulip::TaskRef>();
    send_sync_clone::<tulip::Promise<u8>>();
    send_sync_clone::<Queue<u8>>();
    send_sync_clone::<tulip::Event>();
    send_sync_clone::<tulip::Timeout>();
    send_sync_clone::<Error>();
    send_sync_clone::<SyncError>();
    send_sync::<tulip::Lock>();
    send_sync::<tulip::Semaphore>();
    send_sync::<tulip::Condition>();
    send_sync::<tulip::Barrier>();
    send_sync::<tulip::ThreadPool>();
    send_unpin::<tulip::Task<u8>>();
    send_unpin::<tulip::Sleep>();
    #[cfg(feature = "net")]
    {
        send_sync_clone::<tulip::net::StreamWriter>();
        send_unpin::<tulip::net::StreamReader>();
        send_sync::<tulip::net::Error>();
    }
}
