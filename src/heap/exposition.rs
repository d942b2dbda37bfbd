//! The memory pillar's lines of `/metrics`: the allocator's totals (when
//! [`Counting`](crate::alloc::Counting) is installed) and live objects per tracked type. Read
//! at scrape time, like the process metrics, so they are never stale.

use std::fmt::Write as _;

use crate::metric::names;

/// Appends the families in Prometheus text format; nothing when there is nothing to report.
pub(crate) fn render_into(out: &mut String) {
    let snapshot = super::snapshot();
    if let Some(alloc) = snapshot.alloc {
        let mut family = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = write!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n\n"
            );
        };
        family(
            names::PROCESS_HEAP_LIVE_BYTES,
            "gauge",
            "Heap bytes allocated and not yet freed.",
            alloc.live_bytes,
        );
        family(
            names::PROCESS_HEAP_ALLOCATIONS_TOTAL,
            "counter",
            "Heap allocations since the process started.",
            alloc.allocations,
        );
        family(
            names::PROCESS_HEAP_FREES_TOTAL,
            "counter",
            "Heap frees since the process started.",
            alloc.frees,
        );
        family(
            names::PROCESS_HEAP_ALLOCATED_BYTES_TOTAL,
            "counter",
            "Heap bytes allocated since the process started, freed or not.",
            alloc.allocated_bytes,
        );
    }
    if snapshot.types.is_empty() {
        return;
    }
    for (name, help, value) in [
        (
            names::LIVE_OBJECTS,
            "Live instances of each tracked type.",
            (|t: &super::TypeCount| t.count) as fn(&super::TypeCount) -> u64,
        ),
        (
            names::LIVE_OBJECT_BYTES,
            "Bytes of the live instances of each tracked type.",
            |t: &super::TypeCount| t.bytes,
        ),
    ] {
        let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n");
        for t in &snapshot.types {
            let _ = writeln!(
                out,
                "{name}{{type=\"{}\"}} {}",
                escape_label(&t.type_name),
                value(t)
            );
        }
        out.push('\n');
    }
}

/// Escapes a label value as the text format requires: `\`, `"` and newlines.
fn escape_label(value: &str) -> std::borrow::Cow<'_, str> {
    if value.contains(['\\', '"', '\n']) {
        value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
            .into()
    } else {
        value.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a::B<C>"), "a::B<C>");
        assert_eq!(escape_label("say \"hi\"\\\n"), "say \\\"hi\\\"\\\\\\n");
    }
}
