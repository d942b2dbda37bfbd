//! Without `--cfg tokio_unstable`, `GET /debug/tasks` answers 501 and says how to get task dumps.

mod http;

use stethoscope::{LogOutput, Stethoscope};

#[cfg(not(tokio_unstable))]
#[test]
fn without_tokio_unstable_the_task_dump_is_a_501_with_instructions() {
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .with_admin_addr(http::any_port())
        .install()
        .unwrap();
    let r = http::get(guard.admin_addr().unwrap(), "/debug/tasks");
    assert_eq!(r.status, 501, "{r:?}");
    assert!(
        r.body.contains("RUSTFLAGS=\"--cfg tokio_unstable\""),
        "{}",
        r.body
    );
    assert!(r.body.contains("Linux"), "{}", r.body);
}

/// With the cfg (`RUSTFLAGS="--cfg tokio_unstable" cargo nextest run`), the dump lists the
/// runtime's tasks, including one parked in a sleep.
#[cfg(all(tokio_unstable, target_os = "linux", target_arch = "x86_64"))]
#[test]
fn with_tokio_unstable_the_task_dump_lists_the_tasks() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let guard = runtime.block_on(async {
        Stethoscope::builder()
            .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
            .with_admin_addr(http::any_port())
            .install()
            .unwrap()
    });
    runtime.spawn(async { tokio::time::sleep(std::time::Duration::from_secs(60)).await });
    let r = http::get(guard.admin_addr().unwrap(), "/debug/tasks");
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains("task 0"), "{}", r.body);
}
