//! `--verify`: what was delivered, really.
//!
//! Each record carries a `kprod-verify` header (instance, producer, sequence number). The
//! producer threads keep a [`Ledger`] of what the client said about each record; a
//! [`Reader`] reads every partition from where it ended before the run, on its own thread
//! while the run produces (the embedded cluster trims its logs), then to where it ends
//! after the flush, and the two are compared: acknowledged records not read back are lost, extra
//! copies are duplicates, a record read after a later one of the same producer in the same
//! partition is reordered, and records of unknown outcome are found or not.

mod ledger;
mod reader;

pub use ledger::{Ledger, Outcome};
use reader::ReadBack;
pub use reader::Reader;

use crate::domain::{Verify, VerifyPartition};
use crate::error::KprodError;
use crate::plan::Plan;
use crate::profile::SendMode;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::ffi::CStr;
use std::time::Duration;

/// Name of the header that tags each record.
pub const TAG_HEADER: &str = "kprod-verify";
pub const TAG_HEADER_C: &CStr = c"kprod-verify";
/// Instance (u32), producer (u32), sequence number (u64), big-endian.
pub const TAG_LEN: usize = 16;

/// A record's identity, from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    pub instance: u32,
    pub producer: u32,
    pub seq: u64,
}

pub fn parse_tag(b: &[u8]) -> Option<Tag> {
    let b: &[u8; TAG_LEN] = b.try_into().ok()?;
    let (i, rest) = b.split_at(4);
    let (p, s) = rest.split_at(4);
    Some(Tag {
        instance: u32::from_be_bytes(i.try_into().ok()?),
        producer: u32::from_be_bytes(p.try_into().ok()?),
        seq: u64::from_be_bytes(s.try_into().ok()?),
    })
}

/// Where each partition ended before the run: the read-back starts there.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub start: Vec<i64>,
}

const WATERMARK_TIMEOUT: Duration = Duration::from_secs(10);
/// Lost records named per partition in the report.
const LOST_SAMPLE: usize = 10;

/// The verifying consumer, with `extra` properties on top.
fn consumer(
    props: &BTreeMap<String, String>,
    bootstrap: &str,
    extra: &[(&str, &str)],
) -> Result<BaseConsumer, String> {
    let mut cfg = crate::client::client_config(&crate::client::admin_props(props));
    cfg.set("bootstrap.servers", bootstrap)
        .set("group.id", "kprod-verify")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        // Every record the log holds counts, including those of aborted transactions.
        .set("isolation.level", "read_uncommitted");
    for (k, v) in extra {
        cfg.set(*k, *v);
    }
    cfg.create()
        .map_err(|e| format!("cannot create the verifying consumer: {e}"))
}

/// Records where every partition of `topic` ends now.
pub fn baseline(
    props: &BTreeMap<String, String>,
    bootstrap: &str,
    topic: &str,
    partitions: u32,
) -> Result<Baseline, KprodError> {
    let c = consumer(props, bootstrap, &[]).map_err(KprodError::Kafka)?;
    let start = (0..partitions as i32)
        .map(|p| {
            c.fetch_watermarks(topic, p, WATERMARK_TIMEOUT)
                .map(|(_, high)| high)
                .map_err(|e| KprodError::Unreachable {
                    brokers: bootstrap.into(),
                    detail: format!("--verify cannot read the end offset of {topic}/{p}: {e}"),
                })
        })
        .collect::<Result<_, _>>()?;
    Ok(Baseline { start })
}

#[derive(Default)]
pub(super) struct Tally {
    parts: BTreeMap<Option<i32>, VerifyPartition>,
}

impl Tally {
    pub(super) fn part(&mut self, p: Option<i32>) -> &mut VerifyPartition {
        self.parts.entry(p).or_insert_with(|| VerifyPartition {
            partition: p,
            ..VerifyPartition::default()
        })
    }
}

/// Reads the run's records back (all of them, now) and compares them with the ledgers: the
/// read-back of a run that did not start a [`Reader`] before t0. Err only when the
/// read-back could not start; a read-back cut short is reported in `Verify::error`.
pub fn check(
    props: &BTreeMap<String, String>,
    bootstrap: &str,
    topic: &str,
    baseline: &Baseline,
    ledgers: Vec<Ledger>,
    plan: &Plan,
) -> Result<Verify, String> {
    Reader::start(props, bootstrap, topic, baseline, plan.instance)?.finish(ledgers, plan)
}

impl Reader {
    /// After the last flush: stops the concurrent reader, reads from where it got to up to
    /// the end with a fresh consumer (no stale end-of-partition event can cut it short),
    /// and compares with the ledgers.
    pub fn finish(self, ledgers: Vec<Ledger>, plan: &Plan) -> Result<Verify, String> {
        let (props, bootstrap, topic, baseline) = (
            self.props.clone(),
            self.bootstrap.clone(),
            self.topic.clone(),
            self.baseline.clone(),
        );
        let mut stream = self.stop()?;
        let c = consumer(&props, &bootstrap, &[])?;
        let (log_start, end) = watermarks(&c, &topic, baseline.start.len())?;
        // What the log lost since the reader saw it is counted from the reader; the rest
        // is read from the log, from where it now starts.
        for (p, lo) in log_start.iter().enumerate() {
            stream.release(p as i32, *lo);
        }
        // Records not seen before the log start moved past them are undecidable.
        let truncated: Vec<bool> = (0..log_start.len())
            .map(|p| {
                let moved = log_start[p] > baseline.start[p];
                stream.trimmed[p]
                    || log_start[p] > stream.seen_to[p]
                    || (stream.overflow[p] && moved)
            })
            .collect();
        let mut read = stream.read;
        assign(&c, &topic, &read.next, &log_start)?;
        for (p, e) in end.iter().enumerate() {
            let part = read.tally.part(Some(p as i32));
            part.start_offset = baseline.start[p];
            part.end_offset = part.end_offset.max(*e);
            part.log_start_offset = log_start[p];
        }
        let error = read.read_all(&c);
        let ff = plan.profile.workload.send_mode == SendMode::FireAndForget;
        Ok(compare(&ledgers, read, &truncated, ff, error))
    }
}

