//! Waking a paced producer the moment a delivery report arrives, with µs precision.
//!
//! Between two sends a paced producer waits. `rd_kafka_queue_poll` waits in whole
//! milliseconds, so for the last few ms before a send the worker used to sleep, and a
//! delivery report arriving then was recorded only when the sleep ended: at 1,000
//! records/s that added up to 1 ms (0.5 ms on average) to corrected latency, a bias the
//! latency breakdown showed as unexplained time. Here librdkafka writes a byte to a pipe
//! whenever the producer's event queue goes from empty to non-empty
//! (`rd_kafka_queue_io_event_enable`), and the worker waits on that pipe with `ppoll`,
//! whose timeout is in nanoseconds: it wakes for a report at once and for its next send on
//! time. The write happens only on the empty → non-empty edge, so the worker must have
//! emptied the queue before it waits (see `engine::worker`).

use rdkafka_sys as rdsys;
use std::ffi::c_void;

/// The pipe and the queue it is attached to. Dropped (detached, then closed) by
/// `NativeProducer` before it destroys the queue, so librdkafka never writes to a closed
/// or reused descriptor.
pub struct Wakeup {
    queue: *mut rdsys::rd_kafka_queue_t,
    read_fd: libc::c_int,
    write_fd: libc::c_int,
}

impl Wakeup {
    /// Attach a new non-blocking pipe to `queue`; None when the system gives no pipe
    /// (the worker then falls back to millisecond polls and short sleeps).
    ///
    /// # Safety
    /// `queue` must be a live queue handle that outlives the returned value.
    pub unsafe fn attach(queue: *mut rdsys::rd_kafka_queue_t) -> Option<Wakeup> {
        let mut fds = [0 as libc::c_int; 2];
        if libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) != 0 {
            return None;
        }
        const BYTE: [u8; 1] = [1];
        // librdkafka keeps its own copy of the payload.
        rdsys::rd_kafka_queue_io_event_enable(queue, fds[1], BYTE.as_ptr() as *const c_void, 1);
        Some(Wakeup {
            queue,
            read_fd: fds[0],
            write_fd: fds[1],
        })
    }

    /// Wait until librdkafka signals an event or `timeout_ns` has passed. Returns true
    /// when it was woken by an event (the signal is consumed).
    pub fn wait(&self, timeout_ns: u64) -> bool {
        let mut pfd = libc::pollfd {
            fd: self.read_fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ts = libc::timespec {
            tv_sec: (timeout_ns / 1_000_000_000) as libc::time_t,
            tv_nsec: (timeout_ns % 1_000_000_000) as libc::c_long,
        };
        // SAFETY: one valid pollfd, a valid timespec, no signal mask change.
        let n = unsafe { libc::ppoll(&mut pfd, 1, &ts, std::ptr::null()) };
        if n <= 0 {
            return false;
        }
        let mut buf = [0u8; 64];
        // SAFETY: reading into our own buffer from our own non-blocking pipe; the loop
        // ends at EAGAIN (or any error).
        while unsafe { libc::read(self.read_fd, buf.as_mut_ptr() as *mut c_void, buf.len()) } > 0 {}
        true
    }
}

impl Drop for Wakeup {
    fn drop(&mut self) {
        // SAFETY: the queue is still live (NativeProducer drops this first); fd -1
        // detaches the pipe before it is closed.
        unsafe {
            rdsys::rd_kafka_queue_io_event_enable(self.queue, -1, std::ptr::null(), 0);
            libc::close(self.read_fd);
            libc::close(self.write_fd);
        }
    }
}
