//! Absolute thresholds, k6-style: `p99<=20ms`, `errors==0`, `throughput>=95%` (of the
//! target rate) or `throughput>=50k/s`. Parsed once, evaluated against one run or against
//! the repeats of a run (then with a bootstrap interval of the median: a threshold fails
//! only when the whole interval breaches it).

use super::change::{median_ci, Bootstrap, Method, Scale};
use super::judge::{FigureResult, Polarity, Verdict};
use crate::error::{ConfigError, Location};
use crate::units;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "==")]
    Eq,
}

impl Op {
    pub(crate) fn holds(self, x: f64, bound: f64) -> bool {
        match self {
            Op::Le => x <= bound,
            Op::Lt => x < bound,
            Op::Ge => x >= bound,
            Op::Gt => x > bound,
            Op::Eq => x == bound,
        }
    }
    /// The comparison a breached value stands in to the bound (`p99 45 ms > 20 ms`).
    pub(crate) fn breach_text(self) -> &'static str {
        match self {
            Op::Le => ">",
            Op::Lt => ">=",
            Op::Ge => "<",
            Op::Gt => "<=",
            Op::Eq => "!=",
        }
    }
    fn text(self) -> &'static str {
        match self {
            Op::Le => "<=",
            Op::Lt => "<",
            Op::Ge => ">=",
            Op::Gt => ">",
            Op::Eq => "==",
        }
    }
}

/// The figure a threshold constrains; latencies in microseconds, throughput in records/s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SloFigure {
    P50,
    P99,
    P999,
    Errors,
    Throughput,
}

impl SloFigure {
    pub fn name(self) -> &'static str {
        match self {
            SloFigure::P50 => "p50",
            SloFigure::P99 => "p99",
            SloFigure::P999 => "p999",
            SloFigure::Errors => "errors",
            SloFigure::Throughput => "throughput",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Bound {
    /// Microseconds, records, or records per second.
    Value(f64),
    /// Percent of the run's target rate (throughput only).
    TargetPercent(f64),
}

/// One parsed `--threshold` expression.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    /// As written, for messages and reports.
    pub expr: String,
    pub figure: SloFigure,
    pub op: Op,
    pub bound: Bound,
}

const FORMS: &str = "write e.g. --threshold 'p99<=20ms', 'errors==0', 'throughput>=95%' \
                     (of the target rate) or 'throughput>=50k/s'";

fn split_op(s: &str) -> Option<(&str, Op, &str)> {
    for (text, op) in [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("==", Op::Eq),
        ("<", Op::Lt),
        (">", Op::Gt),
    ] {
        if let Some(i) = s.find(text) {
            return Some((s[..i].trim(), op, s[i + text.len()..].trim()));
        }
    }
    None
}

impl Threshold {
    /// Parses `expr`; `source` names where it came from (`--threshold`, a profile file).
    pub fn parse(expr: &str, source: &str) -> Result<Self, ConfigError> {
        let err = |m: String| ConfigError::new(m).at(Location::flag(source)).fix(FORMS);
        let (name, op, value) = split_op(expr)
            .ok_or_else(|| err(format!("{expr:?} has no comparison (<=, <, >=, >, ==)")))?;
        let figure = match name.to_ascii_lowercase().as_str() {
            "p50" => SloFigure::P50,
            "p99" => SloFigure::P99,
            "p999" | "p99.9" => SloFigure::P999,
            "errors" => SloFigure::Errors,
            "throughput" => SloFigure::Throughput,
            _ => {
                return Err(err(format!(
                "{expr:?}: unknown figure {name:?}; expected p50, p99, p999, errors or throughput"
            )))
            }
        };
        let bad = |m: String| err(format!("{expr:?}: {m}"));
        let bound = match figure {
            SloFigure::P50 | SloFigure::P99 | SloFigure::P999 => {
                let d = units::parse_duration(value).map_err(bad)?;
                Bound::Value(d.as_nanos() as f64 / 1000.0)
            }
            SloFigure::Errors => Bound::Value(units::parse_count(value).map_err(bad)? as f64),
            SloFigure::Throughput => match value.strip_suffix('%') {
                Some(p) => Bound::TargetPercent(
                    p.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite() && *x > 0.0)
                        .ok_or_else(|| bad(format!("{value:?} is not a percentage")))?,
                ),
                None => match units::parse_rate(value).map_err(bad)? {
                    units::Rate::Fixed(r) => Bound::Value(r),
                    units::Rate::Unlimited => {
                        return Err(bad("a threshold needs a number, not unlimited".into()))
                    }
                },
            },
        };
        Ok(Threshold {
            expr: expr.trim().to_string(),
            figure,
            op,
            bound,
        })
    }

    /// The bound in the figure's unit; None for a percentage without a target rate.
    pub fn bound_value(&self, target_rate: Option<f64>) -> Option<f64> {
        match self.bound {
            Bound::Value(v) => Some(v),
            Bound::TargetPercent(p) => target_rate.map(|t| t * p / 100.0),
        }
    }

