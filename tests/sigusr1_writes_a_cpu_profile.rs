//! `SignalCapture`: `kill -USR1 <pid>` writes `cpu-*.svg` and `cpu-*.pb.gz` into the directory.
#![cfg(unix)]

use std::time::{Duration, Instant};

use stethoscope::profile::SignalCapture;

#[test]
fn sigusr1_writes_a_flame_graph_and_a_pprof_file() {
    let dir = std::env::temp_dir().join(format!("stethoscope-sigusr1-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let capture = SignalCapture::install(&dir, Duration::from_millis(200)).unwrap();

    let status = std::process::Command::new("kill")
        .args(["-USR1", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());

    // Generous: the machine may be loaded; the loop ends as soon as both files are there.
    let deadline = Instant::now() + Duration::from_secs(60);
    let names = loop {
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        if names.len() == 2 || Instant::now() > deadline {
            break names;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(capture);
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names[0].starts_with("cpu-") && names[0].ends_with(".pb.gz"),
        "{names:?}"
    );
    assert!(
        names[1].starts_with("cpu-") && names[1].ends_with(".svg"),
        "{names:?}"
    );
    let svg = std::fs::read_to_string(dir.join(&names[1])).unwrap();
    assert!(svg.contains("<svg"));
    let _ = std::fs::remove_dir_all(&dir);
}
