//! [`Report::to_html`]: one self-contained page (inline CSS and SVG, no script of its own, no
//! network) with the verdict, the findings, a chart per signal, the async wait/execute table,
//! live-object growth and the CPU profile with its flame graph.
//!
//! The page is also well-formed XML, so it can be checked (and post-processed) with any XML
//! parser.

use std::fmt::Write as _;

use super::chart::{self, Extras};
use super::report::Report;
use super::rules;
use super::{Finding, Severity, Signal};
use crate::logging::timestamp::Now;
use crate::profile::FlameGraphOptions;

const STYLE: &str = include_str!("report.css");

/// How many rows of the CPU profile's top table the page shows.
const PROFILE_TOP_ROWS: usize = 12;

/// The flame graph's drawing width in pixels: the page's content width, so text is drawn at
/// its natural size on a laptop and scales down below that.
const FLAME_GRAPH_WIDTH: usize = 1180;

/// Series colours, one per signal, in [`Signal::SERIES`] order.
const COLORS: [&str; 9] = [
    "#2563eb", "#dc2626", "#7c3aed", "#059669", "#0d9488", "#db2777", "#ea580c", "#4f46e5",
    "#b45309",
];

impl Report {
    /// The report as one self-contained HTML page: open it in any browser, attach it to a
    /// ticket. Charts are inline SVG; the flame graph is inferno's interactive SVG in a
    /// sandboxed frame (click to zoom, Ctrl-F to search).
    pub fn to_html(&self) -> String {
        let mut out = String::with_capacity(64 * 1024);
        let mut stamp = Vec::new();
        Now::at(self.started_at).write_rfc3339(&mut stamp);
        let stamp = String::from_utf8_lossy(&stamp);
        let stamp = stamp.get(..19).unwrap_or(&stamp).replace('T', " ");
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\" xmlns=\"http://www.w3.org/1999/xhtml\"><head><meta charset=\"utf-8\"/>\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\
             <title>stethoscope doctor: {}</title><style>{STYLE}</style></head><body>",
            escape(&self.headline())
        );
        let _ = write!(
            out,
            "<header><div class=\"brand\">stethoscope <span>doctor</span></div><div class=\"meta\">\
             pid {} · {} cores{} · {:.1} s observed from {stamp} UTC · a sample every {} ms</div></header><main>",
            std::process::id(),
            self.cores,
            self.workers
                .map_or(String::new(), |w| format!(" · runtime with {w} workers")),
            self.window.as_secs_f64(),
            self.interval.as_millis(),
        );
        self.verdict_html(&mut out);
        out.push_str("<h2 id=\"findings\">Findings</h2>");
        for finding in &self.findings {
            finding_html(&mut out, finding);
        }
        self.charts_html(&mut out);
        self.operations_html(&mut out);
        self.live_types_html(&mut out);
        self.profile_html(&mut out);
        let _ = writeln!(
            out,
            "</main><footer>stethoscope {} · the same report as JSON: <code>?format=json</code> \
             or <code>Report::to_json</code></footer></body></html>",
            env!("CARGO_PKG_VERSION")
        );
        out
    }

    /// "2 issues detected" or "No issue detected".
    fn headline(&self) -> String {
        let issues = self
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::Warning)
            .count();
        match issues {
            0 => "No issue detected".to_owned(),
            1 => "1 issue detected".to_owned(),
            n => format!("{n} issues detected"),
        }
    }

    fn verdict_html(&self, out: &mut String) {
        let titles: Vec<&str> = self
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::Warning)
            .map(|f| f.title.as_str())
            .collect();
        let summary = if titles.is_empty() {
            "The runtime, CPU, memory, tasks and file descriptors looked healthy over the window."
                .to_owned()
        } else {
            titles.join(" · ").replace('`', "")
        };
        let _ = write!(
            out,
            "<section class=\"verdict {}\"><div class=\"count\">{}</div><div><h1>{}</h1><p>{}</p></div></section>",
            self.worst_severity().name(),
            if titles.is_empty() { "✓".to_owned() } else { titles.len().to_string() },
            escape(&self.headline()),
            escape(&summary)
        );
    }

    fn charts_html(&self, out: &mut String) {
        let signals = self.present_signals();
        if signals.is_empty() {
            return;
        }
        out.push_str("<h2 id=\"signals\">Signals</h2><div class=\"charts\">");
        let window = self.window.as_secs_f64();
        for signal in signals {
            let points = self.points(signal);
            let Some(summary) = self.summary(signal) else {
                continue;
            };
            let unit = signal.unit();
            let flagged = self
                .findings
                .iter()
                .filter(|f| f.signal == Some(signal) && f.severity >= Severity::Warning)
                .map(|f| f.severity)
                .max();
            let class = match flagged {
                Some(Severity::Critical) => "card flagged critical",
                Some(_) => "card flagged",
                None => "card",
            };
            let trend_text = summary.trend.map_or(String::new(), |t| {
                format!(
                    " · trend {} (R² {:.2})",
                    unit.rate(t.slope_per_second),
                    t.r_squared
                )
            });
            let _ = write!(
                out,
                "<div class=\"{class}\"><h4>{}</h4><p class=\"stats\">mean {} · max {}{}</p>",
                escape(signal.title()),
                escape(&unit.format(summary.mean)),
                escape(&unit.format(summary.max)),
                escape(&trend_text),
            );
            let color_index = Signal::SERIES
                .iter()
                .position(|s| *s == signal)
                .unwrap_or(0);
            chart::line_chart(
                out,
                signal.title(),
                &points,
                window,
                unit,
                &extras(signal, &summary, COLORS[color_index % COLORS.len()]),
            );
            out.push_str("</div>");
        }
        out.push_str("</div>");
    }

    fn operations_html(&self, out: &mut String) {
        out.push_str("<h2 id=\"operations\">Where async time goes</h2>");
        if self.operations.is_empty() {
            out.push_str(
                "<p class=\"note\">No operation ended during the window, or operation stats are \
                 off: turn them on with <code>Builder::with_operation_stats</code> (or \
                 <code>Doctor::with_operation_stats</code>) to see, per span name, the time spent \
                 executing versus waiting.</p>",
            );
            return;
        }
        out.push_str(
            "<table><thead><tr><th>Operation</th><th class=\"num\">Calls</th><th class=\"num\">Slow</th>\
             <th class=\"num\">Total wall</th><th class=\"num\">Mean</th><th class=\"num\">p99</th>\
             <th class=\"num\">Executing</th><th class=\"num\">Waiting</th><th>Execute / wait</th></tr></thead><tbody>",
        );
        for op in self.operations.iter().take(25) {
            let s = &op.summary;
            let mean_ms = s.total_wall.as_secs_f64() * 1e3 / s.calls.max(1) as f64;
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{:.0} %</td><td class=\"num\">{:.0} %</td>\
                 <td><div class=\"bar\"><div class=\"exec\" style=\"width:{:.1}%\"></div><div class=\"wait\" style=\"width:{:.1}%\"></div></div></td></tr>",
                escape(s.name),
                s.calls,
                op.slow_calls,
                wall(s.total_wall.as_secs_f64() * 1e3),
                wall(mean_ms),
                wall(s.p99_wall.as_secs_f64() * 1e3),
                s.busy_share * 100.0,
                s.idle_share * 100.0,
                s.busy_share * 100.0,
                s.idle_share * 100.0,
            );
        }
        out.push_str(
            "</tbody></table><p class=\"legend\"><i style=\"background:#2563eb\"></i>executing (polled)\
             <i style=\"background:#f59e0b\"></i>waiting (I/O, timers, locks, a free worker)</p>",
        );
    }

    fn live_types_html(&self, out: &mut String) {
        if self.live_types.is_empty() {
            return;
        }
        out.push_str(
            "<h2 id=\"live-objects\">Live objects</h2><table><thead><tr><th>Type</th><th class=\"num\">Before</th>\
             <th class=\"num\">After</th><th class=\"num\">Delta</th><th class=\"num\">Bytes after</th>\
             <th class=\"num\">R²</th></tr></thead><tbody>",
        );
        for t in self.live_types.iter().take(25) {
            let delta = t.count_delta();
            let class = if delta >= rules::TYPE_GROWTH_MIN_COUNT {
                " grow"
            } else {
                ""
            };
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num{class}\">{delta:+}</td><td class=\"num\">{}</td><td class=\"num\">{:.2}</td></tr>",
                escape(&t.type_name),
                t.count_before,
                t.count_after,
                escape(&super::Unit::Bytes.format(t.bytes_after as f64)),
                t.r_squared
            );
        }
        out.push_str("</tbody></table>");
    }

    fn profile_html(&self, out: &mut String) {
        out.push_str("<h2 id=\"profile\">CPU profile</h2>");
        let Some(profile) = &self.profile else {
            let why = self
                .profile_note
                .as_deref()
                .unwrap_or("observe with Doctor::with_cpu_profile(true) to capture one");
            let _ = write!(
                out,
                "<p class=\"note\">No CPU profile for this window: {}.</p>",
                escape(why)
            );
            return;
        };
        // Frames that only pass the time to their callees are the flame graph's business.
        let top: Vec<_> = profile
            .top(PROFILE_TOP_ROWS)
            .into_iter()
            .filter(|row| row.self_samples > 0)
            .collect();
        if top.is_empty() {
            out.push_str("<p class=\"note\">The profile has no samples: the process hardly used the CPU.</p>");
            return;
        }
        let _ = write!(
            out,
            "<table><thead><tr><th>Function (by self time)</th><th class=\"num\">Self</th>\
             <th class=\"num\">Total</th><th></th></tr></thead><tbody>"
        );
        for row in &top {
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td class=\"num\">{:.1} %</td><td class=\"num\">{:.1} %</td>\
                 <td><div class=\"bar\"><div class=\"self\" style=\"width:{:.1}%\"></div></div></td></tr>",
                escape(&row.function),
                row.self_percent,
                row.total_percent,
                row.self_percent
            );
        }
        let _ = write!(
            out,
            "</tbody></table><p class=\"legend\">{} samples at {} Hz. In the flame graph each box is a \
             function and its width the share of samples with it on the stack: the widest boxes at the \
             top are where the CPU goes. Click to zoom.</p>",
            profile.sample_count(),
            profile.frequency()
        );
        let options = FlameGraphOptions::default().title("CPU flame graph of the window");
        match profile.flamegraph_sized(&options, Some(FLAME_GRAPH_WIDTH)) {
            Ok(svg) => flame_frame(out, &String::from_utf8_lossy(&svg)),
            Err(e) => {
                let _ = write!(
                    out,
                    "<p class=\"note\">The flame graph could not be drawn: {}</p>",
                    escape(&e.to_string())
                );
            }
        }
    }
}

