//! The W3C Trace Context headers, parsed and written exactly as the Recommendation says
//! (levels 1 and 2, sections 3.2 `traceparent` and 3.3 `tracestate`).
//!
//! Stricter than `opentelemetry`'s `TraceContextPropagator` where that one deviates:
//! a repeated `traceparent` is invalid (the trace restarts), repeated `tracestate` headers are
//! one combined list, every field must have its exact length, a `tracestate` with an invalid
//! member or more than 32 members is discarded whole, a duplicated `tracestate` key keeps its
//! left-most member, keys follow the level-2 grammar (`@` allowed after the first character),
//! and the level-2 `random` flag survives.

use std::fmt;

/// `sampled` (level 1): the caller may have recorded trace data.
pub const FLAG_SAMPLED: u8 = 0x01;
/// `random` (level 2): the trace id's right-most 7 bytes are random.
pub const FLAG_RANDOM: u8 = 0x02;
/// The flags this implementation understands; others are ignored on receipt and never sent.
const KNOWN_FLAGS: u8 = FLAG_SAMPLED | FLAG_RANDOM;

/// Most list members a `tracestate` may carry (3.3.1.1).
pub const MAX_TRACESTATE_MEMBERS: usize = 32;

/// A parsed `traceparent`: the caller's trace id, its span id (our parent) and flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceParent {
    /// 16-byte trace id, never all zero.
    pub trace_id: [u8; 16],
    /// 8-byte id of the caller's span, never all zero.
    pub parent_id: [u8; 8],
    /// Trace flags, restricted to the known bits ([`FLAG_SAMPLED`], [`FLAG_RANDOM`]).
    pub flags: u8,
}

impl TraceParent {
    /// Parses the `traceparent` header from all of its values in the request.
    ///
    /// Returns `None`, meaning "start a new trace", for anything the Recommendation calls
    /// invalid, including more than one `traceparent` value.
    pub fn parse_all(values: &[&str]) -> Option<Self> {
        match values {
            [one] => Self::parse(one),
            _ => None,
        }
    }

    /// Parses one `traceparent` value.
    pub fn parse(value: &str) -> Option<Self> {
        // Leading and trailing optional whitespace belongs to HTTP, not to the value.
        let v = value.trim_matches(|c| c == ' ' || c == '\t').as_bytes();
        if v.len() < 55 {
            return None;
        }
        let version = hex_byte(&v[0..2])?;
        if version == 0xff || v[2] != b'-' || v[35] != b'-' || v[52] != b'-' {
            return None;
        }
        // Version 00 is exactly 55 characters. A higher version may append fields, which we
        // must ignore, but only after a further '-' (3.2.4).
        if version == 0 && v.len() != 55 {
            return None;
        }
        if version > 0 && v.len() > 55 && v[55] != b'-' {
            return None;
        }
        let mut trace_id = [0u8; 16];
        for (i, b) in trace_id.iter_mut().enumerate() {
            *b = hex_byte(&v[3 + 2 * i..5 + 2 * i])?;
        }
        let mut parent_id = [0u8; 8];
        for (i, b) in parent_id.iter_mut().enumerate() {
            *b = hex_byte(&v[36 + 2 * i..38 + 2 * i])?;
        }
        let flags = hex_byte(&v[53..55])?;
        if trace_id == [0; 16] || parent_id == [0; 8] {
            return None;
        }
        Some(TraceParent {
            trace_id,
            parent_id,
            flags: flags & KNOWN_FLAGS,
        })
    }

    /// Whether the `sampled` flag is set.
    pub fn is_sampled(&self) -> bool {
        self.flags & FLAG_SAMPLED != 0
    }
}

impl fmt::Display for TraceParent {
    /// Writes the version-00 form: `00-<trace-id>-<parent-id>-<flags>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("00-")?;
        for b in self.trace_id {
            write!(f, "{b:02x}")?;
        }
        f.write_str("-")?;
        for b in self.parent_id {
            write!(f, "{b:02x}")?;
        }
        write!(f, "-{:02x}", self.flags & KNOWN_FLAGS)
    }
}

/// Two lowercase hex digits (HEXDIGLC): uppercase is invalid in trace context.
fn hex_byte(two: &[u8]) -> Option<u8> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    Some(nibble(two[0])? << 4 | nibble(two[1])?)
}

/// A validated `tracestate` list: vendor-specific key/value pairs, most recent first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceState {
    members: Vec<(String, String)>,
}

