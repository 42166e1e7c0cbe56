//! A fresh topic per step when a `sweep` or `compare` varies the topology against
//! `--brokers`: reusing one topic would run every step on its old partition count. Each
//! step (sweep) or variant (compare) gets `<topic>-<suffix>` with exactly its partitions
//! and replication factor, created and verified by metadata before the first run, checked
//! again before each run, and deleted at the end (also when the command fails) unless
//! `--keep-topics`. A topic of that name that already exists is used only when its
//! partition count is the step's; kprod deletes only the topics it created. The embedded
//! cluster needs none of this: each run starts its own with the step's topic.

use crate::engine::topics::TopicAdmin;
use crate::error::KprodError;
use crate::profile::Profile;

/// Profile keys that change a topic's shape (what a reused topic would silently ignore).
pub const TOPOLOGY_KEYS: &[&str] = &["workload.partitions", "workload.replication_factor"];

/// One step's topic.
#[derive(Debug, Clone, PartialEq)]
pub struct StepTopic {
    pub name: String,
    pub partitions: u32,
    pub replication_factor: u32,
    /// kprod created it (so it deletes it, unless `--keep-topics`).
    pub created: bool,
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

/// `<topic>-<suffix>`, cut so it stays a valid topic name (249 characters at most).
pub fn step_topic_name(topic: &str, suffix: &str) -> String {
    let suffix: String = suffix
        .chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                true => c,
                false => '_',
            },
        )
        .collect();
    let room = 249usize.saturating_sub(suffix.len() + 1);
    let base: String = topic.chars().take(room).collect();
    format!("{base}-{suffix}")
}

/// Whether the steps' profiles need a topic each: an external cluster, and the steps'
/// partitions or replication differ (or the sweep sets a topology key itself: `forced`).
pub fn needed(profiles: &[Profile], forced: bool) -> bool {
    let Some(first) = profiles.first() else {
        return false;
    };
    let shape = |p: &Profile| (p.workload.partitions, p.workload.replication_factor);
    first.cluster.brokers.is_some() && (forced || profiles.iter().any(|p| shape(p) != shape(first)))
}

/// What a sweep or compare asks for: its steps' profiles, whether it sets a topology key
/// itself, how a step's topic is suffixed, and the messages' wording.
pub struct Request<'a> {
    pub profiles: &'a [Profile],
    pub forced: bool,
    pub suffix: &'a dyn Fn(usize) -> String,
    pub keep: bool,
    pub quiet: bool,
    pub asker: Asker<'a>,
}

/// The fresh topics and each step's own (in step order), or None when the steps need none.
pub fn prepare(r: &Request<'_>) -> Result<Option<(FreshTopics, Vec<StepTopic>)>, KprodError> {
    if !needed(r.profiles, r.forced) {
        return Ok(None);
    }
    if r.profiles.iter().any(|p| !p.workload.topics.is_empty()) {
        return Err(crate::error::ConfigError::new(format!(
            "{} changes the topics' shape against --brokers, and fresh topics per step are \
             made for one topic only; this run has several (workload.topics / --topics)",
            r.asker.what
        ))
        .key("workload.topics")
        .fix(format!(
            "run one topic per step, or create each step's topics yourself and sweep the topic \
             names; or {}",
            r.asker.instead
        ))
        .into());
    }
    let steps: Vec<(String, &Profile)> = r
        .profiles
        .iter()
        .enumerate()
        .map(|(i, p)| ((r.suffix)(i), p))
        .collect();
    let fresh = FreshTopics::prepare(&steps, r.keep, r.quiet, &r.asker)?;
    let topics = steps
        .iter()
        .filter_map(|(suffix, p)| fresh.topic(&p.workload.topic, suffix).cloned())
        .collect();
    Ok(Some((fresh, topics)))
}

