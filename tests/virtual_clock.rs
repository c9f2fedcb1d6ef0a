//! The virtual clock (`Builder::virtual_clock()`, `tulip::testing`) on every executor:
//! timers fire in exact deadline order at exactly their deadline, in no wall time;
//! `call_later`, `call_at`, `wait_for`, `timeout` and `wait(..).timeout(..)` follow
//! it; `advance` moves it by hand; a pending socket read, a blocking job or a busy
//! worker holds the jump back.
mod common;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{within, Factory};
use tulip::{Error, EventLoop, ReturnWhen};

/// xorshift64: a seeded sequence, no dependency.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

fn now() -> Instant {
    tulip::get_running_loop().unwrap().time()
}

/// The order timers were armed in and the order they woke their tasks in.
#[derive(Default)]
struct Order {
    armed: Vec<usize>,
    woke: Vec<usize>,
}

/// Wakes the task and notes which sleeper's timer fired, in firing order.
struct NoteWake {
    index: usize,
    order: Arc<Mutex<Order>>,
    task: std::task::Waker,
}

impl std::task::Wake for NoteWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.order.lock().unwrap().woke.push(self.index);
        self.task.wake_by_ref();
    }
}

/// `sleep(d)` whose timer is armed under the order's lock (so `armed` is the order
/// the loop got the timers in) with a waker that notes when it fires.
async fn noted_sleep(index: usize, d: Duration, order: Arc<Mutex<Order>>) -> tulip::Result<()> {
    let mut sleep = Box::pin(tulip::sleep(d));
    let mut waker = None;
    let mut armed = false;
    std::future::poll_fn(move |cx| {
        let w = waker.get_or_insert_with(|| {
            std::task::Waker::from(Arc::new(NoteWake {
                index,
                order: order.clone(),
                task: cx.waker().clone(),
            }))
        });
        let mut o = order.lock().unwrap();
        let r = sleep.as_mut().poll(&mut std::task::Context::from_waker(w));
        if !std::mem::replace(&mut armed, true) {
            o.armed.push(index);
        }
        r
    })
    .await
}

/// 1,000 tasks sleep seeded random durations (10 ms steps up to 10 s, so ties occur;
/// more than an hour in all): their timers wake them in deadline order, ties in the
/// order they were armed, each task sees the loop's time equal to its deadline when
/// it runs, and the whole run takes well under a second of wall time.
fn thousand_sleepers_wake_in_deadline_order_at_their_deadlines(new_loop: Factory) {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let delays: Vec<Duration> = (0..1000)
        .map(|_| Duration::from_millis((rng.next() % 1000 + 1) * 10))
        .collect();
    let total: Duration = delays.iter().sum();
    assert!(total > Duration::from_secs(3600), "{total:?}");
    let lp = new_loop().unwrap();
    let order = Arc::new(Mutex::new(Order::default()));
    let wall = Instant::now();
    let t0 = lp.time();
    let (o2, d2) = (order.clone(), delays.clone());
    let seen = lp
        .run_until_complete(async move {
            let mut tasks = Vec::new();
            for (index, d) in d2.into_iter().enumerate() {
                let order = o2.clone();
                tasks.push(tulip::create_task(async move {
                    let deadline = now() + d;
                    noted_sleep(index, d, order).await?;
                    Ok::<_, Error>((deadline, now()))
                })?);
            }
            let mut seen = Vec::new();
            for t in tasks {
                seen.push(t.await?);
            }
            Ok::<_, Error>(seen)
        })
        .unwrap();
    let took = wall.elapsed();
    for (i, (deadline, at)) in seen.iter().enumerate() {
        assert_eq!(at, deadline, "task {i} ran off its deadline");
        // Every timer was armed before the clock first moved.
        assert_eq!(*deadline - t0, delays[i]);
    }
    let order = order.lock().unwrap();
    assert_eq!(order.armed.len(), 1000);
    let rank: std::collections::HashMap<usize, usize> = order
        .armed
        .iter()
        .enumerate()
        .map(|(r, &i)| (i, r))
        .collect();
    let mut want: Vec<usize> = (0..1000).collect();
    want.sort_by_key(|&i| (delays[i], rank[&i]));
    assert_eq!(
        order.woke, want,
        "timers fired out of (deadline, armed) order"
    );
    assert_eq!(lp.time() - t0, *delays.iter().max().unwrap());
    assert!(took < Duration::from_secs(1), "took {took:?} of wall time");
    lp.close().unwrap();
}

