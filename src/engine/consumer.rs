//! Consumers during the run (`[consumers]`, `--consumers N --consumer-groups G`): threads
//! with their own librdkafka consumers that read this run's records as they are written and
//! measure end-to-end latency (the stamp's intended send time → the record returned by the
//! poll, on the run's clock) and what was consumed per second.
//!
//! Each group's threads split the partitions of every topic of the run (numbered in topic
//! order; partition k → thread k mod N) and are
//! *assigned* (no group rebalance, no commits) at the end offsets taken before t0, so only
//! this run's records count. A thread owns its consumer, histograms and counts; it shares
//! nothing with the producers and ships one snapshot per second to the merge thread
//! (`merge`). `--backlog` leaves them unassigned until warm-up + backlog (then assigned at the same offsets). After the
//! producers' flush, [`Consumers::finish`] takes each partition's end offset and the threads
//! read until their positions reach them (or `DRAIN_TIMEOUT`).

use super::stamp;
use crate::domain::{new_histogram, ConsumerOutcome};
use crate::error::KprodError;
use crate::measure::clock::Clock;
use crate::plan::Plan;
use hdrhistogram::Histogram;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

mod drain;
mod merge;

use drain::{Drain, Got, TopicIndex};

/// How long the consumers may take after the flush to reach the end offsets.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// After a signal: a short drain, like the producers' interrupted flush.
const INTERRUPTED_DRAIN: Duration = Duration::from_secs(5);
/// The poll's wait when nothing arrives: bounds how late a second is closed.
const POLL: Duration = Duration::from_millis(20);
/// The embedded cluster's mock broker holds each Fetch at a partition's end for the whole
/// `fetch.wait.max.ms` even when records arrive meanwhile: the default 500 ms would be
/// most of the end-to-end figure.
const EMBEDDED_FETCH_WAIT_MS: u64 = 10;
/// How long a watermark query may take.
const WATERMARK_TIMEOUT: Duration = Duration::from_secs(10);

