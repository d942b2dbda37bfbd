//! `profile::diff`: the seed's "JSON.parse 72 % → 12 %" story as a picture: a function that
//! shrank is drawn blue with its change, one that only exists afterwards is drawn red.

use std::time::Duration;

use stethoscope::profile::{self, CpuProfile};

fn frame_title<'a>(svg: &'a str, function: &str) -> &'a str {
    let start = svg
        .find(&format!("<title>{function} "))
        .unwrap_or_else(|| panic!("no frame for {function} in\n{svg}"));
    let end = start + svg[start..].find("</title>").unwrap();
    &svg[start..end]
}

#[test]
fn a_function_only_in_after_is_shown_as_grown_and_a_shrunk_one_as_shrunk() {
    let second = Duration::from_secs(1);
    let before = CpuProfile::from_folded(
        "main;handle;json_parse 72\nmain;handle;verify 28\n",
        second,
        99,
    )
    .unwrap();
    let after = CpuProfile::from_folded(
        "main;handle;json_parse 12\nmain;handle;verify 28\nmain;handle;simd_json_parse 60\n",
        second,
        99,
    )
    .unwrap();
    let svg = String::from_utf8(profile::diff(&before, &after).unwrap()).unwrap();

    let new = frame_title(&svg, "simd_json_parse");
    assert!(new.contains("+60.00%"), "{new}");
    let shrunk = frame_title(&svg, "json_parse");
    assert!(shrunk.contains("-60.00%"), "{shrunk}");
    assert!(svg.contains("Differential CPU flame graph"));
}
