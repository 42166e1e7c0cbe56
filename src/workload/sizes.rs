//! Record value sizes: a precomputed table of [`SIZE_TABLE_LEN`] samples of the configured
//! [`SizeDist`], so the hot path picks a size with one mask and one load.
//!
//! Also owns the reading of size files (one size per line, in `units::parse_size` form).

use super::{resolve_path, WorkloadError};
use crate::profile::SizeDist;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};
use std::path::Path;

/// Number of entries of the size table; a power of two so a random index is a mask.
pub const SIZE_TABLE_LEN: usize = 1 << 16;
/// Mask turning random bits into a size-table index.
pub const SIZE_TABLE_MASK: u64 = (SIZE_TABLE_LEN as u64) - 1;
/// Largest value size kprod accepts. Beyond this the value pool (max size + 4 MiB) stops
/// being a sensible amount of memory, and no Kafka cluster accepts such records anyway.
pub const MAX_VALUE_BYTES: u32 = 1 << 30;

/// Precomputed samples of a size distribution.
#[derive(Debug)]
pub struct SizeTable {
    // Fixed-size array so indexing with a masked index needs no bounds check.
    table: Box<[u32; SIZE_TABLE_LEN]>,
    min: u32,
    max: u32,
    mean: f64,
}

impl SizeTable {
    /// Samples `dist` into a table. `seed` makes the table reproducible; relative
    /// file paths are resolved against `base_dir`.
    pub fn build(dist: &SizeDist, base_dir: &Path, seed: u64) -> Result<SizeTable, WorkloadError> {
        let mut rng = SmallRng::seed_from_u64(seed ^ 0x5153_495a_4553_0001);
        let mut table = zeroed_table();
        match dist {
            SizeDist::Fixed { bytes } => {
                check_max(*bytes)?;
                table.fill(*bytes);
            }
            SizeDist::Uniform { min, max } => {
                if min > max {
                    return Err(invalid(format!(
                        "uniform size: min ({min}) is larger than max ({max})"
                    )));
                }
                check_max(*max)?;
                for slot in table.iter_mut() {
                    *slot = rng.random_range(*min..=*max);
                }
            }
            SizeDist::Normal {
                mean,
                stddev,
                min,
                max,
            } => {
                if min > max {
                    return Err(invalid(format!(
                        "normal size: min ({min}) is larger than max ({max})"
                    )));
                }
                check_max(*max)?;
                let normal = Normal::new(f64::from(*mean), f64::from(*stddev))
                    .map_err(|e| invalid(format!("normal size: {e}")))?;
                let (lo, hi) = (f64::from(*min), f64::from(*max));
                for slot in table.iter_mut() {
                    // Clamping keeps the table inside the bounds the user promised
                    // (e.g. to stay under message.max.bytes) at the cost of small
                    // spikes at min and max.
                    *slot = normal.sample(&mut rng).round().clamp(lo, hi) as u32;
                }
            }
            SizeDist::File { path } => {
                let path = resolve_path(base_dir, path);
                let sizes = read_size_file(&path)?;
                if sizes.len() == SIZE_TABLE_LEN {
                    table.copy_from_slice(&sizes);
                } else {
                    for slot in table.iter_mut() {
                        *slot = sizes[rng.random_range(0..sizes.len())];
                    }
                }
            }
        }
        Ok(SizeTable::from_table(table))
    }

    fn from_table(table: Box<[u32; SIZE_TABLE_LEN]>) -> SizeTable {
        let (mut min, mut max, mut sum) = (u32::MAX, 0u32, 0u64);
        for &s in table.iter() {
            min = min.min(s);
            max = max.max(s);
            sum += u64::from(s);
        }
        SizeTable {
            table,
            min,
            max,
            mean: sum as f64 / SIZE_TABLE_LEN as f64,
        }
    }

    /// Size for a random number; only the low 16 bits of `r` are used.
    #[inline(always)]
    pub fn pick(&self, r: u64) -> u32 {
        // A fixed size (the common case) must not cost a random read of a 256 KiB table.
        if self.min == self.max {
            return self.min;
        }
        self.table[(r & SIZE_TABLE_MASK) as usize]
    }

    /// Largest size in the table.
    pub fn max(&self) -> u32 {
        self.max
    }

    /// Smallest size in the table.
    pub fn min(&self) -> u32 {
        self.min
    }

    /// Mean of the table, i.e. the expected value size of a record.
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The raw samples (for tests and reporting).
    pub fn samples(&self) -> &[u32] {
        &self.table[..]
    }

    /// Heap bytes held by the table.
    pub fn memory_bytes(&self) -> usize {
        SIZE_TABLE_LEN * std::mem::size_of::<u32>()
    }
}

fn zeroed_table() -> Box<[u32; SIZE_TABLE_LEN]> {
    // Built on the heap directly: a 256 KiB array would be a large stack temporary.
    match vec![0u32; SIZE_TABLE_LEN].into_boxed_slice().try_into() {
        Ok(t) => t,
        Err(_) => unreachable!("vector has exactly SIZE_TABLE_LEN elements"),
    }
}

fn invalid(message: String) -> WorkloadError {
    WorkloadError::Invalid {
        key: "workload.size",
        message,
    }
}

fn check_max(max: u32) -> Result<(), WorkloadError> {
    if max > MAX_VALUE_BYTES {
        return Err(invalid(format!(
            "value size {max} bytes is larger than the supported maximum of {MAX_VALUE_BYTES} bytes (1 GiB)"
        )));
    }
    Ok(())
}

