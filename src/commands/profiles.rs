//! `kprod profiles [list | show NAME...]`.

use crate::cli::{ProfilesAction, ProfilesArgs};
use crate::error::KprodError;
use crate::profile;
use std::path::Path;

pub fn execute(args: &ProfilesArgs, cwd: &Path) -> Result<String, KprodError> {
    match &args.action {
        None | Some(ProfilesAction::List) => {
            let list = profile::builtin_profiles();
            let width = list.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
            let mut s = String::from("Built-in profiles (kprod profiles show NAME for details):\n");
            for (name, desc) in list {
                s.push_str(&format!("  {name:width$}  {desc}\n"));
            }
            Ok(s)
        }
        Some(ProfilesAction::Show {
            profiles,
            overrides,
        }) => {
            let o = super::bench::layer_overrides(overrides);
            let p = profile::resolve(profiles, &o, cwd)?;
            Ok(profile::render_show(&p))
        }
    }
}
