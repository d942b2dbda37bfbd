//! Sampling while the pipeline runs: the pool utilization and bus gauges every second, the
//! samples the summary reports (RSS, busy ratio), and the live status line on stderr when it is
//! a terminal.

use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::bus::Bus;
use super::cli::Config;
use super::stats::Stats;
use super::store::DbPool;
use super::telemetry::{Metrics, Telemetry};

/// How often the status line is redrawn.
pub(crate) const TICK: Duration = Duration::from_millis(250);
/// How often gauges are published and samples kept.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// What the sampler kept.
#[derive(Debug, Default, Clone)]
pub(crate) struct Samples {
    /// (seconds into the run, resident bytes), once a second.
    pub(crate) rss: Vec<(f64, u64)>,
    /// RSS when the load stopped (duration-bound runs).
    pub(crate) rss_at_load_end: Option<u64>,
    /// Runtime busy ratios seen, once a second (telemetry on only).
    pub(crate) busy: Vec<f64>,
    /// The longest scheduling delay seen.
    pub(crate) max_scheduling_delay: Duration,
    /// `db_pool_utilization_ratio` values published.
    pub(crate) pool: Vec<f64>,
    /// `indexer_bus_listeners` values published.
    pub(crate) listeners: Vec<usize>,
}

/// Publishes gauges and draws the status line; [`Sampler::tick`] is called every [`TICK`].
#[derive(Debug)]
pub(crate) struct Sampler {
    started: Instant,
    stats: Arc<Stats>,
    pool: Option<Arc<DbPool>>,
    bus: Arc<Bus>,
    metrics: Metrics,
    bar: ProgressBar,
    last_sample: Instant,
    last_pool_busy: u64,
    last_indexed: u64,
    rate: f64,
    samples: Samples,
}

impl Sampler {
    pub(crate) fn new(
        config: &Config,
        stats: Arc<Stats>,
        pool: Option<Arc<DbPool>>,
        bus: Arc<Bus>,
        metrics: Metrics,
    ) -> Sampler {
        let bar = if config.status_line {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed:>3} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar
        } else {
            ProgressBar::hidden()
        };
        let now = Instant::now();
        let mut sampler = Sampler {
            started: now,
            stats,
            pool,
            bus,
            metrics,
            bar,
            last_sample: now,
            last_pool_busy: 0,
            last_indexed: 0,
            rate: 0.0,
            samples: Samples::default(),
        };
        sampler.keep_rss();
        sampler
    }

    pub(crate) fn tick(&mut self, telemetry: Option<&Telemetry>) {
        let now = Instant::now();
        let since = now - self.last_sample;
        if since >= SAMPLE_EVERY {
            self.sample(since, telemetry);
            self.last_sample = now;
        }
        if !self.bar.is_hidden() {
            self.draw(telemetry);
        }
    }

    fn sample(&mut self, since: Duration, telemetry: Option<&Telemetry>) {
        let indexed = Stats::get(&self.stats.indexed);
        self.rate = (indexed - self.last_indexed) as f64 / since.as_secs_f64();
        self.last_indexed = indexed;
        if let Some(pool) = &self.pool {
            let busy = pool.busy_ns();
            let ratio = ((busy - self.last_pool_busy) as f64
                / 1e9
                / (since.as_secs_f64() * pool.size() as f64))
                .clamp(0.0, 1.0);
            self.last_pool_busy = busy;
            self.metrics.pool_utilization.set(ratio);
            self.samples.pool.push(ratio);
        }
        let listeners = self.bus.listeners();
        self.metrics.bus_listeners.set(listeners as f64);
        self.samples.listeners.push(listeners);
        if let Some(sample) = telemetry.and_then(|t| t.guard.runtime_sample()) {
            self.samples.busy.push(sample.busy_ratio);
            self.samples.max_scheduling_delay = self
                .samples
                .max_scheduling_delay
                .max(sample.max_scheduling_delay);
        }
        self.keep_rss();
    }

    /// Takes the end-of-load RSS reading (the summary's "end"), before the pipeline drains and
    /// the reports are built.
    pub(crate) fn load_ended(&mut self) {
        self.samples.rss_at_load_end = rss_bytes();
    }

    fn keep_rss(&mut self) {
        if let Some(rss) = rss_bytes() {
            self.samples
                .rss
                .push((self.started.elapsed().as_secs_f64(), rss));
        }
    }

    fn draw(&self, telemetry: Option<&Telemetry>) {
        let busy = self
            .samples
            .busy
            .last()
            .map_or("-".to_owned(), |b| format!("{b:.2}"));
        let pool = self
            .samples
            .pool
            .last()
            .map_or("-".to_owned(), |p| format!("{p:.2}"));
        let rss = self.samples.rss.last().map_or(0, |r| r.1) >> 20;
        let dropped = telemetry.map_or(0, |t| t.guard.dropped_log_lines());
        let p99 = self.stats.latency_quantile(0.99);
        self.bar.set_message(format!(
            "{:>9.0} tx/s  indexed {}  busy {busy}  p99 {:.1} ms  pool {pool}  RSS {rss} MiB  dropped logs {dropped}",
            self.rate,
            Stats::get(&self.stats.indexed),
            p99.as_secs_f64() * 1e3,
        ));
        self.bar.tick();
    }

    /// Clears the status line and returns what was sampled.
    pub(crate) fn finish(mut self, telemetry: Option<&Telemetry>) -> Samples {
        self.sample(
            self.last_sample.elapsed().max(Duration::from_millis(1)),
            telemetry,
        );
        self.bar.finish_and_clear();
        self.samples
    }
}

/// This process's resident set size (Linux; `None` elsewhere).
pub(crate) fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// CPU time (user + system) this process used so far (Linux; `None` elsewhere).
pub(crate) fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux architecture Rust targets.
    Some(Duration::from_millis(ticks * 10))
}
