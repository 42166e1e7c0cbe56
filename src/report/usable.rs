//! The one guard every command that takes runs as inputs (`check`, `compare`, `sweep`,
//! `merge`) applies: a run that measured nothing is never a baseline, a variant, a step or
//! a part of a merge, whatever its `status` says (reports written before the `empty`
//! status existed say `complete`).

use super::{RunReport, Status};
use crate::error::{ConfigError, KprodError, Location};
use std::path::{Path, PathBuf};

/// A run that cannot serve as an input: its measured window holds no delivered record.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: the run measured nothing ({reason}): it cannot be compared, judged or merged", dir.display())]
pub struct UnusableRun {
    /// The run directory (or the report file) named as the input.
    pub dir: PathBuf,
    pub reason: String,
}

/// Ok when the run measured something. An interrupted run passes: the commands have
/// their own rule for it (stop, exit 130), which must not turn into "invalid input".
pub fn usable(r: &RunReport, dir: &Path) -> Result<(), UnusableRun> {
    if r.status == Status::Interrupted || r.records.measured.delivered > 0 {
        return Ok(());
    }
    let reason = match (&r.status, &r.status_reason) {
        (Status::Empty | Status::Failed, Some(why)) => why.clone(),
        _ => format!(
            "none of the {} records sent after the warm-up was delivered",
            r.records.measured.sent
        ),
    };
    Err(UnusableRun {
        dir: dir.to_path_buf(),
        reason,
    })
}

/// Invalid input (exit 2), naming the run as the place of the problem.
impl From<UnusableRun> for KprodError {
    fn from(e: UnusableRun) -> Self {
        ConfigError::new(format!(
            "the run measured nothing ({}): it cannot be compared, judged or merged",
            e.reason
        ))
        .at(Location::flag(&e.dir.display().to_string()))
        .fix("give a run whose report.json status is complete; re-run it with a shorter --warmup, a longer --duration or settings that deliver records")
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_without_measured_deliveries_is_refused_whatever_its_status() {
        let mut r = crate::report::testing::sample_report();
        assert!(usable(&r, Path::new("run")).is_ok());
        r.records.measured.delivered = 0;
        // An old report says complete: still refused, with a reason of its own.
        let e = usable(&r, Path::new("old-run")).unwrap_err();
        assert!(e.reason.contains("none of the"), "{e}");
        r.status = Status::Empty;
        r.status_reason = Some("warm-up took it".into());
        let e = usable(&r, Path::new("empty-run")).unwrap_err();
        assert_eq!(e.reason, "warm-up took it");
        let k: KprodError = e.into();
        assert_eq!(k.exit_code(), 2);
        assert!(k.to_string().contains("empty-run"), "{k}");
        r.status = Status::Interrupted;
        assert!(usable(&r, Path::new("run")).is_ok());
    }
}
