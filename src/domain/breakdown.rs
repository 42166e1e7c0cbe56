//! Latency stage sums: what librdkafka's statistics windows say each record waited in,
//! summed so that seconds, producers and runs can be added before taking the means.
//!
//! `measure::breakdown` fills these from the statistics JSON; `report::breakdown` turns
//! them into `latency_breakdown_us` and the per-second `breakdown_*_us` columns.

/// A weighted sum: `sum / weight` is the mean.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WeightedSum {
    pub sum: f64,
    pub weight: f64,
}

impl WeightedSum {
    pub fn add(&mut self, value: f64, weight: f64) {
        if weight > 0.0 && value.is_finite() {
            self.sum += value * weight;
            self.weight += weight;
        }
    }

    pub fn merge(&mut self, o: &WeightedSum) {
        self.sum += o.sum;
        self.weight += o.weight;
    }

    pub fn mean(&self) -> Option<f64> {
        (self.weight > 0.0).then(|| self.sum / self.weight)
    }
}

/// Stage sums of one second (or a whole run), in microseconds.
///
/// `queue_wait` (librdkafka `int_latency`) is sampled per message. `outbuf_latency` and
/// `rtt` are sampled per request; a request's wait is felt by every record in it, so
/// they are weighted by the records the broker carried in the same window
/// (`*_by_record`), with the per-request means kept beside them for windows where no
/// record count could be tied to a broker.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageSums {
    pub queue_wait: WeightedSum,
    pub inflight_wait_by_record: WeightedSum,
    pub broker_rtt_by_record: WeightedSum,
    pub inflight_wait_by_request: WeightedSum,
    pub broker_rtt_by_request: WeightedSum,
    /// Throttle time felt by records (µs × records) over `records`.
    pub throttle_by_record: WeightedSum,
    /// Statistics windows (one per broker per emit) that carried a sample.
    pub windows: u64,
}

/// The means of [`StageSums`], µs per record.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageMeans {
    pub queue_wait: Option<f64>,
    pub inflight_wait: Option<f64>,
    pub broker_rtt: Option<f64>,
    pub throttle: Option<f64>,
    /// True when rtt and outbuf waits are weighted by records, false when only the
    /// per-request means were available.
    pub by_record: bool,
}

impl StageSums {
    pub fn merge(&mut self, o: &StageSums) {
        self.queue_wait.merge(&o.queue_wait);
        self.inflight_wait_by_record
            .merge(&o.inflight_wait_by_record);
        self.broker_rtt_by_record.merge(&o.broker_rtt_by_record);
        self.inflight_wait_by_request
            .merge(&o.inflight_wait_by_request);
        self.broker_rtt_by_request.merge(&o.broker_rtt_by_request);
        self.throttle_by_record.merge(&o.throttle_by_record);
        self.windows += o.windows;
    }

    pub fn is_empty(&self) -> bool {
        self.windows == 0
    }

    pub fn means(&self) -> StageMeans {
        let by_record = self.broker_rtt_by_record.weight > 0.0;
        let (inflight, rtt) = if by_record {
            (&self.inflight_wait_by_record, &self.broker_rtt_by_record)
        } else {
            (&self.inflight_wait_by_request, &self.broker_rtt_by_request)
        };
        StageMeans {
            queue_wait: self.queue_wait.mean(),
            inflight_wait: inflight.mean(),
            broker_rtt: rtt.mean(),
            throttle: self.throttle_by_record.mean().or(by_record.then_some(0.0)),
            by_record,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_weights_win_over_request_weights_when_present() {
        let mut s = StageSums::default();
        s.broker_rtt_by_request.add(100.0, 1.0);
        s.broker_rtt_by_request.add(300.0, 1.0);
        assert_eq!(s.means().broker_rtt, Some(200.0));
        assert!(!s.means().by_record);
        s.broker_rtt_by_record.add(100.0, 1.0);
        s.broker_rtt_by_record.add(300.0, 3.0);
        assert_eq!(s.means().broker_rtt, Some(250.0));
        assert!(s.means().by_record);
    }

    #[test]
    fn merged_sums_average_like_one() {
        let mut a = StageSums::default();
        a.queue_wait.add(10.0, 1.0);
        let mut b = StageSums::default();
        b.queue_wait.add(40.0, 2.0);
        a.merge(&b);
        assert_eq!(a.means().queue_wait, Some(30.0));
        assert_eq!(WeightedSum::default().mean(), None);
    }
}
