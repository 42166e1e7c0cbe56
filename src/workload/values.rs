//! The value pool: one contiguous buffer filled once, before the run, by the configured
//! generator (`random`, `text`, `json`, `file`). Record values are sub-slices of it.
//!
//! Values are windows at random offsets, so a `json` or `file` value usually starts and
//! ends mid-object/mid-line: what matters for a producer benchmark is the byte
//! statistics (and so the compression ratio), not that each value parses.

use super::{resolve_path, WorkloadError};
use crate::profile::ValueGen;
use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};
use std::path::Path;

const MIB: usize = 1 << 20;

/// Pool length for a largest value of `max_value` bytes: 4 values' worth (so offsets
/// vary widely) and never under 4 MiB (bigger than L2, so the producer reads memory like
/// a real application would), but at most `max + 4 MiB` so huge values don't need 4×.
pub fn pool_len(max_value: usize) -> usize {
    (4 * max_value).max(4 * MIB).min(max_value + 4 * MIB)
}

/// Fills a buffer of exactly `len` bytes with `gen`'s content.
pub fn generate(
    gen: &ValueGen,
    len: usize,
    base_dir: &Path,
    seed: u64,
) -> Result<Box<[u8]>, WorkloadError> {
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x5641_4c55_4553_0002);
    let mut out = Vec::with_capacity(len + 512);
    match gen {
        ValueGen::Random => {
            out.resize(len, 0);
            rng.fill_bytes(&mut out);
        }
        ValueGen::Text => fill_text(&mut out, len, &mut rng),
        ValueGen::Json => fill_json(&mut out, len, &mut rng),
        ValueGen::File { path } => {
            let path = resolve_path(base_dir, path);
            fill_file(&mut out, len, &path)?;
        }
    }
    out.truncate(len);
    Ok(out.into_boxed_slice())
}

/// Common English words, most frequent first; the Zipf weights below follow this order.
const WORDS: &[&str] = &[
    "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "he", "was", "for", "on",
    "are", "with", "as", "I", "his", "they", "be", "at", "one", "have", "this", "from", "or",
    "had", "by", "not", "word", "but", "what", "some", "we", "can", "out", "other", "were", "all",
    "there", "when", "up", "use", "your", "how", "said", "an", "each", "she", "which", "do",
    "their", "time", "if", "will", "way", "about", "many", "then", "them", "write", "would",
    "like", "so", "these", "her", "long", "make", "thing", "see", "him", "two", "has", "look",
    "more", "day", "could", "go", "come", "did", "number", "sound", "no", "most", "people", "my",
    "over", "know", "water", "than", "call", "first", "who", "may", "down", "side", "been", "now",
    "find", "any", "new", "work", "part", "take", "get", "place", "made", "live", "where", "after",
    "back", "little", "only", "round", "man", "year", "came", "show", "every", "good", "me",
    "give", "our", "under", "name", "very", "through", "just", "form", "sentence", "great",
    "think", "say", "help", "low", "line", "differ", "turn", "cause", "much", "mean", "before",
    "move", "right", "boy", "old", "too", "same", "tell", "does", "set", "three", "want", "air",
    "well", "also", "play", "small", "end", "put", "home", "read", "hand", "port", "large",
    "spell", "add", "even", "land", "here", "must", "big", "high", "such", "follow", "act", "why",
    "ask", "men", "change", "went", "light", "kind", "off", "need", "house", "picture", "try",
    "us", "again", "animal", "point", "mother", "world", "near", "build", "self", "earth",
    "father", "head", "stand", "own", "page", "should", "country", "found", "answer", "school",
    "grow", "study", "still", "learn", "plant", "cover", "food", "sun", "four", "between", "state",
    "keep", "eye", "never", "last", "let", "thought", "city", "tree", "cross", "farm", "hard",
    "start", "might", "story", "saw", "far", "sea", "draw", "left", "late", "run", "while",
    "press", "close", "night", "real", "life", "few", "north", "open", "seem", "together", "next",
    "white", "children", "begin", "got", "walk", "example", "ease", "paper", "group", "always",
    "music", "those", "both", "mark", "often", "letter", "until", "mile", "river", "car", "feet",
    "care", "second", "book", "carry", "took", "science", "eat", "room", "friend", "began", "idea",
    "fish", "mountain", "stop", "once", "base", "hear", "horse", "cut", "sure", "watch", "color",
    "face", "wood", "main", "enough", "plain", "girl", "usual", "young", "ready", "above", "ever",
    "red", "list", "though", "feel", "talk", "bird", "soon", "body", "dog", "family", "direct",
    "pose", "leave", "song", "measure", "door", "product", "black", "short", "numeral", "class",
    "wind", "question", "happen", "complete", "ship", "area", "half", "rock", "order", "fire",
    "south", "problem", "piece", "told", "knew", "pass", "since", "top", "whole", "king", "space",
    "heard", "best", "hour", "better", "during", "hundred", "five", "remember", "step", "early",
    "hold", "west", "ground", "interest", "reach", "fast", "verb", "sing", "listen", "six",
    "table", "travel", "less", "morning", "ten", "simple", "several", "vowel", "toward", "war",
    "lay", "against", "pattern", "slow", "center", "love", "person", "money", "serve", "appear",
    "road", "map", "rain", "rule", "govern", "pull", "cold", "notice", "voice", "unit", "power",
    "town", "fine", "certain", "fly", "fall", "lead", "cry", "dark", "machine", "note", "wait",
    "plan", "figure", "star", "box", "noun", "field", "rest", "correct", "able", "pound", "done",
    "beauty", "drive", "stood", "contain", "front", "teach", "week", "final", "gave", "green",
    "oh", "quick", "develop", "ocean", "warm", "free", "minute", "strong", "special", "mind",
    "behind", "clear", "tail", "produce", "fact", "street", "inch", "multiply", "nothing",
    "course", "stay", "wheel", "full", "force", "blue", "object", "decide", "surface", "deep",
    "moon", "island", "foot", "system", "busy", "test", "record", "boat", "common", "gold",
    "possible", "plane", "stead", "dry", "wonder", "laugh", "thousand", "ago", "ran", "check",
    "game", "shape", "equate", "hot", "miss", "brought", "heat", "snow", "tire", "bring", "yes",
    "distant", "fill", "east", "paint", "language", "among",
];

