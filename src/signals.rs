//! Ctrl-C, SIGTERM and SIGHUP: one handler per process, installed first thing in
//! `kprod::run`, whose meaning follows the phase the process is in.
//!
//! - Before t0 (profile reading, cluster start-up, broker preflight, waiting for producers):
//!   nothing has been measured or written, so the first signal exits 130 at once. Whatever
//!   the main thread is blocked on (a FIFO, a metadata request, a large mock cluster) cannot
//!   delay it, because the exit happens on the handler's own thread.
//! - From t0 on ([`run_started`]): the first signal asks the run to stop, flush and write a
//!   partial report; the commands poll [`signalled`]. It stays so for the rest of the process,
//!   so `compare` / `sweep` finish the runs they have after the first one.
//! - Serving (`kprod cluster`, [`serve`]): the first signal ends the wait, for a clean stop.
//!
//! The second signal always exits 130 at once.

use crate::error::KprodError;
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::{mpsc, Mutex, Once};

static SIGNALS: AtomicU32 = AtomicU32::new(0);
static PHASE: AtomicU8 = AtomicU8::new(BEFORE_T0);
static INSTALL: Once = Once::new();
/// Where the first signal goes while serving.
static WAITER: Mutex<Option<mpsc::Sender<()>>> = Mutex::new(None);

const BEFORE_T0: u8 = 0;
const RUNNING: u8 = 1;
const SERVING: u8 = 2;

/// Install the process's handler (once; later calls do nothing). Only `kprod::run` calls
/// this, never tests: in a test binary a signal would end every test at once.
pub fn install() -> Result<(), KprodError> {
    let mut result = Ok(());
    INSTALL.call_once(|| {
        result = ctrlc::set_handler(on_signal)
            .map_err(|e| KprodError::io("installing the signal handler", std::io::Error::other(e)));
    });
    result
}

/// t0 of a run: from now on the first signal stops the run and flushes instead of exiting.
pub fn run_started() {
    // Serving is never left for a run: `kprod cluster` runs none.
    let _ = PHASE.compare_exchange(BEFORE_T0, RUNNING, Ordering::SeqCst, Ordering::SeqCst);
}

/// Serve until the first signal (`kprod cluster`): call it once start-up is over and before
/// telling anyone the service is up; the receiver gets a message at the first signal.
pub fn serve() -> mpsc::Receiver<()> {
    let (tx, rx) = mpsc::channel::<()>();
    if let Ok(mut w) = WAITER.lock() {
        *w = Some(tx);
    }
    PHASE.store(SERVING, Ordering::SeqCst);
    rx
}

/// Runs on ctrlc's own thread, never in signal context: it may lock, print and exit.
fn on_signal() {
    let first = SIGNALS.fetch_add(1, Ordering::SeqCst) == 0;
    let phase = PHASE.load(Ordering::SeqCst);
    if !first {
        if phase == RUNNING {
            crate::domain::print_stderr("kprod: second signal, exiting without a report");
        }
        exit_now();
    }
    match phase {
        RUNNING => crate::domain::print_stderr(
            "kprod: stopping: flushing and writing a partial report (signal again to exit now)",
        ),
        SERVING => {
            let sent = WAITER
                .lock()
                .ok()
                .and_then(|w| w.as_ref().map(|tx| tx.send(()).is_ok()));
            if sent != Some(true) {
                exit_now();
            }
        }
        _ => {
            crate::domain::print_stderr("kprod: interrupted before any run started; exiting");
            exit_now();
        }
    }
}

/// Exit 130 without running exit handlers: librdkafka's and OpenSSL's threads may be in the
/// middle of anything, and their atexit clean-up must not race them.
fn exit_now() -> ! {
    // SAFETY: _exit(2) takes no pointers and never returns. stderr is unbuffered and stdout
    // line-buffered, so at most a half-written line is lost.
    unsafe { libc::_exit(130) }
}

/// True once a signal has arrived (only ever seen from t0 on or while serving: before t0
/// the first signal exits).
pub fn signalled() -> bool {
    SIGNALS.load(Ordering::SeqCst) > 0
}