impl FreshTopics {
    /// Checks and creates every step's topic before the first run. `steps`: the suffix and
    /// resolved profile of each step, in order. Refuses (exit 3) when a topic of a step's
    /// name exists with another partition count, or when the cluster may not create topics;
    /// topics created before such a refusal are deleted again.
    pub fn prepare(
        steps: &[(String, &Profile)],
        keep: bool,
        quiet: bool,
        asker: &Asker<'_>,
    ) -> Result<FreshTopics, KprodError> {
        let Some((_, first)) = steps.first() else {
            return Err(KprodError::Kafka("no step to prepare a topic for".into()));
        };
        let bootstrap = first.cluster.brokers.clone().unwrap_or_default();
        let props = crate::profile::librdkafka_properties(first);
        let admin = TopicAdmin::connect(&props, &bootstrap)?;
        let mut topics = Vec::new();
        for (suffix, p) in steps {
            let w = &p.workload;
            let name = step_topic_name(&w.topic, suffix);
            if topics.iter().any(|t: &StepTopic| t.name == name) {
                continue;
            }
            topics.push(StepTopic {
                name,
                partitions: w.partitions,
                replication_factor: w.replication_factor,
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
        for (i, t) in self.topics.iter().enumerate() {
            let (want_p, want_rf) = (t.partitions, t.replication_factor);
            match self.admin.shape(&t.name)? {
                Some(s) if s.partitions == want_p && s.replicas == want_rf => self.say(&format!(
                    "topic `{}` already exists with {want_p} partitions and replication factor \
                     {want_rf}: used as it is, not deleted",
                    t.name
                )),
                Some(s) => {
                    return Err(KprodError::Topic {
                        topic: t.name.clone(),
                        detail: format!(
                            "{} needs it with {want_p} partitions and replication factor \
                             {want_rf}, but it exists with {} and {}; kprod never reuses a \
                             topic of another shape: delete it, or give another base name with \
                             --topic",
                            asker.what, s.partitions, s.replicas
                        ),
                    })
                }
                None => missing.push(i),
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        if let Some(why) = self.admin.cannot_create()? {
            return Err(self.refused(&missing, asker, &why));
        }
        for i in missing.iter().copied() {
            let t = &self.topics[i];
            if let Err(e) = self
                .admin
                .create_exact(&t.name, t.partitions, t.replication_factor)
            {
                let why = match e {
                    KprodError::Topic { detail, .. } => detail,
                    e => e.to_string(),
                };
                // Drop deletes the ones created so far.
                return Err(self.refused(&missing, asker, &why));
            }
            self.topics[i].created = true;
            let t = &self.topics[i];
            self.say(&format!(
                "created topic `{}` ({} partitions, replication factor {})",
                t.name, t.partitions, t.replication_factor
            ));
        }
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
                "{} changes the topic's shape, so each step needs a fresh topic, and kprod \
                 cannot create it: {why}. Fix: create the topics yourself ({}; kprod uses an \
                 existing topic of that name when its partition count matches, and deletes \
                 only topics it created), or {}",
                asker.what,
                list.join(", "),
                asker.instead
            ),
        }
    }

    /// The topic of a step with this suffix and base topic.
    pub fn topic(&self, base: &str, suffix: &str) -> Option<&StepTopic> {
        let name = step_topic_name(base, suffix);
        self.topics.iter().find(|t| t.name == name)
    }

    /// Before a step: metadata still shows the topic with the step's partition count.
    pub fn check(&self, t: &StepTopic) -> Result<(), KprodError> {
        self.admin.await_partitions(&t.name, t.partitions)
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
            self.say(&format!("deleted topics: {}", created.join(", ")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_names_are_valid_topic_names_however_long_or_odd_the_parts() {
        assert_eq!(step_topic_name("kprod-bench", "s03"), "kprod-bench-s03");
        assert_eq!(
            step_topic_name("t", "profiles/lz4 fast.toml"),
            "t-profiles_lz4_fast.toml"
        );
        let long = "x".repeat(249);
        let n = step_topic_name(&long, "s12");
        assert!(crate::profile::valid_topic(&n), "{n}");
        assert!(n.ends_with("-s12"));
    }

    fn profile(brokers: Option<&str>, partitions: u32) -> Profile {
        let mut p = crate::profile::resolve(&[], &Default::default(), std::path::Path::new("."))
            .expect("base profile");
        p.cluster.brokers = brokers.map(str::to_string);
        p.workload.partitions = partitions;
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
            "a swept topology key always gets its topic"
        );
        let embedded = [profile(None, 3), profile(None, 6)];
        assert!(!needed(&embedded, true));
    }

    #[test]
    fn several_topics_with_fresh_topics_per_step_are_refused_before_connecting() {
        let mut a = profile(Some("h:9092"), 3);
        a.workload.topics = a.workload.topic_list();
        let profiles = [a, profile(Some("h:9092"), 6)];
        let suffix = |i: usize| format!("s{i}");
        let e = prepare(&Request {
            profiles: &profiles,
            forced: false,
            suffix: &suffix,
            keep: false,
            quiet: true,
            asker: Asker {
                what: "--param workload.partitions",
                instead: "use the embedded cluster",
            },
        })
        .err()
        .expect("refused");
        let text = e.to_string();
        assert!(
            text.contains("workload.topics") && text.contains("--param"),
            "{text}"
        );
    }
}
