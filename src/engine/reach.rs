//! The preflight's wait for the cluster's first metadata answer, given up early when every
//! bootstrap address refuses connections instead of after the whole preflight deadline.
//!
//! librdkafka's "all brokers are down" event alone is not enough to give up: a name that
//! resolves to several addresses (`localhost`: ::1 and 127.0.0.1) counts as down after its
//! first address refuses, while the next may answer, and a failed TLS handshake or login
//! also takes brokers down. So on that event every address of every bootstrap entry gets
//! one TCP connection attempt of our own, and only when each is refused does the wait end.

use crate::error::KprodError;
use rdkafka::error::KafkaError;
use rdkafka::metadata::Metadata;
use rdkafka::producer::{BaseProducer, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// How long one metadata call waits for a usable broker before the events are looked at.
const SLICE: Duration = Duration::from_millis(250);
/// How long one poll serves the client's events (errors wait behind log events).
const SERVE: Duration = Duration::from_millis(50);
/// A refusal comes back within a round trip; an address that stays silent this long is not
/// counted as refusing (the wait goes on).
const CONNECT_CHECK: Duration = Duration::from_millis(500);

/// Metadata of the whole cluster within `timeout`. The outer error is the early end (every
/// address refuses, exit 3); the inner result is librdkafka's answer, for the caller's own
/// message.
pub fn metadata<C: ProducerContext>(
    probe: &BaseProducer<C>,
    bootstrap: &str,
    timeout: Duration,
    all_down: impl Fn(&C) -> bool,
) -> Result<Result<Metadata, KafkaError>, KprodError> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let slice = left.min(SLICE);
        match probe.client().fetch_metadata(None, slice) {
            Ok(md) => return Ok(Ok(md)),
            // No broker was up within the slice; nor was the whole deadline spent.
            Err(e)
                if code(&e) == Some(RDKafkaErrorCode::BrokerTransportFailure) && slice < left => {}
            // A broker was up but its answer is slow: it gets the rest of the deadline.
            Err(e) if code(&e) == Some(RDKafkaErrorCode::OperationTimedOut) && slice < left => {
                let rest = deadline.saturating_duration_since(Instant::now());
                return Ok(probe.client().fetch_metadata(None, rest));
            }
            Err(e) => return Ok(Err(e)),
        }
        probe.poll(SERVE);
        if all_down(probe.context()) {
            if let Some(refused) = every_address_refuses(bootstrap) {
                return Err(KprodError::Unreachable {
                    brokers: bootstrap.into(),
                    detail: format!(
                        "every address refuses connections ({}): no broker listens there; \
                         check the address and the port",
                        list(&refused)
                    ),
                });
            }
        }
    }
}

fn code(e: &KafkaError) -> Option<RDKafkaErrorCode> {
    e.rdkafka_error_code()
}

fn list(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every address of every entry of the bootstrap list, when each one refuses a TCP
/// connection; `None` as soon as one does anything else (accepts, stays silent, or its
/// name does not resolve).
fn every_address_refuses(bootstrap: &str) -> Option<Vec<SocketAddr>> {
    let mut refused = Vec::new();
    for entry in bootstrap
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        // librdkafka accepts `PROTOCOL://host:port`.
        let hostport = entry.rsplit("://").next().unwrap_or(entry);
        for addr in hostport.to_socket_addrs().ok()? {
            match TcpStream::connect_timeout(&addr, CONNECT_CHECK) {
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => refused.push(addr),
                _ => return None,
            }
        }
    }
    (!refused.is_empty()).then_some(refused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A loopback port nothing listens on: bound, then released.
    fn closed_port() -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    }

    #[test]
    fn refusal_needs_every_address_to_refuse() {
        let closed = closed_port();
        let open = TcpListener::bind("127.0.0.1:0").expect("bind");
        let open_port = open.local_addr().expect("addr").port();

        let refused = every_address_refuses(&format!("127.0.0.1:{closed}"));
        assert_eq!(
            refused.map(|r| list(&r)),
            Some(format!("127.0.0.1:{closed}"))
        );
        let scheme = every_address_refuses(&format!(" PLAINTEXT://127.0.0.1:{closed} ,"));
        assert_eq!(scheme.map(|r| r.len()), Some(1));
        // One listening address keeps the wait going.
        assert_eq!(
            every_address_refuses(&format!("127.0.0.1:{closed},127.0.0.1:{open_port}")),
            None
        );
        // An entry that does not resolve is not a refusal.
        assert_eq!(every_address_refuses("127.0.0.1:notaport"), None);
        assert_eq!(every_address_refuses(""), None);
    }
}