/// One partition of one of the run's topics and where its consumers start (its end
/// offset before the run).
#[derive(Debug, Clone)]
pub struct Start {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// What one consumer thread is told after the flush.
struct Finish {
    /// Each assigned partition's (index into the run's [`Start`]s) end offset after the flush.
    targets: Vec<(usize, i64)>,
    deadline: Instant,
}

/// What a consumer thread ships to the merge thread.
enum Msg {
    Second {
        thread: usize,
        group: u32,
        idx: u64,
        consumed: u64,
        e2e: Histogram<u64>,
    },
    Done(Box<ThreadDone>),
}

struct ThreadDone {
    group: u32,
    consumed: u64,
    /// Per topic of the run (its order); empty with one topic (all of `consumed`).
    by_topic: Vec<u64>,
    e2e: Histogram<u64>,
    /// When it reached its targets; None = not within the deadline (or never asked).
    caught_up_at: Option<Instant>,
    resumed_at_s: Option<f64>,
    error: Option<String>,
}

/// One thread's share: its consumer and where each of its partitions starts.
struct Thread {
    index: usize,
    group: u32,
    consumer: BaseConsumer,
    assignment: TopicPartitionList,
    /// Indices into `parts` of this thread's partitions.
    partitions: Vec<usize>,
    /// Every partition of the run's topics (shared by the threads).
    parts: std::sync::Arc<[Start]>,
    /// The run's topics in order (their consumed counts are kept per topic when several).
    topics: std::sync::Arc<[String]>,
    instance: u32,
    warmup_us: u64,
    /// `--backlog`: paused until this time since t0.
    pause_until_ns: Option<u64>,
}

/// The consumer threads of a run, waiting for t0 until [`Consumers::start`].
pub struct Consumers {
    groups: u32,
    per_group_threads: u32,
    parts: std::sync::Arc<[Start]>,
    starters: Vec<mpsc::Sender<Clock>>,
    finishers: Vec<(mpsc::Sender<Finish>, Vec<usize>)>,
    handles: Vec<JoinHandle<()>>,
    merger: Option<JoinHandle<merge::Merged>>,
    /// One consumer kept for the end-offset queries after the flush.
    probe: BaseConsumer,
    idle_threads: u32,
}

impl Consumers {
    /// Creates and assigns every consumer before t0 (at `start`, each partition's end
    /// offset before the run, every partition of every topic of the run, numbered in
    /// order: the k-th goes to thread k mod N); the threads wait for the clock.
    pub fn spawn(
        plan: &Plan,
        bootstrap: &str,
        embedded: bool,
        start: &[Start],
    ) -> Result<Consumers, KprodError> {
        let p = &plan.profile;
        let c = &p.consumers;
        // Held until every consumer, its threads and the merge thread exist: they all
        // inherit the mask (see `affinity`).
        let _pinned = match &c.cpus {
            Some(list) => {
                let cpus = crate::units::parse_cpu_list(list).map_err(|e| {
                    KprodError::from(crate::error::ConfigError::new(e).key("consumers.cpus"))
                })?;
                Some(super::affinity::pin_current_thread(&cpus)?)
            }
            None => None,
        };
        let all: std::sync::Arc<[Start]> = start.to_vec().into();
        let mut names: Vec<String> = Vec::new();
        for s in start {
            if !names.contains(&s.topic) {
                names.push(s.topic.clone());
            }
        }
        let names: std::sync::Arc<[String]> = names.into();
        let (tx, rx) = mpsc::channel::<Msg>();
        let per = c.count.max(1);
        let parts = start.len() as u32;
        let mut set = Consumers {
            groups: c.groups.max(1),
            per_group_threads: per,
            parts: all.clone(),
            starters: Vec::new(),
            finishers: Vec::new(),
            handles: Vec::new(),
            merger: None,
            probe: consumer(plan, bootstrap, embedded, "probe")?,
            idle_threads: per.saturating_sub(parts) * c.groups.max(1),
        };
        let pause_until_ns = c.backlog.map(|b| (p.workload.warmup + b).as_nanos() as u64);
        for group in 0..set.groups {
            for t in 0..per {
                let partitions: Vec<usize> = (0..parts)
                    .filter(|q| q % per == t)
                    .map(|q| q as usize)
                    .collect();
                let consumer = consumer(plan, bootstrap, embedded, &format!("{group}-{t}"))?;
                let mut assignment = TopicPartitionList::new();
                for &k in &partitions {
                    let s = &all[k];
                    assignment
                        .add_partition_offset(
                            &s.topic,
                            s.partition,
                            Offset::Offset(s.offset.max(0)),
                        )
                        .map_err(|e| KprodError::Kafka(format!("consumer assignment: {e}")))?;
                }
                // `--backlog`: assigned only at the resume, at these same offsets. (Paused
                // partitions would do the same, but librdkafka's destroy then waits forever
                // for the broker threads.)
                if pause_until_ns.is_none() {
                    consumer
                        .assign(&assignment)
                        .map_err(|e| KprodError::Kafka(format!("consumer assignment: {e}")))?;
                }
                let th = Thread {
                    index: set.handles.len(),
                    group,
                    consumer,
                    assignment,
                    partitions: partitions.clone(),
                    parts: all.clone(),
                    topics: names.clone(),
                    instance: plan.instance,
                    warmup_us: p.workload.warmup.as_micros() as u64,
                    pause_until_ns,
                };
                let (stx, srx) = mpsc::channel();
                let (ftx, frx) = mpsc::channel();
                let tx = tx.clone();
                let h = std::thread::Builder::new()
                    .name(format!("kprod-consumer-{group}-{t}"))
                    .spawn(move || th.run(srx, frx, tx))
                    .map_err(|e| KprodError::io("spawning a consumer thread", e))?;
                set.starters.push(stx);
                set.finishers.push((ftx, partitions));
                set.handles.push(h);
            }
        }
        drop(tx);
        let (threads, groups, topics) = (set.handles.len(), set.groups, names.len());
        set.merger = Some(
            std::thread::Builder::new()
                .name("kprod-consumer-merge".into())
                .spawn(move || merge::run(rx, threads, groups, topics))
                .map_err(|e| KprodError::io("spawning the consumer merge thread", e))?,
        );
        Ok(set)
    }

    /// t0: every thread gets the run's clock.
    pub fn start(&mut self, clock: Clock) {
        for s in self.starters.drain(..) {
            let _ = s.send(clock);
        }
    }

