//! A busy admin port makes `install()` fail with an error naming the address.

use std::net::TcpListener;

use stethoscope::{Error, LogOutput, Stethoscope};

#[test]
fn binding_a_busy_port_fails_and_names_the_address() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let err = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .with_admin_addr(addr)
        .install()
        .unwrap_err();
    assert!(
        matches!(err, Error::AdminBind { addr: a, .. } if a == addr),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("cannot serve the admin endpoints on {addr}: ")),
        "{message}"
    );
    assert!(message.contains("STETHOSCOPE_ADMIN_ADDR"), "{message}");

    // Nothing global was left behind: a corrected retry succeeds.
    drop(taken);
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .with_admin_addr(addr)
        .install()
        .unwrap();
    assert_eq!(guard.admin_addr(), Some(addr));
}
