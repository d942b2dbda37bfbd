//! Allocation-free JSON string escaping, straight into the line buffer.

use std::fmt;

/// `ESCAPE[b]` is non-zero for the bytes JSON strings cannot hold raw: `"`, `\` and the C0
/// controls. Everything else, including non-ASCII UTF-8, is copied verbatim.
static ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Whether any byte of the 8 in `word` needs escaping, tested all at once (SWAR): a byte below
/// 0x20, or equal to `"` or `\\`.
#[inline]
fn word_needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    (below_space | has_zero(word ^ (ONES * b'"' as u64)) | has_zero(word ^ (ONES * b'\\' as u64)))
        != 0
}

/// Appends `s` to `out` as the *inside* of a JSON string (no surrounding quotes).
///
/// Clean input (the common case) is scanned eight bytes at a time and copied with one
/// `extend_from_slice`.
#[inline]
pub(crate) fn escape_into(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut clean = 0;
    for chunk in bytes.chunks_exact(8) {
        let word = u64::from_le_bytes([
            chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
        ]);
        if word_needs_escape(word) {
            break;
        }
        clean += 8;
    }
    while clean < bytes.len() && !ESCAPE[bytes[clean] as usize] {
        clean += 1;
    }
    out.extend_from_slice(&bytes[..clean]);
    if clean < bytes.len() {
        escape_slow(out, &bytes[clean..]);
    }
}

/// The byte-at-a-time path, from the first byte that needs an escape.
#[cold]
fn escape_slow(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !ESCAPE[b as usize] {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[(b >> 4) as usize],
                    HEX[(b & 0xf) as usize],
                ]);
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends `s` to `out` as a complete JSON string, quotes included.
#[inline]
pub(crate) fn quoted_into(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    escape_into(out, s);
    out.push(b'"');
}

/// A `fmt::Write` adapter that JSON-escapes everything written through it, so `Debug` and
/// `Display` output lands in the buffer already escaped, without an intermediate `String`.
pub(crate) struct Escaping<'a>(pub(crate) &'a mut Vec<u8>);

impl fmt::Write for Escaping<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escape_into(self.0, s);
        Ok(())
    }
}

/// A `fmt::Write` adapter that appends verbatim (the pretty format's messages).
pub(crate) struct Raw<'a>(pub(crate) &'a mut Vec<u8>);

impl fmt::Write for Raw<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(s: &str) {
        let mut out = Vec::new();
        quoted_into(&mut out, s);
        let back: String = serde_json::from_slice(&out).expect("valid JSON string");
        assert_eq!(back, s, "escaped form: {}", String::from_utf8_lossy(&out));
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
    fn the_word_test_agrees_with_the_byte_table() {
        for b in 0..=255u8 {
            for pos in 0..8 {
                let mut word = [b'a'; 8];
                word[pos] = b;
                assert_eq!(
                    word_needs_escape(u64::from_le_bytes(word)),
                    ESCAPE[b as usize],
                    "byte {b:#x} at {pos}"
                );
            }
        }
    }

    #[test]
    fn clean_text_is_copied_verbatim() {
        let mut out = Vec::new();
        escape_into(&mut out, "plain text 123");
        assert_eq!(out, b"plain text 123");
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
