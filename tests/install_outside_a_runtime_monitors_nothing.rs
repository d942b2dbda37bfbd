//! `install()` outside any tokio runtime monitors no runtime (and says so through
//! `Guard::runtime_sample`). Its own binary: a process installs once.

use stethoscope::{LogOutput, Stethoscope};

#[test]
fn install_outside_a_runtime_monitors_nothing() {
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .without_admin()
        .install()
        .unwrap();
    assert!(guard.runtime_sample().is_none());
}
