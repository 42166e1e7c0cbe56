//! What the consumers of a run measured (`[consumers]`, `--consumers`): consumed counts
//! per group and per second, the end-to-end latency histogram and the drain after the
//! flush. Filled by `engine::consumer`, read by `report::consumers`.

use hdrhistogram::Histogram;

/// One second of consumption (by poll time, seconds since t0 like the producers').
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsumedSecond {
    pub idx: u64,
    /// Records of this run consumed in the second, per group.
    pub consumed: Vec<u64>,
    /// The end-to-end histogram (intended send → consumed, µs) of the records consumed in
    /// it, V2-encoded (kept small for long runs; the report's `e2e_p99_us`,
    /// `latency-e2e.hlog` and `kprod merge` decode it).
    pub e2e_encoded: Vec<u8>,
}

impl ConsumedSecond {
    /// The second's end-to-end histogram (every group's records), decoded.
    pub fn e2e_histogram(&self) -> Histogram<u64> {
        hdrhistogram::serialization::Deserializer::new()
            .deserialize(&mut self.e2e_encoded.as_slice())
            .unwrap_or_else(|_| super::new_histogram())
    }
}

/// The consumers' whole run.
#[derive(Debug, Clone)]
pub struct ConsumerOutcome {
    pub groups: u32,
    pub per_group_threads: u32,
    /// Records of this run consumed per group (the warm-up's included).
    pub consumed: Vec<u64>,
    /// Per group, per topic of the run (its order; one entry with one topic).
    pub consumed_by_topic: Vec<Vec<u64>>,
    /// Intended send time → returned by the consumer poll, µs, records intended after the
    /// warm-up only, every group's.
    pub e2e: Histogram<u64>,
    /// By poll second; a second past the producers' last holds the drain after the flush.
    pub seconds: Vec<ConsumedSecond>,
    /// Every consumer reached the end offsets taken after the producers flushed.
    pub caught_up: bool,
    /// From the end of the producers' flush until the last consumer reached its end
    /// offsets (None when one did not within the timeout).
    pub catch_up_s: Option<f64>,
    /// `--backlog`: when the consumers were resumed, seconds since t0.
    pub resumed_at_s: Option<f64>,
    /// Findings for the report's warnings.
    pub warnings: Vec<String>,
}
