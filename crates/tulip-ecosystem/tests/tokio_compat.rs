//! tokio-only code inside tulip loops through `async-compat`, on every executor:
//! it works when built inside the `Compat` scope, and the documented trap (built
//! outside) is tokio's panic, which tulip reports as the run's error, not a hang.

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use common::{within, Factory};

#[path = "../examples/tokio_compat.rs"]
mod tokio_compat;

fn tokio_echo_inside_compat(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let back = within(Duration::from_secs(30), || {
        lp.run_until_complete(async {
            let t = tulip::create_task(async {
                Ok::<_, tulip::Error>(tokio_compat::tokio_echo().await?)
            })?;
            t.await
        })
        .unwrap()
    });
    assert_eq!(back, b"tokio");
    lp.close().unwrap();
}

fn tokio_future_built_outside_compat_panics(new_loop: Factory) {
    let lp = new_loop().unwrap();
    // tulip catches the panic at the task boundary: the run reports it as an error.
    let err = lp
        .run_until_complete(async {
            // The trap: `sleep` runs before `Compat` exists.
            async_compat::Compat::new(tokio::time::sleep(Duration::from_millis(1))).await;
            Ok::<_, tulip::Error>(())
        })
        .expect_err("building a tokio timer outside any runtime panics");
    assert!(err.to_string().contains("no reactor running"), "{err}");
    // The same code built inside the scope works on the same loop.
    lp.run_until_complete(async {
        async_compat::Compat::new(async {
            tokio::time::sleep(Duration::from_millis(1)).await;
        })
        .await;
        Ok::<_, tulip::Error>(())
    })
    .unwrap();
    lp.close().unwrap();
}

per_executor!(
    tokio_echo_inside_compat,
    tokio_future_built_outside_compat_panics,
);
