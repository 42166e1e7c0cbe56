//! The engine: starts the cluster (or checks the real one), runs producer threads and
//! collects their measurements. It knows nothing of files or tables: it returns
//! [`RunOutcome`], which `report::build` turns into the immutable run report.

pub mod admin;
pub mod affinity;
pub mod cluster;
pub mod consumer;
pub mod faults;
pub mod native;
pub mod reach;
pub mod stamp;
pub mod sticky;
pub mod topics;
pub mod wakeup;
pub mod worker;

pub use crate::domain::{Both, Observer, RunOutcome, Silent};
use crate::error::KprodError;
use crate::measure::clock::Clock;
use crate::measure::collector::Collector;
use crate::plan::{Plan, ProducerShare};
use crate::workload::{KeySpace, Payloads, RecordSource};
use cluster::Cluster;
use faults::Target;
use native::NativeProducer;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use worker::{RunFlags, WorkerMsg, WorkerSpec};

pub use worker::RunFlags as Flags;

pub fn new_flags() -> Arc<RunFlags> {
    Arc::new(RunFlags {
        stop: Default::default(),
        interrupted: Default::default(),
    })
}

/// Run the plan to completion (or interruption): setup and preflight, spawn the
/// producers, start them together at t0, collect until they are done, verify, outcome.
pub fn run(
    plan: &Plan,
    flags: Arc<RunFlags>,
    obs: &mut dyn Observer,
) -> Result<RunOutcome, KprodError> {
    let p = &plan.profile;
    let setup = Setup::new(plan)?;
    // Consumers are assigned before any producer exists: only this run's records count.
    let mut consumers = match &setup.consumer_start {
        Some(start) => Some(consumer::Consumers::spawn(
            plan,
            setup.cluster.bootstrap(),
            setup.cluster.is_embedded(),
            start,
        )?),
        None => None,
    };
    let mut crew = Crew::spawn(plan, &setup, &flags)?;
    // --verify reads back from before t0 on, concurrently: the embedded cluster trims its
    // logs during the run. A run that ends before t0 drops (and so stops) the reader.
    let reader = setup.baseline.as_ref().map(|b| {
        let bootstrap = setup.cluster.bootstrap();
        crate::verify::Reader::start(&plan.props, bootstrap, &p.workload.topic, b, plan.instance)
    });
    let names: Vec<String> = setup.topics.iter().map(|t| t.name.clone()).collect();
    let mut collector = Collector::new(crew.n, &names);
    crew.await_ready(&mut collector, obs);
    let (clock, started_at) = crew.start(&flags, obs)?;
    if let Some(c) = &mut consumers {
        c.start(clock);
    }
    let t0 = clock.t0();
    obs.started(&setup.cluster.label());
    let run = Collecting {
        crew: &crew,
        collector: &mut collector,
        obs: &mut *obs,
        flags: &flags,
        t0,
    };
    let (faults, ledgers, aborted) = run.with_faults(plan, &setup.cluster);
    crew.join();
    let duration = t0.elapsed();
    // After the flush, while the cluster is up: the consumers read to the end.
    let consumers = consumers.map(|c| c.finish(flags.interrupted.load(Ordering::Relaxed)));
    // The cluster stays up until the records have been read back.
    let verify = reader.map(|r| {
        obs.verifying();
        r.and_then(|r| r.finish(ledgers, plan))
    });
    let Setup {
        payloads,
        cluster,
        partitions,
        topic_partitions,
        ..
    } = setup;
    // Producers are gone; only now may the cluster and the pools go.
    drop(cluster);
    let mean_record_bytes = payloads.mean_record_bytes();
    drop(payloads);
    Ok(RunOutcome {
        measurements: collector.finish(),
        cluster: match &p.cluster.brokers {
            Some(b) => b.clone(),
            None => "embedded".into(),
        },
        embedded: p.cluster.brokers.is_none(),
        partitions,
        topic_partitions,
        started_at,
        duration,
        interrupted: flags.interrupted.load(Ordering::Relaxed),
        aborted,
        props: crew.first_props,
        mean_record_bytes,
        clock: clock.describe(),
        faults,
        verify,
        consumers,
    })
}

/// What exists before any producer: the pools, the cluster and what preflight learnt.
struct Setup {
    payloads: Arc<Payloads>,
    keys: Arc<KeySpace>,
    /// The key spaces of the per-topic settings beyond [workload]'s (`workload::lanes`).
    lane_keys: Vec<Arc<KeySpace>>,
    cluster: Cluster,
    /// The first topic's partitions (the run's when it has one topic; else all topics').
    partitions: u32,
    /// The run's topics, and (many topics only) each one's partitions as metadata showed.
    topics: Vec<crate::profile::TopicCfg>,
    topic_partitions: Vec<u32>,
    /// `--verify`: where each partition ended before the run (the reader starts there).
    baseline: Option<crate::verify::Baseline>,
    /// `[consumers]`: where each partition of each topic ended before the run (the
    /// consumers start there).
    consumer_start: Option<Vec<consumer::Start>>,
}