impl TraceState {
    /// Parses all `tracestate` values of a request as one list (several headers are combined
    /// as if joined by commas, RFC 9110 §5.3).
    ///
    /// Returns `None` when the list is invalid — a member without `=`, a malformed key or
    /// value, more than 32 members — and the whole `tracestate` is then discarded. A key that
    /// appears more than once keeps its left-most member; the later ones are dropped. Empty
    /// members are allowed and skipped.
    pub fn parse_all(values: &[&str]) -> Option<Self> {
        let mut members: Vec<(String, String)> = Vec::new();
        // Counts every non-empty member received, duplicates included: the 32-member limit
        // is on the list as sent, not on what we keep of it.
        let mut received = 0;
        for value in values {
            for member in value.split(',') {
                let member = member.trim_matches(|c| c == ' ' || c == '\t');
                if member.is_empty() {
                    continue;
                }
                received += 1;
                if received > MAX_TRACESTATE_MEMBERS {
                    return None;
                }
                // An invalid member discards the whole header rather than just itself. The
                // processing model ("A traceparent is Received", step 3) allows either: "If the
                // `tracestate` header cannot be parsed the vendor MAY discard the entire header. Invalid
                // `tracestate` entries MAY also be discarded." We follow the first sentence, as
                // the Working Group's strict conformance suite does (`@foo=1,bar=2` and a
                // 257-character key must lose `bar`/`foo` too): a list that breaks the grammar
                // was mangled by someone, and its other members cannot be trusted to be the
                // ones their vendors wrote.
                let (key, val) = member.split_once('=')?;
                if !valid_key(key) || !valid_value(val) {
                    return None;
                }
                // A duplicated key keeps its left-most member. "Mutating the tracestate Field"
                // forbids *adding* a duplicate ("Adding a key/value pair MUST NOT result in the
                // same key being present multiple times") but lets a receiver clean up one it
                // did not create ("Vendors MAY also discard duplicate keys that were not
                // generated by them"), and the conformance suite expects the rest of the list
                // to be inherited. Left-most wins because the list is most-recent-first:
                // "Modified keys MUST be moved to the beginning (left) of the list", so the
                // left-most duplicate is that vendor's latest position (see "Combined Header
                // Value": `congo=congosSecondPosition,rojo=rojosFirstPosition`).
                if members.iter().any(|(k, _)| k == key) {
                    continue;
                }
                members.push((key.to_owned(), val.to_owned()));
            }
        }
        Some(TraceState { members })
    }

    /// The members, most recent first.
    pub fn members(&self) -> impl Iterator<Item = (&str, &str)> {
        self.members.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether the list has no members (then no `tracestate` header is sent).
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

impl fmt::Display for TraceState {
    /// Writes `key=value,key=value`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in self.members.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{k}={v}")?;
        }
        Ok(())
    }
}

/// `key = ( lcalpha / DIGIT ) 0*255 ( keychar )`,
/// `keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"` (Trace Context level 2,
/// `tracestate` "Key").
///
/// This replaced level 1's `simple-key / multi-tenant-key` split (`tenant@system`, at most
/// one `@`, a 14-character system id) in w3c/trace-context#386: any number of `@` is allowed
/// after the first character, and only the total length (256) is limited.
fn valid_key(key: &str) -> bool {
    let k = key.as_bytes();
    let first = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let rest = |b: u8| first(b) || matches!(b, b'_' | b'-' | b'*' | b'/' | b'@');
    match k.split_first() {
        Some((&head, tail)) => k.len() <= 256 && first(head) && tail.iter().all(|&b| rest(b)),
        None => false,
    }
}

