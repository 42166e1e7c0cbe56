//! Topics with an exact shape on an external cluster, for runs whose topology differs
//! step by step (`sweep --param workload.partitions=…` or `workload.topic_count=…`,
//! `compare` of profiles whose topics differ in count, partitions, replication or
//! configs): the partition count a topic has, creating one with exactly the partitions,
//! replication and topic configs asked for (CreateTopics at the controller, never
//! the on-demand creation that gives the broker's default count), waiting until metadata
//! shows it, and DeleteTopics. Every call is bounded by [`ADMIN_TIMEOUT`].

use super::admin::ADMIN_TIMEOUT;
use super::admin::{controller, create_at_controller, topic_partitions, Controller};
use crate::client::{admin_props, client_config};
use crate::error::KprodError;
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::types::RDKafkaErrorCode;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// A topic as metadata shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    pub partitions: u32,
    /// Replicas of its least replicated partition (the replication factor it was created with).
    pub replicas: u32,
}

/// An admin connection to one external cluster.
pub struct TopicAdmin {
    bootstrap: String,
    admin: AdminClient<DefaultClientContext>,
}

impl TopicAdmin {
    /// `props`: the run's client properties (only the connection and security settings
    /// are used).
    pub fn connect(
        props: &BTreeMap<String, String>,
        bootstrap: &str,
    ) -> Result<TopicAdmin, KprodError> {
        let mut cfg: ClientConfig = client_config(&admin_props(props));
        cfg.set("bootstrap.servers", bootstrap);
        // Looking a topic up must never create it with the broker's default count.
        cfg.set("allow.auto.create.topics", "false");
        let admin = cfg.create().map_err(|e| KprodError::Unreachable {
            brokers: bootstrap.into(),
            detail: e.to_string(),
        })?;
        Ok(TopicAdmin {
            bootstrap: bootstrap.into(),
            admin,
        })
    }

    /// The topic's shape as metadata shows it, None when the cluster does not know it.
    pub fn shape(&self, topic: &str) -> Result<Option<Shape>, KprodError> {
        let md = self
            .admin
            .inner()
            .fetch_metadata(Some(topic), ADMIN_TIMEOUT)
            .map_err(|e| KprodError::Unreachable {
                brokers: self.bootstrap.clone(),
                detail: format!(
                    "no metadata answer for topic `{topic}` within {}s ({e})",
                    ADMIN_TIMEOUT.as_secs()
                ),
            })?;
        let Ok(partitions) = topic_partitions(&md, topic) else {
            return Ok(None);
        };
        let replicas = md
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .and_then(|t| t.partitions().iter().map(|p| p.replicas().len()).min())
            .unwrap_or(0) as u32;
        Ok(Some(Shape {
            partitions,
            replicas,
        }))
    }

    /// Why this cluster cannot create a topic with a chosen partition count, if it cannot:
    /// one whose controller is none of its brokers (librdkafka's mock brokers, as in
    /// `kprod cluster`) only creates topics on demand, with its default count.
    pub fn cannot_create(&self) -> Result<Option<String>, KprodError> {
        Ok(match controller(self.admin.inner(), "(any)")? {
            Controller::Broker => None,
            Controller::Missing(id) => Some(format!(
                "the cluster names no controller among its brokers (controller id {id}; \
                 librdkafka's mock brokers, as in `kprod cluster`), so it takes no \
                 CreateTopics request and cannot create a topic with a chosen partition count"
            )),
        })
    }

    /// CreateTopics with exactly `partitions`, replication factor `rf` and the topic
    /// `config` (`[[workload.topics]]` config), then waits until metadata shows the topic
    /// with that many partitions. The error's detail says what the cluster answered (not
    /// authorized, creation disabled, too few brokers, a config it refuses, ...).
    pub fn create_exact(
        &self,
        topic: &str,
        partitions: u32,
        rf: u32,
        config: &BTreeMap<String, String>,
    ) -> Result<(), KprodError> {
        create_at_controller(&self.admin, topic, partitions, rf, config)?;
        self.await_partitions(topic, partitions)
    }

    /// Waits (up to [`ADMIN_TIMEOUT`]) until metadata shows `topic` with partitions; an
    /// error when it never does or shows another count than `expected`.
    pub fn await_partitions(&self, topic: &str, expected: u32) -> Result<(), KprodError> {
        let deadline = Instant::now() + ADMIN_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let seen = self
                .admin
                .inner()
                .fetch_metadata(Some(topic), left.max(Duration::from_millis(100)))
                .ok()
                .map(|md| topic_partitions(&md, topic));
            match seen {
                Some(Ok(n)) if n == expected => return Ok(()),
                Some(Ok(n)) => {
                    return Err(KprodError::Topic {
                        topic: topic.into(),
                        detail: format!(
                            "metadata shows {n} partition(s), not the {expected} asked for"
                        ),
                    })
                }
                _ if left.is_zero() => {
                    return Err(KprodError::Topic {
                        topic: topic.into(),
                        detail: format!(
                            "created, but metadata did not show its partitions within {}s",
                            ADMIN_TIMEOUT.as_secs()
                        ),
                    })
                }
                _ => std::thread::sleep(Duration::from_millis(100).min(left)),
            }
        }
    }

    /// DeleteTopics for `topics`; returns one message per topic the cluster did not delete.
    pub fn delete(&self, topics: &[&str]) -> Vec<String> {
        if topics.is_empty() {
            return Vec::new();
        }
        let opts = AdminOptions::new()
            .operation_timeout(Some(ADMIN_TIMEOUT))
            .request_timeout(Some(ADMIN_TIMEOUT));
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => return vec![format!("cannot delete topics: tokio runtime: {e}")],
        };
        let res = rt.block_on(async {
            tokio::time::timeout(
                ADMIN_TIMEOUT + Duration::from_secs(5),
                self.admin.delete_topics(topics, &opts),
            )
            .await
        });
        match res {
            Err(_) => vec![format!(
                "no answer to DeleteTopics within {}s for {}",
                ADMIN_TIMEOUT.as_secs(),
                topics.join(", ")
            )],
            Ok(Err(e)) => vec![format!(
                "DeleteTopics for {} failed: {e}",
                topics.join(", ")
            )],
            Ok(Ok(results)) => results
                .into_iter()
                .filter_map(|r| match r {
                    Err((t, code)) if code != RDKafkaErrorCode::UnknownTopicOrPartition => {
                        Some(format!("topic `{t}` not deleted: {code}"))
                    }
                    _ => None,
                })
                .collect(),
        }
    }
}