/// Zipf exponent of word frequencies; ~1 is what natural language shows.
const WORD_ZIPF_S: f64 = 1.0;
/// Text is mostly made of recurring phrases (as prose and log messages are): a table of
/// this many 2-6 word phrases, drawn with Zipf exponent [`PHRASE_ZIPF_S`]...
const PHRASES: usize = 1024;
const PHRASE_ZIPF_S: f64 = 0.9;
/// ...mixed with single words in 30 % of the picks. Calibrated with the lz4 and zstd
/// command-line tools (lz4 -1 / zstd -3) on 16 KiB / 64 KiB / 1 MiB batches:
/// lz4 2.0× / 2.25× / 2.65×, zstd 3.3× / 4.1× / 5.0×. Independent words alone only
/// reach lz4 ≈ 1.6×. (`json` measures lz4 3.0× / 3.3× / 3.45×, zstd 5.3× / 5.7× / 5.7×.)
const SINGLE_WORD_PERCENT: u32 = 30;

/// Cumulative Zipf weights over `n` ranks, as u64 thresholds for `u64` random numbers.
fn zipf_cdf(n: usize, s: f64) -> Vec<u64> {
    let weights: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-s)).collect();
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    let mut cdf: Vec<u64> = weights
        .iter()
        .map(|w| {
            acc += w / total;
            (acc * u64::MAX as f64) as u64
        })
        .collect();
    if let Some(last) = cdf.last_mut() {
        *last = u64::MAX;
    }
    cdf
}

fn pick(cdf: &[u64], r: u64) -> usize {
    cdf.partition_point(|&c| c < r).min(cdf.len() - 1)
}

