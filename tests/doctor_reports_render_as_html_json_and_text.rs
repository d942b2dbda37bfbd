//! The three renderings of one report: the HTML page is well-formed, self-contained and has a
//! chart per signal and every finding; the JSON parses and follows the documented schema; the
//! text has clinic doctor's "Issue detected / Possible cause / Recommendation" form.
#![cfg(unix)] // the page's flame graph needs a CPU profile

mod doctor;
mod support;

use std::time::Duration;

use stethoscope::doctor::{Doctor, Signal, TypeCount, JSON_SCHEMA};

#[test]
fn one_report_renders_as_html_json_and_text() {
    let runtime = support::two_worker_runtime();
    let stop = doctor::Stop::default();
    {
        let stop = stop.clone();
        runtime.spawn(async move {
            while !stop.stopped() {
                for _ in 0..10 {
                    tokio::spawn(std::future::pending::<()>());
                }
                std::hint::black_box(doctor::parse_blocks_synchronously(200_000));
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
        });
    }
    let report = runtime
        .block_on(
            Doctor::new()
                .with_live_types(|| vec![TypeCount::new("app::Session", 3, 3 * 512)])
                .observe(doctor::WINDOW),
        )
        .unwrap();
    stop.stop();
    let findings = report.findings();
    assert!(!findings.is_empty());

    let html = report.to_html();
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Inline SVG charts, one per signal with a source, and no outside asset.
    let charts = html.matches("<svg class=\"chart\"").count();
    let signals = Signal::SERIES
        .into_iter()
        .filter(|s| report.samples().iter().any(|x| x.value(*s).is_some()))
        .count();
    assert!(signals >= 6, "{}", report.to_text());
    assert_eq!(charts, signals);
    assert!(doctor::count_elements(&html, "svg") >= charts);
    assert!(doctor::count_elements(&html, "article") == findings.len());
    for attribute in ["src=\"http", "href=\"http", "<link", "url(http"] {
        assert!(!html.contains(attribute), "external asset: {attribute}");
    }
    for finding in findings {
        let title = finding.title.replace('`', "");
        assert!(
            html.replace("<code>", "")
                .replace("</code>", "")
                .contains(&title),
            "{title}"
        );
    }
    assert!(html.contains("Where async time goes"));
    assert!(html.contains("app::Session"));
    // The flame graph, escaped inside a sandboxed frame.
    assert!(html.contains("<iframe class=\"flame\""));
    assert!(html.contains("parse_blocks_synchronously"));

    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["schema"], JSON_SCHEMA);
    assert_eq!(json["findings"].as_array().unwrap().len(), findings.len());
    let first = &json["findings"][0];
    for key in [
        "rule",
        "severity",
        "title",
        "evidence",
        "subjects",
        "cause",
        "recommendation",
    ] {
        assert!(!first[key].is_null(), "findings[0].{key} in {first}");
    }
    let samples = json["series"]["elapsed_seconds"].as_array().unwrap().len();
    assert_eq!(samples, report.samples().len());
    assert_eq!(
        json["series"]["alive_tasks"].as_array().unwrap().len(),
        samples
    );
    assert!(json["signals"]["alive_tasks"]["r_squared"].is_f64());
    assert!(json["scheduling_delay"]["p99_ms"].is_number());
    assert_eq!(json["live_types"][0]["type"], "app::Session");
    assert!(json["profile"]["samples"].as_u64().unwrap() > 0);

    let text = report.to_text();
    assert!(text.contains("Issue detected: "), "{text}");
    assert!(text.contains("  Possible cause: "), "{text}");
    assert!(text.contains("  Recommendation: "), "{text}");
}
