//! The one guard every command that takes runs as inputs (`check`, `compare`, `sweep`,
//! `merge`) applies: a run that measured nothing is never a baseline, a variant, a step or
//! a part of a merge, whatever its `status` says (reports written before the `empty`
//! status existed say `complete`); nor is a run `--abort-on-breach` stopped, which covers
//! only the seconds until its threshold broke.

use super::{RunReport, Status};
use crate::error::{ConfigError, KprodError, Location};
use std::path::{Path, PathBuf};

/// A run that cannot serve as an input: its measured window holds no delivered record,
/// or it was aborted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {}", dir.display(), problem(*aborted, reason))]
pub struct UnusableRun {
    /// The run directory (or the report file) named as the input.
    pub dir: PathBuf,
    pub reason: String,
    /// Stopped by `--abort-on-breach` (else: nothing measured).
    pub aborted: bool,
}

fn problem(aborted: bool, reason: &str) -> String {
    if aborted {
        format!("the run was aborted ({reason}): a run stopped early on a breached threshold cannot be compared, judged or merged")
    } else {
        format!("the run measured nothing ({reason}): it cannot be compared, judged or merged")
    }
}

/// Ok when the run measured something. An interrupted run passes: the commands have
/// their own rule for it (stop, exit 130), which must not turn into "invalid input".
pub fn usable(r: &RunReport, dir: &Path) -> Result<(), UnusableRun> {
    if r.status == Status::Aborted {
        return Err(UnusableRun {
            dir: dir.to_path_buf(),
            reason: r.status_reason.clone().unwrap_or_default(),
            aborted: true,
        });
    }
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
        aborted: false,
    })
}

/// Invalid input (exit 2), naming the run as the place of the problem.
impl From<UnusableRun> for KprodError {
    fn from(e: UnusableRun) -> Self {
        let fix = if e.aborted {
            "give a run whose report.json status is complete; re-run it without --abort-on-breach"
        } else {
            "give a run whose report.json status is complete; re-run it with a shorter --warmup, a longer --duration or settings that deliver records"
        };
        ConfigError::new(problem(e.aborted, &e.reason))
            .at(Location::flag(&e.dir.display().to_string()))
            .fix(fix)
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

    #[test]
    fn an_aborted_run_is_refused_with_its_reason() {
        let mut r = crate::report::testing::sample_report();
        r.status = Status::Aborted;
        r.status_reason = Some("p99 45 ms > 20 ms for 3 s (seconds 7..9)".into());
        let k: KprodError = usable(&r, Path::new("aborted-run")).unwrap_err().into();
        assert_eq!(k.exit_code(), 2);
        let text = k.to_string();
        assert!(text.contains("aborted-run"), "{text}");
        assert!(text.contains("was aborted (p99 45 ms > 20 ms"), "{text}");
        assert!(text.contains("without --abort-on-breach"), "{text}");
    }
}
