//! Installing when another library already set the global `tracing` subscriber returns an
//! error (never a panic) that says what to do.

mod support;

use stethoscope::{LogOutput, Stethoscope};
use support::Capture;

#[test]
fn a_foreign_global_subscriber_is_reported() {
    // This binary's only test, so nothing else in the process installed first.
    tracing::subscriber::set_global_default(tracing_subscriber::registry())
        .expect("the foreign subscriber is the first global install in this process");
    let err = Stethoscope::builder()
        .without_admin()
        .with_log_output(LogOutput::Writer(Box::new(Capture::default())))
        .install()
        .unwrap_err();
    assert!(err.is_already_initialized(), "{err:?}");
    assert!(
        matches!(err, stethoscope::Error::SubscriberAlreadySet),
        "{err:?}"
    );
    assert!(err.to_string().contains("set_global_default"), "{err}");
}
