//! `gather`: input order, error propagation, return-exceptions mode, cancellation.
mod common;

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use common::{until, Factory, Log};
use tulip::{gather, gather_all, gather_local, sleep, Error, Event};

type BoxFut<T> = Pin<Box<dyn Future<Output = tulip::Result<T>> + Send>>;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Children finish in reverse order; the results still come in input order.
fn results_in_input_order(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    let out = lp
        .run_until_complete(async move {
            let kids = (0..5u64).map(|i| {
                let l = l.clone();
                async move {
                    sleep(ms(10 * (5 - i))).await?;
                    l.push(format!("done {i}"));
                    Ok::<_, Error>(i * 10)
                }
            });
            gather(kids).await
        })
        .unwrap()
        .unwrap();
    assert_eq!(out, [0, 10, 20, 30, 40]);
    assert_eq!(
        log.take(),
        ["done 4", "done 3", "done 2", "done 1", "done 0"]
    );
}

/// The first `Err` reaches the awaiter at once; the other children keep running.
fn first_error_propagates_others_keep_running(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let finished = Event::new();
        let f2 = finished.clone();
        let slow: BoxFut<u32> = Box::pin(async move {
            sleep(ms(40)).await?;
            f2.set();
            Ok(1)
        });
        let failing: BoxFut<u32> = Box::pin(async {
            sleep(ms(5)).await?;
            Err(Error::InvalidState("boom"))
        });
        let r = gather(vec![slow, failing]).await;
        assert!(matches!(r, Err(Error::InvalidState("boom"))), "{r:?}");
        assert!(!finished.is_set(), "gather waited for the slow child");
        // The slow child was not cancelled: it finishes on its own.
        tulip::wait_for(async move { finished.wait().await }, Duration::from_secs(5))
            .await
            .expect("slow child kept running")
            .unwrap();
    })
    .unwrap();
}

/// `gather_all` (return_exceptions=True) waits for every child, giving each outcome.
fn gather_all_returns_every_outcome(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let out = lp
        .run_until_complete(async {
            let a: BoxFut<u32> = Box::pin(async {
                sleep(ms(20)).await?;
                Ok(1)
            });
            let b: BoxFut<u32> = Box::pin(async { Err(Error::TimeoutError) });
            let c: BoxFut<u32> = Box::pin(async { panic!("child panicked") });
            gather_all(vec![a, b, c]).await
        })
        .unwrap()
        .unwrap();
    assert!(matches!(out[0], Ok(1)));
    assert!(matches!(out[1], Err(Error::TimeoutError)));
    assert!(matches!(&out[2], Err(Error::Panicked(m)) if m.contains("child panicked")));
}

/// Cancelling the task awaiting a gather cancels every child; each child's async
/// clean-up runs before the gather reports `Cancelled`.
fn cancel_gather_cancels_children(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let started = Event::new();
        let s = started.clone();
        let outer = tulip::create_task(async move {
            let kids = (0..3).map(|i| {
                let l = l.clone();
                async move {
                    l.push(format!("entered {i}"));
                    if let Err(e) = sleep(Duration::from_secs(10)).await {
                        sleep(ms(2)).await.ok(); // async clean-up
                        l.push(format!("cleanup {i}"));
                        return Err(e);
                    }
                    Ok::<_, Error>(i)
                }
            });
            let g = gather(kids);
            s.set();
            g.await
        })
        .unwrap();
        started.wait().await.unwrap();
        let l3 = log.clone();
        until(move || l3.count(|e| e.starts_with("entered")) == 3).await;
        outer.cancel();
        let r = outer.await.unwrap();
        assert!(matches!(r, Err(Error::Cancelled(_))), "{r:?}");
        let mut got: Vec<String> = log
            .take()
            .into_iter()
            .filter(|e| e.starts_with("cleanup"))
            .collect();
        got.sort();
        assert_eq!(got, ["cleanup 0", "cleanup 1", "cleanup 2"]);
    })
    .unwrap();
}

/// `gather!` over futures of different types gives a tuple in argument order.
fn gather_macro_heterogeneous(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let (n, s, v) = lp
        .run_until_complete(async {
            tulip::gather!(
                async {
                    sleep(ms(15)).await?;
                    Ok::<_, Error>(7u8)
                },
                async {
                    sleep(ms(5)).await?;
                    Ok("text".to_string())
                },
                async { Ok(vec![1, 2]) },
            )
            .await
        })
        .unwrap()
        .unwrap();
    assert_eq!((n, s.as_str(), v), (7, "text", vec![1, 2]));
}

/// asyncio's `loop.run_until_complete(asyncio.gather(*coros))`: gather built outside
/// the loop spawns its children once the loop polls it. An empty gather is `[]`.
fn gather_built_outside_the_loop(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let g = gather((0..100u32).map(|i| async move {
        sleep(ms(1)).await?;
        Ok::<_, Error>(i)
    }));
    let out = lp.run_until_complete(g).unwrap().unwrap();
    assert_eq!(out, (0..100).collect::<Vec<_>>());
    let none: Vec<BoxFut<u8>> = Vec::new();
    assert!(lp
        .run_until_complete(gather(none))
        .unwrap()
        .unwrap()
        .is_empty());
}

/// `gather_local` runs `!Send` futures as local tasks.
fn gather_local_not_send(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let out = lp
        .run_until_complete(async {
            let shared = Rc::new(5);
            let kids = (0..3).map(|i| {
                let shared = shared.clone();
                async move {
                    sleep(ms(1)).await?;
                    Ok::<_, Error>(*shared + i)
                }
            });
            gather_local(kids).await
        })
        .unwrap();
    match out {
        Ok(v) => assert_eq!(v, [5, 6, 7]),
        // An executor without local tasks on this thread says so.
        Err(e) => assert!(matches!(e, Error::WrongThread), "{e:?}"),
    }
}

per_executor!(
    results_in_input_order,
    first_error_propagates_others_keep_running,
    gather_all_returns_every_outcome,
    cancel_gather_cancels_children,
    gather_macro_heterogeneous,
    gather_built_outside_the_loop,
    gather_local_not_send,
);