/// The threaded executor with a single worker.
#[cfg(feature = "threaded")]
#[test]
fn thousand_sleepers_on_one_threaded_worker() {
    fn one_worker() -> tulip::Result<EventLoop> {
        tulip::executors::threaded::Builder::new()
            .workers(1)
            .virtual_clock()
            .build()
    }
    thousand_sleepers_wake_in_deadline_order_at_their_deadlines(one_worker);
}

/// `call_later` and `call_at` callbacks run at exactly their instant, in order.
fn call_later_and_call_at_follow_the_clock(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let t0 = lp.time();
    let log = Arc::new(Mutex::new(Vec::new()));
    let add = |name: &'static str| {
        let (log, lp2) = (log.clone(), lp.clone());
        move || log.lock().unwrap().push((name, lp2.time() - t0))
    };
    lp.call_later(Duration::from_secs(90), add("later 90s"))
        .unwrap();
    lp.call_at(t0 + Duration::from_secs(30), add("at 30s"))
        .unwrap();
    let cancelled = lp
        .call_later(Duration::from_secs(60), add("cancelled"))
        .unwrap();
    cancelled.cancel();
    lp.call_later(Duration::from_secs(30), add("later 30s"))
        .unwrap();
    let lp2 = lp.clone();
    lp.call_at(t0 + Duration::from_secs(7200), move || lp2.stop())
        .unwrap();
    within(Duration::from_secs(30), || lp.run_forever()).unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        [
            ("at 30s", Duration::from_secs(30)),
            ("later 30s", Duration::from_secs(30)),
            ("later 90s", Duration::from_secs(90)),
        ]
    );
    assert_eq!(lp.time() - t0, Duration::from_secs(7200));
    lp.close().unwrap();
}

/// `wait_for` times out at exactly its deadline, and lets a faster body finish.
fn wait_for_follows_the_clock(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let t0 = lp.time();
    let (slow, fast, t1) = within(Duration::from_secs(30), || {
        lp.run_until_complete(async {
            let slow = tulip::wait_for(
                tulip::sleep(Duration::from_secs(3600)),
                Duration::from_secs(30),
            )
            .await;
            let t1 = now();
            let fast = tulip::wait_for(
                async {
                    tulip::sleep(Duration::from_secs(10)).await?;
                    Ok::<_, Error>(7)
                },
                Duration::from_secs(30),
            )
            .await;
            Ok::<_, Error>((slow, fast, t1))
        })
    })
    .unwrap();
    assert!(slow.unwrap_err().is_timeout());
    assert_eq!(t1 - t0, Duration::from_secs(30));
    assert_eq!(fast.unwrap(), 7);
    assert_eq!(lp.time() - t0, Duration::from_secs(40));
    lp.close().unwrap();
}

