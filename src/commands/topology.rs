//! Fresh topics per step when a `sweep` or `compare` varies the topology against
//! `--brokers`: reusing a topic would run every step on its old partition count (or
//! configs). Each step (sweep) or variant (compare) gets its own topics: every topic of
//! the run, one (`workload.topic`) or many (`[[workload.topics]]`, `--topics N`), becomes
//! `<name>-<suffix>` (`profile::topics::step_topic_name`), created with exactly its
//! partitions, replication factor and topic configs and verified by metadata before the
//! first run, checked again before each run, and deleted at the end (also when the command
//! fails) unless `--keep-topics`. The step's run produces to those names because it is
//! resolved with the suffix (`ProfileArgs::topic_suffix`). A topic of such a name that
//! already exists is used only when its partition count and replication are the step's;
//! kprod deletes only the topics it created. The embedded cluster needs none of this: each
//! run starts its own with the step's topics.

use crate::engine::topics::TopicAdmin;
use crate::error::KprodError;
use crate::profile::topics::apply_suffix;
use crate::profile::{Profile, TopicCfg};
use std::collections::BTreeMap;

/// Profile keys that change the topics' shape (what reused topics would silently ignore):
/// a sweep over one of them always gets fresh topics against `--brokers`.
pub const TOPOLOGY_KEYS: &[&str] = &[
    "workload.partitions",
    "workload.replication_factor",
    "workload.topic_count",
    "workload.topics",
];

/// Most topic names a message lists before "and N more" (a run may have 1,000 topics).
const LISTED: usize = 8;

/// One fresh topic.
#[derive(Debug, Clone, PartialEq)]
pub struct StepTopic {
    pub name: String,
    pub partitions: u32,
    pub replication_factor: u32,
    /// Topic configs it is created with.
    pub config: BTreeMap<String, String>,
    /// kprod created it (so it deletes it, unless `--keep-topics`).
    pub created: bool,
}

/// One step's fresh topics: the suffix its run is resolved with and the topics (in the
/// profile's order) it produces to.
#[derive(Debug, Clone, PartialEq)]
pub struct StepTopics {
    pub suffix: String,
    pub names: Vec<String>,
}

/// The fresh topics of one sweep or compare; deletes what it created when dropped.
pub struct FreshTopics {
    admin: TopicAdmin,
    topics: Vec<StepTopic>,
    keep: bool,
    quiet: bool,
}

/// What asked for fresh topics, for the messages: the flag and how to avoid the need.
pub struct Asker<'a> {
    /// `--param workload.partitions=…`, or `compare`'s variants.
    pub what: &'a str,
    /// The alternative when kprod may not create topics.
    pub instead: &'a str,
}

/// What a step's topics look like to the cluster: per topic, in order, its partitions,
/// replication factor and configs. Names are left out: steps that differ only in topic
/// names run on the user's own topics (sweeping `workload.topic` over topics made
/// beforehand is the way around a cluster where kprod may not create topics).
pub fn shape(p: &Profile) -> Vec<(u32, u32, BTreeMap<String, String>)> {
    p.workload
        .topic_list()
        .into_iter()
        .map(|t| (t.partitions, t.replication_factor, t.config))
        .collect()
}

/// Whether the steps' profiles need fresh topics: an external cluster, and the steps'
/// topic shapes differ (or the sweep sets a topology key itself: `forced`).
pub fn needed(profiles: &[Profile], forced: bool) -> bool {
    let Some(first) = profiles.first() else {
        return false;
    };
    let head = shape(first);
    first.cluster.brokers.is_some() && (forced || profiles.iter().any(|p| shape(p) != head))
}

/// A step's topics under its suffix, named exactly as its run will resolve them.
pub fn step_topics(p: &Profile, suffix: &str) -> Result<Vec<TopicCfg>, KprodError> {
    let mut w = p.workload.clone();
    apply_suffix(&mut w, suffix)?;
    Ok(w.topic_list())
}

