//! `kprod check`'s allowances: how much worse than the baseline each figure may get
//! (defaults < the baseline's recorded `[check]` table < the `--profile` layers' tables <
//! `--max-regression`), and the absolute `--threshold`s that come with those tables.

use super::super::bench;
use crate::cli::CheckArgs;
use crate::error::{ConfigError, KprodError, Location};
use crate::profile::CheckCfg;
use crate::report::RunReport;
use crate::verdict::Threshold;
use std::path::Path;

/// Allowed regressions. Percentages are how much worse than the baseline a figure may get;
/// `errors` is how many more failed + unknown records. None = not checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub throughput: Option<f64>,
    pub p50: Option<f64>,
    pub p99: Option<f64>,
    pub p999: Option<f64>,
    pub errors: Option<u64>,
}

impl Default for Thresholds {
    /// throughput=5%, p50=10%, p99=10%, p999=20%, errors=0. p50 is checked since the
    /// calibration (docs/ci.md): it is the latency figure that decides most, e.g. a broker
    /// 5 ms slower doubles it and fails every check, while unchanged code on a busy 2-core
    /// machine is inconclusive (never a fail) because tail intervals span -60%..+200%.
    fn default() -> Self {
        Thresholds {
            throughput: Some(5.0),
            p50: Some(10.0),
            p99: Some(10.0),
            p999: Some(20.0),
            errors: Some(0),
        }
    }
}

impl Thresholds {
    /// Layers a profile's `[check]` table over these thresholds.
    pub fn with_profile(mut self, c: &CheckCfg) -> Self {
        self.throughput = c.throughput.or(self.throughput);
        self.p50 = c.p50.or(self.p50);
        self.p99 = c.p99.or(self.p99);
        self.p999 = c.p999.or(self.p999);
        self.errors = c.errors.or(self.errors);
        self
    }

    /// Layers `--max-regression throughput=5%,p99=10%,errors=0` (`off` disables one).
    pub fn with_spec(mut self, spec: &str) -> Result<Self, ConfigError> {
        let err = |m: String| {
            ConfigError::new(m)
                .at(Location {
                    source: "--max-regression".into(),
                    ..Default::default()
                })
                .fix("write e.g. --max-regression throughput=5%,p99=10%,p999=20%,errors=0 (or p99=off)")
        };
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| err(format!("{part:?} has no `=`")))?;
            let (k, v) = (k.trim(), v.trim());
            let off = v.eq_ignore_ascii_case("off");
            let pct = || -> Result<Option<f64>, ConfigError> {
                if off {
                    return Ok(None);
                }
                v.strip_suffix('%')
                    .and_then(|n| n.trim().parse::<f64>().ok())
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .map(Some)
                    .ok_or_else(|| err(format!("{k}={v}: expected a percentage such as 5%")))
            };
            match k {
                "throughput" => self.throughput = pct()?,
                "p50" => self.p50 = pct()?,
                "p99" => self.p99 = pct()?,
                "p999" | "p99.9" => self.p999 = pct()?,
                "errors" if off => self.errors = None,
                "errors" => {
                    self.errors = Some(v.parse().map_err(|_| {
                        err(format!("errors={v}: expected a whole number of records"))
                    })?)
                }
                _ => {
                    return Err(err(format!(
                        "unknown figure {k:?}: expected throughput, p50, p99, p999 or errors"
                    )))
                }
            }
        }
        Ok(self)
    }
}

/// Allowances for this check: defaults < the baseline's recorded [check] table < the
/// `--profile` layers' [check] tables < `--max-regression`; and the absolute thresholds:
/// those tables' `thresholds` lists, then `--threshold`s.
pub fn thresholds(
    args: &CheckArgs,
    baseline: &RunReport,
    cwd: &Path,
) -> Result<(Thresholds, Vec<Threshold>), KprodError> {
    let mut t = Thresholds::default();
    let mut exprs = Vec::new();
    if let Some(c) = baseline.config.profile.get("check") {
        if let Ok(c) = serde_json::from_value::<CheckCfg>(c.clone()) {
            t = t.with_profile(&c);
            exprs.extend(c.thresholds);
        }
    }
    if !args.bench.profile.profiles.is_empty() {
        let p = crate::profile::resolve(&args.bench.profile.profiles, &Default::default(), cwd)?;
        t = t.with_profile(&p.check);
        exprs.extend(p.check.thresholds);
    }
    let slos = bench::thresholds(&exprs, &args.bench.verdict.thresholds)?;
    match &args.max_regression {
        Some(spec) => Ok((t.with_spec(spec)?, slos)),
        None => Ok((t, slos)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_overrides_profile_over_defaults() {
        let c = CheckCfg {
            p99: Some(15.0),
            errors: Some(3),
            ..Default::default()
        };
        let t = Thresholds::default()
            .with_profile(&c)
            .with_spec("throughput=2%, p999=off")
            .unwrap();
        assert_eq!(t.throughput, Some(2.0));
        assert_eq!(t.p99, Some(15.0));
        assert_eq!(t.p999, None);
        assert_eq!(t.errors, Some(3));
        assert_eq!(t.p50, Some(10.0));
    }

    #[test]
    fn bad_specs_are_config_errors_with_a_fix() {
        for bad in ["p99=10", "p98=1%", "errors=many", "throughput"] {
            let e = Thresholds::default().with_spec(bad).unwrap_err();
            assert!(e.fix.is_some(), "{bad}: {e}");
        }
    }
}
