//! The consumers' merge thread: adds the threads' per-second snapshots into per-second
//! figures (a second is final, its histogram kept V2-encoded — a few
//! hundred bytes — once every thread has moved past it) and their totals.

use super::Msg;
use crate::domain::{new_histogram, ConsumedSecond};
use hdrhistogram::serialization::{Serializer, V2Serializer};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::Instant;

pub(super) struct Merged {
    pub consumed: Vec<u64>,
    /// Per group, per topic (several topics only; else empty).
    pub by_topic: Vec<Vec<u64>>,
    pub e2e: Histogram<u64>,
    pub seconds: Vec<ConsumedSecond>,
    pub all_caught_up: bool,
    pub last_caught_up: Option<Instant>,
    pub resumed_at_s: Option<f64>,
    pub errors: Vec<String>,
}

impl Merged {
    pub fn empty(groups: u32) -> Merged {
        Merged {
            consumed: vec![0; groups as usize],
            by_topic: Vec::new(),
            e2e: new_histogram(),
            seconds: Vec::new(),
            all_caught_up: false,
            last_caught_up: None,
            resumed_at_s: None,
            errors: Vec::new(),
        }
    }
}

/// Merges until every one of `threads` is done (or gone).
pub(super) fn run(rx: mpsc::Receiver<Msg>, threads: usize, groups: u32, topics: usize) -> Merged {
    let mut m = Merged::empty(groups);
    if topics > 1 {
        m.by_topic = vec![vec![0; topics]; groups as usize];
    }
    m.all_caught_up = true;
    let mut open: BTreeMap<u64, (Vec<u64>, Histogram<u64>)> = BTreeMap::new();
    let mut closed: Vec<Option<u64>> = vec![None; threads];
    let mut done = 0;
    while done < threads {
        let Ok(msg) = rx.recv() else {
            m.all_caught_up = false;
            break;
        };
        match msg {
            Msg::Second {
                thread,
                group,
                idx,
                consumed,
                e2e,
            } => {
                let (counts, h) = open
                    .entry(idx)
                    .or_insert_with(|| (vec![0; groups as usize], new_histogram()));
                if let Some(c) = counts.get_mut(group as usize) {
                    *c += consumed;
                }
                let _ = h.add(&e2e);
                if let Some(c) = closed.get_mut(thread) {
                    *c = Some(c.map_or(idx, |v| v.max(idx)));
                }
                let upto = closed.iter().map(|c| c.map_or(-1, |v| v as i64)).min();
                close(&mut open, &mut m.seconds, upto.unwrap_or(-1));
            }
            Msg::Done(d) => {
                done += 1;
                if let Some(c) = m.consumed.get_mut(d.group as usize) {
                    *c += d.consumed;
                }
                if let Some(g) = m.by_topic.get_mut(d.group as usize) {
                    for (c, n) in g.iter_mut().zip(&d.by_topic) {
                        *c += n;
                    }
                }
                let _ = m.e2e.add(&d.e2e);
                match d.caught_up_at {
                    Some(t) => m.last_caught_up = Some(m.last_caught_up.map_or(t, |l| l.max(t))),
                    None => m.all_caught_up = false,
                }
                if let Some(r) = d.resumed_at_s {
                    m.resumed_at_s = Some(m.resumed_at_s.map_or(r, |x: f64| x.min(r)));
                }
                if let Some(e) = d.error {
                    if !m.errors.contains(&e) {
                        m.errors.push(e);
                    }
                }
            }
        }
    }
    close(&mut open, &mut m.seconds, i64::MAX);
    m
}

fn close(
    open: &mut BTreeMap<u64, (Vec<u64>, Histogram<u64>)>,
    out: &mut Vec<ConsumedSecond>,
    upto: i64,
) {
    while let Some((&idx, _)) = open.first_key_value() {
        if idx as i64 > upto {
            break;
        }
        if let Some((consumed, h)) = open.remove(&idx) {
            let mut e2e_encoded = Vec::new();
            // Encoding into memory cannot fail for a histogram with in-range counts.
            let _ = V2Serializer::new().serialize(&h, &mut e2e_encoded);
            out.push(ConsumedSecond {
                idx,
                consumed,
                e2e_encoded,
            });
        }
    }
}
