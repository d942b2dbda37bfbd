//! `LOG_FORMAT=pretty` lines: time, level, span path, target, message, then fields.

mod support;

use stethoscope::logging::PrettyLayer;
use support::Capture;
use tracing_subscriber::prelude::*;

#[test]
fn a_pretty_line_reads_left_to_right() {
    let capture = Capture::default();
    let layer = PrettyLayer::new()
        .with_ansi(false)
        .with_writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let outer = tracing::info_span!("request", request_id = "r-17");
        let _o = outer.enter();
        let inner = tracing::info_span!("write_batch", rows = 3);
        let _i = inner.enter();
        tracing::warn!(target: "indexer::db", slow = true, "batch written");
    });
    let text = capture.text();
    let line = text.lines().next().unwrap();
    // "HH:MM:SS.ffffff  WARN request > write_batch indexer::db: batch written slow=true rows=3 request_id="r-17""
    assert_eq!(&line[2..3], ":", "{line}");
    let rest = &line[16..];
    assert_eq!(
        rest,
        " WARN request > write_batch indexer::db: batch written slow=true rows=3 request_id=\"r-17\""
    );
}

#[test]
fn colours_are_only_used_when_asked() {
    let capture = Capture::default();
    let layer = PrettyLayer::new()
        .with_ansi(true)
        .with_writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::error!("boom");
    });
    assert!(capture.text().contains("\x1b[31mERROR\x1b[0m"));
}
