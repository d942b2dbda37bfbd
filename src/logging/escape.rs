//! Allocation-free JSON string escaping, straight into the line buffer.

use std::fmt;

/// Which bytes need an escape: `"`, `\` and the C0 controls. Everything else, including
/// non-ASCII UTF-8, is copied verbatim (JSON text is UTF-8).
#[inline]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Appends `s` to `out` as the *inside* of a JSON string (no surrounding quotes).
///
/// Runs of clean bytes are copied with one `push_str`, so the common case (no escapes) is a
/// scan plus a memcpy.
pub(crate) fn escape_into(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !needs_escape(b) {
            continue;
        }
        if start < i {
            out.push_str(&s[start..i]);
        }
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
        }
        start = i + 1;
    }
    if start < bytes.len() {
        out.push_str(&s[start..]);
    }
}

/// Appends `s` to `out` as a complete JSON string, quotes included.
#[inline]
pub(crate) fn quoted_into(out: &mut String, s: &str) {
    out.push('"');
    escape_into(out, s);
    out.push('"');
}

/// A `fmt::Write` adapter that JSON-escapes everything written through it, so `Debug` and
/// `Display` output lands in the buffer already escaped, without an intermediate `String`.
pub(crate) struct Escaping<'a>(pub(crate) &'a mut String);

impl fmt::Write for Escaping<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escape_into(self.0, s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(s: &str) {
        let mut out = String::new();
        quoted_into(&mut out, s);
        let back: String = serde_json::from_str(&out).expect("valid JSON string");
        assert_eq!(back, s, "escaped form: {out}");
    }

    #[test]
    fn every_control_character_roundtrips() {
        for c in 0u8..0x20 {
            roundtrip(&format!("a{}b", c as char));
        }
    }

    #[test]
    fn quotes_backslashes_and_unicode_roundtrip() {
        roundtrip(r#"say "hi" \ back\slash"#);
        roundtrip("emoji 🦀, accents é, line sep \u{2028}, del \u{7f}");
        roundtrip("");
        roundtrip("\"");
        roundtrip("\\");
    }

    #[test]
    fn clean_text_is_copied_verbatim() {
        let mut out = String::new();
        escape_into(&mut out, "plain text 123");
        assert_eq!(out, "plain text 123");
    }

    #[test]
    fn pseudo_random_strings_roundtrip() {
        // A deterministic xorshift drives a mix of ASCII, controls and multi-byte characters:
        // a cheap stand-in for a property test without adding a dependency.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let alphabet = [
            'a', '"', '\\', '\n', '\u{1}', '\u{1f}', 'é', '🦀', ' ', '\t', '\u{7f}',
        ];
        for _ in 0..2_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 40) as usize;
            let s: String = (0..len)
                .map(|i| alphabet[((state >> (i % 60)) as usize + i) % alphabet.len()])
                .collect();
            roundtrip(&s);
        }
    }
}
