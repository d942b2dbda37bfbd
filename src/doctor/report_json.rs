//! [`Report::to_json`]: the report as one JSON document, schema `stethoscope.doctor.v1`
//! (documented field by field in `docs/doctor.md`). Written by hand with the log writer's
//! escaping, so the doctor needs no serializer.

use std::fmt::Write as _;

use super::report::Report;
use super::Finding;
use crate::logging::escape::quoted_into;
use crate::logging::timestamp::Now;

/// The `schema` field: bumped only when a field changes meaning or disappears; new fields may
/// be added within a version.
pub const JSON_SCHEMA: &str = "stethoscope.doctor.v1";

/// How many rows of the CPU profile's top table the JSON carries.
const PROFILE_TOP_ROWS: usize = 20;

impl Report {
    /// The report as JSON (schema [`JSON_SCHEMA`], see `docs/doctor.md`): findings, a summary
    /// and the full time series of every signal, the scheduling delays, the wait/execute table,
    /// live-type growth and the profile's top functions.
    pub fn to_json(&self) -> String {
        let mut j = Json::default();
        j.open('{');
        j.key("schema").string(JSON_SCHEMA);
        j.key("started_at");
        let mut stamp = Vec::new();
        Now::at(self.started_at).write_rfc3339(&mut stamp);
        j.string(&String::from_utf8_lossy(&stamp));
        j.key("window_seconds").number(self.window.as_secs_f64());
        j.key("interval_seconds")
            .number(self.interval.as_secs_f64());
        j.key("verdict").string(self.worst_severity().name());
        j.key("process").open('{');
        j.key("pid").number(f64::from(std::process::id()));
        j.key("cores").number(self.cores as f64);
        j.key("runtime_workers")
            .option(self.workers.map(|w| w as f64));
        j.close('}');

        j.key("findings").open('[');
        for finding in &self.findings {
            finding_json(&mut j, finding);
        }
        j.close(']');

        let signals = self.present_signals();
        j.key("signals").open('{');
        for signal in &signals {
            let Some(s) = self.summary(*signal) else {
                continue;
            };
            j.key(signal.name()).open('{');
            j.key("unit").string(signal.unit().name());
            j.key("samples").number(s.samples as f64);
            for (key, value) in [
                ("mean", s.mean),
                ("min", s.min),
                ("max", s.max),
                ("first", s.first),
                ("last", s.last),
                ("p50", s.p50),
                ("p99", s.p99),
            ] {
                j.key(key).number(value);
            }
            j.key("slope_per_second")
                .option(s.trend.map(|t| t.slope_per_second));
            j.key("r_squared").option(s.trend.map(|t| t.r_squared));
            j.close('}');
        }
        j.close('}');

        j.key("series").open('{');
        j.key("elapsed_seconds").open('[');
        for sample in &self.samples {
            j.number(sample.elapsed.as_secs_f64());
        }
        j.close(']');
        for signal in &signals {
            j.key(signal.name()).open('[');
            for sample in &self.samples {
                j.option(sample.value(*signal));
            }
            j.close(']');
        }
        j.close('}');

        j.key("scheduling_delay");
        match self.scheduling_delay {
            Some(d) => {
                j.open('{');
                j.key("probes").number(d.probes as f64);
                j.key("p50_ms").number(d.p50.as_secs_f64() * 1e3);
                j.key("p90_ms").number(d.p90.as_secs_f64() * 1e3);
                j.key("p99_ms").number(d.p99.as_secs_f64() * 1e3);
                j.key("max_ms").number(d.max.as_secs_f64() * 1e3);
                j.close('}');
            }
            None => j.null(),
        }

        j.key("operations").open('[');
        for op in &self.operations {
            let s = &op.summary;
            j.open('{');
            j.key("name").string(s.name);
            j.key("calls").number(s.calls as f64);
            j.key("slow_calls").number(op.slow_calls as f64);
            j.key("total_wall_seconds")
                .number(s.total_wall.as_secs_f64());
            j.key("busy_share").number(s.busy_share);
            j.key("idle_share").number(s.idle_share);
            j.key("p99_wall_seconds").number(s.p99_wall.as_secs_f64());
            j.close('}');
        }
        j.close(']');

        j.key("live_types").open('[');
        for t in &self.live_types {
            j.open('{');
            j.key("type").string(&t.type_name);
            j.key("count_before").number(t.count_before as f64);
            j.key("count_after").number(t.count_after as f64);
            j.key("count_delta").number(t.count_delta() as f64);
            j.key("bytes_before").number(t.bytes_before as f64);
            j.key("bytes_after").number(t.bytes_after as f64);
            j.key("r_squared").number(t.r_squared);
            j.close('}');
        }
        j.close(']');

        j.key("profile");
        match &self.profile {
            Some(p) => {
                j.open('{');
                j.key("samples").number(p.sample_count() as f64);
                j.key("frequency_hz").number(f64::from(p.frequency()));
                j.key("duration_seconds").number(p.duration().as_secs_f64());
                j.key("top").open('[');
                for row in p.top(PROFILE_TOP_ROWS) {
                    j.open('{');
                    j.key("function").string(&row.function);
                    j.key("self_samples").number(row.self_samples as f64);
                    j.key("self_percent").number(row.self_percent);
                    j.key("total_percent").number(row.total_percent);
                    j.close('}');
                }
                j.close(']');
                j.close('}');
            }
            None => j.null(),
        }
        j.key("profile_note");
        match &self.profile_note {
            Some(note) => j.string(note),
            None => j.null(),
        }
        j.close('}');
        j.finish()
    }
}

