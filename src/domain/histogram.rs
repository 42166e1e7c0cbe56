//! kprod's HDR histogram settings, shared by the recorders that fill histograms, the
//! collector that merges them and the report and merge code that read them back.

use hdrhistogram::Histogram;

/// Highest latency a kprod histogram can hold: one hour, in microseconds.
pub const HIST_HIGHEST_US: u64 = 3_600_000_000;
/// Significant decimal digits kept by every kprod histogram.
pub const HIST_SIGFIG: u8 = 3;

/// A fresh histogram with kprod's settings: 1 µs .. 1 hour, 3 significant digits,
/// auto-resize off (a value above one hour is an error for the recorder to count, not a
/// silent resize that would change memory use mid-run).
pub fn new_histogram() -> Histogram<u64> {
    // The bounds are constants that satisfy hdrhistogram's preconditions, so this cannot fail.
    let mut h = Histogram::new_with_bounds(1, HIST_HIGHEST_US, HIST_SIGFIG)
        .expect("constant histogram bounds are valid");
    h.auto(false);
    h
}
