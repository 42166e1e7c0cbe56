//! Ctrl-C and SIGTERM: the first asks the process to stop (a run stops and flushes); the
//! second exits at once. One counter per process, whichever command installs it.

use crate::error::KprodError;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::Once;

static SIGNALS: AtomicU32 = AtomicU32::new(0);
static INSTALL: Once = Once::new();

/// Install the handler of a run (once per process; only the binary calls this, never tests).
pub fn install() {
    INSTALL.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            if count(Some("kprod: second signal, exiting without a report")) {
                crate::domain::print_stderr(
                    "kprod: stopping: flushing and writing a partial report (signal again to exit now)",
                );
            }
        });
    });
}

/// Install the handler of a process that only serves until told to stop (`kprod cluster`):
/// the receiver gets a message at the first signal; the second exits at once (130).
pub fn install_waiter() -> Result<mpsc::Receiver<()>, KprodError> {
    let (tx, rx) = mpsc::channel::<()>();
    ctrlc::set_handler(move || {
        if count(None) {
            let _ = tx.send(());
        }
    })
    .map_err(|e| KprodError::io("installing the signal handler", std::io::Error::other(e)))?;
    Ok(rx)
}

/// Counts a signal: true at the first; at the second prints `last_words` and exits (130).
fn count(last_words: Option<&str>) -> bool {
    if SIGNALS.fetch_add(1, Ordering::SeqCst) >= 1 {
        if let Some(w) = last_words {
            crate::domain::print_stderr(w);
        }
        std::process::exit(130);
    }
    true
}

/// True once a signal has arrived.
pub fn signalled() -> bool {
    SIGNALS.load(Ordering::SeqCst) > 0
}
