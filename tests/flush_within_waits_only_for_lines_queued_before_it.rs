//! `NonBlocking::flush_within` waits for the lines queued before the call, not for an empty
//! queue: another thread logging without pause cannot make it time out.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use stethoscope::logging::NonBlocking;

/// Records what is written; after each write it has the logging thread queue one more line
/// and waits until it is queued, so the queue is never empty when a write completes — the
/// steadiest logging there can be, without depending on thread scheduling.
struct Chatty {
    output: Arc<Mutex<Vec<u8>>>,
    log_one: mpsc::SyncSender<()>,
    logged: mpsc::Receiver<()>,
    chatting: Arc<AtomicBool>,
}

impl Write for Chatty {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.lock().unwrap().extend_from_slice(buf);
        if self.chatting.load(Ordering::SeqCst) && self.log_one.send(()).is_ok() {
            let _ = self.logged.recv();
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn flush_within_returns_once_earlier_lines_are_written_while_another_thread_keeps_logging() {
    let output = Arc::new(Mutex::new(Vec::new()));
    let chatting = Arc::new(AtomicBool::new(true));
    let (log_one, log_request) = mpsc::sync_channel::<()>(0);
    let (logged_tx, logged) = mpsc::channel::<()>();
    let (writer, guard) = NonBlocking::builder()
        .spawn(Chatty {
            output: Arc::clone(&output),
            log_one,
            logged,
            chatting: Arc::clone(&chatting),
        })
        .unwrap();

    let (started_tx, started) = mpsc::channel::<()>();
    let mut chatter_writer = writer.clone();
    let chatter = std::thread::spawn(move || {
        let mut n = 0u64;
        // Ends when the destination (and with it the sender) is dropped at shutdown.
        while log_request.recv().is_ok() {
            chatter_writer
                .write_all(format!("chatter {n}\n").as_bytes())
                .unwrap();
            n += 1;
            let _ = started_tx.send(());
            let _ = logged_tx.send(());
        }
    });

    let mut caller = writer.clone();
    // Starts the chain: every write of the destination now queues one more chatter line.
    caller.write_all(b"first\n").unwrap();
    started.recv().unwrap(); // the other thread is logging from here on
    const LINES: usize = 1_000;
    for i in 0..LINES {
        caller
            .write_all(format!("caller {i}\n").as_bytes())
            .unwrap();
    }
    let flushed = writer.flush_within(Duration::from_secs(10));
    // Read what was written *before* stopping anything: that is what the flush promised.
    let text = String::from_utf8(output.lock().unwrap().clone()).unwrap();
    chatting.store(false, Ordering::SeqCst);

    flushed.expect("every line queued before the call was written, so the flush succeeds");
    let lines: Vec<&str> = text.lines().collect();
    let caller_lines: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("caller "))
        .collect();
    let expected: Vec<String> = (0..LINES).map(|i| format!("caller {i}")).collect();
    assert_eq!(
        caller_lines, expected,
        "every caller line, whole and in order"
    );
    assert!(
        lines.contains(&"chatter 0"),
        "the other thread's line queued before the call is written too"
    );

    guard.shutdown(Duration::from_secs(10)).unwrap();
    chatter.join().unwrap();
}
