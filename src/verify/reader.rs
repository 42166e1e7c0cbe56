//! The read-back of `--verify`, done while the run produces.
//!
//! The embedded cluster (librdkafka's mock) keeps about 5 MiB per partition and trims the
//! oldest batches as the run writes more, with no way to raise the limit; a consumer that
//! only starts after the flush finds most of a long run gone. So a [`Reader`] starts before
//! t0 at the baseline offsets and consumes on its own thread through the run and the flush,
//! holding what it sees and counting a record only once the log has lost it ([`Stream`]);
//! after the flush a fresh consumer reads everything the log still holds ([`ReadBack`]).
//! The reader thread owns its state until it is joined: nothing is shared with the
//! producer threads (the only link to the caller is a stop channel).
//!
//! Memory: one bit per record read back per producer, in 8 KiB chunks of 65,536 records
//! (a run of N records costs about N/8 bytes); the highest sequence number per (partition,
//! producer); at most `HELD_CAP` held records of 24 bytes (48 MB); and the consumer's
//! prefetch queue, capped at `QUEUE_KBYTES`.

use super::{parse_tag, Baseline, Tag, Tally, TAG_HEADER};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedHeaders, Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use rdkafka_sys as rdsys;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ffi::{CStr, CString};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const CHUNK_BITS: u32 = 16;
const WORDS: usize = (1 << CHUNK_BITS) / 64;
/// The reader's prefetch queue (librdkafka `queued.max.messages.kbytes`).
const QUEUE_KBYTES: &str = "16384";
/// How long a Fetch may wait for data at the end of a partition. The mock broker waits the
/// whole of it even when records arrive meanwhile (and returns one batch per partition per
/// Fetch): at librdkafka's 500 ms default the embedded cluster trims a fast partition's
/// 5 MiB before the reader's next Fetch. 20 ms is at most 50 idle Fetches a second per
/// broker on a real cluster.
const FETCH_WAIT_MS: &str = "20";
/// How often the reader thread looks at its stop channel when no record arrives.
const POLL: Duration = Duration::from_millis(100);
/// Records held by the reader thread at most (24 bytes each); past it the oldest of a
/// partition are let go, and that partition's records the log loses count as expired.
const HELD_CAP: usize = 2_000_000;
/// The final read-back gives up when no record arrives for this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(20);

/// The sequence numbers of one producer read back at least once.
#[derive(Default)]
struct Bits {
    chunks: HashMap<u64, Box<[u64]>>,
}

impl Bits {
    /// Marks `seq` read; true the first time.
    fn insert(&mut self, seq: u64) -> bool {
        let chunk = self
            .chunks
            .entry(seq >> CHUNK_BITS)
            .or_insert_with(|| vec![0u64; WORDS].into_boxed_slice());
        let i = (seq & ((1 << CHUNK_BITS) - 1)) as usize;
        let (word, bit) = (&mut chunk[i / 64], 1u64 << (i % 64));
        let first = *word & bit == 0;
        *word |= bit;
        first
    }

    fn contains(&self, seq: u64) -> bool {
        let i = (seq & ((1 << CHUNK_BITS) - 1)) as usize;
        self.chunks
            .get(&(seq >> CHUNK_BITS))
            .is_some_and(|c| c[i / 64] & (1u64 << (i % 64)) != 0)
    }
}

/// What the read-back has counted.
pub(super) struct ReadBack {
    instance: u32,
    seen: HashMap<u32, Bits>,
    pub(super) tally: Tally,
    /// Highest sequence number read per (partition, producer), to spot reordering.
    highest: HashMap<(i32, u32), u64>,
    /// Per partition: the offset after the last record counted (the baseline before any).
    pub(super) next: Vec<i64>,
}

impl ReadBack {
    fn new(instance: u32, baseline: &Baseline) -> ReadBack {
        ReadBack {
            instance,
            seen: HashMap::new(),
            tally: Tally::default(),
            highest: HashMap::new(),
            next: baseline.start.iter().map(|s| (*s).max(0)).collect(),
        }
    }

