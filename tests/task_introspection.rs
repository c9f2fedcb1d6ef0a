//! `current_task`, `all_tasks` (with names) and `ensure_future`, as the high-level
//! API uses them.
mod common;

use std::time::Duration;

use common::Factory;
use tulip::{all_tasks, create_task, current_task, ensure_future, gather, sleep, Error, Event};

fn current_task_inside_tasks(new_loop: Factory) {
    let lp = new_loop().unwrap();
    assert!(current_task().is_none(), "no task outside a loop");
    lp.run_until_complete(async {
        let main = current_task().expect("the main future runs as a task");
        let t = create_task(async { Ok::<_, Error>(current_task().unwrap()) })?;
        let id = t.id();
        let inner = t.await?;
        assert_eq!(inner.id(), id);
        assert_ne!(inner, main);
        assert_eq!(current_task().unwrap(), main);
        Ok::<_, Error>(())
    })
    .unwrap();
}

fn all_tasks_lists_pending_tasks_by_name(new_loop: Factory) {
    let lp = new_loop().unwrap();
    lp.run_until_complete(async {
        let go = Event::new();
        let mut handles = Vec::new();
        for name in ["fetch", "parse"] {
            let go = go.clone();
            let t = create_task(async move { go.wait().await })?;
            t.set_name(name);
            handles.push(t);
        }
        let unnamed = create_task(sleep(Duration::from_secs(10)))?;
        let names: Vec<String> = all_tasks()?.iter().map(|t| t.name()).collect();
        assert!(names.contains(&"fetch".to_string()), "{names:?}");
        assert!(names.contains(&"parse".to_string()));
        assert!(names.contains(&format!("Task-{}", unnamed.id())));
        go.set();
        for t in handles {
            t.await?;
        }
        unnamed.cancel();
        assert!(matches!(unnamed.await, Err(Error::Cancelled(_))));
        let names: Vec<String> = all_tasks()?.iter().map(|t| t.name()).collect();
        assert!(
            !names.contains(&"fetch".to_string()),
            "done tasks leave the list"
        );
        Ok::<_, Error>(())
    })
    .unwrap();
    assert!(matches!(all_tasks(), Err(Error::NoRunningLoop)));
}

fn ensure_future_schedules_at_once(new_loop: Factory) {
    let lp = new_loop().unwrap();
    let out = lp
        .run_until_complete(async {
            let a = ensure_future(async { Ok::<_, Error>(1) })?;
            let b = ensure_future(async { Ok::<_, Error>(2) })?;
            // Tasks are futures too: gather accepts them.
            gather(vec![a, b]).await
        })
        .unwrap();
    assert_eq!(out, [1, 2]);
}

per_executor!(
    current_task_inside_tasks,
    all_tasks_lists_pending_tasks_by_name,
    ensure_future_schedules_at_once,
);
