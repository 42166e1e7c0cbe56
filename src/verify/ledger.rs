//! The per-producer outcome of every record, kept only with `--verify`.
//!
//! One `u32` per sequence number: the state in the low 3 bits, the partition the client
//! reported (+1, 0 = unknown) above them. Storage comes in fixed chunks allocated before
//! t0 from the expected record count; a run that sends more grows by one chunk every
//! 65 536 records, never per record. The ledger belongs to its producer thread: no lock.

use rdkafka::types::RDKafkaRespErr;

const CHUNK_BITS: u32 = 16;
const CHUNK: usize = 1 << CHUNK_BITS;
const STATE_BITS: u32 = 3;
const STATE_MASK: u32 = (1 << STATE_BITS) - 1;
/// Largest partition the ledger can name; higher ones are stored as unknown.
const MAX_PARTITION: i64 = (u32::MAX >> STATE_BITS) as i64 - 1;

/// What the client said about one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Never handed to the client (the run stopped first).
    NotSent,
    /// Enqueued, no delivery report yet (or, fire-and-forget, none will come).
    Pending,
    Delivered,
    /// Refused at enqueue or failed for good: not written (or so the client believes).
    Failed,
    /// Timed out or purged: may or may not have been written.
    Uncertain,
}

impl Outcome {
    fn code(self) -> u32 {
        match self {
            Outcome::NotSent => 0,
            Outcome::Pending => 1,
            Outcome::Delivered => 2,
            Outcome::Failed => 3,
            Outcome::Uncertain => 4,
        }
    }
    fn from_code(c: u32) -> Outcome {
        match c {
            1 => Outcome::Pending,
            2 => Outcome::Delivered,
            3 => Outcome::Failed,
            4 => Outcome::Uncertain,
            _ => Outcome::NotSent,
        }
    }
}

/// Errors after which the record may still have been written.
fn uncertain(err: RDKafkaRespErr) -> bool {
    use RDKafkaRespErr::*;
    crate::domain::errors::is_unknown_outcome(err)
        || matches!(
            err,
            RD_KAFKA_RESP_ERR__MSG_TIMED_OUT
                | RD_KAFKA_RESP_ERR__TIMED_OUT
                | RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE
                | RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT
                | RD_KAFKA_RESP_ERR__TRANSPORT
        )
}

#[derive(Debug)]
pub struct Ledger {
    pub producer: u32,
    chunks: Vec<Box<[u32]>>,
    /// Highest sequence number enqueued or refused, plus one.
    len: u64,
}

impl Ledger {
    /// A ledger with room for `expected` records before it has to grow.
    pub fn new(producer: u32, expected: u64) -> Self {
        let n = expected.div_ceil(CHUNK as u64).clamp(1, 1 << 16) as usize;
        Ledger {
            producer,
            chunks: (0..n)
                .map(|_| vec![0u32; CHUNK].into_boxed_slice())
                .collect(),
            len: 0,
        }
    }

    #[inline]
    fn slot(&mut self, seq: u64) -> &mut u32 {
        let c = (seq >> CHUNK_BITS) as usize;
        while self.chunks.len() <= c {
            // Once per 65 536 records beyond the estimate.
            self.chunks.push(vec![0u32; CHUNK].into_boxed_slice());
        }
        &mut self.chunks[c][(seq as usize) & (CHUNK - 1)]
    }

    #[inline]
    fn set(&mut self, seq: u64, outcome: Outcome, partition: i32) {
        let p = i64::from(partition) + 1;
        let p = if (1..=MAX_PARTITION + 1).contains(&p) {
            p as u32
        } else {
            0
        };
        *self.slot(seq) = outcome.code() | (p << STATE_BITS);
        self.len = self.len.max(seq + 1);
    }

    /// The client accepted record `seq`.
    #[inline]
    pub fn enqueued(&mut self, seq: u64) {
        self.set(seq, Outcome::Pending, -1);
    }

    /// The client refused record `seq` at enqueue: it was never sent.
    #[inline]
    pub fn refused(&mut self, seq: u64) {
        self.set(seq, Outcome::Failed, -1);
    }

    /// A delivery report for record `seq`. Reports for sequence numbers this producer never
    /// sent are ignored (they cannot come from it).
    #[inline]
    pub fn reported(&mut self, seq: u64, partition: i32, err: RDKafkaRespErr) {
        if seq >= self.len {
            return;
        }
        let outcome = if err == RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
            Outcome::Delivered
        } else if uncertain(err) {
            Outcome::Uncertain
        } else {
            Outcome::Failed
        };
        self.set(seq, outcome, partition);
    }

    /// Sequence numbers used: every record below it was enqueued or refused.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Outcome of record `seq` and the partition the client reported for it.
    pub fn get(&self, seq: u64) -> (Outcome, Option<i32>) {
        let Some(v) = self
            .chunks
            .get((seq >> CHUNK_BITS) as usize)
            .map(|c| c[(seq as usize) & (CHUNK - 1)])
        else {
            return (Outcome::NotSent, None);
        };
        let p = v >> STATE_BITS;
        (
            Outcome::from_code(v & STATE_MASK),
            (p > 0).then(|| (p - 1) as i32),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RDKafkaRespErr::*;

    #[test]
    fn outcomes_and_partitions_are_kept_per_record() {
        let mut l = Ledger::new(0, 10);
        for seq in 0..5 {
            l.enqueued(seq);
        }
        l.refused(5);
        l.reported(0, 3, RD_KAFKA_RESP_ERR_NO_ERROR);
        l.reported(1, 2, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT);
        l.reported(2, 1, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
        l.reported(3, -1, RD_KAFKA_RESP_ERR__PURGE_QUEUE);
        l.reported(99, 0, RD_KAFKA_RESP_ERR_NO_ERROR); // never sent: ignored
        assert_eq!(l.len(), 6);
        assert_eq!(l.get(0), (Outcome::Delivered, Some(3)));
        assert_eq!(l.get(1), (Outcome::Uncertain, Some(2)));
        assert_eq!(l.get(2), (Outcome::Failed, Some(1)));
        assert_eq!(l.get(3), (Outcome::Uncertain, None));
        assert_eq!(l.get(4), (Outcome::Pending, None));
        assert_eq!(l.get(5), (Outcome::Failed, None));
        assert_eq!(l.get(6).0, Outcome::NotSent);
        assert_eq!(l.get(99).0, Outcome::NotSent);
    }

    #[test]
    fn the_ledger_grows_past_its_estimate_in_chunks() {
        let mut l = Ledger::new(1, 1);
        let far = 3 * CHUNK as u64 + 7;
        l.enqueued(far);
        l.reported(far, 5, RD_KAFKA_RESP_ERR_NO_ERROR);
        assert_eq!(l.get(far), (Outcome::Delivered, Some(5)));
        assert_eq!(l.chunks.len(), 4);
        assert_eq!(l.len(), far + 1);
    }
}