    /// Whether record `seq` of `producer` was read back.
    pub(super) fn found(&self, producer: u32, seq: u64) -> bool {
        self.seen.get(&producer).is_some_and(|b| b.contains(seq))
    }

    /// Reads the assigned partitions to their end; the error says why it stopped early.
    pub(super) fn read_all(&mut self, c: &BaseConsumer) -> Option<String> {
        let n = self.next.len();
        let mut pending: Vec<bool> = vec![true; n];
        let mut left = n;
        let mut last_progress = Instant::now();
        while left > 0 {
            match c.poll(Duration::from_millis(200)) {
                None => {
                    if last_progress.elapsed() > IDLE_TIMEOUT {
                        return Some(format!(
                            "no record for {}s with {left} partitions still unread",
                            IDLE_TIMEOUT.as_secs()
                        ));
                    }
                }
                Some(Err(KafkaError::PartitionEOF(p))) => {
                    if let Some(x) = pending.get_mut(p as usize).filter(|x| **x) {
                        *x = false;
                        left -= 1;
                    }
                }
                Some(Err(e)) => {
                    if last_progress.elapsed() > IDLE_TIMEOUT {
                        return Some(format!("the verifying consumer failed: {e}"));
                    }
                }
                Some(Ok(m)) => {
                    last_progress = Instant::now();
                    let tag = tag_of(m.headers(), self.instance);
                    self.count(m.partition(), m.offset(), tag);
                }
            }
        }
        None
    }

    /// Counts the record at `off` of partition `p`: a copy, a duplicate or a reordering.
    /// An offset counted already is skipped: a consumer that re-reads (an offset reset
    /// after a broker bounce) shows one record of the log twice, not a duplicate.
    fn count(&mut self, p: i32, off: i64, tag: Option<Tag>) {
        let Some(i) = usize::try_from(p).ok().filter(|i| *i < self.next.len()) else {
            return;
        };
        if off < self.next[i] {
            return;
        }
        self.next[i] = off + 1;
        let e = self.tally.part(Some(p));
        e.end_offset = e.end_offset.max(off + 1);
        let Some(tag) = tag else {
            return;
        };
        let first = self.seen.entry(tag.producer).or_default().insert(tag.seq);
        let part = self.tally.part(Some(p));
        part.read += 1;
        if !first {
            part.duplicated += 1;
            return;
        }
        let h = self.highest.entry((p, tag.producer)).or_insert(tag.seq);
        if tag.seq < *h {
            part.reordered += 1;
        }
        *h = (*h).max(tag.seq);
    }
}

/// This run's tag in `headers`, if any.
fn tag_of(headers: Option<&BorrowedHeaders>, instance: u32) -> Option<Tag> {
    headers
        .and_then(|h| {
            (0..h.count())
                .filter_map(|i| h.try_get(i))
                .find(|h| h.key == TAG_HEADER)
                .and_then(|h| h.value.and_then(parse_tag))
        })
        .filter(|t| t.instance == instance)
}

/// What the reader thread saw during the run. A record is counted only once the log no
/// longer holds it (the log start passed it); until then it is held, and the final pass
/// reads it from the log instead. So a broker that keeps everything (a real one) is
/// verified from the log after the flush exactly as without the reader — a broker may show
/// records during the run that a read after it sees differently (Tansu shows some batches
/// late) — and only what the log lost meanwhile is taken from the reader.
pub(super) struct Stream {
    pub(super) read: ReadBack,
    /// Per partition: this run's records seen and not yet counted, oldest first.
    held: Vec<VecDeque<(i64, Tag)>>,
    held_total: usize,
    /// Per partition: the offset after the highest record seen during the run.
    pub(super) seen_to: Vec<i64>,
    /// Per partition: records were trimmed from the log before the reader got to them.
    pub(super) trimmed: Vec<bool>,
    /// Per partition: records seen were let go at the `HELD_CAP`; they count as trimmed
    /// only if the log start moved at all.
    pub(super) overflow: Vec<bool>,
}

