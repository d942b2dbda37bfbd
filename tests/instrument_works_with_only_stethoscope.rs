//! `#[stethoscope::instrument]` creates spans whose fields reach the JSON lines, for sync and
//! async functions, with no `tracing` import in scope.

mod support;

use stethoscope::logging::JsonLayer;
use support::json_lines_of;

#[stethoscope::instrument(skip(secret), fields(height = block * 10))]
fn process_block(block: u64, secret: &str) -> usize {
    stethoscope::info!("processing");
    secret.len()
}

#[stethoscope::instrument(level = "debug", err)]
async fn fetch(id: u32) -> Result<u32, std::io::Error> {
    stethoscope::info!("fetching");
    Err(std::io::Error::other(format!("no block {id}")))
}

#[test]
fn sync_functions_get_a_span_with_their_arguments() {
    let lines = json_lines_of(JsonLayer::new(), || {
        assert_eq!(process_block(7, "hunter2"), 7);
    });
    let l = &lines[0];
    assert_eq!(l["span"], "process_block");
    assert_eq!(l["block"], 7);
    assert_eq!(l["height"], 70);
    assert!(l.get("secret").is_none(), "skipped argument recorded: {l}");
}

#[test]
fn async_functions_are_instrumented_and_errors_logged() {
    let lines = json_lines_of(JsonLayer::new(), || {
        let result = block_on(fetch(3));
        assert!(result.is_err());
    });
    assert_eq!(lines[0]["span"], "fetch");
    assert_eq!(lines[0]["id"], 3);
    let err = lines
        .iter()
        .find(|l| l["level"] == "error")
        .expect("error event");
    assert_eq!(err["error"], "no block 3");
    assert_eq!(err["span"], "fetch");
}

/// A minimal executor: the futures here never wait.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}
