//! The headless-Chromium harness of tests/html.rs: finding the browser, loading a page
//! (DOM, console messages, screenshot) and reading key numbers back out of the DOM.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command as Process;

pub fn chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("KPROD_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

pub fn browser_or_skip(test: &str) -> Option<PathBuf> {
    let b = chromium();
    if b.is_none() {
        eprintln!("SKIP: chromium not found; run scripts/setup.sh ({test})");
    }
    b
}

/// What the browser made of a page.
pub struct Loaded {
    /// The DOM after load (`--dump-dom`).
    pub dom: String,
    /// Console messages and uncaught exceptions from Chromium's log.
    pub console: Vec<String>,
}

pub fn headless(browser: &Path, profile: &Path) -> Process {
    let mut c = Process::new(browser);
    c.args([
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--no-first-run",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(["--enable-logging=stderr", "--v=0"]);
    c
}

/// Runs Chromium to completion. A browser that never exits is killed after two minutes
/// (a hang guard, not a timing assertion: a healthy load takes about a second).
pub fn run(cmd: &mut Process) -> std::process::Output {
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    // Read both pipes on threads so a full pipe cannot stall the browser.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let so = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut b).ok();
        b
    });
    let se = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut b).ok();
        b
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for chromium") {
            break s;
        }
        if std::time::Instant::now() > deadline {
            child.kill().ok();
            panic!("chromium did not exit within 120 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    std::process::Output {
        status,
        stdout: so.join().unwrap(),
        stderr: se.join().unwrap(),
    }
}

/// Loads `page`, dumps its DOM and console, and takes a 1280-wide screenshot when asked.
pub fn load(browser: &Path, page: &Path, screenshot: Option<&Path>) -> Loaded {
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", page.display());
    let out = run(headless(browser, profile.path())
        .arg("--dump-dom")
        .arg(&url));
    assert!(out.status.success(), "chromium failed: {out:?}");
    let log = String::from_utf8_lossy(&out.stderr);
    let console = log
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .map(str::to_string)
        .collect();
    if let Some(png) = screenshot {
        screenshot_of(browser, profile.path(), &url, png);
    }
    Loaded {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        console,
    }
}

/// A 1280×2000 screenshot of `url` into `png`, copied to `$KPROD_SCREENSHOT_DIR` if set.
pub fn screenshot_of(browser: &Path, profile: &Path, url: &str, png: &Path) {
    let shot = run(headless(browser, profile)
        .arg(format!("--screenshot={}", png.display()))
        .args(["--window-size=1280,2000", "--hide-scrollbars"])
        .arg(url));
    assert!(shot.status.success(), "screenshot failed: {shot:?}");
    assert!(
        std::fs::metadata(png).is_ok_and(|m| m.len() > 10_000),
        "no screenshot at {}",
        png.display()
    );
    if let Ok(d) = std::env::var("KPROD_SCREENSHOT_DIR") {
        let d = PathBuf::from(d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(png, d.join(png.file_name().unwrap())).unwrap();
    }
}

/// Text of the element with `id` (no markup inside it), entities decoded.
pub fn text_of(dom: &str, id: &str) -> String {
    let key = format!("id=\"{id}\"");
    let at = dom
        .find(&key)
        .unwrap_or_else(|| panic!("no element #{id} in the page"));
    let rest = &dom[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest[start..].find('<').unwrap() + start;
    rest[start..end]
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

/// Text of the element with `id`, which may hold markup (`<code>` of word `<span>`s):
/// everything up to the element's closing tag, tags stripped, entities decoded.
pub fn inner_text(dom: &str, id: &str, tag: &str) -> String {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element #{id} in the page"));
    let rest = &dom[at..];
    let inner = &rest[rest.find('>').unwrap() + 1..rest.find(&format!("</{tag}>")).unwrap()];
    let text: String = inner
        .split('<')
        .enumerate()
        .map(|(k, p)| {
            if k == 0 {
                p
            } else {
                &p[p.find('>').unwrap() + 1..]
            }
        })
        .collect();
    text.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

/// Each inline chart: its polylines' point counts.
pub fn charts(dom: &str) -> Vec<Vec<usize>> {
    dom.split("<svg")
        .skip(1)
        .map(|svg| {
            let svg = &svg[..svg.find("</svg>").expect("closed svg")];
            svg.split("<polyline")
                .skip(1)
                .map(|p| {
                    let at = p.find("points=\"").expect("points") + 8;
                    let end = p[at..].find('"').unwrap() + at;
                    p[at..end].split_whitespace().count()
                })
                .collect()
        })
        .collect()
}

pub fn assert_clean(l: &Loaded, what: &str) {
    assert!(l.console.is_empty(), "{what}: console: {:?}", l.console);
    for external in [
        "<script",
        "<link",
        "src=\"http",
        "href=\"http",
        "@import",
        "url(",
    ] {
        assert!(
            !l.dom.contains(external),
            "{what}: not self-contained: {external}"
        );
    }
}

pub fn rate(shown: &str) -> f64 {
    shown
        .trim_end_matches("/s")
        .replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("not a rate: {shown:?}"))
}

pub fn latency_us(shown: &str) -> u64 {
    if let Some(us) = shown.strip_suffix(" µs") {
        return us.parse().unwrap();
    }
    let ms = shown.strip_suffix(" ms").expect("ms or µs");
    let (a, b) = ms.split_once('.').unwrap();
    a.parse::<u64>().unwrap() * 1000 + b.parse::<u64>().unwrap()
}
