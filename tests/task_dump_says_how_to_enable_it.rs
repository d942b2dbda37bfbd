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
