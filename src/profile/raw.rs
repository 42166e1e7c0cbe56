//! Untyped values as the profile sources give them (a TOML file, `--set` text, a Java
//! config) with the location of every nested entry, before `keys` types them by key.

use crate::error::Location;
use toml::de::DeValue;
use toml::Spanned;

/// An untyped value from any source.
#[derive(Debug, Clone)]
pub(crate) enum Raw {
    Str(String),
    /// Text from the command line or a Java config: its type is decided by the key.
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Table(Vec<RawEntry>),
    /// A TOML array: each item with where it was written.
    List(Vec<(Raw, Location)>),
    Other(&'static str),
}

#[derive(Debug, Clone)]
pub(crate) struct RawEntry {
    pub key: String,
    pub key_loc: Location,
    pub value: Raw,
    pub loc: Location,
}

impl Raw {
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Raw::Str(_) | Raw::Text(_) => "string",
            Raw::Int(_) => "integer",
            Raw::Float(_) => "float",
            Raw::Bool(_) => "boolean",
            Raw::Table(_) => "table",
            Raw::List(_) => "array",
            Raw::Other(t) => t,
        }
    }
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            Raw::Str(s) | Raw::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// Turns byte offsets of a source text into locations.
pub(crate) struct Locator<'a> {
    pub source: String,
    /// None for command-line text, where line numbers mean nothing.
    pub text: Option<&'a str>,
}

impl Locator<'_> {
    pub fn loc(&self, offset: usize) -> Location {
        let Some(text) = self.text else {
            return Location {
                source: self.source.clone(),
                line: None,
                column: None,
            };
        };
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Location {
            source: self.source.clone(),
            line: Some(line),
            column: Some(column),
        }
    }
}

/// Converts a parsed TOML value, keeping the location of every nested entry.
pub(crate) fn raw_from_toml(value: &Spanned<DeValue<'_>>, at: &Locator<'_>) -> Raw {
    match value.get_ref() {
        DeValue::String(s) => Raw::Str(s.to_string()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Raw::Int(n),
            Err(_) => Raw::Other("integer out of range"),
        },
        DeValue::Float(f) => f.as_str().parse().map_or(Raw::Other("float"), Raw::Float),
        DeValue::Boolean(b) => Raw::Bool(*b),
        DeValue::Datetime(_) => Raw::Other("datetime"),
        DeValue::Array(a) => Raw::List(
            a.iter()
                .map(|v| (raw_from_toml(v, at), at.loc(v.span().start)))
                .collect(),
        ),
        DeValue::Table(t) => Raw::Table(
            t.iter()
                .map(|(k, v)| RawEntry {
                    key: k.get_ref().to_string(),
                    key_loc: at.loc(k.span().start),
                    value: raw_from_toml(v, at),
                    loc: at.loc(v.span().start),
                })
                .collect(),
        ),
    }
}
