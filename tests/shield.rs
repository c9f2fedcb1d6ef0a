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
        let outer = create_task(async move {
            let s = shield(async move {
                sleep(ms(30)).await?;
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
        let r = outer.await.unwrap();
        assert!(matches!(r, Err(Error::Cancelled(_))), "{r:?}");
        assert!(!inner.done(), "the inner task is still running");
        sleep(ms(60)).await.unwrap();
        assert!(inner.done() && !inner.cancelled());
        assert_eq!(log.take(), ["inner done"]);
    })
    .unwrap();
}

fn shield_passes_the_result(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let t = create_task(async { 7 }).unwrap();
        assert_eq!(shield_task(t).await.unwrap(), 7);
        assert_eq!(shield(async { 8 }).await.unwrap(), 8);
    })
    .unwrap();
}

per_executor!(shield_keeps_inner_alive, shield_passes_the_result);
