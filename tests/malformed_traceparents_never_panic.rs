//! Thousands of mutated `traceparent`/`tracestate` values: parsing never panics, and anything
//! accepted is a well-formed W3C header that survives a round trip.

use stethoscope::propagation::{TraceParent, TraceState};

const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn mutated_traceparents_are_rejected_or_roundtrip() {
    let alphabet = b"0123456789abcdefABCDEF-_ \t\x00\xffxz";
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut accepted = 0;
    for _ in 0..50_000 {
        let mut bytes = VALID.as_bytes().to_vec();
        for _ in 0..(xorshift(&mut rng) % 4 + 1) {
            let pos = (xorshift(&mut rng) as usize) % (bytes.len() + 1);
            let c = alphabet[(xorshift(&mut rng) as usize) % alphabet.len()];
            match xorshift(&mut rng) % 3 {
                0 if pos < bytes.len() => bytes[pos] = c,
                1 => bytes.insert(pos, c),
                _ if pos < bytes.len() => {
                    bytes.remove(pos);
                }
                _ => {}
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        if let Some(p) = TraceParent::parse(&text) {
            accepted += 1;
            let again = TraceParent::parse(&p.to_string()).expect("own output parses");
            assert_eq!(again, p, "{text:?}");
            assert!(p.trace_id != [0; 16] && p.parent_id != [0; 8]);
        }
    }
    assert!(
        accepted > 0,
        "the mutator should sometimes keep the header valid"
    );
}

#[test]
fn mutated_tracestates_are_rejected_or_roundtrip() {
    let alphabet = b"abz09=,@ _-*/\t\x01~";
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..20_000 {
        let len = (xorshift(&mut rng) % 60) as usize;
        let s: Vec<u8> = (0..len)
            .map(|_| alphabet[(xorshift(&mut rng) as usize) % alphabet.len()])
            .collect();
        let text = String::from_utf8_lossy(&s);
        if let Some(state) = TraceState::parse_all(&[&text]) {
            let again = TraceState::parse_all(&[&state.to_string()]).expect("own output parses");
            assert_eq!(again, state, "{text:?}");
        }
    }
}
