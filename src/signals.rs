//! Ctrl-C and SIGTERM: the first asks the run to stop and flush; the second exits at once.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

static SIGNALS: AtomicU32 = AtomicU32::new(0);
static INSTALL: Once = Once::new();

/// Install the handler (once per process; only the binary calls this, never tests).
pub fn install() {
    INSTALL.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            let n = SIGNALS.fetch_add(1, Ordering::SeqCst) + 1;
            if n >= 2 {
                crate::domain::print_stderr("kprod: second signal, exiting without a report");
                std::process::exit(130);
            }
            crate::domain::print_stderr(
                "kprod: stopping: flushing and writing a partial report (signal again to exit now)",
            );
        });
    });
}

/// True once a signal has arrived.
pub fn signalled() -> bool {
    SIGNALS.load(Ordering::SeqCst) > 0
}
