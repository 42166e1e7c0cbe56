//! The fault schedule, run on its own thread against the embedded cluster: each fault is
//! applied at its time after t0 (and undone after its duration), and everything still in
//! force is undone when the run ends, so the verifier reads from a healthy cluster. The
//! faults themselves (grammar, checks) are `crate::faults`; this is only their runtime.

use crate::domain::AppliedFault;
use crate::faults::{FaultKind, FaultSpec};
use crate::profile::TopicCfg;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::types::RDKafkaRespErr;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// A mock cluster borrowed by the schedule thread, and the run's topics.
pub struct Target<'a> {
    pub mock: &'a MockCluster<'static, DefaultProducerContext>,
    /// Every topic of the run: a `leader:` fault moves its partition in each topic that
    /// has it (one topic's move would leave the others' traffic on the old leader).
    pub topics: &'a [TopicCfg],
}

// SAFETY: MockCluster is a raw librdkafka handle. Its operations (broker down/up, RTT,
// request errors, leader) only post an op to the mock cluster's own thread, which
// librdkafka allows from any thread; the cluster outlives the scoped thread using it.
unsafe impl Send for Target<'_> {}

enum Step {
    Apply(usize),
    Undo(usize),
}

fn apply(t: &Target<'_>, kind: FaultKind) -> Result<(), String> {
    let all = |b: Option<i32>| b.unwrap_or(-1);
    match kind {
        FaultKind::BrokerDown { broker } => t.mock.broker_down(all(broker)),
        FaultKind::Rtt { broker, rtt } => t.mock.broker_round_trip_time(all(broker), rtt),
        FaultKind::Errors { api, error, count } => {
            let errors: Vec<RDKafkaRespErr> = vec![error; count as usize];
            t.mock.request_errors(api, &errors);
            Ok(())
        }
        FaultKind::Leader { partition, broker } => {
            return move_leader(t, partition, broker);
        }
    }
    .map_err(|e| e.to_string())
}

/// Moves `partition`'s leader in every topic that has that partition; the first error
/// names its topic, and the other topics are still moved.
fn move_leader(t: &Target<'_>, partition: i32, broker: i32) -> Result<(), String> {
    let mut first = None;
    for topic in t.topics {
        if i64::from(partition) >= i64::from(topic.partitions) {
            continue;
        }
        if let Err(e) = t
            .mock
            .partition_leader(&topic.name, partition, Some(broker))
        {
            first.get_or_insert(format!("topic `{}`: {e}", topic.name));
        }
    }
    first.map_or(Ok(()), Err)
}

fn undo(t: &Target<'_>, kind: FaultKind) -> Result<(), String> {
    let all = |b: Option<i32>| b.unwrap_or(-1);
    match kind {
        FaultKind::BrokerDown { broker } => t.mock.broker_up(all(broker)),
        FaultKind::Rtt { broker, .. } => t.mock.broker_round_trip_time(all(broker), Duration::ZERO),
        FaultKind::Errors { api, .. } => {
            t.mock.clear_request_errors(api);
            Ok(())
        }
        // A leader move stays: partitions keep their new leader, as on a real cluster.
        FaultKind::Leader { .. } => Ok(()),
    }
    .map_err(|e| e.to_string())
}

/// Runs the schedule from `t0` until `stop` fires (or its sender is dropped), then undoes
/// whatever is still in force. Returns one entry per fault, in schedule order.
pub fn run(
    target: Target<'_>,
    faults: &[FaultSpec],
    t0: Instant,
    stop: Receiver<()>,
) -> Vec<AppliedFault> {
    let mut steps: Vec<(Duration, Step)> = Vec::new();
    for (i, f) in faults.iter().enumerate() {
        steps.push((f.at, Step::Apply(i)));
        if let Some(d) = f.lasts {
            steps.push((f.at + d, Step::Undo(i)));
        }
    }
    // Stable: at equal times an undo listed earlier still comes before a later apply.
    steps.sort_by_key(|(t, _)| *t);
    let mut out: Vec<AppliedFault> = faults
        .iter()
        .map(|f| AppliedFault {
            spec: f.to_string(),
            applied_s: None,
            ended_s: None,
            error: None,
        })
        .collect();
    let mut active = vec![false; faults.len()];
    let mut stopped = false;
    for (when, step) in steps {
        let wait = (t0 + when).saturating_duration_since(Instant::now());
        match stop.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                stopped = true;
                break;
            }
        }
        let now = t0.elapsed().as_secs_f64();
        match step {
            Step::Apply(i) => match apply(&target, faults[i].kind) {
                Ok(()) => {
                    out[i].applied_s = Some(now);
                    active[i] = true;
                }
                Err(e) => out[i].error = Some(e),
            },
            Step::Undo(i) if active[i] => {
                if let Err(e) = undo(&target, faults[i].kind) {
                    out[i].error = Some(e);
                }
                out[i].ended_s = Some(now);
                active[i] = false;
            }
            Step::Undo(_) => {}
        }
    }
    if !stopped {
        // Whatever is still in force (injected errors not yet consumed included) stays
        // until the run ends.
        let _ = stop.recv();
    }
    let now = t0.elapsed().as_secs_f64();
    for (i, f) in faults.iter().enumerate() {
        if active[i] {
            if let Err(e) = undo(&target, f.kind) {
                out[i].error.get_or_insert(e);
            }
            if f.lasts.is_some()
                || !matches!(f.kind, FaultKind::Leader { .. } | FaultKind::Errors { .. })
            {
                out[i].ended_s = Some(now);
            }
        }
    }
    out
}
