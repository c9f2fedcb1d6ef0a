//! `shield`: cancelling the outer await leaves the inner task running.
mod common;

use std::time::Duration;

use common::{Factory, Log};
use tulip::{create_task, shield, shield_task, sleep, Error};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn shield_keeps_inner_alive(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let log = Log::default();
    let l = log.clone();
    lp.run_until_complete(async move {
        let (tx, rx) = futures::channel::oneshot::channel();
        let go = tulip::Event::new();
        let g2 = go.clone();
        let outer = create_task(async move {
            let s = shield(async move {
                g2.wait().await?;
                l.push("inner done");
                Ok::<_, Error>(42)
            });
            tx.send(s.task().unwrap()).unwrap();
            s.await
        })
        .unwrap();
        let inner = rx.await.unwrap();
        sleep(ms(5)).await.unwrap();
        outer.cancel();
        let r = outer.await;
        assert!(matches!(r, Err(Error::Cancelled(_))), "{r:?}");
        assert!(!inner.done(), "the inner task is still running");
        go.set();
        tulip::all_done([inner.clone()].iter()).await?;
        assert!(inner.done() && !inner.cancelled());
        assert_eq!(log.take(), ["inner done"]);
        Ok::<_, Error>(())
    })
    .unwrap();
}

fn shield_passes_the_result(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let t = create_task(async { Ok::<_, Error>(7) }).unwrap();
        assert_eq!(shield_task(t).await.unwrap(), 7);
        assert_eq!(shield(async { Ok::<_, Error>(8) }).await.unwrap(), 8);
        Ok::<_, Error>(())
    })
    .unwrap();
}

/// asyncio_ref/shield_retrieved.py: the awaiter of a shield is cancelled, then the
/// inner task raises; nobody retrieves it, so "Task exception was never retrieved" is
/// reported (CPython 3.11's shield drops its retrieving callback once the outer
/// future is cancelled).
fn shield_inner_failure_is_reported(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let reports = Log::default();
    let r2 = reports.clone();
    lp.set_exception_handler(Some(
        move |_: &tulip::EventLoop, ctx: &tulip::ExceptionContext| {
            r2.push(ctx.message.clone());
        },
    ));
    lp.run_until_complete(async move {
        let (tx, rx) = futures::channel::oneshot::channel();
        let go = tulip::Event::new();
        let g2 = go.clone();
        let outer = create_task(async move {
            let s = shield(async move {
                g2.wait().await?;
                Err::<(), _>(Error::InvalidState("inner failed"))
            });
            tx.send(s.task().unwrap()).unwrap();
            s.await
        })?;
        let inner = rx.await.unwrap();
        sleep(ms(1)).await?;
        outer.cancel();
        assert!(matches!(outer.await, Err(Error::Cancelled(_))));
        go.set();
        tulip::all_done([inner.clone()].iter()).await?;
        assert!(inner.failed());
        Ok::<_, Error>(())
    })
    .unwrap();
    lp.close().unwrap();
    assert_eq!(reports.take(), ["Task exception was never retrieved"]);
}

per_executor!(
    shield_keeps_inner_alive,
    shield_passes_the_result,
    shield_inner_failure_is_reported,
);