fn finding_json(j: &mut Json, f: &Finding) {
    j.open('{');
    j.key("rule").string(f.rule);
    j.key("severity").string(f.severity.name());
    j.key("signal");
    match f.signal {
        Some(signal) => j.string(signal.name()),
        None => j.null(),
    }
    j.key("title").string(&f.title);
    j.key("subjects").open('[');
    for s in &f.subjects {
        j.string(s);
    }
    j.close(']');
    j.key("evidence").open('[');
    for e in &f.evidence {
        j.open('{');
        j.key("key").string(e.key);
        j.key("label").string(e.label);
        j.key("value").number(e.value);
        j.key("unit").string(e.unit.name());
        j.close('}');
    }
    j.close(']');
    j.key("cause").string(&f.cause);
    j.key("recommendation").string(&f.recommendation);
    j.close('}');
}

/// A minimal JSON writer: tracks whether a comma is due, nothing else.
#[derive(Default)]
struct Json {
    out: Vec<u8>,
    /// Whether the next value in the current container needs a comma before it.
    comma: bool,
}

impl Json {
    fn separate(&mut self) {
        if self.comma {
            self.out.push(b',');
        }
        self.comma = true;
    }

    fn open(&mut self, bracket: char) -> &mut Self {
        self.separate();
        self.out.push(bracket as u8);
        self.comma = false;
        self
    }

    fn close(&mut self, bracket: char) -> &mut Self {
        self.out.push(bracket as u8);
        self.comma = true;
        self
    }

    /// Writes `"key":`; the value that follows must not add a comma.
    fn key(&mut self, key: &str) -> &mut Self {
        self.separate();
        quoted_into(&mut self.out, key);
        self.out.push(b':');
        self.comma = false;
        self
    }

    fn string(&mut self, s: &str) {
        self.separate();
        quoted_into(&mut self.out, s);
    }

    /// JSON has no NaN or infinity: those become `null`.
    fn number(&mut self, n: f64) {
        self.separate();
        if !n.is_finite() {
            self.out.extend_from_slice(b"null");
        } else if n.fract() == 0.0 && n.abs() < 1e15 {
            let mut s = String::new();
            let _ = write!(s, "{n:.0}");
            self.out.extend_from_slice(s.as_bytes());
        } else {
            let mut buf = ryu::Buffer::new();
            self.out.extend_from_slice(buf.format_finite(n).as_bytes());
        }
    }

    fn option(&mut self, n: Option<f64>) {
        match n {
            Some(n) => self.number(n),
            None => self.null(),
        }
    }

    fn null(&mut self) {
        self.separate();
        self.out.extend_from_slice(b"null");
    }

    fn finish(self) -> String {
        // Everything written is UTF-8: escaped strings and ASCII.
        String::from_utf8(self.out).unwrap_or_default()
    }
}
