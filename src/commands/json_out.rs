//! `--json`: the result file on stdout for scripts (`kprod bench --json | jq .throughput`)
//! and everything a person reads moved to stderr, so stdout holds one JSON document.

use crate::error::KprodError;
use std::path::Path;

/// Prints human output: on stdout normally, on stderr under `--json`.
pub fn say(json: bool, text: &str) {
    if json {
        crate::print_stderr(text);
    } else {
        crate::print_stdout(text);
    }
}

/// Under `--json`, prints the result file just written, byte for byte (it was scrubbed of
/// secrets when written), so stdout equals the file.
pub fn print_file(json: bool, path: &Path) -> Result<(), KprodError> {
    if !json {
        return Ok(());
    }
    let text = std::fs::read_to_string(path).map_err(|e| KprodError::Results {
        path: path.to_path_buf(),
        message: format!("cannot read it back for --json: {e}"),
    })?;
    crate::print_stdout(&text);
    Ok(())
}
