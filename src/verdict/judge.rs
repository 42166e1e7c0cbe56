//! Verdicts: a figure's estimated change against what is allowed, per figure and overall,
//! and the exit code a CI job gates on.

use super::change::{Change, Method, Scale};
use serde::{Deserialize, Serialize};

/// Which way is better for a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Polarity {
    /// Latency, errors.
    LowerIsBetter,
    /// Throughput, compression ratio.
    HigherIsBetter,
}

impl Polarity {
    /// `x` with the sign turned so that positive means worse.
    fn worse(self, x: f64) -> f64 {
        match self {
            Polarity::LowerIsBetter => x,
            Polarity::HigherIsBetter => -x,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Inconclusive,
    Fail,
}

/// Exit code of an inconclusive gate (0, 1, 2, 3 and 130 are taken; see `error.rs`).
pub const EXIT_INCONCLUSIVE: i32 = 5;

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Inconclusive => "INCONCLUSIVE",
        }
    }
}

/// What an inconclusive overall verdict becomes (`--inconclusive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InconclusivePolicy {
    Fail,
    Pass,
    /// Kept as its own outcome: exit code 5.
    #[default]
    Inconclusive,
}

impl std::str::FromStr for InconclusivePolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fail" => Ok(Self::Fail),
            "pass" => Ok(Self::Pass),
            "inconclusive" => Ok(Self::Inconclusive),
            _ => Err(format!(
                "{s:?}: expected fail, pass or inconclusive (exit code {EXIT_INCONCLUSIVE})"
            )),
        }
    }
}

impl InconclusivePolicy {
    pub fn apply(self, v: Verdict) -> Verdict {
        match (v, self) {
            (Verdict::Inconclusive, InconclusivePolicy::Fail) => Verdict::Fail,
            (Verdict::Inconclusive, InconclusivePolicy::Pass) => Verdict::Pass,
            (v, _) => v,
        }
    }

    /// Exit code of an overall verdict: pass 0, fail 1, inconclusive 5.
    pub fn exit_code(self, v: Verdict) -> i32 {
        match self.apply(v) {
            Verdict::Pass => 0,
            Verdict::Fail => 1,
            Verdict::Inconclusive => EXIT_INCONCLUSIVE,
        }
    }
}

/// The worst of the verdicts; pass when there are none.
pub fn overall<'a>(verdicts: impl IntoIterator<Item = &'a Verdict>) -> Verdict {
    verdicts.into_iter().copied().max().unwrap_or(Verdict::Pass)
}

/// Judges a change against `allowed` (percent for relative figures, units for absolute):
/// fail when the whole interval is beyond the allowance in the worse direction, pass when
/// it is wholly within, inconclusive when it straddles. A change without any noise
/// estimate can pass but never fail: one number against another is not evidence.
pub fn judge(c: &Change, allowed: f64, polarity: Polarity) -> Verdict {
    let (a, b) = (polarity.worse(c.ci_low), polarity.worse(c.ci_high));
    let (lo, hi) = (a.min(b), a.max(b));
    if hi <= allowed {
        Verdict::Pass
    } else if lo > allowed && c.method != Method::Point {
        Verdict::Fail
    } else {
        Verdict::Inconclusive
    }
}

/// One figure of a check or comparison, as check.json / compare.json carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureResult {
    /// `throughput`, `p50`, `p99`, `p999`, `errors`, `compression`.
    pub figure: String,
    pub baseline: f64,
    pub current: f64,
    /// Percent (relative) or units (absolute), see `scale`.
    pub change: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub scale: Scale,
    pub polarity: Polarity,
    pub method: Method,
    /// How much worse may be (same scale as `change`); None in a comparison.
    pub allowed: Option<f64>,
    /// None in a comparison, which judges nothing.
    pub verdict: Option<Verdict>,
    pub note: Option<String>,
}

impl FigureResult {
    pub fn new(figure: &str, c: &Change, scale: Scale, polarity: Polarity) -> Self {
        FigureResult {
            figure: figure.into(),
            baseline: c.baseline,
            current: c.current,
            change: c.change,
            ci_low: c.ci_low,
            ci_high: c.ci_high,
            scale,
            polarity,
            method: c.method,
            allowed: None,
            verdict: None,
            note: c.method.note().map(str::to_string),
        }
    }

    /// Judged against `allowed`.
    pub fn judged(mut self, c: &Change, allowed: f64) -> Self {
        self.allowed = Some(allowed);
        self.verdict = Some(judge(c, allowed, self.polarity));
        self
    }

