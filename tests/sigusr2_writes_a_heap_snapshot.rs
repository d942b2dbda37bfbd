//! `heap::SignalSnapshot`: each `kill -USR2 <pid>` writes `heap-*.txt` with the live-object
//! table; the second one also compares with the first, the type that grew at the top.
#![cfg(unix)]

use std::path::Path;
use std::time::{Duration, Instant};

use stethoscope::heap::{SignalSnapshot, Tracked};

struct Subscription;

fn signal_and_wait_for(dir: &Path, files: usize) -> Vec<String> {
    let status = std::process::Command::new("kill")
        .args(["-USR2", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // Generous: the machine may be loaded; the loop ends as soon as the file is there.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".txt"))
            .collect();
        names.sort();
        if names.len() >= files || Instant::now() > deadline {
            return names;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigusr2_writes_the_counts_table_and_the_comparison_with_the_previous_one() {
    let dir = std::env::temp_dir().join(format!("stethoscope-sigusr2-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let listener = SignalSnapshot::install(&dir).unwrap();

    let mut kept: Vec<Tracked<Subscription>> = (0..3).map(|_| Tracked::new(Subscription)).collect();
    let first = signal_and_wait_for(&dir, 1);
    assert_eq!(first.len(), 1, "{first:?}");
    // File names carry milliseconds: make sure the second one is distinct.
    std::thread::sleep(Duration::from_millis(5));
    kept.extend((0..40).map(|_| Tracked::new(Subscription)));
    let both = signal_and_wait_for(&dir, 2);
    drop(listener);
    assert_eq!(both.len(), 2, "{both:?}");
    assert!(both.iter().all(|n| n.starts_with("heap-")), "{both:?}");

    let text = std::fs::read_to_string(dir.join(&first[0])).unwrap();
    let row = text
        .lines()
        .find(|l| l.contains("::Subscription"))
        .expect(&text);
    assert!(row.split_whitespace().nth(1) == Some("3"), "{text}");

    let second = both.iter().find(|n| **n != first[0]).unwrap();
    let text = std::fs::read_to_string(dir.join(second)).unwrap();
    let comparison = text
        .split("# compared with the previous SIGUSR2 snapshot")
        .nth(1)
        .expect(&text);
    let top = comparison
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap();
    assert!(top.starts_with("type"), "{comparison}");
    let top_row = comparison
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("type"))
        .nth(1)
        .unwrap();
    assert!(top_row.contains("::Subscription"), "{comparison}");
    assert!(top_row.contains("+40"), "{comparison}");
    let _ = std::fs::remove_dir_all(&dir);
    drop(kept);
}
