//! The engine's live view: observers fed by the collector thread while a run goes.
//!
//! The engine calls them; the terminal progress, the live `intervals.csv` writer, the
//! metrics endpoint and the `--start-at` gate implement them. The trait lives here, not in
//! the engine, so that implementing it does not mean depending on the engine.

use super::measurements::MergedInterval;
use crate::error::KprodError;
use std::time::Duration;

/// Live view for progress output.
pub trait Observer {
    /// The run has started (t0).
    fn started(&mut self, _cluster: &str) {}
    /// One more second is final.
    fn interval(&mut self, _i: &MergedInterval, _elapsed: Duration) {}
    /// Called a few times a second.
    fn tick(&mut self, _elapsed: Duration) {}
    /// A client-level error message from librdkafka.
    fn client_error(&mut self, _message: &str) {}
    /// Every producer is connected and ready; t0 comes next. An error here (say, the run
    /// directory cannot be created) ends the run before anything is sent.
    fn ready(&mut self) -> Result<(), KprodError> {
        Ok(())
    }
    /// `--verify`: the run is over and the records are being read back.
    fn verifying(&mut self) {}
    /// Asked after each batch of finished seconds: Some(reason) stops the run the way a
    /// first Ctrl-C does (flush, partial report), and the report says `aborted` with the
    /// reason (`--abort-on-breach`). Per run, unlike a signal, so the next run starts clean.
    fn stop_requested(&self) -> Option<&str> {
        None
    }
}

/// Observer that shows nothing.
pub struct Silent;
impl Observer for Silent {}

/// Two observers fed the same events, the first one first.
pub struct Both<'a>(pub &'a mut dyn Observer, pub &'a mut dyn Observer);

impl Observer for Both<'_> {
    fn started(&mut self, cluster: &str) {
        self.0.started(cluster);
        self.1.started(cluster);
    }
    fn interval(&mut self, i: &MergedInterval, elapsed: Duration) {
        self.0.interval(i, elapsed);
        self.1.interval(i, elapsed);
    }
    fn tick(&mut self, elapsed: Duration) {
        self.0.tick(elapsed);
        self.1.tick(elapsed);
    }
    fn client_error(&mut self, message: &str) {
        self.0.client_error(message);
        self.1.client_error(message);
    }
    fn ready(&mut self) -> Result<(), KprodError> {
        self.0.ready()?;
        self.1.ready()
    }
    fn verifying(&mut self) {
        self.0.verifying();
        self.1.verifying();
    }
    fn stop_requested(&self) -> Option<&str> {
        self.0.stop_requested().or_else(|| self.1.stop_requested())
    }
}