    /// Evaluates against the figure of each run (one value: that run; several: the
    /// interval of their median must hold or breach as a whole). Err when the bound is
    /// relative to a target rate the run did not have.
    pub fn evaluate(
        &self,
        runs: &[f64],
        target_rate: Option<f64>,
        cfg: &Bootstrap,
    ) -> Result<FigureResult, String> {
        let bound = self.bound_value(target_rate).ok_or_else(|| {
            format!(
                "threshold {:?}: the run has no target rate; set workload.rate or give throughput in records/s",
                self.expr
            )
        })?;
        let (m, lo, hi) =
            median_ci(runs, cfg).ok_or_else(|| format!("threshold {:?}: no runs", self.expr))?;
        let (all, none) = (
            self.op.holds(lo, bound) && self.op.holds(hi, bound),
            !self.op.holds(lo, bound) && !self.op.holds(hi, bound),
        );
        let verdict = if all && (self.op != Op::Eq || lo == hi) {
            Verdict::Pass
        } else if none {
            Verdict::Fail
        } else {
            Verdict::Inconclusive
        };
        let polarity = match self.op {
            Op::Ge | Op::Gt => Polarity::HigherIsBetter,
            _ => Polarity::LowerIsBetter,
        };
        Ok(FigureResult {
            figure: format!("{} {} {}", self.figure.name(), self.op.text(), bound),
            baseline: bound,
            current: m,
            change: m - bound,
            ci_low: lo - bound,
            ci_high: hi - bound,
            scale: Scale::Absolute,
            polarity,
            method: if runs.len() >= 3 {
                Method::Runs
            } else {
                Method::Point
            },
            allowed: Some(0.0),
            verdict: Some(verdict),
            note: Some(format!("threshold {}", self.expr)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_k6_forms() {
        let t = Threshold::parse("p99<=20ms", "--threshold").unwrap();
        assert_eq!(
            (t.figure, t.op, t.bound),
            (SloFigure::P99, Op::Le, Bound::Value(20_000.0))
        );
        let t = Threshold::parse("errors==0", "--threshold").unwrap();
        assert_eq!(
            (t.figure, t.op, t.bound),
            (SloFigure::Errors, Op::Eq, Bound::Value(0.0))
        );
        let t = Threshold::parse(" throughput >= 95% ", "--threshold").unwrap();
        assert_eq!(t.bound, Bound::TargetPercent(95.0));
        assert_eq!(t.bound_value(Some(10_000.0)), Some(9_500.0));
        let t = Threshold::parse("throughput>=50k/s", "--threshold").unwrap();
        assert_eq!(t.bound, Bound::Value(50_000.0));
        let t = Threshold::parse("p99.9<1s", "--threshold").unwrap();
        assert_eq!((t.figure, t.op), (SloFigure::P999, Op::Lt));
    }

    #[test]
    fn bad_expressions_name_the_flag_and_the_fix() {
        for bad in [
            "p99",
            "p98<=1ms",
            "p99<=20",
            "errors<=many",
            "throughput>=x%",
            "throughput>=unlimited",
        ] {
            let e = Threshold::parse(bad, "--threshold").unwrap_err();
            let text = e.to_string();
            assert!(text.starts_with("--threshold: "), "{bad}: {text}");
            assert!(text.contains("fix: write e.g."), "{bad}: {text}");
        }
    }

    #[test]
    fn one_run_passes_or_fails_by_its_value() {
        let cfg = Bootstrap::default();
        let t = Threshold::parse("p99<=20ms", "--threshold").unwrap();
        assert_eq!(
            t.evaluate(&[19_000.0], None, &cfg).unwrap().verdict,
            Some(Verdict::Pass)
        );
        assert_eq!(
            t.evaluate(&[21_000.0], None, &cfg).unwrap().verdict,
            Some(Verdict::Fail)
        );
        let e = Threshold::parse("errors==0", "--threshold").unwrap();
        assert_eq!(
            e.evaluate(&[1.0], None, &cfg).unwrap().verdict,
            Some(Verdict::Fail)
        );
        assert_eq!(
            e.evaluate(&[0.0], None, &cfg).unwrap().verdict,
            Some(Verdict::Pass)
        );
        let r = Threshold::parse("throughput>=95%", "--threshold").unwrap();
        assert!(r.evaluate(&[1.0], None, &cfg).is_err());
        assert_eq!(
            r.evaluate(&[960.0], Some(1000.0), &cfg).unwrap().verdict,
            Some(Verdict::Pass)
        );
    }

    #[test]
    fn repeats_fail_only_when_the_whole_interval_breaches() {
        let cfg = Bootstrap::default();
        let t = Threshold::parse("p99<=20ms", "--threshold").unwrap();
        let clear = [25_000.0, 26_000.0, 24_000.0, 25_500.0, 24_500.0];
        assert_eq!(
            t.evaluate(&clear, None, &cfg).unwrap().verdict,
            Some(Verdict::Fail)
        );
        let straddle = [15_000.0, 25_000.0, 18_000.0, 22_000.0, 20_500.0];
        assert_eq!(
            t.evaluate(&straddle, None, &cfg).unwrap().verdict,
            Some(Verdict::Inconclusive)
        );
        let fine = [10_000.0, 11_000.0, 12_000.0, 10_500.0, 11_500.0];
        assert_eq!(
            t.evaluate(&fine, None, &cfg).unwrap().verdict,
            Some(Verdict::Pass)
        );
    }
}