/// The chart decorations of `signal`: the rule's threshold, the trend line of levels.
fn extras(signal: Signal, summary: &super::SignalSummary, color: &'static str) -> Extras {
    let mut extras = Extras {
        color,
        ..Extras::default()
    };
    match signal {
        Signal::RuntimeBusyRatio => {
            extras.threshold = Some((rules::SATURATED_BUSY_RATIO, "saturated (mean)"));
            extras.from_zero = true;
            extras.max = Some(1.0);
        }
        Signal::SchedulingDelay => {
            extras.threshold = Some((
                rules::SCHEDULING_DELAY_WARNING.as_secs_f64() * 1e3,
                "blocked (p90)",
            ));
            extras.from_zero = true;
        }
        Signal::ProcessCpu | Signal::AllocationRate | Signal::SlowOperations => {
            extras.from_zero = true;
        }
        Signal::ResidentMemory | Signal::HeapLiveBytes | Signal::AliveTasks | Signal::OpenFds => {
            extras.trend = summary.trend;
        }
        Signal::Operations => {}
    }
    extras
}

fn finding_html(out: &mut String, f: &Finding) {
    let class = if f.rule == "healthy" {
        "healthy"
    } else {
        f.severity.name()
    };
    let _ = write!(
        out,
        "<article class=\"finding {class}\"><h3><span class=\"pill {class}\">{}</span><span>{}</span><span class=\"rule\">{}</span></h3><dl>",
        if f.rule == "healthy" { "ok" } else { f.severity.name() },
        code_spans(&f.title),
        escape(f.rule),
    );
    if !f.evidence.is_empty() {
        out.push_str("<dt>Evidence</dt><dd class=\"chips\">");
        for e in &f.evidence {
            let _ = write!(
                out,
                "<span class=\"chip\">{} <b>{}</b></span>",
                escape(e.label),
                escape(&e.unit.format(e.value))
            );
        }
        out.push_str("</dd>");
    }
    if !f.subjects.is_empty() {
        out.push_str("<dt>Points at</dt><dd class=\"chips\">");
        for s in &f.subjects {
            let _ = write!(out, "<code class=\"subject\">{}</code>", escape(s));
        }
        out.push_str("</dd>");
    }
    let _ = write!(
        out,
        "<dt>Possible cause</dt><dd>{}</dd><dt>Recommendation</dt><dd>{}</dd></dl></article>",
        code_spans(&f.cause),
        code_spans(&f.recommendation)
    );
}

