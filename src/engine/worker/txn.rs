//! The transaction cadence of one producer thread: begin before the first record of a
//! transaction, commit (flush included) after `records_per_transaction`, abort what will
//! not commit, and close the open transaction when generation ends.

use super::{drain, Sink, INTERRUPT_FLUSH};
use crate::engine::native::NativeProducer;
use std::time::{Duration, Instant};

/// What the producer loop does after asking the stepper.
pub(super) enum TxnStep {
    /// Send the next record (inside a transaction if the profile is transactional).
    Send,
    /// A transaction just ended: check the stop conditions again before sending.
    Again,
    /// The producer cannot go on; `Sink::fatal` says why.
    Stop,
}

/// Begin/commit/abort bookkeeping; a no-op when the profile is not transactional.
pub(super) struct TxnStepper {
    /// `records_per_transaction`; None = not transactional.
    every: Option<u64>,
    timeout: Duration,
    open: bool,
    records: u64,
    pub committed: u64,
    pub aborted: u64,
}

impl TxnStepper {
    pub fn new(every: Option<u64>, timeout: Duration) -> TxnStepper {
        TxnStepper {
            every,
            timeout,
            open: false,
            records: 0,
            committed: 0,
            aborted: 0,
        }
    }

    /// Called before each record: opens a transaction if none is open and ends the
    /// current one once it holds its share of records.
    #[inline(always)]
    pub fn before_record(&mut self, p: &NativeProducer, sink: &mut Sink<'_>) -> TxnStep {
        let Some(n) = self.every else {
            return TxnStep::Send;
        };
        if !self.open {
            if let Err(e) = p.begin_transaction() {
                sink.fatal = Some(format!("begin_transaction: {e}"));
                return TxnStep::Stop;
            }
            self.open = true;
        }
        if self.records >= n {
            return self.end_transaction(p, sink);
        }
        TxnStep::Send
    }

    /// One more record went into the open transaction.
    #[inline(always)]
    pub fn sent(&mut self) {
        self.records += 1;
    }

    /// Once per transaction, so kept out of line of the per-record path.
    #[inline(never)]
    fn end_transaction(&mut self, p: &NativeProducer, sink: &mut Sink<'_>) -> TxnStep {
        match commit(p, sink, self.timeout) {
            Ok(()) => self.committed += 1,
            Err(e) => {
                // Counted only once the abort went through; the final commit after
                // the loop must not retry a transaction already given up on.
                self.open = false;
                if let Err(e2) = p.abort_transaction(self.timeout) {
                    sink.fatal = Some(format!("commit failed ({e}), abort failed ({e2})"));
                    return TxnStep::Stop;
                }
                self.aborted += 1;
            }
        }
        self.open = false;
        self.records = 0;
        TxnStep::Again
    }

    /// Generation ended: commit the open transaction, or abort it if that fails.
    pub fn finish(&mut self, p: &NativeProducer, sink: &mut Sink<'_>, interrupted: bool) {
        if !self.open {
            return;
        }
        // After a signal the last commit gets the interrupt's flush deadline, not the
        // transaction timeout (minutes), so Ctrl-C still ends the run promptly.
        let timeout = if interrupted {
            self.timeout.min(INTERRUPT_FLUSH)
        } else {
            self.timeout
        };
        match commit(p, sink, timeout) {
            Ok(()) => self.committed += 1,
            Err(_) => {
                if p.abort_transaction(timeout).is_ok() {
                    self.aborted += 1;
                }
            }
        }
    }
}

/// Flush, then commit; the measured time covers both because that is what a
/// transactional application waits for.
fn commit(p: &NativeProducer, sink: &mut Sink<'_>, timeout: Duration) -> Result<(), String> {
    let start = Instant::now();
    let deadline = start + timeout;
    while (sink.rec.in_flight() > 0 || p.outq_len() > 0) && Instant::now() < deadline {
        p.poll(10, sink);
        let now = sink.now_us();
        sink.roll(now);
    }
    let res = p.commit_transaction(deadline.saturating_duration_since(Instant::now()));
    // commit_transaction may leave delivery reports on the queue.
    drain(p, sink);
    if res.is_ok() {
        sink.rec.on_commit(start.elapsed().as_micros() as u64);
    }
    res
}