fn fill_text(out: &mut Vec<u8>, len: usize, rng: &mut SmallRng) {
    let word_cdf = zipf_cdf(WORDS.len(), WORD_ZIPF_S);
    let phrases: Vec<Vec<&str>> = (0..PHRASES)
        .map(|_| {
            let n = rng.random_range(2..=6);
            (0..n)
                .map(|_| WORDS[pick(&word_cdf, rng.next_u64())])
                .collect()
        })
        .collect();
    let phrase_cdf = zipf_cdf(PHRASES, PHRASE_ZIPF_S);
    let mut sentence: Vec<&str> = Vec::new();
    while out.len() < len {
        let target = rng.random_range(6..=20);
        sentence.clear();
        while sentence.len() < target {
            if rng.random_ratio(SINGLE_WORD_PERCENT, 100) {
                sentence.push(WORDS[pick(&word_cdf, rng.next_u64())]);
            } else {
                sentence.extend_from_slice(&phrases[pick(&phrase_cdf, rng.next_u64())]);
            }
            // "," marks the end of a clause; an empty entry is the marker.
            if rng.random_ratio(1, 12) {
                sentence.push("");
            }
        }
        let mut first = true;
        for (i, word) in sentence.iter().enumerate() {
            if word.is_empty() {
                if i + 1 < sentence.len() {
                    out.push(b',');
                }
                continue;
            }
            let word = word.as_bytes();
            if first {
                out.push(word[0].to_ascii_uppercase());
                out.extend_from_slice(&word[1..]);
                first = false;
            } else {
                out.push(b' ');
                out.extend_from_slice(word);
            }
        }
        out.push(match rng.random_range(0..20) {
            0 => b'?',
            1 => b'!',
            _ => b'.',
        });
        out.push(if rng.random_ratio(1, 4) { b'\n' } else { b' ' });
    }
}

const EVENT_TYPES: &[&str] = &[
    "page_view",
    "click",
    "add_to_cart",
    "purchase",
    "login",
    "logout",
    "search",
    "refund",
];
const CURRENCIES: &[&str] = &["EUR", "USD", "GBP", "JPY", "CHF"];
const COUNTRIES: &[&str] = &["DE", "FR", "US", "GB", "JP", "ES", "IT", "NL", "BR", "IN"];
const OSES: &[&str] = &["ios", "android", "windows", "macos", "linux"];
const STATUSES: &[&str] = &["ok", "ok", "ok", "ok", "pending", "failed"];

fn push_hex(out: &mut Vec<u8>, mut v: u64, digits: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let start = out.len();
    out.resize(start + digits, b'0');
    for i in (0..digits).rev() {
        out[start + i] = HEX[(v & 15) as usize];
        v >>= 4;
    }
}

fn push_dec(out: &mut Vec<u8>, v: u64, width: usize) {
    let mut buf = itoa::Buffer::new();
    let s = buf.format(v).as_bytes();
    for _ in s.len()..width {
        out.push(b'0');
    }
    out.extend_from_slice(s);
}

fn push_str_field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(b"\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":\"");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\",");
}

fn choose<'a>(rng: &mut SmallRng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

/// Pushes a civil date-time for `ms` milliseconds since the Unix epoch (proleptic
/// Gregorian, UTC), ISO-8601 with milliseconds.
fn push_timestamp(out: &mut Vec<u8>, ms: u64) {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let sod = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as u64;
    push_dec(out, year, 4);
    out.push(b'-');
    push_dec(out, month, 2);
    out.push(b'-');
    push_dec(out, day, 2);
    out.push(b'T');
    push_dec(out, sod / 3600, 2);
    out.push(b':');
    push_dec(out, sod / 60 % 60, 2);
    out.push(b':');
    push_dec(out, sod % 60, 2);
    out.push(b'.');
    push_dec(out, ms % 1000, 3);
    out.push(b'Z');
}

