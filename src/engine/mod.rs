//! The engine: starts the cluster (or checks the real one), runs producer threads and
//! collects their measurements. It knows nothing of files or tables: it returns
//! [`RunOutcome`], which `report::build` turns into the immutable run report.

pub mod cluster;
pub mod faults;
pub mod native;
pub mod worker;

pub use crate::domain::{Both, Observer, RunOutcome, Silent};
use crate::error::KprodError;
use crate::measure::clock::Clock;
use crate::measure::collector::Collector;
use crate::plan::Plan;
use crate::workload::{KeySpace, Payloads, RecordSource};
use cluster::Cluster;
use faults::Target;
use native::NativeProducer;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use worker::{RunFlags, WorkerMsg, WorkerSpec};

pub use worker::RunFlags as Flags;

pub fn new_flags() -> Arc<RunFlags> {
    Arc::new(RunFlags {
        stop: Default::default(),
        interrupted: Default::default(),
    })
}

/// Run the plan to completion (or interruption).
pub fn run(
    plan: &Plan,
    flags: Arc<RunFlags>,
    obs: &mut dyn Observer,
) -> Result<RunOutcome, KprodError> {
    let p = &plan.profile;
    let w = &p.workload;

    // Pools first: a bad value file must fail before anything connects.
    let payloads = Payloads::build(w, &plan.base_dir)?;
    let keys = KeySpace::build(w, plan.instance, plan.instances)?;

    let cluster = match &p.cluster.brokers {
        None => cluster::start_embedded(
            p.cluster.mock_brokers,
            &w.topic,
            w.partitions,
            w.replication_factor,
        )?,
        Some(b) => Cluster::External {
            bootstrap: b.clone(),
        },
    };
    let info = cluster::preflight(
        &plan.props,
        cluster.bootstrap(),
        &w.topic,
        w.partitions,
        w.replication_factor,
        !cluster.is_embedded(),
    )?;
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

    let (tx, rx) = mpsc::channel::<WorkerMsg>();
    let mut handles = Vec::new();
    let mut starters = Vec::new();
    let mut first_props = BTreeMap::new();
    let header_bytes = payloads.header_bytes_per_record();
    for share in &plan.shares {
        let mut props = plan.props.clone();
        props.insert("bootstrap.servers".into(), cluster.bootstrap().to_string());
        props.insert(
            "client.id".into(),
            format!("kprod-{}-{}", plan.instance, share.index),
        );
        if let Some(id) = &share.transactional_id {
            props.insert("transactional.id".into(), id.clone());
        }
        if share.index == 0 {
            first_props = props.clone();
        }
        let producer = NativeProducer::new(&props, &w.topic)?;
        let source = RecordSource::new(
            payloads.clone(),
            keys.clone(),
            share.index,
            plan.source_seed(),
        );
        let spec = WorkerSpec {
            index: share.index,
            topic: w.topic.clone(),
            rate: share.rate,
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
                expected_records: expected_records(share.records, share.rate, w.duration),
            }),
        };
        let (stx, srx) = mpsc::channel();
        starters.push(stx);
        let tx = tx.clone();
        let flags = flags.clone();
        let h = std::thread::Builder::new()
            .name(format!("kprod-producer-{}", share.index))
            .spawn(move || worker::run(spec, producer, source, tx, srx, flags))
            .map_err(|e| KprodError::io("spawning a producer thread", e))?;
        handles.push(h);
    }
    drop(tx);

    let n = plan.shares.len() as u32;
    let mut collector = Collector::new(n, &w.topic);
    // Wait until every producer is ready (transactions initialised) before t0.
    let mut ready = 0;
    while ready < n && !crate::signals::signalled() {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(WorkerMsg::Ready { .. }) => ready += 1,
            Ok(WorkerMsg::ClientError { message, fatal, .. }) => {
                obs.client_error(&message);
                collector.client_error(message, fatal);
            }
            Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    // Nothing has been sent yet: a signal or a failing observer ends the run here, with
    // no report and no results directory.
    let go = if crate::signals::signalled() {
        Err(KprodError::Interrupted)
    } else {
        obs.ready()
    };
    if let Err(e) = go {
        flags.stop.store(true, Ordering::Relaxed);
        // Producers waiting for t0 see the channel close and return.
        drop(starters);
        for h in handles {
            let _ = h.join();
        }
        return Err(e);
    }
    let clock = Clock::start();
    let t0 = clock.t0();
    let started_at = SystemTime::now();
    for s in &starters {
        let _ = s.send(clock);
    }
    drop(starters);
    obs.started(&cluster.label());

    let mut ledgers = Vec::new();
    let faults = std::thread::scope(|scope| {
        // The fault schedule runs on its own thread, never on a producer's.
        let (stop_faults, stop_rx) = mpsc::channel::<()>();
        let injector = cluster.mock().filter(|_| !p.faults.is_empty()).map(|mock| {
            let target = Target {
                mock,
                topic: &w.topic,
            };
            scope.spawn(move || faults::run(target, &p.faults, t0, stop_rx))
        });
        collect(&rx, n, &mut collector, obs, &flags, t0, &mut ledgers);
        let _ = stop_faults.send(());
        injector
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default()
    });
    for h in handles {
        let _ = h.join();
    }
    let duration = t0.elapsed();
    // The cluster stays up until the records have been read back.
    let verify = baseline.map(|b| {
        obs.verifying();
        crate::verify::check(
            &plan.props,
            cluster.bootstrap(),
            &w.topic,
            &b,
            ledgers,
            plan,
        )
    });
    // Producers are gone; only now may the cluster and the pools go.
    drop(cluster);
    let mean_record_bytes = payloads.mean_record_bytes();
    drop(payloads);
    Ok(RunOutcome {
        measurements: collector.finish(),
        cluster: if p.cluster.brokers.is_some() {
            p.cluster.brokers.clone().unwrap_or_default()
        } else {
            "embedded".into()
        },
        embedded: p.cluster.brokers.is_none(),
        partitions: info.partitions,
        started_at,
        duration,
        interrupted: flags.interrupted.load(Ordering::Relaxed),
        props: first_props,
        mean_record_bytes,
        clock: clock.describe(),
        faults,
        verify,
    })
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

/// The collector loop: merges what producers ship until every one of them is done, and
/// turns a signal into a stop.
fn collect(
    rx: &mpsc::Receiver<WorkerMsg>,
    n: u32,
    collector: &mut Collector,
    obs: &mut dyn Observer,
    flags: &RunFlags,
    t0: std::time::Instant,
    ledgers: &mut Vec<crate::verify::Ledger>,
) {
    let mut done = 0;
    while done < n {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(WorkerMsg::Interval(s)) => {
                for i in collector.interval(s) {
                    obs.interval(i, t0.elapsed());
                }
            }
            Ok(WorkerMsg::Stats { producer, json }) => collector.stats(producer, &json),
            Ok(WorkerMsg::ClientError { message, fatal, .. }) => {
                obs.client_error(&message);
                if fatal {
                    flags.stop.store(true, Ordering::Relaxed);
                }
                collector.client_error(message, fatal);
            }
            Ok(WorkerMsg::Done(mut d)) => {
                done += 1;
                ledgers.extend(d.ledger.take());
                collector.done(d.totals, d.committed, d.aborted, d.fatal);
            }
            Ok(WorkerMsg::Ready { .. }) => {}
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if crate::signals::signalled() {
            flags.interrupted.store(true, Ordering::Relaxed);
            flags.stop.store(true, Ordering::Relaxed);
        }
        obs.tick(t0.elapsed());
    }
}
