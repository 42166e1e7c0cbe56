//! Terminal output that survives a closed pipe: every layer prints through here, so
//! `kprod ... 2>&1 | head` never panics a run that still has results to write.
//!
//! Colour is decided here too, once per stream: text may carry ANSI styles ([`paint`]),
//! and [`print_stdout`] / [`print_stderr`] strip them unless the stream takes colour
//! (`--color always`, `CLICOLOR_FORCE`; never with `NO_COLOR`, `--color never` or a
//! stream that is not a terminal: the rules of `anstream`).

use anstyle::{AnsiColor, Style};
use std::io::Write;

/// `--color`: what [`set_color`] takes.
pub use anstream::ColorChoice;

/// Sets the process-wide colour choice (`--color`); `Auto` follows the environment and
/// whether each stream is a terminal.
pub fn set_color(choice: ColorChoice) {
    choice.write_global();
}

/// Whether text written to stderr keeps its styles (the progress bar writes there
/// without [`print_stderr`]).
pub fn stderr_has_color() -> bool {
    anstream::AutoStream::choice(&std::io::stderr()) != ColorChoice::Never
}

/// What a piece of text means, hence its style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// The line a reader must see first.
    Headline,
    /// PASS, a complete run.
    Good,
    /// FAIL, a failed or empty run, lost records.
    Bad,
    /// INTERRUPTED, ABORTED, INCONCLUSIVE, warnings.
    Warn,
    /// Labels and side notes.
    Dim,
}

fn style(t: Tone) -> Style {
    match t {
        Tone::Headline => Style::new().bold(),
        Tone::Good => Style::new().bold().fg_color(Some(AnsiColor::Green.into())),
        Tone::Bad => Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
        Tone::Warn => Style::new().bold().fg_color(Some(AnsiColor::Yellow.into())),
        Tone::Dim => Style::new().dimmed(),
    }
}

/// `text` wrapped in the ANSI style of `tone`; the printers below remove it where colour
/// is off, so callers style unconditionally.
pub fn paint(tone: Tone, text: &str) -> String {
    let s = style(tone);
    format!("{s}{text}{s:#}")
}

/// `text` without ANSI escape sequences (what a pipe receives).
pub fn strip_styles(text: &str) -> String {
    anstream::adapter::strip_str(text).to_string()
}

fn write_line(out: &mut impl Write, s: &str) {
    let _ = out.write_all(s.as_bytes());
    if !s.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

/// Print one line to stderr. Unlike `eprintln!`, a closed stderr (`kprod ... 2>&1 | head`)
/// is ignored instead of panicking, so the run goes on and still writes its results.
pub fn print_stderr(s: &str) {
    // Every line kprod prints passes here, so a secret that reached any text is caught.
    let s = &super::secrets::scrub(s);
    let err = std::io::stderr();
    let choice = anstream::AutoStream::choice(&err);
    write_line(&mut anstream::AutoStream::new(err.lock(), choice), s);
}

/// Print to stdout; a closed pipe (`kprod ... | head`) is not an error.
pub(crate) fn print_stdout(s: &str) {
    let s = &super::secrets::scrub(s);
    let out = std::io::stdout();
    let choice = anstream::AutoStream::choice(&out);
    write_line(&mut anstream::AutoStream::new(out.lock(), choice), s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paint_adds_escapes_and_strip_removes_them() {
        let p = paint(Tone::Bad, "FAIL");
        assert!(p.contains("\x1b[") && p.contains("FAIL"), "{p:?}");
        assert_eq!(strip_styles(&format!("x {p} y")), "x FAIL y");
    }
}
