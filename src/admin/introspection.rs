//! `GET /debug/stethoscope`: the configuration stethoscope was installed with (secrets masked)
//! and what it has cost and done so far, as one JSON object.

use std::fmt::Display;
use std::sync::atomic::Ordering;

use crate::config::{LogFormat, LogOutput};
use crate::logging::escape::quoted_into;
use crate::logging::settings::LiveSettings;
use crate::logging::RecorderDump;
use crate::metric::own_cost;
use crate::metric::MetricSettings;
use crate::runtime::RuntimeSettings;
use crate::trace::export::{Endpoint, ExportSettings};

use super::{AdminSettings, LiveControl};

/// What is shown in place of a secret.
const MASKED: &str = crate::secret::REDACTED;

/// The parts of a [`Builder`](crate::Builder) the report shows.
#[derive(Debug)]
pub(crate) struct ConfigView<'a> {
    pub(crate) service_name: Option<&'a str>,
    pub(crate) filter: &'a str,
    pub(crate) format: LogFormat,
    pub(crate) output: &'a LogOutput,
    pub(crate) buffer_bytes: usize,
    pub(crate) panic_hook: bool,
    pub(crate) export: &'a ExportSettings,
    pub(crate) runtime: &'a RuntimeSettings,
    pub(crate) live: &'a LiveSettings,
}

/// A JSON object written field by field.
struct Obj(Vec<u8>);

impl Obj {
    fn new() -> Self {
        Obj(vec![b'{'])
    }

    fn key(&mut self, key: &str) {
        if self.0.len() > 1 {
            self.0.push(b',');
        }
        quoted_into(&mut self.0, key);
        self.0.push(b':');
    }

    fn str(mut self, key: &str, value: &str) -> Self {
        self.key(key);
        quoted_into(&mut self.0, value);
        self
    }

    fn opt_str(self, key: &str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.str(key, v),
            None => self.raw(key, "null"),
        }
    }

    /// A number or boolean.
    fn num(self, key: &str, value: impl Display) -> Self {
        self.raw(key, &value.to_string())
    }

    fn raw(mut self, key: &str, json: &str) -> Self {
        self.key(key);
        self.0.extend_from_slice(json.as_bytes());
        self
    }

    fn finish(mut self) -> String {
        self.0.push(b'}');
        String::from_utf8(self.0).unwrap_or_default()
    }
}

/// The configuration as JSON, rendered at install.
pub(crate) fn config_json(
    view: &ConfigView<'_>,
    metric: &MetricSettings,
    admin: &AdminSettings,
) -> String {
    let output = match view.output {
        LogOutput::Stdout => "stdout".to_owned(),
        LogOutput::Stderr => "stderr".to_owned(),
        LogOutput::File(path) => format!("file:{}", path.display()),
        LogOutput::Writer(_) => "writer".to_owned(),
    };
    let rate_limit = match &view.live.rate_limit {
        Some(l) => Obj::new()
            .num("per_second", l.per_second)
            .num("burst", l.burst)
            .num("limit_errors", l.limit_errors)
            .finish(),
        None => "null".to_owned(),
    };
    let recorder = match &view.live.recorder {
        Some(r) => {
            let dump = match &r.dump {
                RecorderDump::Stderr => "stderr".to_owned(),
                RecorderDump::File(path) => format!("file:{}", path.display()),
                RecorderDump::Off => "off".to_owned(),
                #[allow(unreachable_patterns)] // non_exhaustive: future targets
                _ => "other".to_owned(),
            };
            Obj::new()
                .str("level", &r.level.to_string().to_ascii_lowercase())
                .num("events", r.events)
                .num("bytes", r.bytes)
                .str("dump", &dump)
                .finish()
        }
        None => "null".to_owned(),
    };
    let log = Obj::new()
        .str("filter", view.filter)
        .str(
            "format",
            if view.format == LogFormat::Pretty {
                "pretty"
            } else {
                "json"
            },
        )
        .str("output", &output)
        .num("buffer_bytes", view.buffer_bytes)
        .num("panic_hook", view.panic_hook)
        .raw("rate_limit", &rate_limit)
        .raw("flight_recorder", &recorder)
        .finish();
    let admin_json = Obj::new()
        .opt_str("addr", admin.addr.map(|a| a.to_string()).as_deref())
        .opt_str("token", admin.token.as_ref().map(|_| MASKED))
        .finish();
    let metrics = Obj::new()
        .num("enabled", metric.enabled)
        .num(
            "sample_interval_seconds",
            metric.sample_interval.as_secs_f64(),
        )
        .num("max_label_sets", metric.max_label_sets)
        .finish();
    let runtime = Obj::new()
        .num("monitor", view.runtime.monitor)
        .num(
            "sample_interval_seconds",
            view.runtime.options.interval.as_secs_f64(),
        )
        .num(
            "saturation_threshold",
            view.runtime.options.saturation_threshold,
        )
        .raw(
            "slow_ms",
            &view
                .runtime
                .slow
                .map_or("null".to_owned(), |d| d.as_millis().to_string()),
        )
        .finish();
    Obj::new()
        .opt_str("service", view.service_name)
        .raw("log", &log)
        .raw("admin", &admin_json)
        .raw("metrics", &metrics)
        .raw("traces", &traces_json(view.export))
        .raw("runtime", &runtime)
        .finish()
}

