//! Creating the run's topic on an external cluster, every admin call bounded by
//! [`ADMIN_TIMEOUT`].
//!
//! A real cluster takes a CreateTopics request at its controller. librdkafka's mock brokers
//! (`kprod cluster` in another process) cannot: their metadata names controller 0, which is
//! none of their brokers (ids 1..N), and they have no CreateTopics handler, so the request
//! would wait for a controller until it timed out. They do create a topic when a metadata
//! request asks for it with auto-creation allowed, with their default partition count; so
//! on a cluster whose controller is not one of its brokers the topic is created that way
//! and the partitions it got are reported.

use crate::error::KprodError;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{Client, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::metadata::Metadata;
use rdkafka::producer::{BaseProducer, Producer};
use rdkafka::types::RDKafkaErrorCode;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The deadline of every admin call (metadata for the controller, CreateTopics including
/// the controller look-up, the on-demand creation): generous for a real cluster, and what
/// a user waits at most before a readable error.
pub const ADMIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Creates `topic` and returns its partition count; one that already exists (created
/// concurrently by another instance) is fine. `cfg` holds the client settings and
/// bootstrap.servers.
/// `config`: topic configs for CreateTopics (`[[workload.topics]]`'s `config`).
pub fn create_topic(
    cfg: &ClientConfig,
    bootstrap: &str,
    topic: &str,
    partitions: u32,
    rf: u32,
    config: &BTreeMap<String, String>,
) -> Result<u32, KprodError> {
    let admin: AdminClient<DefaultClientContext> =
        cfg.create().map_err(|e| KprodError::Unreachable {
            brokers: bootstrap.into(),
            detail: e.to_string(),
        })?;
    match controller(admin.inner(), topic)? {
        Controller::Broker => create_at_controller(&admin, topic, partitions, rf, config)?,
        Controller::Missing(id) => {
            drop(admin);
            let got = create_on_demand(cfg, bootstrap, topic, id)?;
            if got != partitions {
                crate::domain::print_stderr(&format!(
                    "kprod: note: the cluster created topic `{topic}` on demand with {got} \
                     partition(s), its default, not the {partitions} asked for: it has no \
                     controller to take a CreateTopics request (librdkafka's mock brokers, as \
                     in `kprod cluster`, whose --topic and --partitions create it as asked)"
                ));
            }
            return Ok(got);
        }
    }
    Ok(partitions)
}

/// Where a CreateTopics request can go.
#[derive(Debug, PartialEq)]
pub(super) enum Controller {
    Broker,
    /// The cluster named this id (-1: none at all), which is none of its brokers.
    Missing(i32),
}

pub(super) fn controller(
    client: &Client<DefaultClientContext>,
    topic: &str,
) -> Result<Controller, KprodError> {
    let md = client
        .fetch_metadata(None, ADMIN_TIMEOUT)
        .map_err(|e| KprodError::Topic {
            topic: topic.into(),
            detail: format!(
                "cannot create it: no metadata answer within {}s ({e})",
                ADMIN_TIMEOUT.as_secs()
            ),
        })?;
    // SAFETY: the handle is alive for the call; with metadata just received the cached
    // controller id is returned at once (timeout 0: never blocks).
    let id = unsafe { rdkafka_sys::rd_kafka_controllerid(client.native_ptr(), 0) };
    Ok(classify(id, &md))
}

fn classify(id: i32, md: &Metadata) -> Controller {
    match md.brokers().iter().any(|b| b.id() == id) {
        true => Controller::Broker,
        false => Controller::Missing(id),
    }
}

/// CreateTopics with [`ADMIN_TIMEOUT`] for the whole request (controller look-up included)
/// and for the broker's own operation.
pub(super) fn create_at_controller(
    admin: &AdminClient<DefaultClientContext>,
    topic: &str,
    partitions: u32,
    rf: u32,
    config: &BTreeMap<String, String>,
) -> Result<(), KprodError> {
    let mut new = NewTopic::new(topic, partitions as i32, TopicReplication::Fixed(rf as i32));
    for (k, v) in config {
        new = new.set(k, v);
    }
    let opts = AdminOptions::new()
        .operation_timeout(Some(ADMIN_TIMEOUT))
        .request_timeout(Some(ADMIN_TIMEOUT));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| KprodError::io("tokio runtime", e))?;
    let failed = |detail: String| KprodError::Topic {
        topic: topic.into(),
        detail,
    };
    // librdkafka enforces the request timeout; this bound only guards against a reply that
    // never comes back through the binding.
    let res = rt
        .block_on(async {
            tokio::time::timeout(
                ADMIN_TIMEOUT + Duration::from_secs(5),
                admin.create_topics([&new], &opts),
            )
            .await
        })
        .map_err(|_| failed(no_answer()))?
        .map_err(|e| match e.rdkafka_error_code() {
            Some(RDKafkaErrorCode::OperationTimedOut) => failed(no_answer()),
            _ => failed(format!("cannot create it: {e}")),
        })?;
    for r in res {
        if let Err((_, code)) = r {
            if code != RDKafkaErrorCode::TopicAlreadyExists {
                let configs = match config.is_empty() {
                    true => String::new(),
                    false => format!(
                        " and configs {}",
                        config
                            .iter()
                            .map(|(k, v)| format!("{k}={v}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                return Err(failed(format!(
                    "the cluster refused to create it with {partitions} partitions, \
                     replication factor {rf}{configs}: {code}"
                )));
            }
        }
    }
    Ok(())
}

fn no_answer() -> String {
    format!(
        "cannot create it: the cluster's controller gave no answer within {}s; create the \
         topic first, or check the client's permissions (CreateTopics)",
        ADMIN_TIMEOUT.as_secs()
    )
}

/// A metadata request for `topic` with auto-creation allowed, repeated until the topic
/// has partitions (a real broker answers LEADER_NOT_AVAILABLE while it creates one) or
/// [`ADMIN_TIMEOUT`] passes.
fn create_on_demand(
    cfg: &ClientConfig,
    bootstrap: &str,
    topic: &str,
    controller: i32,
) -> Result<u32, KprodError> {
    let mut cfg = cfg.clone();
    cfg.set("allow.auto.create.topics", "true");
    let client: BaseProducer = cfg.create().map_err(|e| KprodError::Unreachable {
        brokers: bootstrap.into(),
        detail: e.to_string(),
    })?;
    let deadline = Instant::now() + ADMIN_TIMEOUT;
    let mut last = String::from("no answer");
    while Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        match client.client().fetch_metadata(Some(topic), left) {
            Ok(md) => match topic_partitions(&md, topic) {
                Ok(n) => return Ok(n),
                Err(code) => last = code.to_string(),
            },
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(100).min(left));
    }
    Err(KprodError::Topic {
        topic: topic.into(),
        detail: format!(
            "cannot create it: the cluster names no controller among its brokers (controller \
             id {controller}), and asking for the topic did not create it within {}s ({last}); \
             create it first (for `kprod cluster`: --topic {topic} --partitions N)",
            ADMIN_TIMEOUT.as_secs()
        ),
    })
}

/// The topic's partition count once it has partitions and no error.
pub(super) fn topic_partitions(md: &Metadata, topic: &str) -> Result<u32, RDKafkaErrorCode> {
    let t = md
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .ok_or(RDKafkaErrorCode::UnknownTopicOrPartition)?;
    match t.error() {
        Some(e) => Err(e.into()),
        None if t.partitions().is_empty() => Err(RDKafkaErrorCode::LeaderNotAvailable),
        None => Ok(t.partitions().len() as u32),
    }
}
