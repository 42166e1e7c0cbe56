//! `consumers.cpus`: the consumers run on CPUs of their own, so a benchmark with consumers
//! can give the producers the same share of the machine as one without. librdkafka starts
//! a client's threads from the thread that creates it (and they start the rest), and a new
//! thread inherits its creator's CPU mask; so pinning the creating thread while the
//! consumers are made pins them all, and the guard gives that thread its mask back.

use crate::error::{ConfigError, KprodError};
use std::mem::MaybeUninit;

/// The calling thread's CPU mask from before [`pin_current_thread`]; restored on drop.
pub struct Pinned {
    saved: libc::cpu_set_t,
}

/// Pins the calling thread (and every thread it starts from now on) to `cpus`.
pub fn pin_current_thread(cpus: &[u32]) -> Result<Pinned, KprodError> {
    let online = configured_cpus();
    if let Some(bad) = cpus
        .iter()
        .find(|&&c| c >= online || c as usize >= set_capacity())
    {
        return Err(ConfigError::new(format!(
            "CPU {bad} does not exist on this machine (it has {online}: 0-{})",
            online.saturating_sub(1)
        ))
        .key("consumers.cpus")
        .fix("name CPUs this machine has (see nproc / lscpu)")
        .into());
    }
    let saved = current_mask()?;
    // SAFETY: cpu_set_t is plain data; CPU_ZERO/CPU_SET write within it (checked above).
    let mut set = unsafe {
        let mut s = MaybeUninit::<libc::cpu_set_t>::zeroed().assume_init();
        libc::CPU_ZERO(&mut s);
        for &c in cpus {
            libc::CPU_SET(c as usize, &mut s);
        }
        s
    };
    set_mask(&mut set).map_err(|e| {
        KprodError::from(
            ConfigError::new(format!("cannot run on CPUs {cpus:?}: {e}"))
                .key("consumers.cpus")
                .fix("name CPUs this process may use (a container or cgroup may limit them)"),
        )
    })?;
    Ok(Pinned { saved })
}

impl Drop for Pinned {
    fn drop(&mut self) {
        // A mask the thread had a moment ago: setting it back cannot fail for want of CPUs.
        let _ = set_mask(&mut self.saved);
    }
}

/// The CPUs the calling thread may run on.
pub fn current_cpus() -> Result<Vec<u32>, KprodError> {
    let mask = current_mask()?;
    // SAFETY: CPU_ISSET reads within the set for indices below its capacity.
    Ok((0..set_capacity())
        .filter(|&c| unsafe { libc::CPU_ISSET(c, &mask) })
        .map(|c| c as u32)
        .collect())
}

fn set_capacity() -> usize {
    8 * std::mem::size_of::<libc::cpu_set_t>()
}

fn configured_cpus() -> u32 {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) };
    u32::try_from(n).unwrap_or(1).max(1)
}

fn current_mask() -> Result<libc::cpu_set_t, KprodError> {
    // SAFETY: the set is zeroed plain data of the size passed; pid 0 = the calling thread.
    unsafe {
        let mut s = MaybeUninit::<libc::cpu_set_t>::zeroed().assume_init();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut s) != 0 {
            return Err(KprodError::io(
                "reading the thread's CPU mask",
                std::io::Error::last_os_error(),
            ));
        }
        Ok(s)
    }
}

fn set_mask(set: &mut libc::cpu_set_t) -> Result<(), std::io::Error> {
    // SAFETY: set is a valid cpu_set_t of the size passed; pid 0 = the calling thread.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_started_while_pinned_inherit_the_mask_and_the_caller_gets_its_own_back() {
        std::thread::spawn(|| {
            let before = current_cpus().expect("mask");
            let first = before[0];
            let pinned = pin_current_thread(&[first]).expect("pin");
            assert_eq!(current_cpus().expect("mask"), [first]);
            let child = std::thread::spawn(current_cpus).join().expect("join");
            assert_eq!(child.expect("mask"), [first]);
            drop(pinned);
            assert_eq!(current_cpus().expect("mask"), before);
        })
        .join()
        .expect("test thread");
    }

    #[test]
    fn a_cpu_the_machine_lacks_is_a_config_error_naming_the_key() {
        let e = pin_current_thread(&[100_000]).err().expect("refused");
        let text = e.to_string();
        assert!(text.contains("CPU 100000 does not exist"), "{text}");
        assert!(text.contains("consumers.cpus"), "{text}");
    }
}