impl Stream {
    fn new(instance: u32, baseline: &Baseline) -> Stream {
        let n = baseline.start.len();
        Stream {
            read: ReadBack::new(instance, baseline),
            held: (0..n).map(|_| VecDeque::new()).collect(),
            held_total: 0,
            seen_to: baseline.start.iter().map(|s| (*s).max(0)).collect(),
            trimmed: vec![false; n],
            overflow: vec![false; n],
        }
    }

    /// Reads while the run produces, until told to stop (or the caller is gone).
    fn run(&mut self, c: &BaseConsumer, topic: &CStr, stop: &mpsc::Receiver<()>) {
        while let Err(mpsc::TryRecvError::Empty) = stop.try_recv() {
            // Errors (end of partition, a broker going down under a fault) are the
            // consumer's to retry; the final pass reports one that lasts.
            if let Some(Ok(m)) = c.poll(POLL) {
                let (p, tag) = (m.partition(), tag_of(m.headers(), self.read.instance));
                self.hold(p, m.offset(), tag, || log_start(c, topic, p));
            }
        }
    }

    /// Holds a record seen at `off`, then counts what the log start has passed.
    fn hold(&mut self, p: i32, off: i64, tag: Option<Tag>, log_start: impl Fn() -> i64) {
        let Some(i) = usize::try_from(p).ok().filter(|i| *i < self.held.len()) else {
            return;
        };
        if off < self.seen_to[i] {
            return;
        }
        // A jump past records not seen: either control records (transactions) or a log
        // trimmed under the reader, which the log start (cached from the last Fetch, no
        // request) tells apart.
        if off > self.seen_to[i] && log_start() > self.seen_to[i] {
            self.trimmed[i] = true;
        }
        self.seen_to[i] = off + 1;
        if let Some(tag) = tag {
            self.held[i].push_back((off, tag));
            self.held_total += 1;
            if self.held_total > HELD_CAP {
                self.held[i].pop_front();
                self.held_total -= 1;
                self.overflow[i] = true;
            }
        }
        self.release(p, log_start());
    }

    /// Counts the held records of partition `p` below `log_start`: the log lost them.
    pub(super) fn release(&mut self, p: i32, log_start: i64) {
        let Some(q) = usize::try_from(p).ok().and_then(|i| self.held.get_mut(i)) else {
            return;
        };
        while let Some((off, tag)) = q.front().copied().filter(|(o, _)| *o < log_start) {
            q.pop_front();
            self.held_total -= 1;
            self.read.count(p, off, Some(tag));
        }
    }
}

/// `topic` for librdkafka's C API; a name with a NUL (which no broker accepts) names none.
fn c_topic(topic: &str) -> CString {
    CString::new(topic).unwrap_or_default()
}

/// The log start offset of `topic`/`p` as the consumer last heard it (-1 if unknown).
fn log_start(c: &BaseConsumer, topic: &CStr, p: i32) -> i64 {
    let (mut lo, mut hi) = (-1i64, -1i64);
    // SAFETY: the client handle lives as long as `c`; the topic is a valid C string and
    // the two out-pointers point to live locals. The call only reads librdkafka's cache.
    let err = unsafe {
        rdsys::rd_kafka_get_watermark_offsets(
            c.client().native_ptr(),
            topic.as_ptr(),
            p,
            &mut lo,
            &mut hi,
        )
    };
    if err == rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
        lo
    } else {
        -1
    }
}

/// The read-back consumer, running on its own thread from before t0 until [`Reader::stop`].
pub struct Reader {
    stop: Option<mpsc::Sender<()>>,
    handle: Option<JoinHandle<Stream>>,
    /// What the final pass after the flush needs to connect and report.
    pub(super) props: BTreeMap<String, String>,
    pub(super) bootstrap: String,
    pub(super) topic: String,
    pub(super) baseline: Baseline,
}