fn fill_json(out: &mut Vec<u8>, len: usize, rng: &mut SmallRng) {
    // 2024-06-01T00:00:00Z; events then advance by a few ms each, as in a real stream.
    let mut ts_ms: u64 = 1_717_200_000_000;
    while out.len() < len {
        ts_ms += rng.random_range(0..40);
        out.extend_from_slice(b"{\"event_id\":\"");
        push_hex(out, rng.next_u64(), 16);
        out.extend_from_slice(b"\",\"ts\":\"");
        push_timestamp(out, ts_ms);
        out.extend_from_slice(b"\",\"user_id\":");
        push_dec(out, rng.random_range(1..2_000_000), 0);
        out.extend_from_slice(b",\"session\":\"");
        push_hex(out, rng.random_range(0..1 << 32), 8);
        out.extend_from_slice(b"\",");
        push_str_field(out, "type", choose(rng, EVENT_TYPES));
        out.extend_from_slice(b"\"amount\":");
        let cents: u64 = rng.random_range(0..100_000);
        push_dec(out, cents / 100, 0);
        out.push(b'.');
        push_dec(out, cents % 100, 2);
        out.push(b',');
        push_str_field(out, "currency", choose(rng, CURRENCIES));
        push_str_field(out, "country", choose(rng, COUNTRIES));
        out.extend_from_slice(b"\"device\":{\"os\":\"");
        out.extend_from_slice(choose(rng, OSES).as_bytes());
        out.extend_from_slice(b"\",\"app_version\":\"");
        push_dec(out, rng.random_range(1..6), 0);
        out.push(b'.');
        push_dec(out, rng.random_range(0..20), 0);
        out.push(b'.');
        push_dec(out, rng.random_range(0..10), 0);
        out.extend_from_slice(b"\"},\"items\":");
        push_dec(out, rng.random_range(1..10), 0);
        out.extend_from_slice(b",\"status\":\"");
        out.extend_from_slice(choose(rng, STATUSES).as_bytes());
        out.extend_from_slice(b"\",\"retry\":");
        out.extend_from_slice(if rng.random_ratio(1, 20) {
            b"true"
        } else {
            b"false"
        });
        out.extend_from_slice(b"}\n");
    }
}