    /// After the producers' flush: the end offsets now are what the consumers must reach;
    /// waits for them (bounded) and returns what they measured.
    pub fn finish(mut self, interrupted: bool) -> ConsumerOutcome {
        let flushed = Instant::now();
        let deadline = flushed
            + match interrupted {
                true => INTERRUPTED_DRAIN,
                false => DRAIN_TIMEOUT,
            };
        let mut warnings = Vec::new();
        let mut ends = std::collections::BTreeMap::new();
        for (_, parts) in &self.finishers {
            for &k in parts {
                let s = &self.parts[k];
                match self
                    .probe
                    .fetch_watermarks(&s.topic, s.partition, WATERMARK_TIMEOUT)
                {
                    Ok((_, high)) => {
                        ends.insert(k, high);
                    }
                    Err(e) => warnings.push(format!(
                        "consumers: cannot read the end offset of {}/{} after the flush ({e}); \
                         its records are counted as far as they were read",
                        s.topic, s.partition
                    )),
                }
            }
        }
        for (f, parts) in self.finishers.drain(..) {
            let targets = parts
                .iter()
                .filter_map(|q| ends.get(q).map(|e| (*q, *e)))
                .collect();
            let _ = f.send(Finish { targets, deadline });
        }
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
        let m = self
            .merger
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_else(|| merge::Merged::empty(self.groups));
        warnings.extend(m.errors.iter().cloned());
        let catch_up_s = match m.all_caught_up {
            true => Some(
                m.last_caught_up
                    .map_or(0.0, |t| t.saturating_duration_since(flushed).as_secs_f64()),
            ),
            false => None,
        };
        if !m.all_caught_up {
            warnings.push(format!(
                "consumers did not reach the end of the topic within {}s of the flush: \
                 consumed counts fall short of delivered",
                deadline.saturating_duration_since(flushed).as_secs()
            ));
        }
        if self.idle_threads > 0 {
            warnings.push(format!(
                "{} consumer thread(s) had no partition (more consumers per group than the \
                 topic's partitions)",
                self.idle_threads
            ));
        }
        ConsumerOutcome {
            groups: self.groups,
            per_group_threads: self.per_group_threads,
            // One topic: its counts are the groups' (the threads count per topic only
            // among several).
            consumed_by_topic: match self.parts.iter().all(|s| s.topic == self.parts[0].topic) {
                true => m.consumed.iter().map(|n| vec![*n]).collect(),
                false => m.by_topic,
            },
            consumed: m.consumed,
            e2e: m.e2e,
            seconds: m.seconds,
            caught_up: m.all_caught_up,
            catch_up_s,
            resumed_at_s: m.resumed_at_s,
            warnings,
        }
    }
}

/// One consumer: the plan's security and socket properties, its own client id, the fetch
/// settings of `[consumers]`.
fn consumer(
    plan: &Plan,
    bootstrap: &str,
    embedded: bool,
    id: &str,
) -> Result<BaseConsumer, KprodError> {
    let c = &plan.profile.consumers;
    let mut cfg = crate::client::client_config(&crate::client::admin_props(&plan.props));
    let wait = c
        .fetch_wait_max_ms
        .or(embedded.then_some(EMBEDDED_FETCH_WAIT_MS));
    cfg.set("bootstrap.servers", bootstrap)
        .set("group.id", format!("kprod-e2e-{}", plan.instance))
        .set(
            "client.id",
            format!("kprod-consumer-{}-{id}", plan.instance),
        )
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        // A log the embedded cluster trimmed under a slow consumer: read on from its start.
        .set("auto.offset.reset", "earliest");
    if let Some(w) = wait {
        cfg.set("fetch.wait.max.ms", w.to_string());
    }
    if let Some(b) = c.fetch_min_bytes {
        cfg.set("fetch.min.bytes", b.to_string());
    }
    cfg.create()
        .map_err(|e| KprodError::Kafka(format!("cannot create a consumer: {e}")))
}

impl Thread {
    fn run(
        self,
        start: mpsc::Receiver<Clock>,
        finish: mpsc::Receiver<Finish>,
        tx: mpsc::Sender<Msg>,
    ) {
        let Ok(clock) = start.recv() else { return };
        let Some(mut drain) = Drain::new(&self.consumer) else {
            let _ = tx.send(Msg::Done(Box::new(ThreadDone {
                group: self.group,
                consumed: 0,
                by_topic: Vec::new(),
                e2e: new_histogram(),
                caught_up_at: None,
                resumed_at_s: None,
                error: Some("consumer error: librdkafka gave no consumer queue".into()),
            })));
            return;
        };
        let base = clock.t0_unix_ns();
        let mut second = new_histogram();
        let mut total = new_histogram();
        let (mut idx, mut in_second, mut consumed) = (0u64, 0u64, 0u64);
        let mut paused = self.pause_until_ns.is_some() && !self.partitions.is_empty();
        let mut resumed_at_s = None;
        let mut ending: Option<Finish> = None;
        let mut caught_up_at = None;
        let mut error = None;
        let mut last_check = Instant::now();
        // Several topics: what each topic's partitions gave (a record of no topic of the
        // run cannot arrive: only the run's partitions are assigned).
        let many = self.topics.len() > 1;
        let mut by_topic = vec![0u64; if many { self.topics.len() } else { 0 }];
        let mut index = TopicIndex::new(self.topics.clone());
        loop {
            let now_ns = clock.now_ns();
            if paused && self.pause_until_ns.is_some_and(|u| now_ns >= u) {
                paused = !self.resume(&mut error);
                resumed_at_s = Some(now_ns as f64 / 1e9);
            }
            if ending.is_none() {
                match finish.try_recv() {
                    Ok(f) => {
                        if paused {
                            paused = !self.resume(&mut error);
                            resumed_at_s = Some(now_ns as f64 / 1e9);
                        }
                        ending = Some(f);
                    }
                    Err(mpsc::TryRecvError::Empty) => {}
                    Err(mpsc::TryRecvError::Disconnected) => break,
                }
            }
            if let Some(f) = &ending {
                // Positions move past transaction markers too, which no poll returns.
                if last_check.elapsed() >= POLL {
                    last_check = Instant::now();
                    if self.reached(&f.targets) {
                        caught_up_at = Some(Instant::now());
                        break;
                    }
                }
                if Instant::now() >= f.deadline {
                    break;
                }
            }
            let n = drain.next_batch(POLL);
            // The batch was in the queue when it returned: consumed now.
            let now_ns = clock.now_ns();
            let now_idx = now_ns / 1_000_000_000;
            if now_idx > idx {
                let e2e = std::mem::replace(&mut second, new_histogram());
                let _ = tx.send(Msg::Second {
                    thread: self.index,
                    group: self.group,
                    idx,
                    consumed: in_second,
                    e2e,
                });
                (idx, in_second) = (now_idx, 0);
            }
            for i in 0..n {
                let got = match drain.get(i) {
                    Got::Payload(p) => p.and_then(stamp::read),
                    Got::Error(e) => {
                        error.get_or_insert_with(|| format!("consumer error: {e}"));
                        None
                    }
                };
                let Some((_, unix_ns)) = got.filter(|(i, _)| *i == self.instance) else {
                    continue;
                };
                consumed += 1;
                in_second += 1;
                if many {
                    if let Some(c) = index.of(drain.topic(i)).and_then(|t| by_topic.get_mut(t)) {
                        *c += 1;
                    }
                }
                let intended_ns = unix_ns.saturating_sub(base);
                let e2e_us = (now_ns.saturating_sub(intended_ns) / 1_000).max(1);
                second.saturating_record(e2e_us);
                if intended_ns / 1_000 >= self.warmup_us {
                    total.saturating_record(e2e_us);
                }
            }
        }
        drop(drain);
        let _ = tx.send(Msg::Second {
            thread: self.index,
            group: self.group,
            idx,
            consumed: in_second,
            e2e: second,
        });
        let _ = tx.send(Msg::Done(Box::new(ThreadDone {
            group: self.group,
            consumed,
            by_topic,
            e2e: total,
            caught_up_at: match ending.as_ref().is_some_and(|f| f.targets.is_empty()) {
                true => Some(Instant::now()),
                false => caught_up_at,
            },
            resumed_at_s,
            error,
        })));
    }

    /// Ends the backlog pause: assigns the partitions at their before-run offsets; false
    /// (and the error kept) when librdkafka refused.
    fn resume(&self, error: &mut Option<String>) -> bool {
        match self.consumer.assign(&self.assignment) {
            Ok(()) => true,
            Err(e) => {
                error.get_or_insert_with(|| format!("resuming a consumer: {e}"));
                false
            }
        }
    }

    /// Whether every partition's position reached its target end offset.
    fn reached(&self, targets: &[(usize, i64)]) -> bool {
        let Ok(pos) = self.consumer.position() else {
            return false;
        };
        targets.iter().all(|(k, end)| {
            let s = &self.parts[*k];
            pos.find_partition(&s.topic, s.partition)
                .and_then(|e| match e.offset() {
                    Offset::Offset(o) => Some(o >= *end),
                    _ => None,
                })
                // Nothing fetched yet: caught up only if there is nothing to read.
                .unwrap_or(*end <= s.offset.max(0))
        })
    }
}