impl Setup {
    fn new(plan: &Plan) -> Result<Setup, KprodError> {
        let p = &plan.profile;
        let w = &p.workload;
        // Pools first: a bad value file must fail before anything connects.
        let payloads = Payloads::build(w, &plan.base_dir)?;
        let keys = KeySpace::build(w, plan.instance, plan.instances)?;
        let lane_keys =
            crate::workload::LanePlan::new(w).key_spaces(w, plan.instance, plan.instances)?;
        let topics = w.topic_list();
        let cluster = match &p.cluster.brokers {
            None => cluster::start_embedded(p.cluster.mock_brokers, &topics)?,
            Some(b) => Cluster::External {
                bootstrap: b.clone(),
            },
        };
        let infos = cluster::preflight(
            &plan.props,
            cluster.bootstrap(),
            &topics,
            !cluster.is_embedded(),
        )?;
        let info = infos.first().cloned().ok_or_else(|| KprodError::Topic {
            topic: w.topic.clone(),
            detail: "the run has no topic".into(),
        })?;
        let topic_partitions: Vec<u32> = match topics.len() {
            1 => Vec::new(),
            _ => infos.iter().map(|i| i.partitions).collect(),
        };
        // --verify reads back from where each partition ended before the run.
        let baseline = match plan.verify {
            true => Some(crate::verify::baseline(
                &plan.props,
                cluster.bootstrap(),
                &w.topic,
                info.partitions,
            )?),
            false => None,
        };
        let consumer_start = match p.consumers.count {
            0 => None,
            _ => {
                check_stamp_room(&payloads)?;
                let mut starts = Vec::new();
                for (t, i) in topics.iter().zip(&infos) {
                    let offsets = match &baseline {
                        Some(b) => b.start.clone(),
                        None => {
                            crate::verify::baseline(
                                &plan.props,
                                cluster.bootstrap(),
                                &t.name,
                                i.partitions,
                            )?
                            .start
                        }
                    };
                    starts.extend(offsets.into_iter().enumerate().map(|(q, off)| {
                        consumer::Start {
                            topic: t.name.clone(),
                            partition: q as i32,
                            offset: off,
                        }
                    }));
                }
                Some(starts)
            }
        };
        Ok(Setup {
            payloads,
            keys,
            lane_keys,
            cluster,
            partitions: match topic_partitions.is_empty() {
                true => info.partitions,
                false => topic_partitions.iter().sum(),
            },
            topics,
            topic_partitions,
            baseline,
            consumer_start,
        })
    }
}

/// The producer threads of a run, waiting for t0 until `start`.
struct Crew {
    n: u32,
    rx: mpsc::Receiver<WorkerMsg>,
    handles: Vec<std::thread::JoinHandle<()>>,
    /// One per producer; each carries the clock at t0.
    starters: Vec<mpsc::Sender<Clock>>,
    /// Producer 0's librdkafka properties, for the report.
    first_props: BTreeMap<String, String>,
}

impl Crew {
    fn spawn(plan: &Plan, setup: &Setup, flags: &Arc<RunFlags>) -> Result<Crew, KprodError> {
        let (tx, rx) = mpsc::channel::<WorkerMsg>();
        let mut crew = Crew {
            n: plan.shares.len() as u32,
            rx,
            handles: Vec::new(),
            starters: Vec::new(),
            first_props: BTreeMap::new(),
        };
        let header_bytes = setup.payloads.header_bytes_per_record();
        for share in &plan.shares {
            let props = producer_props(plan, setup.cluster.bootstrap(), share);
            if share.index == 0 {
                crew.first_props = props.clone();
            }
            let source = RecordSource::new(
                setup.payloads.clone(),
                setup.keys.clone(),
                share.index,
                plan.source_seed(),
            )
            .with_lanes(&setup.lane_keys);
            let mut spec = worker_spec(plan, share, header_bytes);
            spec.topics = setup.topics.iter().map(|t| t.name.clone()).collect();
            if setup.topics.len() > 1 {
                let shares: Vec<u32> = setup.topics.iter().map(|t| t.share).collect();
                spec.route = crate::profile::topics::route_cycle(&shares);
            }
            let names: Vec<&str> = spec.topics.iter().map(String::as_str).collect();
            let mut producer =
                NativeProducer::with_topics(&props, &names, worker::batched(&spec, &source))?;
            if plan.profile.consumers.count > 0 {
                spec.stamp = Some(worker::StampSpec {
                    instance: plan.instance,
                    max_value_bytes: setup.payloads.max_value_bytes() as usize,
                });
                producer.copy_payloads();
            }
            let (stx, srx) = mpsc::channel();
            crew.starters.push(stx);
            let tx = tx.clone();
            let flags = flags.clone();
            let h = std::thread::Builder::new()
                .name(format!("kprod-producer-{}", share.index))
                .spawn(move || worker::run(spec, producer, source, tx, srx, flags))
                .map_err(|e| KprodError::io("spawning a producer thread", e))?;
            crew.handles.push(h);
        }
        Ok(crew)
    }

