//! `--inject hot-parse`: the doctor, observing the indexer while it decodes JSON slowly on the
//! runtime's workers, reports the runtime as blocked and names the slow decoder.

mod indexer;
mod support;

#[test]
fn the_doctor_names_the_slow_decoder_blocking_the_workers() {
    let mut config = indexer::timed("indexer-hot-parse-doctor", 3, 1_000);
    config.store = indexer::cli::StoreKind::None;
    config.inject = Some(indexer::cli::Inject::HotParse);
    config.profile = true;
    let runtime = support::two_worker_runtime();
    let report = runtime.block_on(indexer::pipeline::run(config)).unwrap();
    let doctor = indexer::doctor_text(&report);
    let blocked = doctor
        .split("\n\n")
        .find(|f| f.contains("Runtime blocked by synchronous work"))
        .unwrap_or_else(|| panic!("no runtime_blocked finding:\n{doctor}"));
    assert!(
        blocked.contains("normalize_json") || blocked.contains("decode_block_slowly"),
        "{blocked}"
    );
    drop(report);
}