/// `timeout` / `timeout_at` scopes expire at exactly their deadline; a reschedule
/// moves it.
fn timeout_scopes_follow_the_clock(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let t0 = lp.time();
    // Made outside the loop: it counts from entering, on the loop's clock.
    let outside = tulip::timeout(Duration::from_secs(5));
    let times = within(Duration::from_secs(30), || {
        lp.run_until_complete(async move {
            let mut times = Vec::new();
            let r = outside.run(tulip::sleep(Duration::from_secs(3600))).await;
            assert!(matches!(r, Err(Error::TimeoutError(Some(_)))), "{r:?}");
            times.push(now());
            let cm = tulip::timeout(Duration::from_secs(20));
            let cm2 = cm.clone();
            let r = cm
                .run(async move {
                    tulip::sleep(Duration::from_secs(1)).await?;
                    cm2.reschedule(Some(now() + Duration::from_secs(100)))
                        .unwrap();
                    tulip::sleep(Duration::from_secs(3600)).await
                })
                .await;
            assert!(matches!(r, Err(Error::TimeoutError(Some(_)))), "{r:?}");
            times.push(now());
            let r = tulip::timeout_at(now() + Duration::from_secs(50))
                .run(async {
                    tulip::sleep(Duration::from_secs(49)).await?;
                    Ok::<_, Error>(1)
                })
                .await;
            assert_eq!(r.unwrap(), 1);
            times.push(now());
            Ok::<_, Error>(times)
        })
    })
    .unwrap();
    let rel: Vec<_> = times.iter().map(|t| *t - t0).collect();
    assert_eq!(
        rel,
        [
            Duration::from_secs(5),
            Duration::from_secs(5 + 101),
            Duration::from_secs(5 + 101 + 49),
        ]
    );
    lp.close().unwrap();
}

/// `wait(..).timeout(..)` returns what is done at exactly the timeout.
fn wait_timeout_follows_the_clock(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let t0 = lp.time();
    let (done, pending, t) = within(Duration::from_secs(30), || {
        lp.run_until_complete(async {
            let sleeper = |secs| {
                tulip::create_task(async move {
                    tulip::sleep(Duration::from_secs(secs)).await?;
                    Ok::<_, Error>(secs)
                })
            };
            let tasks = vec![sleeper(10)?, sleeper(3600)?, sleeper(20)?];
            let (done, pending) = tulip::wait(tasks, ReturnWhen::AllCompleted)
                .timeout(Duration::from_secs(60))
                .await?;
            let t = now();
            let done: Vec<u64> = done.into_iter().map(|mut t| t.result().unwrap()).collect();
            for p in &pending {
                p.cancel();
            }
            Ok::<_, Error>((done, pending.len(), t))
        })
    })
    .unwrap();
    assert_eq!(done, [10, 20]);
    assert_eq!(pending, 1);
    assert_eq!(t - t0, Duration::from_secs(60));
    lp.close().unwrap();
}

/// With auto-advance off the clock moves only by hand: `advance` fires exactly the
/// timers then due, in order, at the loop's next iteration.
fn advance_by_hand_wakes_exactly_the_due_timers(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let clock = lp.virtual_clock().expect("a virtual loop");
    clock.set_auto_advance(false);
    assert!(!clock.auto_advance());
    let t0 = lp.time();
    let fired = Arc::new(Mutex::new(Vec::new()));
    for secs in [3, 1, 2, 5] {
        let fired = fired.clone();
        lp.call_at(t0 + Duration::from_secs(secs), move || {
            fired.lock().unwrap().push(secs)
        })
        .unwrap();
    }
    let f2 = fired.clone();
    let c2 = clock.clone();
    let seen = within(Duration::from_secs(30), || {
        lp.run_until_complete(async move {
            let mut seen = Vec::new();
            // Three iterations: the due timers fire in the one after the advance.
            let settle = || async {
                for _ in 0..3 {
                    tulip::yield_now().await?;
                }
                Ok::<_, Error>(())
            };
            settle().await?;
            seen.push(f2.lock().unwrap().clone());
            c2.advance(Duration::from_millis(1500));
            settle().await?;
            seen.push(f2.lock().unwrap().clone());
            c2.advance_to(t0 + Duration::from_secs(3));
            settle().await?;
            seen.push(f2.lock().unwrap().clone());
            c2.advance_to(t0); // the past: nothing moves
            settle().await?;
            seen.push(f2.lock().unwrap().clone());
            Ok::<_, Error>(seen)
        })
    })
    .unwrap();
    assert_eq!(seen, [vec![], vec![1], vec![1, 2, 3], vec![1, 2, 3]]);
    assert_eq!(lp.time() - t0, Duration::from_secs(3));
    lp.close().unwrap();
}