/// What a sweep or compare asks for: its steps' profiles, whether it sets a topology key
/// itself, how a step's topics are suffixed, and the messages' wording.
pub struct Request<'a> {
    pub profiles: &'a [Profile],
    pub forced: bool,
    pub suffix: &'a dyn Fn(usize) -> String,
    pub keep: bool,
    pub quiet: bool,
    pub asker: Asker<'a>,
}

/// The fresh topics and each step's own (in step order), or None when the steps need none.
pub fn prepare(r: &Request<'_>) -> Result<Option<(FreshTopics, Vec<StepTopics>)>, KprodError> {
    if !needed(r.profiles, r.forced) {
        return Ok(None);
    }
    let mut steps = Vec::new();
    for (i, p) in r.profiles.iter().enumerate() {
        let suffix = (r.suffix)(i);
        let topics = step_topics(p, &suffix)?;
        steps.push((suffix, topics));
    }
    let fresh = FreshTopics::prepare(&r.profiles[0], &steps, r.keep, r.quiet, &r.asker)?;
    let steps = steps
        .into_iter()
        .map(|(suffix, topics)| StepTopics {
            suffix,
            names: topics.into_iter().map(|t| t.name).collect(),
        })
        .collect();
    Ok(Some((fresh, steps)))
}

/// `a, b, c and 5 more`: names for a message, at most [`LISTED`] of them.
fn listing<S: AsRef<str>>(names: &[S]) -> String {
    let shown: Vec<&str> = names.iter().take(LISTED).map(AsRef::as_ref).collect();
    match names.len().saturating_sub(LISTED) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

impl FreshTopics {
    /// Checks and creates every step's topics before the first run. `first`: the first
    /// step's profile (the cluster and its connection settings); `steps`: each step's
    /// suffix and suffixed topics, in order. Refuses (exit 3) when a topic of a step's
    /// name exists with another partition count or replication, or when the cluster may
    /// not create topics; topics created before such a refusal are deleted again.
    pub fn prepare(
        first: &Profile,
        steps: &[(String, Vec<TopicCfg>)],
        keep: bool,
        quiet: bool,
        asker: &Asker<'_>,
    ) -> Result<FreshTopics, KprodError> {
        let bootstrap = first.cluster.brokers.clone().unwrap_or_default();
        let props = crate::profile::librdkafka_properties(first);
        let admin = TopicAdmin::connect(&props, &bootstrap)?;
        let mut topics: Vec<StepTopic> = Vec::new();
        for t in steps.iter().flat_map(|(_, ts)| ts) {
            if topics.iter().any(|s| s.name == t.name) {
                continue;
            }
            topics.push(StepTopic {
                name: t.name.clone(),
                partitions: t.partitions,
                replication_factor: t.replication_factor,
                config: t.config.clone(),
                created: false,
            });
        }
        let mut fresh = FreshTopics {
            admin,
            topics,
            keep,
            quiet,
        };
        if let Err(e) = fresh.create_all(asker) {
            // A refused sweep leaves nothing behind, --keep-topics or not.
            fresh.keep = false;
            return Err(e);
        }
        Ok(fresh)
    }

    fn create_all(&mut self, asker: &Asker<'_>) -> Result<(), KprodError> {
        // Every existing topic is judged before anything is created.
        let mut missing = Vec::new();
        let mut reused = Vec::new();
        for (i, t) in self.topics.iter().enumerate() {
            let (want_p, want_rf) = (t.partitions, t.replication_factor);
            match self.admin.shape(&t.name)? {
                Some(s) if s.partitions == want_p && s.replicas == want_rf => {
                    reused.push(t.name.clone())
                }
                Some(s) => {
                    return Err(KprodError::Topic {
                        topic: t.name.clone(),
                        detail: format!(
                            "{} needs it with {want_p} partitions and replication factor \
                             {want_rf}, but it exists with {} and {}; kprod never reuses a \
                             topic of another shape: delete it, or give another base name \
                             (--topic, or the names of [[workload.topics]])",
                            asker.what, s.partitions, s.replicas
                        ),
                    })
                }
                None => missing.push(i),
            }
        }
        if !reused.is_empty() {
            // Configs are not described back: an existing topic keeps its own.
            self.say(&format!(
                "used as they are (their partitions and replication match; topic configs \
                 not checked), not deleted: {}",
                listing(&reused)
            ));
        }
        if missing.is_empty() {
            return Ok(());
        }
        if let Some(why) = self.admin.cannot_create()? {
            return Err(self.refused(&missing, asker, &why));
        }
        for i in missing.iter().copied() {
            let t = &self.topics[i];
            if let Err(e) =
                self.admin
                    .create_exact(&t.name, t.partitions, t.replication_factor, &t.config)
            {
                let why = match e {
                    KprodError::Topic { topic, detail } => format!("`{topic}`: {detail}"),
                    e => e.to_string(),
                };
                // Drop deletes the ones created so far.
                return Err(self.refused(&missing, asker, &why));
            }
            self.topics[i].created = true;
        }
        let created: Vec<String> = missing
            .iter()
            .map(|&i| {
                let t = &self.topics[i];
                let configs = match t.config.is_empty() {
                    true => String::new(),
                    false => format!(", {} config(s)", t.config.len()),
                };
                format!(
                    "`{}` ({} partitions, replication factor {}{configs})",
                    t.name, t.partitions, t.replication_factor
                )
            })
            .collect();
        self.say(&format!("created topics: {}", listing(&created)));
        Ok(())
    }

    fn refused(&self, missing: &[usize], asker: &Asker<'_>, why: &str) -> KprodError {
        let list: Vec<String> = missing
            .iter()
            .map(|&i| {
                let t = &self.topics[i];
                format!("{} ({} partitions)", t.name, t.partitions)
            })
            .collect();
        KprodError::Topic {
            topic: self.topics[missing[0]].name.clone(),
            detail: format!(
                "{} changes the topics' shape, so each step needs fresh topics, and kprod \
                 cannot create them: {why}. Fix: create the topics yourself ({}; kprod uses \
                 an existing topic of that name when its partitions and replication match, \
                 and deletes only topics it created), or {}",
                asker.what,
                listing(&list),
                asker.instead
            ),
        }
    }

    /// Before a step: metadata still shows each of its topics with its partition count.
    pub fn check(&self, step: &StepTopics) -> Result<(), KprodError> {
        for name in &step.names {
            let Some(t) = self.topics.iter().find(|t| &t.name == name) else {
                return Err(KprodError::Topic {
                    topic: name.clone(),
                    detail: "not among the fresh topics prepared for this command".into(),
                });
            };
            self.admin.await_partitions(&t.name, t.partitions)?;
        }
        Ok(())
    }

    fn say(&self, line: &str) {
        if !self.quiet {
            crate::print_stderr(&format!("kprod: {line}"));
        }
    }
}

impl Drop for FreshTopics {
    fn drop(&mut self) {
        let created: Vec<&str> = self
            .topics
            .iter()
            .filter(|t| t.created)
            .map(|t| t.name.as_str())
            .collect();
        if created.is_empty() {
            return;
        }
        if self.keep {
            self.say(&format!(
                "kept topics (--keep-topics): {}",
                created.join(", ")
            ));
            return;
        }
        let failed = self.admin.delete(&created);
        for f in &failed {
            crate::print_stderr(&format!(
                "warning: {f}; delete it yourself, or pass --keep-topics"
            ));
        }
        if failed.is_empty() {
            self.say(&format!("deleted topics: {}", listing(&created)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(brokers: Option<&str>, partitions: u32) -> Profile {
        let mut p = crate::profile::resolve(&[], &Default::default(), std::path::Path::new("."))
            .expect("base profile");
        p.cluster.brokers = brokers.map(str::to_string);
        p.workload.partitions = partitions;
        p
    }

    fn topic(name: &str, partitions: u32, config: &[(&str, &str)]) -> TopicCfg {
        TopicCfg {
            name: name.into(),
            partitions,
            replication_factor: 1,
            share: 1,
            config: config
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            size: None,
            keys: None,
        }
    }

    fn many(topics: &[TopicCfg]) -> Profile {
        let mut p = profile(Some("h:9092"), 3);
        p.workload.topics = topics.to_vec();
        p
    }

    #[test]
    fn only_an_external_cluster_with_differing_shapes_needs_fresh_topics() {
        let ext = [profile(Some("h:9092"), 3), profile(Some("h:9092"), 6)];
        assert!(needed(&ext, false));
        let same = [profile(Some("h:9092"), 3), profile(Some("h:9092"), 3)];
        assert!(!needed(&same, false));
        assert!(
            needed(&same, true),
            "a swept topology key always gets its topics"
        );
        let embedded = [profile(None, 3), profile(None, 6)];
        assert!(!needed(&embedded, true));
    }

    #[test]
    fn the_whole_topic_shape_decides_count_partitions_replication_and_configs() {
        let a = topic("a", 3, &[]);
        let b = topic("b", 3, &[]);
        let base = many(&[a.clone(), b.clone()]);
        let differs = |other: Profile| needed(&[base.clone(), other], false);
        assert!(!differs(base.clone()));
        assert!(differs(many(std::slice::from_ref(&a))), "topic count");
        assert!(
            differs(many(&[a.clone(), topic("b", 4, &[])])),
            "partitions"
        );
        let mut rf = b.clone();
        rf.replication_factor = 3;
        assert!(differs(many(&[a.clone(), rf])), "replication");
        assert!(
            differs(many(&[
                a.clone(),
                topic("b", 3, &[("min.insync.replicas", "2")])
            ])),
            "a topic config"
        );
        assert!(
            !differs(many(&[topic("x", 3, &[]), topic("y", 3, &[])])),
            "names alone: the user's own topics, no fresh ones"
        );
        let mut share = b.clone();
        share.share = 5;
        assert!(!differs(many(&[a, share])), "a share is not a shape");
    }

    #[test]
    fn every_topic_of_a_step_gets_the_suffix_one_or_many() {
        let one = profile(Some("h:9092"), 3);
        let names = |p: &Profile, s: &str| -> Vec<String> {
            step_topics(p, s)
                .expect("suffixed")
                .into_iter()
                .map(|t| t.name)
                .collect()
        };
        assert_eq!(names(&one, "s01"), ["kprod-bench-s01"]);
        let two = many(&[
            topic("orders-0", 2, &[("retention.ms", "60000")]),
            topic("audit", 5, &[]),
        ]);
        assert_eq!(names(&two, "v2-lz4"), ["orders-0-v2-lz4", "audit-v2-lz4"]);
        let t = step_topics(&two, "s02").expect("suffixed");
        assert_eq!((t[0].partitions, t[1].partitions), (2, 5));
        assert_eq!(t[0].config["retention.ms"], "60000", "configs travel along");
    }

    #[test]
    fn listings_stop_after_a_few_names() {
        assert_eq!(listing(&["a", "b"]), "a, b");
        let names: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
        let l = listing(&names);
        assert!(
            l.starts_with("t0, t1") && l.ends_with("t7 and 12 more"),
            "{l}"
        );
    }

    #[test]
    fn topic_count_and_topic_lists_are_topology_keys() {
        for k in [
            "workload.topic_count",
            "workload.topics",
            "workload.partitions",
        ] {
            assert!(TOPOLOGY_KEYS.contains(&k), "{k}");
        }
    }
}
