//! Bounded reading of the files a user names: profiles, `--java-config`, size files and
//! value files. One reader for all of them, so none can be pointed at `/dev/zero`, a FIFO or
//! a huge file and read without bound (or block forever opening a FIFO).

use std::io::Read;
use std::path::Path;

/// The largest input file kprod reads (1 MiB): far above any profile, Java config, size or
/// value file, far below what would strain memory. Stated in profiles/README.md.
pub const MAX_INPUT_BYTES: u64 = 1 << 20;

/// Why an input file was not read. The path is the caller's to add: it knows how the user
/// spelled it.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("no such file")]
    Missing,
    #[error("{0}")]
    Io(#[source] std::io::Error),
    #[error("is not a regular file (a directory, device or FIFO): kprod reads only regular files")]
    NotRegular,
    #[error("is larger than kprod's input limit of 1 MiB ({0} bytes)")]
    TooLarge(u64),
    #[error("is not UTF-8 text (invalid byte at offset {0})")]
    NotUtf8(usize),
}

impl InputError {
    /// What the user can do about it.
    pub fn fix(&self) -> &'static str {
        match self {
            InputError::Missing | InputError::Io(_) => {
                "check the path (relative paths are resolved against the current directory, or the naming profile's directory)"
            }
            InputError::NotRegular => "name a regular file",
            InputError::TooLarge(_) => "use a file of at most 1 MiB",
            InputError::NotUtf8(_) => "save the file as UTF-8 text",
        }
    }
}

fn io(e: std::io::Error) -> InputError {
    if e.kind() == std::io::ErrorKind::NotFound {
        InputError::Missing
    } else {
        InputError::Io(e)
    }
}

/// The bytes of a regular file of at most [`MAX_INPUT_BYTES`].
pub fn read_bounded(path: &Path) -> Result<Vec<u8>, InputError> {
    // Checked before opening: opening a FIFO for reading blocks until a writer appears.
    if !std::fs::metadata(path).map_err(io)?.is_file() {
        return Err(InputError::NotRegular);
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let mut out = Vec::new();
    // One byte past the cap tells "exactly 1 MiB" from "more", whatever the metadata said.
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(io)?;
    if out.len() as u64 > MAX_INPUT_BYTES {
        let size = std::fs::metadata(path).map_or(out.len() as u64, |m| m.len());
        return Err(InputError::TooLarge(size));
    }
    Ok(out)
}

/// [`read_bounded`], as UTF-8 text.
pub fn read_text(path: &Path) -> Result<String, InputError> {
    String::from_utf8(read_bounded(path)?)
        .map_err(|e| InputError::NotUtf8(e.utf8_error().valid_up_to()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_devices_directories_large_and_non_utf8_files() {
        assert!(matches!(
            read_bounded(Path::new("/dev/zero")),
            Err(InputError::NotRegular)
        ));
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_bounded(dir.path()),
            Err(InputError::NotRegular)
        ));
        assert!(matches!(
            read_bounded(&dir.path().join("nope")),
            Err(InputError::Missing)
        ));
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; MAX_INPUT_BYTES as usize + 1]).unwrap();
        assert!(
            matches!(read_bounded(&big), Err(InputError::TooLarge(n)) if n == MAX_INPUT_BYTES + 1)
        );
        let edge = dir.path().join("edge");
        std::fs::write(&edge, vec![b'a'; MAX_INPUT_BYTES as usize]).unwrap();
        assert_eq!(read_bounded(&edge).unwrap().len(), MAX_INPUT_BYTES as usize);
        let latin = dir.path().join("latin");
        std::fs::write(&latin, b"ab\xe9").unwrap();
        assert!(matches!(read_text(&latin), Err(InputError::NotUtf8(2))));
    }
}
