//! The end of a producer: the flush up to its deadline, then the purge that turns what is
//! left into unknown outcomes, so every record ends delivered, failed or unknown.

use super::{drain, NativeProducer, RunFlags, Sink, WorkerSpec, INTERRUPT_FLUSH};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const PURGE_GRACE: Duration = Duration::from_secs(2);

/// Wait for outstanding delivery reports up to the flush deadline, then purge what is
/// left so every record ends delivered, failed or unknown.
pub(super) fn finish_outstanding(
    p: &NativeProducer,
    sink: &mut Sink<'_>,
    spec: &WorkerSpec,
    flags: &RunFlags,
    latency: bool,
) {
    let pending = |p: &NativeProducer, s: &Sink<'_>| {
        if latency {
            s.rec.in_flight() > 0 || p.outq_len() > 0
        } else {
            p.outq_len() > 0
        }
    };
    let mut deadline = Instant::now() + spec.flush_timeout;
    while pending(p, sink) && Instant::now() < deadline {
        if flags.interrupted.load(Ordering::Relaxed) {
            deadline = deadline.min(Instant::now() + INTERRUPT_FLUSH);
        }
        p.poll(10, sink);
        let now = sink.now_us();
        sink.roll(now);
    }
    if pending(p, sink) {
        p.purge();
        let grace = Instant::now() + PURGE_GRACE;
        while pending(p, sink) && Instant::now() < grace {
            p.poll(10, sink);
        }
    }
    drain(p, sink);
    if latency {
        sink.rec.unreported_to_unknown();
    } else {
        let flushed = sink.now_us();
        sink.rec.infer_delivered(flushed);
    }
}