fn traces_json(export: &ExportSettings) -> String {
    // `SecretUrl` displays with user info and query masked.
    let endpoint = export.endpoint.as_ref().map(|e| match e {
        Endpoint::Base(url) | Endpoint::Traces(url) => url.to_string(),
    });
    let mut headers = Obj::new();
    for (name, _) in &export.headers {
        // Header values are credentials as often as not (`authorization`, `x-api-key`).
        headers = headers.str(name, MASKED);
    }
    let mut resource = Obj::new();
    for (k, v) in &export.resource {
        resource = resource.str(k, v);
    }
    Obj::new()
        .num("disabled", export.disabled)
        .opt_str("endpoint", endpoint.as_deref())
        .num("custom_exporter", export.custom.is_some())
        .str("protocol", &format!("{:?}", export.protocol))
        .raw("headers", &headers.finish())
        .str("sampler", &format!("{:?}", export.sampler))
        .num("queue", export.queue)
        .raw(
            "timeout_ms",
            &export
                .timeout
                .map_or("null".to_owned(), |t| t.as_millis().to_string()),
        )
        .opt_str("service_version", export.service_version.as_deref())
        .raw("resource", &resource.finish())
        .finish()
}

/// What stethoscope has done and cost so far, read now.
pub(crate) fn figures_json(live: &LiveControl) -> String {
    let mut log = Obj::new();
    if let Some(level) = &live.log_level {
        log = log.str("filter", &level.current()).raw(
            "filter_reverts_in_seconds",
            &level
                .reverts_in()
                .map_or("null".to_owned(), |d| d.as_secs_f64().to_string()),
        );
    }
    if let Some(writer) = &live.writer {
        log = log
            .num("lines_queued", writer.queued_lines())
            .num("lines_dropped", writer.dropped_lines());
    }
    if let Some(limiter) = &live.limiter {
        log = log
            .num(
                "lines_suppressed",
                limiter.suppressed_total.load(Ordering::Relaxed),
            )
            .num(
                "callsites_not_limited",
                limiter.untracked.load(Ordering::Relaxed),
            );
    } else {
        log = log.num("lines_suppressed", 0);
    }
    let recorder = match &live.recorder {
        Some(r) => {
            let (lines, bytes) = r.held();
            let (max_lines, max_bytes) = r.capacity();
            Obj::new()
                .num("recorded", r.recorded())
                .num("held_lines", lines)
                .num("held_bytes", bytes)
                .num("max_lines", max_lines)
                .num("max_bytes", max_bytes)
                .finish()
        }
        None => "null".to_owned(),
    };
    let spans = match &live.export {
        Some(stats) => Obj::new()
            .num("exported", stats.exported.load(Ordering::Relaxed))
            .num("dropped", stats.dropped.load(Ordering::Relaxed))
            .num(
                "failed_exports",
                stats.failed_exports.load(Ordering::Relaxed),
            )
            .finish(),
        None => "null".to_owned(),
    };
    let cost = Obj::new()
        .num(
            "profiler_samples",
            own_cost::PROFILER_SAMPLES.load(Ordering::Relaxed),
        )
        .num(
            "metrics_sampler_seconds",
            own_cost::seconds(&own_cost::METRICS_SAMPLER_NANOS),
        )
        .num(
            "runtime_sampler_seconds",
            own_cost::seconds(&own_cost::RUNTIME_SAMPLER_NANOS),
        )
        .finish();
    Obj::new()
        .raw("log", &log.finish())
        .raw("flight_recorder", &recorder)
        .raw("spans", &spans)
        .raw("cost", &cost)
        .finish()
}

/// The whole `/debug/stethoscope` document.
pub(crate) fn report(config_json: Option<&str>, live: &LiveControl) -> String {
    Obj::new()
        .str("version", env!("CARGO_PKG_VERSION"))
        .raw("config", config_json.unwrap_or("null"))
        .raw("figures", &figures_json(live))
        .finish()
}