    /// `worse`, `better`, or `same (within noise)` when the interval holds no change.
    pub fn direction(&self) -> &'static str {
        let (a, b) = (
            self.polarity.worse(self.ci_low),
            self.polarity.worse(self.ci_high),
        );
        if a.min(b) > 0.0 {
            "worse"
        } else if a.max(b) < 0.0 {
            "better"
        } else if self.change == 0.0 && self.ci_low == self.ci_high {
            "same"
        } else {
            "same (within noise)"
        }
    }

    fn num(&self, x: f64) -> String {
        match self.scale {
            Scale::Relative => format!("{x:+.1}%"),
            Scale::Absolute => format!("{x:+}"),
        }
    }

    /// `+12.4% [+8.1 .. +16.9] worse`.
    pub fn change_text(&self) -> String {
        format!(
            "{} [{} .. {}] {}",
            self.num(self.change),
            self.num(self.ci_low).trim_end_matches('%'),
            self.num(self.ci_high).trim_end_matches('%'),
            self.direction()
        )
    }

    /// `allowed +10%` (worse direction; for throughput `allowed -5%`).
    pub fn allowed_text(&self) -> Option<String> {
        let a = self.allowed?;
        Some(format!("allowed {}", self.num(self.polarity.worse(a))))
    }

    /// `p99 +12.4% [+8.1 .. +16.9] worse, allowed +10% → FAIL`.
    pub fn line(&self) -> String {
        let mut s = format!("{} {}", self.figure, self.change_text());
        if let Some(a) = self.allowed_text() {
            s.push_str(&format!(", {a}"));
        }
        if let Some(v) = self.verdict {
            s.push_str(&format!(" → {}", v.label()));
        }
        if let Some(n) = &self.note {
            s.push_str(&format!(" ({n})"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(lo: f64, hi: f64) -> Change {
        Change {
            baseline: 100.0,
            current: 100.0 + (lo + hi) / 2.0,
            change: (lo + hi) / 2.0,
            ci_low: lo,
            ci_high: hi,
            method: Method::Runs,
        }
    }

    #[test]
    fn whole_interval_beyond_fails_within_passes_straddling_is_inconclusive() {
        let lower = Polarity::LowerIsBetter;
        assert_eq!(judge(&change(8.1, 16.9), 5.0, lower), Verdict::Fail);
        assert_eq!(judge(&change(-3.0, 4.0), 5.0, lower), Verdict::Pass);
        assert_eq!(
            judge(&change(2.0, 14.0), 10.0, lower),
            Verdict::Inconclusive
        );
        let higher = Polarity::HigherIsBetter;
        assert_eq!(judge(&change(-20.0, -8.0), 5.0, higher), Verdict::Fail);
        assert_eq!(judge(&change(8.0, 20.0), 5.0, higher), Verdict::Pass);
        assert_eq!(
            judge(&change(-8.0, 1.0), 5.0, higher),
            Verdict::Inconclusive
        );
    }

    #[test]
    fn a_single_number_cannot_fail() {
        let c = Change {
            method: Method::Point,
            ..change(30.0, 30.0)
        };
        assert_eq!(
            judge(&c, 10.0, Polarity::LowerIsBetter),
            Verdict::Inconclusive
        );
    }

    #[test]
    fn overall_is_the_worst_and_the_policy_maps_exit_codes() {
        use Verdict::*;
        assert_eq!(overall(&[Pass, Inconclusive, Pass]), Inconclusive);
        assert_eq!(overall(&[Pass, Inconclusive, Fail]), Fail);
        assert_eq!(overall(&[]), Pass);
        assert_eq!(InconclusivePolicy::default().exit_code(Inconclusive), 5);
        assert_eq!(InconclusivePolicy::Fail.exit_code(Inconclusive), 1);
        assert_eq!(InconclusivePolicy::Pass.exit_code(Inconclusive), 0);
        assert_eq!(InconclusivePolicy::Pass.exit_code(Fail), 1);
        assert!("maybe".parse::<InconclusivePolicy>().is_err());
    }

    #[test]
    fn the_line_reads_like_the_spec() {
        let c = Change {
            change: 12.4,
            ..change(8.1, 16.9)
        };
        let r =
            FigureResult::new("p99", &c, Scale::Relative, Polarity::LowerIsBetter).judged(&c, 5.0);
        assert_eq!(
            r.line(),
            "p99 +12.4% [+8.1 .. +16.9] worse, allowed +5.0% → FAIL"
        );
        // The interval reaches below +10%: not proven beyond it.
        let r = r.judged(&c, 10.0);
        assert_eq!(r.verdict, Some(Verdict::Inconclusive));
        let t = FigureResult::new(
            "throughput",
            &change(-2.0, 3.0),
            Scale::Relative,
            Polarity::HigherIsBetter,
        )
        .judged(&change(-2.0, 3.0), 5.0);
        assert_eq!(t.direction(), "same (within noise)");
        assert_eq!(t.allowed_text().as_deref(), Some("allowed -5.0%"));
        assert_eq!(t.verdict, Some(Verdict::Pass));
    }
}
