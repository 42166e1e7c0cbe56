//! The cluster a run talks to: the embedded mock cluster or a real one, plus the
//! metadata preflight that makes unreachable brokers fail fast.

use crate::client::{admin_props, client_config};
use crate::error::KprodError;
use crate::profile::TopicCfg;
use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::metadata::Metadata;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long the metadata preflight may take before the cluster counts as unreachable.
pub const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(10);

pub enum Cluster {
    Embedded {
        mock: MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
        bootstrap: String,
    },
    External {
        bootstrap: String,
    },
}

impl Cluster {
    pub fn bootstrap(&self) -> &str {
        match self {
            Cluster::Embedded { bootstrap, .. } | Cluster::External { bootstrap } => bootstrap,
        }
    }
    pub fn is_embedded(&self) -> bool {
        matches!(self, Cluster::Embedded { .. })
    }
    /// "embedded" or the bootstrap list, as the report names it.
    pub fn label(&self) -> String {
        match self {
            Cluster::Embedded { .. } => "embedded".into(),
            Cluster::External { bootstrap } => bootstrap.clone(),
        }
    }
    pub fn mock(&self) -> Option<&MockCluster<'static, rdkafka::producer::DefaultProducerContext>> {
        match self {
            Cluster::Embedded { mock, .. } => Some(mock),
            Cluster::External { .. } => None,
        }
    }
}

/// The embedded cluster's handle (librdkafka's mock brokers, on librdkafka's threads).
pub type Mock = MockCluster<'static, rdkafka::producer::DefaultProducerContext>;

/// Start `brokers` mock brokers on loopback ports the system picks.
pub fn start_mock(brokers: u32) -> Result<Mock, KprodError> {
    MockCluster::new(brokers as i32)
        .map_err(|e| KprodError::Kafka(format!("cannot start the embedded cluster: {e}")))
}

/// Create `topic` on the embedded cluster.
pub fn create_mock_topic(
    mock: &Mock,
    topic: &str,
    partitions: u32,
    rf: u32,
) -> Result<(), KprodError> {
    mock.create_topic(topic, partitions as i32, rf as i32)
        .map_err(|e| KprodError::Topic {
            topic: topic.into(),
            detail: format!("the embedded cluster refused to create it: {e}"),
        })
}

/// Start the embedded cluster with the run's topics already created (their configs
/// cannot be applied there: the mock topic has none).
pub fn start_embedded(brokers: u32, topics: &[TopicCfg]) -> Result<Cluster, KprodError> {
    let mock = start_mock(brokers)?;
    for t in topics {
        // The mock cluster cannot place more replicas than it has brokers.
        let rf = t.replication_factor.min(brokers).max(1);
        create_mock_topic(&mock, &t.name, t.partitions, rf)?;
    }
    let bootstrap = mock.bootstrap_servers();
    Ok(Cluster::Embedded { mock, bootstrap })
}

/// Keeps the preflight client's first specific error (a refused connection, a failed TLS
/// handshake or authentication): a metadata time-out alone does not say what to fix.
#[derive(Default)]
struct ProbeContext {
    errors: std::sync::Mutex<Vec<(bool, String)>>,
}

impl ProbeContext {
    fn cause(&self) -> Option<String> {
        let errors = self.errors.lock().ok()?;
        // "N/N brokers are down" follows every specific failure and says less.
        errors
            .iter()
            .find(|(generic, _)| !generic)
            .or(errors.last())
            .map(|(_, reason)| reason.clone())
    }

    /// librdkafka said every broker is down.
    fn all_down(&self) -> bool {
        self.errors
            .lock()
            .is_ok_and(|e| e.iter().any(|(generic, _)| *generic))
    }
}

impl ClientContext for ProbeContext {
    fn error(&self, error: KafkaError, reason: &str) {
        let generic = error.rdkafka_error_code() == Some(RDKafkaErrorCode::AllBrokersDown);
        if let Ok(mut e) = self.errors.lock() {
            e.push((generic, reason.to_string()));
        }
    }
}

impl ProducerContext for ProbeContext {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &DeliveryResult<'_>, _: ()) {}
}

/// Topic facts learnt during the preflight.
#[derive(Debug, Clone)]
pub struct TopicInfo {
    pub partitions: u32,
    pub created: bool,
}

/// Ask the cluster for metadata within [`PREFLIGHT_TIMEOUT`]; create each topic that is
/// missing (with its configs). `props` are the client properties (security settings
/// included). One [`TopicInfo`] per topic, in order.
pub fn preflight(
    props: &BTreeMap<String, String>,
    bootstrap: &str,
    topics: &[TopicCfg],
    create: bool,
) -> Result<Vec<TopicInfo>, KprodError> {
    let mut cfg = client_config(&admin_props(props));
    cfg.set("bootstrap.servers", bootstrap);
    let md = metadata(&cfg, bootstrap)?;
    let mut out = Vec::with_capacity(topics.len());
    for want in topics {
        let topic = want.name.as_str();
        let seen = md
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .filter(|t| t.error().is_none() && !t.partitions().is_empty());
        if let Some(t) = seen {
            out.push(TopicInfo {
                partitions: t.partitions().len() as u32,
                created: false,
            });
            continue;
        }
        if !create {
            return Err(KprodError::Topic {
                topic: topic.into(),
                detail: "does not exist on the cluster".into(),
            });
        }
        let partitions = super::admin::create_topic(
            &cfg,
            bootstrap,
            topic,
            want.partitions,
            want.replication_factor,
            &want.config,
        )?;
        out.push(TopicInfo {
            partitions,
            created: true,
        });
    }
    Ok(out)
}

/// The whole cluster's metadata, through a probe client whose error events explain a
/// failure (wrong address, TLS, SASL).
fn metadata(cfg: &ClientConfig, bootstrap: &str) -> Result<Metadata, KprodError> {
    let probe: BaseProducer<ProbeContext> = cfg
        .create_with_context(ProbeContext::default())
        .map_err(|e| KprodError::Unreachable {
            brokers: bootstrap.into(),
            detail: e.to_string(),
        })?;
    super::reach::metadata(&probe, bootstrap, PREFLIGHT_TIMEOUT, ProbeContext::all_down)?.map_err(
        |e| {
            // Error events wait on the main queue behind log events, and one poll call
            // serves events until its deadline: a zero deadline would serve only one.
            probe.poll(Duration::from_millis(100));
            let cause = probe
                .context()
                .cause()
                .map(|c| format!("; the client said: {c}"))
                .unwrap_or_default();
            KprodError::Unreachable {
                brokers: bootstrap.into(),
                detail: format!(
                    "no metadata answer within {}s ({e}){cause}; check the address, the port \
                     and the security settings",
                    PREFLIGHT_TIMEOUT.as_secs()
                ),
            }
        },
    )
}
