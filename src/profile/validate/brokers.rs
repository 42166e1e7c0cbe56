//! The syntax of a bootstrap list (`cluster.brokers`, `--brokers`), checked before any
//! connection: a malformed list is invalid input (exit 2 at once), not an unreachable
//! cluster found after the preflight's timeout.

use super::V;
use crate::error::ConfigError;

/// Why one entry of the list is malformed, or None. Entries are librdkafka's
/// `[proto://]host[:port]`, the host possibly a bracketed IPv6 address.
fn entry_problem(entry: &str) -> Option<String> {
    let hostport = entry.split_once("://").map_or(entry, |(_, rest)| rest);
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        match rest.split_once(']') {
            Some((h, tail)) => (h, tail.strip_prefix(':').map(Some).unwrap_or(None)),
            None => {
                return Some(format!(
                    "{entry:?} opens an IPv6 address `[` it never closes"
                ))
            }
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/') {
        return Some(format!("{entry:?} has no valid host"));
    }
    match port {
        Some(p) if !p.parse::<u16>().is_ok_and(|p| p > 0) => {
            Some(format!("{entry:?} has port {p:?}: a port is 1..=65535"))
        }
        _ => None,
    }
}

pub(super) fn check(list: &str, v: &V<'_>) -> Result<(), ConfigError> {
    let entries: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let problem = if entries.is_empty() {
        Some(format!("{list:?} names no broker"))
    } else {
        entries.iter().find_map(|e| entry_problem(e))
    };
    match problem {
        None => Ok(()),
        Some(why) => Err(v.err(
            "cluster.brokers",
            format!("invalid bootstrap list: {why}"),
            "give a comma-separated list of host:port, e.g. \"localhost:9092,kafka-2:9092\"",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::entry_problem;

    #[test]
    fn accepts_librdkafka_forms_and_refuses_empty_hosts_and_bad_ports() {
        for ok in [
            "localhost:9092",
            "kafka",
            "SSL://k1:9093",
            "[::1]:9092",
            "10.0.0.1:1",
        ] {
            assert_eq!(entry_problem(ok), None, "{ok}");
        }
        for bad in [
            ":",
            ":9092",
            "host:",
            "host:0",
            "host:70000",
            "host:x",
            "[::1",
            "a b:1",
        ] {
            assert!(entry_problem(bad).is_some(), "{bad}");
        }
    }
}