/// `value = 0*255(chr) nblk-chr`, `nblk-chr = %x21-2B / %x2D-3C / %x3E-7E`, `chr = %x20 / nblk-chr`:
/// 1 to 256 printable ASCII characters without `,` or `=`, not ending in a space.
fn valid_value(value: &str) -> bool {
    let v = value.as_bytes();
    let nblk = |b: u8| (0x21..=0x7e).contains(&b) && b != b',' && b != b'=';
    !v.is_empty()
        && v.len() <= 256
        && nblk(v[v.len() - 1])
        && v.iter().all(|&b| b == b' ' || nblk(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const PARENT: &str = "00f067aa0ba902b7";

    fn tp(s: &str) -> Option<TraceParent> {
        TraceParent::parse(s)
    }

    #[test]
    fn a_valid_version_00_traceparent_roundtrips() {
        let s = format!("00-{TRACE}-{PARENT}-01");
        let p = tp(&s).unwrap();
        assert!(p.is_sampled());
        assert_eq!(p.to_string(), s);
    }

    #[test]
    fn version_ff_is_invalid() {
        assert_eq!(tp(&format!("ff-{TRACE}-{PARENT}-01")), None);
    }

    #[test]
    fn version_00_with_trailing_data_is_invalid() {
        assert_eq!(tp(&format!("00-{TRACE}-{PARENT}-01-extra")), None);
        assert_eq!(tp(&format!("00-{TRACE}-{PARENT}-011")), None);
    }

    #[test]
    fn a_higher_version_is_parsed_as_00_and_extra_fields_ignored() {
        let p = tp(&format!(
            "cc-{TRACE}-{PARENT}-01-what-the-future-will-be-like"
        ))
        .unwrap();
        assert_eq!(p.to_string(), format!("00-{TRACE}-{PARENT}-01"));
        assert!(tp(&format!("cc-{TRACE}-{PARENT}-01")).is_some());
        assert_eq!(
            tp(&format!("cc-{TRACE}-{PARENT}-01x")),
            None,
            "extra data must follow a '-'"
        );
    }

    #[test]
    fn every_field_must_have_its_exact_length() {
        assert_eq!(tp(&format!("0-{TRACE}-{PARENT}-01")), None);
        assert_eq!(tp(&format!("000-{TRACE}-{PARENT}-01")), None);
        assert_eq!(tp(&format!("00-{}-{PARENT}-01", &TRACE[1..])), None);
        assert_eq!(tp(&format!("00-{TRACE}0-{PARENT}-01")), None);
        assert_eq!(tp(&format!("00-{TRACE}-{}-01", &PARENT[1..])), None);
        assert_eq!(tp(&format!("00-{TRACE}-{PARENT}0-01")), None);
        assert_eq!(tp(&format!("00-{TRACE}-{PARENT}-1")), None);
        assert_eq!(tp(&format!("00-{TRACE}-{PARENT}-001")), None);
    }

    #[test]
    fn uppercase_and_non_hex_digits_are_invalid() {
        assert_eq!(
            tp(&format!("00-{}-{PARENT}-01", TRACE.to_uppercase())),
            None
        );
        assert_eq!(
            tp(&format!("00-{TRACE}-{}-01", PARENT.to_uppercase())),
            None
        );
        assert_eq!(tp(&format!("00-{TRACE}-{PARENT}-0A")), None);
        assert_eq!(tp(&format!("00-{}g-{PARENT}-01", &TRACE[1..])), None);
        assert_eq!(tp(&format!("0x-{TRACE}-{PARENT}-01")), None);
    }

    #[test]
    fn all_zero_ids_are_invalid() {
        assert_eq!(tp(&format!("00-{}-{PARENT}-01", "0".repeat(32))), None);
        assert_eq!(tp(&format!("00-{TRACE}-{}-01", "0".repeat(16))), None);
    }

    #[test]
    fn wrong_delimiters_are_invalid() {
        assert_eq!(tp(&format!("00_{TRACE}-{PARENT}-01")), None);
        assert_eq!(tp(&format!("00-{TRACE}_{PARENT}-01")), None);
        assert_eq!(tp(&format!("00-{TRACE}-{PARENT}_01")), None);
    }

    #[test]
    fn surrounding_whitespace_is_not_part_of_the_value() {
        assert!(tp(&format!(" \t00-{TRACE}-{PARENT}-01 ")).is_some());
    }

    #[test]
    fn a_repeated_traceparent_restarts_the_trace() {
        let one = format!("00-{TRACE}-{PARENT}-01");
        assert!(TraceParent::parse_all(&[&one]).is_some());
        assert_eq!(TraceParent::parse_all(&[&one, &one]), None);
        assert_eq!(TraceParent::parse_all(&[]), None);
    }

    #[test]
    fn the_level_2_random_flag_is_kept_and_unknown_flags_dropped() {
        let p = tp(&format!("00-{TRACE}-{PARENT}-03")).unwrap();
        assert_eq!(p.flags, FLAG_SAMPLED | FLAG_RANDOM);
        assert!(p.to_string().ends_with("-03"));
        let p = tp(&format!("00-{TRACE}-{PARENT}-ff")).unwrap();
        assert_eq!(p.flags, FLAG_SAMPLED | FLAG_RANDOM);
        let p = tp(&format!("00-{TRACE}-{PARENT}-00")).unwrap();
        assert!(!p.is_sampled());
    }

    fn ts(values: &[&str]) -> Option<String> {
        TraceState::parse_all(values).map(|s| s.to_string())
    }

    #[test]
    fn tracestate_members_roundtrip_in_order() {
        assert_eq!(
            ts(&["rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"]).as_deref(),
            Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
        );
    }

    #[test]
    fn multiple_tracestate_headers_form_one_list() {
        assert_eq!(ts(&["a=1,b=2", "c=3"]).as_deref(), Some("a=1,b=2,c=3"));
    }

    #[test]
    fn empty_members_and_optional_whitespace_are_allowed() {
        assert_eq!(ts(&[" a=1 ,, \t, b=2\t"]).as_deref(), Some("a=1,b=2"));
        assert_eq!(ts(&[""]).as_deref(), Some(""));
    }

    #[test]
    fn more_than_32_members_discards_the_whole_tracestate() {
        let members: Vec<String> = (0..33).map(|i| format!("k{i}=v")).collect();
        assert_eq!(ts(&[&members.join(",")]), None);
        let members: Vec<String> = (0..32).map(|i| format!("k{i}=v")).collect();
        assert!(ts(&[&members.join(",")]).is_some());
    }

    #[test]
    fn keys_follow_the_level_2_grammar() {
        assert!(valid_key("rojo"));
        assert!(valid_key("a-b_c*d/e9"));
        assert!(valid_key("tenant1@system"));
        assert!(valid_key("1tenant@sys"));
        assert!(valid_key("1abc"), "a key may start with a digit");
        assert!(valid_key("foo@"), "'@' may end a key");
        assert!(valid_key("foo@@bar"), "'@' may repeat");
        assert!(valid_key("a@b@c"));
        assert!(
            valid_key(&format!("t@{}", "s".repeat(15))),
            "no system-id limit"
        );
        assert!(
            valid_key(&format!("{}@s", "t".repeat(242))),
            "no tenant-id limit"
        );
        assert!(valid_key(&format!(
            "{}@{}",
            "t".repeat(241),
            "s".repeat(14)
        )));
        assert!(valid_key(&format!("a@{}", "b".repeat(254))));
        assert!(valid_key(&"k".repeat(256)));
        assert!(!valid_key(&"k".repeat(257)));
        assert!(!valid_key(&format!(
            "{}@{}",
            "t".repeat(241),
            "s".repeat(15)
        )));
        assert!(!valid_key("@foo"), "'@' cannot start a key");
        assert!(!valid_key("_foo"));
        assert!(!valid_key("Upper"));
        assert!(!valid_key("foo.bar"));
        assert!(!valid_key("foo "));
        assert!(!valid_key(""));
    }

    #[test]
    fn values_are_printable_non_empty_and_do_not_end_in_space() {
        assert!(valid_value("t61rcWkgMzE"));
        assert!(valid_value("a b"));
        assert!(valid_value(&"v".repeat(256)));
        assert!(!valid_value(""));
        assert!(!valid_value("ab "));
        assert!(!valid_value(&"v".repeat(257)));
        assert!(!valid_value("a\u{1}b"));
        assert!(!valid_value("é"));
    }

    #[test]
    fn an_invalid_member_discards_the_whole_tracestate() {
        assert_eq!(ts(&["a=1,b="]), None, "empty value");
        assert_eq!(ts(&["a=1,B=2"]), None, "bad key");
        assert_eq!(ts(&["a=1,novalue"]), None, "no '='");
        assert_eq!(ts(&["@foo=1,bar=2"]), None, "key starting with '@'");
        assert_eq!(ts(&["foo=1", "@foo=1"]), None, "across headers");
    }

    #[test]
    fn a_duplicated_key_keeps_its_left_most_member() {
        assert_eq!(ts(&["a=1,b=2,a=3"]).as_deref(), Some("a=1,b=2"));
        assert_eq!(
            ts(&["a=1", "a=2"]).as_deref(),
            Some("a=1"),
            "across headers"
        );
        assert_eq!(ts(&["a=1,a=1"]).as_deref(), Some("a=1"));
    }

    #[test]
    fn duplicates_count_towards_the_32_member_limit() {
        let mut members: Vec<String> = (0..32).map(|i| format!("k{i}=v")).collect();
        members.push("k0=again".into());
        assert_eq!(ts(&[&members.join(",")]), None);
    }
}
