//! `--inject leak`: the doctor, observing the indexer while every block's notification stream
//! stays subscribed to the bus, reports steady memory growth and names the listener type.

mod indexer;
mod support;

#[test]
fn the_doctor_names_the_leaking_listener() {
    let mut config = indexer::timed("indexer-leak-doctor", 3, 100);
    config.store = indexer::cli::StoreKind::None;
    config.inject = Some(indexer::cli::Inject::Leak);
    let runtime = support::two_worker_runtime();
    let report = runtime.block_on(indexer::pipeline::run(config)).unwrap();
    let doctor = indexer::doctor_text(&report);
    assert!(
        doctor.contains("Memory grows steadily") && doctor.contains("indexer::bus::Listener"),
        "{doctor}"
    );
    drop(report);
}
