//! `--inject slow-db`: the doctor, observing the indexer while its database stage waits holding
//! its connection, reports the time as waiting and names the operation.

mod indexer;
mod support;

#[test]
fn the_doctor_says_the_pipeline_waits_on_the_database() {
    let mut config = indexer::timed("indexer-slow-db-doctor", 3, 100);
    config.inject = Some(indexer::cli::Inject::SlowDb);
    let runtime = support::two_worker_runtime();
    let report = runtime.block_on(indexer::pipeline::run(config)).unwrap();
    let doctor = indexer::doctor_text(&report);
    let finding = doctor
        .lines()
        .find(|l| l.starts_with("Issue detected") && l.contains("waiting"))
        .unwrap_or_else(|| panic!("no waiting finding:\n{doctor}"));
    assert!(
        finding.contains("`process_block`") || finding.contains("`store`"),
        "{finding}"
    );
    drop(report);
}