/// With auto-advance off, an idle loop waits for an advance from another thread
/// (without one it would wait for ever), and then fires the timer.
fn advance_from_another_thread_wakes_a_waiting_loop(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let clock = lp.virtual_clock().unwrap();
    clock.set_auto_advance(false);
    let t0 = lp.time();
    let started = Arc::new(std::sync::Barrier::new(2));
    let s2 = started.clone();
    let mover = std::thread::spawn(move || {
        s2.wait();
        // Usually the loop is waiting (without a timeout) by now; either way the
        // advance must reach it.
        std::thread::sleep(Duration::from_millis(20));
        clock.advance(Duration::from_secs(3600));
    });
    let t = within(Duration::from_secs(30), || {
        lp.run_until_complete(async move {
            let s = tulip::sleep(Duration::from_secs(3600));
            let lp = tulip::get_running_loop()?;
            lp.call_soon(move || {
                started.wait();
            })?;
            s.await?;
            Ok::<_, Error>(now())
        })
    })
    .unwrap();
    mover.join().unwrap();
    assert_eq!(t - t0, Duration::from_secs(3600));
    lp.close().unwrap();
}

/// A task waiting on a socket holds the jump back: a reply that arrives (in real
/// time) before the virtual timeout is read, where a jump would have timed it out;
/// once nothing waits on the socket any more, the loop jumps again.
#[cfg(feature = "net")]
fn a_pending_socket_read_holds_the_jump_back(new_loop: Factory) {
    use futures::io::AsyncReadExt;
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        // Reply only once the loop side is parked on its read, and a moment later.
        go_rx.recv().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        s.write_all(b"hello").unwrap();
        go_rx.recv().ok(); // keep the socket open until told
    });
    let lp = new_loop().unwrap();
    let t0 = lp.time();
    let wall = Instant::now();
    let (got, waited, slept) = within(Duration::from_secs(60), || {
        lp.run_until_complete(async move {
            let mut s = tulip::net::TcpStream::connect(addr).await.unwrap();
            go_tx.send(()).unwrap();
            let start = now();
            let mut buf = [0u8; 5];
            tulip::timeout(Duration::from_secs(30))
                .run(async {
                    s.read_exact(&mut buf).await.unwrap();
                    Ok::<_, Error>(())
                })
                .await?;
            let waited = now() - start;
            // The socket stays open, but nobody reads it: the loop jumps again.
            let start = now();
            tulip::sleep(Duration::from_secs(3600)).await?;
            let slept = now() - start;
            drop(go_tx);
            drop(s);
            Ok::<_, Error>((buf, waited, slept))
        })
    })
    .unwrap();
    peer.join().unwrap();
    assert_eq!(&got, b"hello");
    // The clock followed real time while the read was pending, and never past the
    // timeout's timer.
    assert!(waited < Duration::from_secs(30), "{waited:?}");
    assert!(waited <= wall.elapsed());
    assert_eq!(slept, Duration::from_secs(3600));
    assert!(lp.time() - t0 >= Duration::from_secs(3600));
    lp.close().unwrap();
}

