//! Terminal output that survives a closed pipe: every layer prints through here, so
//! `kprod ... 2>&1 | head` never panics a run that still has results to write.

/// Print one line to stderr. Unlike `eprintln!`, a closed stderr (`kprod ... 2>&1 | head`)
/// is ignored instead of panicking, so the run goes on and still writes its results.
pub fn print_stderr(s: &str) {
    use std::io::Write;
    // Every line kprod prints passes here, so a secret that reached any text is caught.
    let s = &super::secrets::scrub(s);
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(s.as_bytes());
    if !s.ends_with('\n') {
        let _ = err.write_all(b"\n");
    }
}

/// Print to stdout; a closed pipe (`kprod ... | head`) is not an error.
pub(crate) fn print_stdout(s: &str) {
    use std::io::Write;
    let s = &super::secrets::scrub(s);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(s.as_bytes());
    if !s.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}
