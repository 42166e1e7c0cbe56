//! The pacing wait of a paced producer: until the next record's intended time it serves
//! delivery reports the moment they arrive (the queue's wakeup pipe, `engine::wakeup`,
//! waited on with µs precision), wakes a little early and spins the rest.

use super::{drain, Hot, NativeProducer, Sink};
use std::time::Duration;

/// Serve what is queued; true when the queue was left empty (the wakeup pipe is written
/// only when an event lands on an empty queue, so only then may the worker wait on it).
#[inline]
pub(super) fn drained(p: &NativeProducer, sink: &mut Sink<'_>) -> bool {
    for _ in 0..256 {
        if p.poll(0, sink).is_none() {
            return true;
        }
    }
    false
}

impl Hot<'_> {
    /// The pacing wait: serve delivery reports while sleeping or spinning until `t`
    /// (ns since t0), or until a stop. Returns the time it ended.
    #[inline(always)]
    pub(super) fn wait_until(&mut self, t: u64, mut now_ns: u64) -> u64 {
        while now_ns < t {
            let gap = t - now_ns;
            if gap > 30_000 && drained(self.producer, &mut self.sink) {
                // Wait on the queue's wakeup pipe: a delivery report is served the moment
                // it arrives, not when a millisecond poll or a sleep ends (which would add
                // up to the gap to its latency); wake a little early and spin the rest.
                let now = self.clock.now_ns();
                if t > now + 20_000 {
                    let ns = (t - now - 15_000).min(100_000_000);
                    if self.producer.wait_event(ns).is_none() {
                        self.wait_without_wakeup(t, now);
                    }
                }
            } else if gap > 30_000 {
                // More reports than one drain serves: serve on before waiting.
            } else {
                drain(self.producer, &mut self.sink);
                std::hint::spin_loop();
            }
            now_ns = self.clock.now_ns();
            self.sink.roll(now_ns / 1_000);
            if self.stopped() {
                break;
            }
        }
        now_ns
    }

    /// One step of the pacing wait without a wakeup pipe: a poll that blocks in whole
    /// milliseconds, then a short sleep (a report arriving during it waits for its end).
    #[cold]
    fn wait_without_wakeup(&mut self, t: u64, now_ns: u64) {
        let gap = t.saturating_sub(now_ns);
        if gap > 2_000_000 {
            let ms = ((gap / 1_000_000) - 1).min(100) as i32;
            self.producer.poll(ms, &mut self.sink);
        } else if t > now_ns + 20_000 {
            std::thread::sleep(Duration::from_nanos(t - now_ns - 15_000));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::still_due;

    #[test]
    fn a_record_due_before_the_end_is_sent_when_reached_a_little_late_but_not_much() {
        let end = 10_000_000_000;
        // The last record of a 20k/s run, reached 300 µs after the end: jitter, sent.
        assert!(still_due(end - 50_000, end + 300_000, end));
        // Reached 5 ms or more after the end: the generator is behind; it stops on time.
        assert!(!still_due(end - 50_000, end + 5_000_000, end));
        // Due at or after the end: never sent.
        assert!(!still_due(end, end - 1, end));
        assert!(still_due(end - 1, end - 2, end));
    }
}
