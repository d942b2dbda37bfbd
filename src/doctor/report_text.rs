//! [`Report::to_text`]: the report for a terminal, in clinic doctor's "Issue detected /
//! Possible cause / Recommendation" form, followed by a table of the signals.

use std::fmt::Write as _;

use super::report::Report;
use super::{Finding, Severity};

/// Lines are wrapped to this width.
const WIDTH: usize = 96;

impl Report {
    /// The report as plain text: each finding as "Issue detected / Evidence / Possible cause /
    /// Recommendation", then every signal's mean, maximum and trend, and the slowest operations.
    ///
    /// ```text
    /// Issue detected: Runtime blocked by synchronous work (scheduling delay p99 231 ms) [critical]
    ///   Evidence: scheduling delay p50 180 ms, scheduling delay p99 231 ms, busy ratio 0.97
    ///   Points at: app::parse_block
    ///   Possible cause: Synchronous work is running on the runtime's worker threads: ...
    ///   Recommendation: Move `app::parse_block` off the runtime's workers: ...
    /// ```
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "stethoscope doctor: {:.1} s observed, a sample every {} ms ({} samples){}",
            self.window.as_secs_f64(),
            self.interval.as_millis(),
            self.samples.len(),
            self.workers
                .map_or(String::new(), |w| format!(", runtime with {w} workers")),
        );
        for finding in &self.findings {
            out.push('\n');
            finding_text(&mut out, finding);
        }

        let signals = self.present_signals();
        if !signals.is_empty() {
            let _ = writeln!(
                out,
                "\n{:<26}{:>14}{:>14}{:>14}  trend",
                "Signal", "mean", "max", "last"
            );
            for signal in signals {
                let Some(s) = self.summary(signal) else {
                    continue;
                };
                let unit = signal.unit();
                let trend = s.trend.map_or(String::new(), |t| {
                    format!("{} (R² {:.2})", unit.rate(t.slope_per_second), t.r_squared)
                });
                let _ = writeln!(
                    out,
                    "  {:<24}{:>14}{:>14}{:>14}  {trend}",
                    signal.title(),
                    unit.format(s.mean),
                    unit.format(s.max),
                    unit.format(s.last),
                );
            }
        }
        if !self.operations.is_empty() {
            let _ = writeln!(
                out,
                "\n{:<32}{:>8}{:>12}{:>11}{:>11}{:>12}",
                "Operation", "calls", "wall", "executing", "waiting", "p99"
            );
            for op in self.operations.iter().take(10) {
                let s = &op.summary;
                let _ = writeln!(
                    out,
                    "  {:<30}{:>8}{:>12}{:>10.0}%{:>10.0}%{:>12}",
                    truncate(s.name, 30),
                    s.calls,
                    format!("{:.2} s", s.total_wall.as_secs_f64()),
                    s.busy_share * 100.0,
                    s.idle_share * 100.0,
                    format!("{:.1} ms", s.p99_wall.as_secs_f64() * 1e3),
                );
            }
        }
        if let Some(note) = &self.profile_note {
            let _ = writeln!(out, "\nNo CPU profile: {note}");
        }
        out
    }
}

fn finding_text(out: &mut String, f: &Finding) {
    let heading = match (f.rule, f.severity) {
        ("healthy", _) => f.title.clone(),
        (_, Severity::Info) => format!("Note: {}", f.title),
        (_, severity) => format!("Issue detected: {} [{severity}]", f.title),
    };
    wrap(out, "", &heading);
    if !f.evidence.is_empty() {
        let evidence: Vec<String> = f.evidence.iter().map(ToString::to_string).collect();
        wrap(out, "  Evidence: ", &evidence.join(", "));
    }
    if !f.subjects.is_empty() {
        wrap(out, "  Points at: ", &f.subjects.join(", "));
    }
    wrap(out, "  Possible cause: ", &f.cause);
    wrap(out, "  Recommendation: ", &f.recommendation);
}

/// Appends `label` + `text`, wrapped at [`WIDTH`] with continuation lines indented by four.
fn wrap(out: &mut String, label: &str, text: &str) {
    let mut line = String::from(label);
    let mut fresh = true;
    for word in text.split_whitespace() {
        if !fresh && line.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = String::from("    ");
            fresh = true;
        }
        if !fresh {
            line.push(' ');
        }
        line.push_str(word);
        fresh = false;
    }
    out.push_str(&line);
    out.push('\n');
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_wraps_with_an_indent() {
        let mut out = String::new();
        wrap(&mut out, "  Possible cause: ", &"word ".repeat(40));
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.chars().count() <= WIDTH));
        assert!(lines[1].starts_with("    word"));
    }
}
