//! Helpers for the compare/check/sweep/charts tests: a strict XML reader (well-formedness
//! of SVG and JUnit files), what an SVG chart contains, and in-process command runs.
#![allow(dead_code, clippy::result_large_err)]

use clap::Parser;
use kprod::cli::{Cli, Command};
use quick_xml::events::Event;
use quick_xml::Reader;
use std::path::{Path, PathBuf};

/// One element of an XML document.
#[derive(Debug, Clone)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    /// Character data directly inside it, entities resolved.
    pub text: String,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses an XML document strictly: matching end tags, exactly one root element, only the
/// predefined or numeric entities. Panics with the reason when it is not well formed.
pub fn parse_xml(text: &str) -> Vec<Element> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut elements: Vec<Element> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut roots = 0;
    loop {
        let ev = reader
            .read_event()
            .unwrap_or_else(|e| panic!("not well-formed XML at {}: {e}", reader.buffer_position()));
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                if open.is_empty() {
                    roots += 1;
                }
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap_or_else(|err| panic!("bad attribute: {err}"));
                        (
                            String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                            a.unescape_value().expect("attribute value").into_owned(),
                        )
                    })
                    .collect();
                elements.push(Element {
                    name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
                    attrs,
                    text: String::new(),
                });
                if !empty {
                    open.push(elements.len() - 1);
                }
            }
            Event::End(_) => {
                open.pop().expect("end tag without a start tag");
            }
            Event::Text(t) => {
                let s = t.decode().expect("utf-8 text");
                if let Some(&i) = open.last() {
                    elements[i].text.push_str(&s);
                } else {
                    assert!(s.trim().is_empty(), "text outside the root: {s:?}");
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().expect("char ref") {
                    Some(c) => c,
                    None => match r.decode().expect("entity name").as_ref() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "quot" => '"',
                        "apos" => '\'',
                        other => panic!("undefined entity &{other};"),
                    },
                };
                let i = *open.last().expect("entity outside the root");
                elements[i].text.push(c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(open.is_empty(), "unclosed elements at end of document");
    assert_eq!(roots, 1, "an XML document has exactly one root element");
    elements
}

/// What a chart shows: its texts (titles, axis labels, legend) and its polylines.
pub struct Svg {
    pub elements: Vec<Element>,
}

impl Svg {
    pub fn parse(text: &str) -> Svg {
        let elements = parse_xml(text);
        assert_eq!(elements[0].name, "svg", "root element is <svg>");
        Svg { elements }
    }
    pub fn read(path: &Path) -> Svg {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Svg::parse(&text)
    }
    pub fn texts(&self) -> Vec<String> {
        self.elements
            .iter()
            .filter(|e| e.name == "text")
            .map(|e| e.text.trim().to_string())
            .collect()
    }
    pub fn has_text(&self, t: &str) -> bool {
        self.texts().iter().any(|x| x == t)
    }
    /// Point counts of the polylines drawn in `stroke` (e.g. "#1F77B4").
    pub fn polylines(&self, stroke: &str) -> Vec<usize> {
        self.elements
            .iter()
            .filter(|e| e.name == "polyline" && e.attr("stroke") == Some(stroke))
            .map(|e| e.attr("points").unwrap_or("").split_whitespace().count())
            .collect()
    }
}

/// Parses `kprod ARGS` into its command.
pub fn command(args: &[&str]) -> Command {
    let mut argv = vec!["kprod"];
    argv.extend_from_slice(args);
    Cli::try_parse_from(argv)
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
        .command
}

/// A directory under cargo's target tmp dir that outlives the test (shared fixtures).
pub fn fixture_dir() -> PathBuf {
    let t = tempfile::Builder::new()
        .prefix("kprod-fixture-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir");
    t.keep()
}

pub fn cwd() -> PathBuf {
    std::env::current_dir().expect("cwd")
}
