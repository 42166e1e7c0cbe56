//! `kprod completions SHELL` and `kprod man`: shell completion scripts (clap_complete) and
//! man pages (clap_mangen), both generated from the one clap definition in `cli`, so they
//! cannot disagree with `--help`.

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::error::KprodError;
use clap::CommandFactory;
use std::path::Path;

/// Prints the completion script for `args.shell` on stdout.
pub fn completions(args: &CompletionsArgs) -> Result<i32, KprodError> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "kprod", &mut out);
    crate::print_stdout(&String::from_utf8_lossy(&out));
    Ok(0)
}

/// `kprod man`: kprod.1 on stdout, or with `--out DIR` kprod.1 and one page per
/// subcommand (`kprod-bench.1`, `kprod-profiles-show.1`, ...) written into DIR.
pub fn man(args: &ManArgs, cwd: &Path) -> Result<i32, KprodError> {
    let cmd = Cli::command();
    let Some(out) = &args.out else {
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd)
            .render(&mut page)
            .map_err(|e| KprodError::io("render the man page", e))?;
        crate::print_stdout(&String::from_utf8_lossy(&page));
        return Ok(0);
    };
    let dir = cwd.join(out);
    std::fs::create_dir_all(&dir).map_err(|e| {
        KprodError::flag(
            "--out",
            format!("cannot create {}: {e}", dir.display()),
            "give --out a directory you can write to",
        )
    })?;
    clap_mangen::generate_to(cmd, &dir).map_err(|e| {
        KprodError::flag(
            "--out",
            format!("cannot write the man pages into {}: {e}", dir.display()),
            "give --out a directory you can write to",
        )
    })?;
    crate::print_stderr(&format!("man pages written to {}", dir.display()));
    Ok(0)
}