/// Milliseconds as `0.052 ms`, `127 ms` or, from a second, `3.94 s`.
fn wall(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1e3)
    } else {
        super::Unit::Milliseconds.format(ms)
    }
}

/// Escapes `text` and turns `backquoted` parts into `<code>`.
fn code_spans(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", escape(part));
        } else {
            out.push_str(&escape(part));
        }
    }
    out
}

/// inferno's SVG in a sandboxed frame: its script looks up the page's first `<svg>` and would
/// pick one of the charts if inlined, and its styles would leak into the page. The frame runs
/// the script in a document of its own; `history.replaceState` (which inferno calls to keep
/// the zoom in the URL) is stubbed because a sandboxed `srcdoc` document may not change its
/// URL. The SVG has a fixed width and a `viewBox`, so CSS scales it to the frame.
fn flame_frame(out: &mut String, svg: &str) {
    let svg = svg.find("<svg").map_or(svg, |i| &svg[i..]);
    let height = svg
        .split_once("height=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .and_then(|(h, _)| h.parse::<f64>().ok())
        .unwrap_or(600.0);
    let document = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>html,body{{margin:0;overflow:hidden}}svg{{display:block;width:100%;height:auto}}</style>\
         <script>try{{history.replaceState=function(){{}};}}catch(e){{}}</script></head><body>{svg}</body></html>"
    );
    let _ = write!(
        out,
        "<iframe class=\"flame\" title=\"CPU flame graph\" sandbox=\"allow-scripts\" style=\"height:{:.0}px\" srcdoc=\"{}\"></iframe>",
        height + 4.0,
        escape(&document)
    );
}

/// Escapes text for HTML (and XML) content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than whitespace are not allowed in XML.
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(
            code_spans("use `Vec<u8>` here"),
            "use <code>Vec&lt;u8&gt;</code> here"
        );
    }
}
