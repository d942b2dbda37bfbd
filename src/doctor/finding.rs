//! [`Finding`]: one diagnosis, with the numbers behind it, its likely cause and what to do.

use std::fmt;

use super::{Signal, Unit};

/// How much a finding matters. Ordered: `Info < Warning < Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Severity {
    /// Worth knowing, nothing is wrong (where the CPU goes, "no issue detected").
    Info,
    /// Something is wrong or will be under more load.
    Warning,
    /// Something is wrong now: requests are being delayed or memory will run out.
    Critical,
}

impl Severity {
    /// `info`, `warning` or `critical`, as in the JSON report.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One number behind a finding.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Evidence {
    /// A stable key, e.g. `scheduling_delay_p99_ms`.
    pub key: &'static str,
    /// A label for people, e.g. `scheduling delay p99`.
    pub label: &'static str,
    /// The number, in `unit`.
    pub value: f64,
    /// Its unit.
    pub unit: Unit,
}

impl Evidence {
    pub(crate) fn new(key: &'static str, label: &'static str, value: f64, unit: Unit) -> Self {
        Evidence {
            key,
            label,
            value,
            unit,
        }
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.label, self.unit.format(self.value))
    }
}

/// One diagnosis: what was seen (with numbers), why it probably happens and what to do.
///
/// Findings come from the rules in `docs/doctor.md`; [`Finding::rule`] names the rule.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Finding {
    /// The rule that produced it, a stable id such as `runtime_blocked` (see
    /// [`rules`](super::rules)).
    pub rule: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// The signal it is about; `None` for the "no issue detected" verdict.
    pub signal: Option<Signal>,
    /// One line saying what was detected, e.g. "Runtime blocked by synchronous work".
    pub title: String,
    /// The numbers behind it.
    pub evidence: Vec<Evidence>,
    /// What it points at, most important first: function names from the CPU profile, a
    /// growing type, a slow operation. Empty when nothing can be named.
    pub subjects: Vec<String>,
    /// The likely cause.
    pub cause: String,
    /// What to do about it.
    pub recommendation: String,
}

impl Finding {
    /// The evidence with `key`, if present.
    pub fn evidence(&self, key: &str) -> Option<f64> {
        self.evidence.iter().find(|e| e.key == key).map(|e| e.value)
    }
}