/// Each partition's log start and end offsets.
fn watermarks(c: &BaseConsumer, topic: &str, n: usize) -> Result<(Vec<i64>, Vec<i64>), String> {
    (0..n)
        .map(|p| {
            c.fetch_watermarks(topic, p as i32, WATERMARK_TIMEOUT)
                .map_err(|err| format!("cannot read the offsets of {topic}/{p}: {err}"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|v| v.into_iter().unzip())
}

/// Assigns every partition from `from` (or where the log now starts, if later). Every
/// partition is then read until the consumer's end-of-partition event, which comes from
/// the high watermark in Fetch responses: some brokers (Tansu) answer ListOffsets with
/// less than the high watermark, so the end offsets only inform the report.
fn assign(c: &BaseConsumer, topic: &str, from: &[i64], log_start: &[i64]) -> Result<(), String> {
    let mut tpl = TopicPartitionList::new();
    for (p, (f, lo)) in from.iter().zip(log_start).enumerate() {
        let start = (*f).max(*lo).max(0);
        tpl.add_partition_offset(topic, p as i32, Offset::Offset(start))
            .map_err(|err| err.to_string())?;
    }
    c.assign(&tpl)
        .map_err(|e| format!("cannot assign partitions: {e}"))
}

/// Compares the ledgers with what was read back: lost, expired, unknown found or not.
fn compare(
    ledgers: &[Ledger],
    mut read: ReadBack,
    truncated: &[bool],
    ff: bool,
    error: Option<String>,
) -> Verify {
    let mut tally = std::mem::take(&mut read.tally);
    let any_truncated = truncated.iter().any(|t| *t);
    let mut v = Verify {
        complete: error.is_none() && !any_truncated,
        error,
        ..Verify::default()
    };
    // A record not read back from a truncated log may have been deleted, not lost; with
    // no partition known, any truncation makes it undecidable.
    let expired_in = |p: Option<i32>| match p {
        Some(p) => truncated.get(p as usize).copied().unwrap_or(false),
        None => any_truncated,
    };
    for l in ledgers {
        for seq in 0..l.len() {
            let found = read.found(l.producer, seq);
            let (outcome, partition) = l.get(seq);
            // Fire-and-forget reports only failures: a record never reported is as
            // acknowledged as that mode gets. Otherwise no report at all means unknown.
            let outcome = match outcome {
                Outcome::Pending if ff => Outcome::Delivered,
                Outcome::Pending => Outcome::Uncertain,
                o => o,
            };
            let part = tally.part(partition);
            match outcome {
                Outcome::Delivered => {
                    v.acknowledged += 1;
                    if !found && expired_in(partition) {
                        part.expired += 1;
                    } else if !found {
                        part.lost += 1;
                        if part.lost_records.len() < LOST_SAMPLE {
                            part.lost_records.push(format!("{}:{seq}", l.producer));
                        }
                    }
                }
                Outcome::Uncertain if !found && expired_in(partition) => part.expired += 1,
                Outcome::Uncertain if found => part.unknown_found += 1,
                Outcome::Uncertain => part.unknown_not_found += 1,
                Outcome::Failed if found => part.failed_found += 1,
                Outcome::Failed | Outcome::NotSent | Outcome::Pending => {}
            }
        }
    }
    v.partitions = tally
        .parts
        .into_values()
        .filter(|p| p.partition.is_some() || p != &VerifyPartition::default())
        .collect();
    sum_partitions(&mut v);
    v
}

/// The run-wide counts are the sums of the partitions'.
fn sum_partitions(v: &mut Verify) {
    for p in &v.partitions {
        v.read += p.read;
        v.lost += p.lost;
        v.duplicated += p.duplicated;
        v.reordered += p.reordered;
        v.unknown.found += p.unknown_found;
        v.unknown.not_found += p.unknown_not_found;
        v.failed_found += p.failed_found;
        v.expired += p.expired;
    }
    v.unknown.total = v.unknown.found + v.unknown.not_found;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_reject_other_lengths() {
        let mut b = [0u8; TAG_LEN];
        b[..4].copy_from_slice(&7u32.to_be_bytes());
        b[4..8].copy_from_slice(&3u32.to_be_bytes());
        b[8..].copy_from_slice(&123_456_789u64.to_be_bytes());
        assert_eq!(
            parse_tag(&b),
            Some(Tag {
                instance: 7,
                producer: 3,
                seq: 123_456_789
            })
        );
        assert_eq!(parse_tag(&b[..15]), None);
        assert_eq!(parse_tag(&[0u8; 17]), None);
    }
}