/// A read that never gets data times out at exactly its virtual deadline, after
/// waiting that long for real (data could have come until then).
#[cfg(feature = "net")]
fn a_read_with_no_reply_times_out_at_its_deadline(new_loop: Factory) {
    use futures::io::AsyncReadExt;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let lp = new_loop().unwrap();
    let wall = Instant::now();
    let (r, waited) = lp
        .run_until_complete(async move {
            let mut s = tulip::net::TcpStream::connect(addr).await.unwrap();
            let start = now();
            let mut buf = [0u8; 1];
            let r = tulip::wait_for(
                async move {
                    s.read_exact(&mut buf).await.unwrap();
                    Ok::<_, Error>(())
                },
                Duration::from_millis(200),
            )
            .await;
            Ok::<_, Error>((r, now() - start))
        })
        .unwrap();
    assert!(r.unwrap_err().is_timeout());
    assert_eq!(waited, Duration::from_millis(200));
    assert!(wall.elapsed() >= Duration::from_millis(200));
    drop(listener);
    lp.close().unwrap();
}

/// A blocking job of the loop holds the jump back: its result beats a timeout it
/// would beat on the real clock.
fn a_blocking_job_holds_the_jump_back(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let t0 = lp.time();
    let r = within(Duration::from_secs(60), || {
        lp.run_until_complete(async {
            tulip::wait_for(
                async {
                    tulip::to_thread(|| {
                        std::thread::sleep(Duration::from_millis(50));
                        7
                    })
                    .await
                },
                Duration::from_secs(30),
            )
            .await
        })
    });
    assert_eq!(r.unwrap(), 7);
    let job = lp.run_in_executor(None, || {
        std::thread::sleep(Duration::from_millis(20));
        8
    });
    let r = lp.run_until_complete(async { tulip::wait_for(job?, Duration::from_secs(30)).await });
    assert_eq!(r.unwrap(), 8);
    assert!(lp.time() - t0 < Duration::from_secs(30));
    lp.close().unwrap();
}

/// A task step still running (blocking its thread) holds the jump back: the clock
/// stands still until every step is done.
fn a_running_step_holds_the_jump_back(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let t0 = lp.time();
    let (during, after) = within(Duration::from_secs(60), || {
        lp.run_until_complete(async {
            let sleeper = tulip::create_task(async {
                tulip::sleep(Duration::from_secs(60)).await?;
                Ok::<_, Error>(now())
            })?;
            let busy = tulip::create_task(async {
                tulip::sleep(Duration::ZERO).await?;
                std::thread::sleep(Duration::from_millis(100));
                Ok::<_, Error>(now())
            })?;
            let during = busy.await?;
            let after = sleeper.await?;
            Ok::<_, Error>((during, after))
        })
    })
    .unwrap();
    assert_eq!(during, t0);
    assert_eq!(after - t0, Duration::from_secs(60));
    lp.close().unwrap();
}

/// `tulip::testing::new_virtual_loop` builds the default executor on a virtual clock;
/// an ordinary loop has none.
#[test]
fn new_virtual_loop_has_a_virtual_clock() {
    let lp = tulip::testing::new_virtual_loop().unwrap();
    let clock = lp.virtual_clock().unwrap();
    assert!(clock.auto_advance());
    let t0 = lp.time();
    assert_eq!(clock.now(), t0);
    lp.run_until_complete(tulip::sleep(Duration::from_secs(86_400)))
        .unwrap();
    assert_eq!(lp.time() - t0, Duration::from_secs(86_400));
    assert!(tulip::new_event_loop().unwrap().virtual_clock().is_none());
}

per_executor!(virtual:
    thousand_sleepers_wake_in_deadline_order_at_their_deadlines,
    call_later_and_call_at_follow_the_clock,
    wait_for_follows_the_clock,
    timeout_scopes_follow_the_clock,
    wait_timeout_follows_the_clock,
    advance_by_hand_wakes_exactly_the_due_timers,
    advance_from_another_thread_wakes_a_waiting_loop,
    a_blocking_job_holds_the_jump_back,
    a_running_step_holds_the_jump_back,
);

#[cfg(feature = "net")]
mod net {
    use super::*;
    per_executor!(virtual:
        a_pending_socket_read_holds_the_jump_back,
        a_read_with_no_reply_times_out_at_its_deadline,
    );
}
