//! The keys of a JSON object exactly as written in the raw text.
//!
//! A JSON parser cannot show a repeated key: `serde_json` (like most parsers) keeps only the
//! last value, so a line that writes `"shard"` twice parses as if it were correct. These
//! helpers read the raw line instead.

#![allow(dead_code)] // each test binary uses a subset

/// The top-level keys of the JSON object `line`, in the order written, escapes decoded.
/// Panics if `line` is not an object or a string is unterminated.
pub(crate) fn top_level_keys(line: &str) -> Vec<String> {
    let bytes = line.as_bytes();
    assert_eq!(bytes.first(), Some(&b'{'), "not a JSON object: {line}");
    let mut keys = Vec::new();
    let mut depth = 0usize;
    // Inside the top-level object, a string right after `{` or `,` is a key; any other
    // string there is a value.
    let mut expect_key = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i;
                i += 1;
                loop {
                    match bytes.get(i) {
                        Some(b'"') => break,
                        Some(b'\\') => i += 2,
                        Some(_) => i += 1,
                        None => panic!("unterminated string at byte {start}: {line}"),
                    }
                }
                if depth == 1 && expect_key {
                    let key: String = serde_json::from_str(&line[start..=i])
                        .unwrap_or_else(|e| panic!("invalid key at byte {start} ({e}): {line}"));
                    keys.push(key);
                    expect_key = false;
                }
            }
            b'{' | b'[' => {
                depth += 1;
                expect_key = depth == 1;
            }
            b'}' | b']' => depth -= 1,
            b',' if depth == 1 => expect_key = true,
            _ => {}
        }
        i += 1;
    }
    keys
}

/// How many times `key` is written at the top level of `line`.
pub(crate) fn key_count(line: &str, key: &str) -> usize {
    top_level_keys(line).iter().filter(|k| *k == key).count()
}

/// The top-level keys written more than once in `line`, each listed once, sorted.
pub(crate) fn repeated_keys(line: &str) -> Vec<String> {
    let keys = top_level_keys(line);
    let mut repeated: Vec<String> = keys
        .iter()
        .enumerate()
        .filter(|(i, k)| keys[..*i].contains(k))
        .map(|(_, k)| k.clone())
        .collect();
    repeated.sort();
    repeated.dedup();
    repeated
}

/// Panics, showing the line, if any top-level key of `line` is written more than once.
pub(crate) fn assert_unique_keys(line: &str) {
    let repeated = repeated_keys(line);
    assert!(repeated.is_empty(), "keys {repeated:?} repeated in: {line}");
}
