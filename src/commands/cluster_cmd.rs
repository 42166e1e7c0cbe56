//! `kprod cluster`: the embedded cluster (librdkafka's mock brokers) as a process of its
//! own, so several kprod processes (instances of one distributed run) or any Kafka client
//! can share it without a real broker.
//!
//! It prints one machine-readable line on stdout, `bootstrap: HOST:PORT,...`, and serves
//! until SIGINT or SIGTERM; the first signal stops it cleanly (exit 0), a second one exits
//! at once (130). The mock brokers listen on loopback ports chosen by the system.
//! Before the line is printed a signal exits 130 at once (nothing is served yet); from then
//! on `signals::serve` turns the first one into a clean stop.

use crate::cli::ClusterArgs;
use crate::engine::cluster;
use crate::error::KprodError;

// The ranges `kprod bench` validates, so a cluster made here fits a bench run.
pub use crate::profile::limits::{MAX_MOCK_BROKERS, MAX_PARTITIONS};

fn number(text: &str, flag: &str, max: u32) -> Result<u32, KprodError> {
    match text.trim().parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(KprodError::flag(
            flag,
            format!("`{text}` is not a number from 1 to {max}"),
            &format!("give {flag} a number from 1 to {max}"),
        )),
    }
}

fn check_topic(topic: &str) -> Result<(), KprodError> {
    if crate::profile::valid_topic(topic) {
        return Ok(());
    }
    Err(KprodError::flag(
        "--topic",
        format!("`{topic}` is not a valid topic name"),
        "use 1 to 249 characters from [a-zA-Z0-9._-]",
    ))
}

pub fn run(args: &ClusterArgs) -> Result<i32, KprodError> {
    let brokers = number(&args.mock_brokers, "--mock-brokers", MAX_MOCK_BROKERS)?;
    let partitions = number(&args.partitions, "--partitions", MAX_PARTITIONS)?;
    let rf = number(&args.replication_factor, "--replication-factor", brokers)?;
    if let Some(t) = &args.topic {
        check_topic(t)?;
    }

    // A signal during start-up exits 130 at once (`kprod::run` installed the handler).
    let mock = cluster::start_mock(brokers)?;
    if let Some(topic) = &args.topic {
        cluster::create_mock_topic(&mock, topic, partitions, rf)?;
    }
    let bootstrap = mock.bootstrap_servers();
    // Serving from here on, before anyone is told: the first signal is a clean stop.
    let rx = crate::signals::serve();
    crate::print_stderr(&format!(
        "kprod: embedded cluster with {brokers} broker(s){}; stop with Ctrl-C or SIGTERM",
        args.topic
            .as_ref()
            .map(|t| format!(", topic {t} ({partitions} partitions, replication {rf})"))
            .unwrap_or_default()
    ));
    crate::print_stderr(&format!(
        "kprod: use it with `kprod bench --brokers {bootstrap}`; mock brokers measure the \
         clients and their configuration on this machine, not a real cluster"
    ));
    if args.topic.is_none() {
        crate::print_stderr(
            "kprod: topics are created when a client first asks for them, with the mock's \
             default of 4 partitions; --topic T --partitions P creates one as asked",
        );
    }
    // The machine-readable line, last, so a reader can start as soon as it sees it.
    crate::print_stdout(&format!("bootstrap: {bootstrap}"));

    // Nothing else to do: the mock brokers run on librdkafka's threads.
    let _ = rx.recv();
    crate::print_stderr("kprod: embedded cluster stopped");
    drop(mock);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_checked() {
        assert_eq!(number("3", "--mock-brokers", 64).ok(), Some(3));
        for bad in ["0", "65", "x", "-1", ""] {
            let e = number(bad, "--mock-brokers", 64).expect_err(bad);
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().contains("--mock-brokers"));
        }
        assert!(check_topic("kprod-bench.v1_x").is_ok());
        for bad in ["", ".", "a b", "ü", &"x".repeat(250)] {
            assert_eq!(check_topic(bad).expect_err(bad).exit_code(), 2);
        }
    }
}
