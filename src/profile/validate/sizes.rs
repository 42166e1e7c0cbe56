//! The rules of a record size distribution, shared by `workload.size` (blamed where its
//! final value was written) and a `[[workload.topics]]` entry's `size` (blamed at the
//! topic's line).

use crate::profile::model::SizeDist;
use crate::units::format_size;

const GIB: u64 = 1 << 30;

/// What is wrong with a record size distribution, as (message, fix); shared by
/// `workload.size` and a topic's `size`.
pub(crate) fn size_problem(size: &SizeDist) -> Option<(String, String)> {
    let check = |what: &str, bytes: u32| {
        (bytes == 0 || u64::from(bytes) > GIB).then(|| {
            (
                format!(
                    "record size{what} {} must be between 1B and 1GiB",
                    format_size(bytes.into())
                ),
                "use a size between \"1B\" and \"1GiB\"".to_string(),
            )
        })
    };
    match size {
        SizeDist::Fixed { bytes } => check("", *bytes),
        SizeDist::Uniform { min, max } | SizeDist::Normal { min, max, .. } => {
            if let Some(p) = check(" min", *min).or_else(|| check(" max", *max)) {
                return Some(p);
            }
            if min > max {
                return Some((
                    format!(
                        "min ({}) is larger than max ({})",
                        format_size((*min).into()),
                        format_size((*max).into())
                    ),
                    "swap min and max".into(),
                ));
            }
            match size {
                SizeDist::Normal { mean, .. } if mean < min || mean > max => Some((
                    format!(
                        "mean ({}) lies outside [min, max]",
                        format_size((*mean).into())
                    ),
                    "choose a mean between min and max".into(),
                )),
                _ => None,
            }
        }
        SizeDist::File { .. } => None,
    }
}