impl Reader {
    /// Starts reading every partition of `topic` from the baseline offsets.
    pub fn start(
        props: &BTreeMap<String, String>,
        bootstrap: &str,
        topic: &str,
        baseline: &Baseline,
        instance: u32,
    ) -> Result<Reader, String> {
        // A log trimmed under the reader: go on from its start (the trim is noted).
        let c = super::consumer(
            props,
            bootstrap,
            &[
                ("auto.offset.reset", "earliest"),
                ("queued.max.messages.kbytes", QUEUE_KBYTES),
                ("fetch.wait.max.ms", FETCH_WAIT_MS),
            ],
        )?;
        let mut tpl = TopicPartitionList::new();
        for (p, start) in baseline.start.iter().enumerate() {
            tpl.add_partition_offset(topic, p as i32, Offset::Offset((*start).max(0)))
                .map_err(|e| e.to_string())?;
        }
        c.assign(&tpl)
            .map_err(|e| format!("cannot assign partitions: {e}"))?;
        let mut read = Stream::new(instance, baseline);
        let topic_c = c_topic(topic);
        let (stop, stop_rx) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("kprod-verify-reader".into())
            .spawn(move || {
                read.run(&c, &topic_c, &stop_rx);
                read
            })
            .map_err(|e| format!("cannot start the verifying consumer: {e}"))?;
        Ok(Reader {
            stop: Some(stop),
            handle: Some(handle),
            props: props.clone(),
            bootstrap: bootstrap.into(),
            topic: topic.into(),
            baseline: baseline.clone(),
        })
    }

    /// Stops the reader and takes what it read.
    pub(super) fn stop(mut self) -> Result<Stream, String> {
        self.stop.take();
        self.handle
            .take()
            .ok_or_else(|| "the verifying consumer was already stopped".to_string())?
            .join()
            .map_err(|_| "the verifying consumer panicked".to_string())
    }
}

impl Drop for Reader {
    /// A run that ends before t0 stops the reader too.
    fn drop(&mut self) {
        self.stop.take();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_count_each_sequence_number_once_across_chunks() {
        let mut b = Bits::default();
        let far = 5 * (1u64 << CHUNK_BITS) + 63;
        assert!(b.insert(0));
        assert!(b.insert(far));
        assert!(!b.insert(far), "a second copy is not new");
        assert!(b.contains(0) && b.contains(far));
        assert!(!b.contains(1) && !b.contains(far + 1) && !b.contains(far - 64));
        assert_eq!(b.chunks.len(), 2, "only the chunks in use are allocated");
    }

    #[test]
    fn the_reader_counts_only_what_the_log_lost_and_notes_trimmed_gaps() {
        let tag = |seq| {
            Some(Tag {
                instance: 0,
                producer: 0,
                seq,
            })
        };
        let mut s = Stream::new(0, &Baseline { start: vec![10, 0] });
        s.hold(0, 10, tag(0), || 0);
        s.hold(0, 11, tag(1), || 0);
        s.hold(0, 10, tag(0), || 0); // read again after a reset: ignored
        s.hold(5, 0, tag(9), || 0); // no such partition
        assert_eq!((s.held_total, s.read.tally.part(Some(0)).read), (2, 0));
        // A control record's gap, the log start behind: nothing trimmed.
        s.hold(0, 13, tag(2), || 0);
        assert!(!s.trimmed[0]);
        // The log start moved past 11..20 before 14..19 were seen: 10, 11 and 13 are
        // counted from the reader, 20 stays held for the final pass.
        s.hold(0, 20, tag(3), || 20);
        assert!(s.trimmed[0] && !s.trimmed[1]);
        assert_eq!(s.held_total, 1);
        assert!(s.read.found(0, 0) && s.read.found(0, 2) && !s.read.found(0, 3));
        assert_eq!(s.read.next[0], 14, "the final pass goes on after 13");
        assert_eq!(s.seen_to, vec![21, 0]);
    }
}