fn fill_file(out: &mut Vec<u8>, len: usize, path: &Path) -> Result<(), WorkloadError> {
    let content =
        crate::domain::input::read_bounded(path).map_err(|source| WorkloadError::Read {
            path: path.to_path_buf(),
            what: "value file",
            source,
        })?;
    // Blank lines would only add runs of '\n'; keep the lines that carry content.
    let lines: Vec<&[u8]> = content
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return Err(WorkloadError::EmptyFile {
            path: path.to_path_buf(),
            what: "value file",
        });
    }
    'fill: loop {
        for line in &lines {
            if out.len() >= len {
                break 'fill;
            }
            out.extend_from_slice(line);
            out.push(b'\n');
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Ratio of an LZ4-like greedy compressor (64 KiB window, min match 4, 1-byte
    /// token + 2-byte offset per match, literals stored raw): a stand-in for lz4.
    pub(crate) fn lz_ratio(data: &[u8]) -> f64 {
        const HASH_BITS: u32 = 16;
        let mut table = vec![usize::MAX; 1 << HASH_BITS];
        let hash = |p: usize| {
            let v = u32::from_le_bytes([data[p], data[p + 1], data[p + 2], data[p + 3]]);
            (v.wrapping_mul(2_654_435_761) >> (32 - HASH_BITS)) as usize
        };
        let (mut i, mut out, mut literals) = (0usize, 0usize, 0usize);
        while i + 4 <= data.len() {
            let h = hash(i);
            let cand = table[h];
            table[h] = i;
            if cand != usize::MAX && i - cand <= 65_535 && data[cand..cand + 4] == data[i..i + 4] {
                let mut m = 4;
                while i + m < data.len() && data[cand + m] == data[i + m] {
                    m += 1;
                }
                out += 3 + literals + literals / 255 + (m - 4) / 255;
                literals = 0;
                i += m;
            } else {
                literals += 1;
                i += 1;
            }
        }
        out += literals + (data.len() - i) + 1;
        data.len() as f64 / out as f64
    }

    /// Order-0 entropy in bits per byte (what an entropy coder could still squeeze out).
    pub(crate) fn entropy_bits(data: &[u8]) -> f64 {
        let mut counts = [0u64; 256];
        for &b in data {
            counts[b as usize] += 1;
        }
        let n = data.len() as f64;
        counts
            .iter()
            .filter(|&&c| c > 0)
            .map(|&c| {
                let p = c as f64 / n;
                -p * p.log2()
            })
            .sum()
    }

    fn gen(g: ValueGen) -> Box<[u8]> {
        generate(&g, 1 << 20, Path::new("."), 9).unwrap()
    }

    #[test]
    fn pool_len_bounds() {
        assert_eq!(pool_len(0), 4 * MIB);
        assert_eq!(pool_len(1000), 4 * MIB);
        assert_eq!(pool_len(MIB), 4 * MIB);
        assert_eq!(pool_len(8 * MIB), 12 * MIB);
        assert!(pool_len(1 << 30) >= 1 << 30);
    }

    #[test]
    fn exact_length_and_deterministic() {
        for g in [ValueGen::Random, ValueGen::Text, ValueGen::Json] {
            let a = generate(&g, 100_003, Path::new("."), 1).unwrap();
            let b = generate(&g, 100_003, Path::new("."), 1).unwrap();
            let c = generate(&g, 100_003, Path::new("."), 2).unwrap();
            assert_eq!(a.len(), 100_003);
            assert_eq!(a, b, "{g:?}");
            assert_ne!(a, c, "{g:?}");
        }
    }

    #[test]
    fn random_is_incompressible() {
        let r = gen(ValueGen::Random);
        let ratio = lz_ratio(&r[..256 * 1024]);
        assert!(ratio < 1.01, "{ratio}");
        assert!(entropy_bits(&r) > 7.99);
    }

    #[test]
    fn text_compresses_like_prose() {
        let t = gen(ValueGen::Text);
        assert!(t.iter().all(|b| b.is_ascii()));
        // Kafka compresses per batch; 64 KiB is a typical batch.
        let ratio = lz_ratio(&t[..64 * 1024]);
        assert!((2.0..3.0).contains(&ratio), "lz ratio {ratio}");
        let h = entropy_bits(&t);
        assert!((3.5..5.0).contains(&h), "entropy {h}");
        // Zipf: "the" is far more common than a word from the tail.
        let text = std::str::from_utf8(&t).unwrap();
        let the = text.matches(" the ").count();
        let among = text.matches(" among ").count();
        assert!(the > 50 * among.max(1), "{the} vs {among}");
    }

    #[test]
    fn json_compresses_like_events() {
        let j = gen(ValueGen::Json);
        let text = std::str::from_utf8(&j).unwrap();
        let first = text.lines().next().unwrap();
        assert!(
            first.starts_with("{\"event_id\":\"") && first.ends_with('}'),
            "{first}"
        );
        assert!(first.contains("\"ts\":\"2024-06-01T00:00:00."), "{first}");
        let ratio = lz_ratio(&j[..64 * 1024]);
        assert!((2.0..8.0).contains(&ratio), "lz ratio {ratio}");
    }

    #[test]
    fn timestamps_are_civil() {
        let mut out = Vec::new();
        push_timestamp(&mut out, 951_782_400_123); // 2000-02-29T00:00:00.123Z
        assert_eq!(out, b"2000-02-29T00:00:00.123Z");
        out.clear();
        push_timestamp(&mut out, 1_717_286_399_999);
        assert_eq!(out, b"2024-06-01T23:59:59.999Z");
    }

    #[test]
    fn file_lines_are_cycled() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("v.txt"), "alpha\r\n\nbeta\n").unwrap();
        let g = ValueGen::File {
            path: "v.txt".into(),
        };
        let p = generate(&g, 25, dir.path(), 1).unwrap();
        assert_eq!(&p[..], b"alpha\nbeta\nalpha\nbeta\nalp");
    }

    #[test]
    fn file_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let g = ValueGen::File {
            path: "missing.txt".into(),
        };
        let e = generate(&g, 10, dir.path(), 1).unwrap_err();
        assert!(e.to_string().contains("missing.txt"), "{e}");
        std::fs::write(dir.path().join("blank.txt"), "\n\r\n").unwrap();
        let g = ValueGen::File {
            path: "blank.txt".into(),
        };
        let e = generate(&g, 10, dir.path(), 1).unwrap_err();
        assert!(e.to_string().contains("blank.txt"), "{e}");
    }
}
