//! Finding and reading profiles: `--profile` arguments (path, `./profiles/NAME.toml`, or a
//! built-in name) and their `extends` chains, with cycle detection.

use super::builtin;
use super::keys::closest;
use super::layer::{from_toml, Layer};
use crate::error::{ConfigError, Location};
use std::path::{Path, PathBuf};

/// Where a profile's text comes from.
#[derive(Debug, Clone)]
enum Src {
    Builtin(&'static str),
    /// `display` is how the user named it (for messages), `full` where it is read from.
    File {
        display: PathBuf,
        full: PathBuf,
    },
}

impl Src {
    fn display(&self) -> String {
        match self {
            Src::Builtin(n) => format!("built-in:{n}"),
            Src::File { display, .. } => display.display().to_string(),
        }
    }
    /// Identity for cycle detection: the same file reached by two spellings is one node.
    fn id(&self) -> String {
        match self {
            Src::Builtin(n) => format!("built-in:{n}"),
            Src::File { full, .. } => std::fs::canonicalize(full)
                .unwrap_or_else(|_| full.clone())
                .display()
                .to_string(),
        }
    }
}

fn at(source: &str) -> Location {
    Location {
        source: source.to_string(),
        line: None,
        column: None,
    }
}

fn is_path(s: &str) -> bool {
    s.contains('/') || s.contains('\\') || s.ends_with(".toml")
}

fn unknown_profile(name: &str, loc: Location, key: Option<&str>) -> ConfigError {
    let names: Vec<&str> = builtin::names().collect();
    let hint = closest(name, names.iter().copied())
        .map_or(String::new(), |b| format!("did you mean \"{b}\"? "));
    let e = ConfigError::new(format!(
        "unknown profile {name:?}: not a built-in profile and no ./profiles/{name}.toml"
    ))
    .at(loc)
    .fix(format!("{hint}built-in profiles: {}", names.join(", ")));
    match key {
        Some(k) => e.key(k),
        None => e,
    }
}

fn local_profile(name: &str, cwd: &Path) -> Option<Src> {
    let rel = Path::new("profiles").join(format!("{name}.toml"));
    let full = cwd.join(&rel);
    full.is_file().then_some(Src::File { display: rel, full })
}

fn builtin_src(name: &str) -> Option<Src> {
    builtin::names().find(|n| *n == name).map(Src::Builtin)
}

/// Resolves a `--profile` argument.
fn locate_arg(arg: &str, cwd: &Path) -> Result<Src, ConfigError> {
    if let Some(name) = arg.strip_prefix("builtin:") {
        return builtin_src(name).ok_or_else(|| unknown_profile(name, at("--profile"), None));
    }
    if is_path(arg) {
        return Ok(Src::File {
            display: PathBuf::from(arg),
            full: cwd.join(arg),
        });
    }
    local_profile(arg, cwd)
        .or_else(|| builtin_src(arg))
        .ok_or_else(|| unknown_profile(arg, at("--profile"), None))
}

/// Resolves an `extends` value written in profile `from`. None = the built-in `base`, which
/// is always the bottom layer already (re-applying it would undo the layers between).
fn locate_extends(
    ext: &str,
    from: &Src,
    cwd: &Path,
    loc: &Location,
) -> Result<Option<Src>, ConfigError> {
    let src = if let Some(name) = ext.strip_prefix("builtin:") {
        builtin_src(name).ok_or_else(|| unknown_profile(name, loc.clone(), Some("extends")))?
    } else {
        match from {
            // Built-ins must behave the same whatever ./profiles holds.
            Src::Builtin(_) => builtin_src(ext)
                .ok_or_else(|| unknown_profile(ext, loc.clone(), Some("extends")))?,
            Src::File { display, full } if is_path(ext) => {
                let dir = |p: &Path| p.parent().map(Path::to_path_buf).unwrap_or_default();
                Src::File {
                    display: dir(display).join(ext),
                    full: dir(full).join(ext),
                }
            }
            Src::File { .. } => local_profile(ext, cwd)
                .or_else(|| builtin_src(ext))
                .ok_or_else(|| unknown_profile(ext, loc.clone(), Some("extends")))?,
        }
    };
    Ok(match src {
        Src::Builtin("base") => None,
        other => Some(other),
    })
}

/// Loads a `--profile` argument and its `extends` chain: root first, the profile last.
pub(crate) fn load_profile(arg: &str, cwd: &Path) -> Result<Vec<Layer>, ConfigError> {
    let src = locate_arg(arg, cwd)?;
    let mut out = Vec::new();
    load_rec(src, cwd, None, &mut Vec::new(), &mut out)?;
    Ok(out)
}

/// Loads the built-in `base` profile, the bottom layer of every resolution.
pub(crate) fn load_base() -> Result<Layer, ConfigError> {
    let text = builtin::text("base")
        .ok_or_else(|| ConfigError::new("internal error: no built-in base profile"))?;
    from_toml("built-in:base", text, Path::new("."))
}

fn load_rec(
    src: Src,
    cwd: &Path,
    via: Option<&Location>,
    stack: &mut Vec<(String, String)>,
    out: &mut Vec<Layer>,
) -> Result<(), ConfigError> {
    let id = src.id();
    if let Some(pos) = stack.iter().position(|(i, _)| *i == id) {
        let chain: Vec<&str> = stack[pos..].iter().map(|(_, d)| d.as_str()).collect();
        let e = ConfigError::new(format!("extends cycle: {} -> {}", chain.join(" -> "), src.display()))
            .key("extends")
            .fix("remove one `extends` from the cycle; to build on the built-in profile of the same name, write extends = \"builtin:NAME\"");
        return Err(match via {
            Some(loc) => e.at(loc.clone()),
            None => e,
        });
    }
    let (text, base_dir) = match &src {
        Src::Builtin(name) => {
            let text =
                builtin::text(name).ok_or_else(|| unknown_profile(name, at("--profile"), None))?;
            (text.to_string(), cwd.to_path_buf())
        }
        Src::File { display, full } => {
            let text = crate::domain::input::read_text(full).map_err(|e| {
                ConfigError::new(format!("cannot read profile {}: it {e}", display.display()))
                    .at(via
                        .cloned()
                        .unwrap_or_else(|| at(&display.display().to_string())))
                    .fix(e.fix())
            })?;
            (
                text,
                full.parent().map(Path::to_path_buf).unwrap_or_default(),
            )
        }
    };
    let layer = from_toml(&src.display(), &text, &base_dir)?;
    stack.push((id, src.display()));
    if let Some((ext, loc)) = &layer.extends {
        if let Some(parent) = locate_extends(ext, &src, cwd, loc)? {
            load_rec(parent, cwd, Some(loc), stack, out)?;
        }
    }
    stack.pop();
    out.push(layer);
    Ok(())
}