    /// Wait until every producer is ready (transactions initialised) before t0.
    fn await_ready(&self, collector: &mut Collector, obs: &mut dyn Observer) {
        let mut ready = 0;
        while ready < self.n && !crate::signals::signalled() {
            match self.rx.recv_timeout(Duration::from_millis(200)) {
                Ok(WorkerMsg::Ready { .. }) => ready += 1,
                Ok(WorkerMsg::ClientError { message, fatal, .. }) => {
                    obs.client_error(&message);
                    collector.client_error(message, fatal);
                }
                Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
    }

    /// t0: start the clock and release every producer at once. Nothing has been sent
    /// yet: a signal or a failing observer ends the run here, with no report and no
    /// results directory.
    fn start(
        &mut self,
        flags: &RunFlags,
        obs: &mut dyn Observer,
    ) -> Result<(Clock, SystemTime), KprodError> {
        let starters = std::mem::take(&mut self.starters);
        let go = if crate::signals::signalled() {
            Err(KprodError::Interrupted)
        } else {
            // From here a first signal no longer exits: the observers may create the run
            // directory, which must then get its (partial) report.
            crate::signals::run_started();
            obs.ready()
        };
        if let Err(e) = go {
            flags.stop.store(true, Ordering::Relaxed);
            // Producers waiting for t0 see the channel close and return.
            drop(starters);
            self.join();
            return Err(e);
        }
        let clock = Clock::start();
        let started_at = SystemTime::now();
        for s in &starters {
            let _ = s.send(clock);
        }
        Ok((clock, started_at))
    }

    fn join(&mut self) {
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

/// One producer's librdkafka properties: the plan's, plus its bootstrap, client id and
/// transactional id.
fn producer_props(plan: &Plan, bootstrap: &str, share: &ProducerShare) -> BTreeMap<String, String> {
    let mut props = plan.props.clone();
    props.insert("bootstrap.servers".into(), bootstrap.to_string());
    props.insert(
        "client.id".into(),
        format!("kprod-{}-{}", plan.instance, share.index),
    );
    if let Some(id) = &share.transactional_id {
        props.insert("transactional.id".into(), id.clone());
    }
    props
}

/// A producer's share of the stage curve: the run-wide curve split evenly over instances
/// and producers, as the fixed rate is.
fn stage_curve(plan: &Plan) -> Option<crate::workload::Curve> {
    let stages = &plan.profile.workload.stages;
    if stages.is_empty() {
        return None;
    }
    let ways = f64::from(plan.instances.max(1)) * f64::from(plan.profile.workload.producers.max(1));
    Some(crate::workload::Curve::new(
        &crate::profile::stages::pieces(stages),
        1.0 / ways,
    ))
}

/// What one producer thread needs to know about its share of the run.
fn worker_spec(plan: &Plan, share: &ProducerShare, header_bytes: u64) -> WorkerSpec {
    let p = &plan.profile;
    let w = &p.workload;
    let curve = stage_curve(plan);
    // With stages the mean rate over a cut duration is not the stages' mean: ask the curve.
    let expected_rate = match (&curve, w.duration) {
        (Some(c), Some(d)) if !d.is_zero() => Some(c.integral(d.as_secs_f64()) / d.as_secs_f64()),
        _ => share.rate,
    };
    WorkerSpec {
        index: share.index,
        topics: vec![w.topic.clone()],
        route: Vec::new(),
        rate: share.rate,
        curve,
        records: share.records,
        end: w.duration,
        warmup: w.warmup,
        send_mode: w.send_mode,
        on_full: p.backpressure.on_full,
        max_block: p.backpressure.max_block,
        max_in_flight_records: p.backpressure.max_in_flight_records,
        records_per_transaction: share
            .transactional_id
            .as_ref()
            .map(|_| p.producer.records_per_transaction.max(1)),
        transaction_timeout: p.producer.delivery_timeout.max(Duration::from_secs(10)),
        flush_timeout: plan.flush_timeout,
        header_bytes,
        verify: plan.verify.then(|| worker::VerifySpec {
            instance: plan.instance,
            expected_records: expected_records(share.records, expected_rate, w.duration),
        }),
        stamp: None,
    }
}

/// The run between t0 and the last producer's end, as seen from the calling thread.
struct Collecting<'a> {
    crew: &'a Crew,
    collector: &'a mut Collector,
    obs: &'a mut dyn Observer,
    flags: &'a RunFlags,
    t0: Instant,
}

impl Collecting<'_> {
    /// Collect with the fault schedule (if any) running on its own thread, never on a
    /// producer's; it is stopped once every producer is done.
    fn with_faults(
        mut self,
        plan: &Plan,
        cluster: &Cluster,
    ) -> (
        Vec<crate::domain::AppliedFault>,
        Vec<crate::verify::Ledger>,
        Option<String>,
    ) {
        let p = &plan.profile;
        let t0 = self.t0;
        let mut ledgers = Vec::new();
        let mut aborted = None;
        let topics = p.workload.topic_list();
        let faults = std::thread::scope(|scope| {
            let (stop_faults, stop_rx) = mpsc::channel::<()>();
            let injector = cluster.mock().filter(|_| !p.faults.is_empty()).map(|mock| {
                let target = Target {
                    mock,
                    topics: &topics,
                };
                scope.spawn(move || faults::run(target, &p.faults, t0, stop_rx))
            });
            aborted = self.collect(&mut ledgers);
            let _ = stop_faults.send(());
            injector
                .map(|h| h.join().unwrap_or_default())
                .unwrap_or_default()
        });
        (faults, ledgers, aborted)
    }

    /// The collector loop: merges what producers ship until every one of them is done,
    /// and turns a signal or an observer's stop request into a stop; returns the request's
    /// reason.
    fn collect(&mut self, ledgers: &mut Vec<crate::verify::Ledger>) -> Option<String> {
        let (flags, t0) = (self.flags, self.t0);
        let mut done = 0;
        let mut aborted: Option<String> = None;
        while done < self.crew.n {
            match self.crew.rx.recv_timeout(Duration::from_millis(200)) {
                Ok(WorkerMsg::Interval(s)) => {
                    for i in self.collector.interval(s) {
                        self.obs.interval(i, t0.elapsed());
                    }
                }
                Ok(WorkerMsg::Stats { producer, json }) => {
                    self.collector.stats(producer, &json, t0.elapsed())
                }
                Ok(WorkerMsg::ClientError { message, fatal, .. }) => {
                    self.obs.client_error(&message);
                    if fatal {
                        flags.stop.store(true, Ordering::Relaxed);
                    }
                    self.collector.client_error(message, fatal);
                }
                Ok(WorkerMsg::Done(mut d)) => {
                    done += 1;
                    ledgers.extend(d.ledger.take());
                    self.collector
                        .done(d.totals, d.committed, d.aborted, d.fatal);
                }
                Ok(WorkerMsg::Ready { .. }) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            if aborted.is_none() {
                aborted = self.obs.stop_requested().map(str::to_string);
            }
            if aborted.is_some() || crate::signals::signalled() {
                flags.interrupted.store(true, Ordering::Relaxed);
                flags.stop.store(true, Ordering::Relaxed);
            }
            self.obs.tick(t0.elapsed());
        }
        aborted
    }
}

/// Records a producer will probably send, to size its `--verify` ledger up front.
fn expected_records(records: Option<u64>, rate: Option<f64>, end: Option<Duration>) -> u64 {
    let by_rate = match (rate, end) {
        (Some(r), Some(d)) => Some((r * d.as_secs_f64() * 1.05) as u64 + 1),
        _ => None,
    };
    match (records, by_rate) {
        (Some(n), Some(m)) => n.min(m),
        (Some(n), None) => n,
        (None, Some(m)) => m,
        (None, None) => 0,
    }
}

/// Values from a size file can be shorter than the end-to-end stamp: refuse before t0
/// (sizes from the profile were checked when it was read).
fn check_stamp_room(payloads: &Payloads) -> Result<(), KprodError> {
    let min = payloads.min_value_bytes();
    if min < stamp::STAMP_BYTES {
        return Err(crate::error::ConfigError::new(format!(
            "the smallest value ({min}B) is too small for consumers: each value starts with a \
             {}-byte end-to-end stamp",
            stamp::STAMP_BYTES
        ))
        .key("workload.size")
        .fix(format!(
            "use values of at least {}B, or run without --consumers",
            stamp::STAMP_BYTES
        ))
        .into());
    }
    Ok(())
}
