//! The example indexer: every stethoscope pillar on a blockchain indexer under load.
//!
//! ```text
//! cargo run --release --example indexer                       # ~10 s, durable SQLite
//! cargo run --release --example indexer -- --store none       # the pipeline without storage
//! cargo run --release --example indexer -- --inject leak      # the seed's incident
//! cargo run --release --example indexer -- --help
//! ```
//!
//! See docs/guide.md for a tour and docs/runbook.md for the incidents.

mod bus;
mod cli;
mod consumer;
mod decode;
mod flame;
mod hex;
#[cfg(feature = "kafka")]
mod kafka;
mod pipeline;
mod queue;
mod source;
mod stats;
mod status;
mod store;
mod summary;
mod telemetry;
mod tx;
mod verify;

use clap::Parser;

fn main() {
    let config = cli::Args::parse().into_config();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => fail(&format!("cannot start the tokio runtime: {e}")),
    };
    let serve = config.serve;
    let report = match runtime.block_on(pipeline::run(config)) {
        Ok(report) => report,
        Err(e) => fail(&e),
    };
    print!("{}", summary::render(&report));
    if serve {
        match report.telemetry.as_ref().and_then(|t| t.guard.admin_addr()) {
            Some(addr) => println!("\nserving http://{addr}/metrics until interrupted (Ctrl-C)"),
            None => println!(
                "\n--serve: no admin server is running (telemetry or the admin server is off)"
            ),
        }
        loop {
            std::thread::park();
        }
    }
    // Telemetry (log flush, span export) before the runtime it monitors.
    drop(report);
    drop(runtime);
}

fn fail(message: &str) -> ! {
    eprintln!("indexer: {message}");
    std::process::exit(1);
}