/// Reads one size per line. Blank lines and lines starting with `#` are skipped.
fn read_size_file(path: &Path) -> Result<Vec<u32>, WorkloadError> {
    let text = crate::domain::input::read_text(path).map_err(|source| WorkloadError::Read {
        path: path.to_path_buf(),
        what: "size file",
        source,
    })?;
    let mut sizes = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |reason: &str| WorkloadError::BadLine {
            path: path.to_path_buf(),
            line: i + 1,
            text: line.chars().take(60).collect(),
            reason: reason.to_string(),
        };
        let size = crate::units::parse_size(line).map_err(|reason| bad(&reason))?;
        if size == 0 {
            // As `--size 0` is refused: a record needs at least one byte of value.
            return Err(bad("a record size must be at least 1 B"));
        }
        let size = u32::try_from(size)
            .ok()
            .filter(|s| *s <= MAX_VALUE_BYTES)
            .ok_or_else(|| bad("size is larger than the supported maximum of 1 GiB"))?;
        sizes.push(size);
    }
    if sizes.is_empty() {
        return Err(WorkloadError::EmptyFile {
            path: path.to_path_buf(),
            what: "size file",
        });
    }
    Ok(sizes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn build(dist: SizeDist) -> SizeTable {
        SizeTable::build(&dist, Path::new("."), 42).unwrap()
    }

    #[test]
    fn fixed_is_constant() {
        let t = build(SizeDist::Fixed { bytes: 777 });
        assert!(t.samples().iter().all(|&s| s == 777));
        assert_eq!((t.min(), t.max()), (777, 777));
        assert_eq!(t.mean(), 777.0);
    }

    #[test]
    fn uniform_mean_and_bounds() {
        let t = build(SizeDist::Uniform {
            min: 100,
            max: 1100,
        });
        assert!(t.samples().iter().all(|&s| (100..=1100).contains(&s)));
        assert!((t.mean() - 600.0).abs() < 6.0, "mean {}", t.mean());
        // Both ends are reachable: the table is wide enough to hit them.
        assert!(t.min() <= 102 && t.max() >= 1098);
    }

    #[test]
    fn normal_mean_and_clamping() {
        let t = build(SizeDist::Normal {
            mean: 1000,
            stddev: 100,
            min: 0,
            max: 100_000,
        });
        assert!((t.mean() - 1000.0).abs() < 3.0, "mean {}", t.mean());
        let var = t
            .samples()
            .iter()
            .map(|&s| (f64::from(s) - t.mean()).powi(2))
            .sum::<f64>()
            / SIZE_TABLE_LEN as f64;
        assert!((var.sqrt() - 100.0).abs() < 3.0, "stddev {}", var.sqrt());

        let clamped = build(SizeDist::Normal {
            mean: 1000,
            stddev: 500,
            min: 900,
            max: 1100,
        });
        assert_eq!((clamped.min(), clamped.max()), (900, 1100));
        let at_min = clamped.samples().iter().filter(|&&s| s == 900).count();
        // P(X < 900) = P(Z < -0.2) ~ 42 %: the clamp must pile those onto min.
        assert!(at_min > SIZE_TABLE_LEN / 3, "{at_min}");
    }

    #[test]
    fn same_seed_same_table() {
        let d = SizeDist::Uniform {
            min: 1,
            max: 1 << 20,
        };
        let a = SizeTable::build(&d, Path::new("."), 7).unwrap();
        let b = SizeTable::build(&d, Path::new("."), 7).unwrap();
        let c = SizeTable::build(&d, Path::new("."), 8).unwrap();
        assert_eq!(a.samples(), b.samples());
        assert_ne!(a.samples(), c.samples());
    }

    #[test]
    fn invalid_bounds_are_errors() {
        let d = SizeDist::Uniform { min: 10, max: 5 };
        assert!(SizeTable::build(&d, Path::new("."), 1).is_err());
        let d = SizeDist::Fixed { bytes: u32::MAX };
        assert!(SizeTable::build(&d, Path::new("."), 1).is_err());
    }

    #[test]
    fn size_file_with_units_and_relative_path() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = std::fs::File::create(dir.path().join("sizes.txt")).unwrap();
        writeln!(f, "# comment\n100\n\n200B\n1KiB\n 300 b \n2KB").unwrap();
        let d = SizeDist::File {
            path: "sizes.txt".into(),
        };
        let t = SizeTable::build(&d, dir.path(), 1).unwrap();
        let allowed = [100, 200, 1024, 300, 2000];
        assert!(t.samples().iter().all(|s| allowed.contains(s)));
        for a in allowed {
            assert!(t.samples().contains(&a));
        }
        assert_eq!(t.max(), 2000);
        assert!((t.mean() - 724.8).abs() < 15.0, "{}", t.mean());
    }

    #[test]
    fn size_file_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = SizeDist::File {
            path: dir.path().join("nope.txt"),
        };
        let e = SizeTable::build(&missing, dir.path(), 1).unwrap_err();
        assert!(e.to_string().contains("nope.txt"), "{e}");

        std::fs::write(dir.path().join("empty.txt"), "\n# only\n").unwrap();
        let e = SizeTable::build(
            &SizeDist::File {
                path: "empty.txt".into(),
            },
            dir.path(),
            1,
        )
        .unwrap_err();
        assert!(e.to_string().contains("empty.txt"), "{e}");

        std::fs::write(dir.path().join("bad.txt"), "10\nten\n").unwrap();
        let e = SizeTable::build(
            &SizeDist::File {
                path: "bad.txt".into(),
            },
            dir.path(),
            1,
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("bad.txt") && msg.contains(":2"), "{msg}");
    }
}
