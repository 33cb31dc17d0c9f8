//! Failed-login rate limiting per client address, shared by every worker
//! and protocol: `auth-failure-limit` failures within
//! `auth-failure-window-ms` block further attempts from that address,
//! correct ones included, until a window has passed since the block.
//!
//! The table is touched only by a failure, or by an attempt while some
//! address is blocked (an atomic count says whether any is): a login with
//! nothing blocked, and every ordinary request, take no lock.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Addresses remembered at most; past it one is forgotten: the least
/// recently failed of those not blocked, else of all.
pub const MAX_ADDRESSES: usize = 4096;

struct Entry {
    /// Start of the current counting window.
    window_start: Instant,
    failures: u32,
    /// Refused until then.
    blocked_until: Option<Instant>,
    last_failure: Instant,
}

pub struct Limiter {
    /// 0: off.
    limit: AtomicU32,
    window_ms: AtomicU64,
    /// Entries with `blocked_until` set (expired ones included until they
    /// are looked at): 0 lets an attempt skip the table.
    blocked: AtomicUsize,
    table: Mutex<HashMap<IpAddr, Entry>>,
}

impl Limiter {
    pub fn new(limit: u32, window_ms: u64) -> Limiter {
        Limiter {
            limit: AtomicU32::new(limit),
            window_ms: AtomicU64::new(window_ms),
            blocked: AtomicUsize::new(0),
            table: Mutex::new(HashMap::new()),
        }
    }

    pub fn configure(&self, limit: u32, window_ms: u64) {
        self.limit.store(limit, Relaxed);
        self.window_ms.store(window_ms, Relaxed);
        if limit == 0 {
            self.table.lock().clear();
            self.blocked.store(0, Relaxed);
        }
    }

    fn window(&self) -> Duration {
        Duration::from_millis(self.window_ms.load(Relaxed))
    }

    /// Whether `ip` may try to log in now; Err: how long it stays blocked.
    pub fn check(&self, ip: Option<IpAddr>) -> Result<(), Duration> {
        self.check_at(ip, Instant::now())
    }

    fn check_at(&self, ip: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        let Some(ip) = ip else { return Ok(()) };
        if self.limit.load(Relaxed) == 0 || self.blocked.load(Relaxed) == 0 {
            return Ok(());
        }
        let mut table = self.table.lock();
        let Some(entry) = table.get_mut(&canonical(ip)) else {
            return Ok(());
        };
        match entry.blocked_until {
            Some(until) if until > now => Err(until - now),
            Some(_) => {
                // The block is over: start counting afresh.
                table.remove(&canonical(ip));
                self.blocked.fetch_sub(1, Relaxed);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Counts a failed login from `ip`; true when this failure blocks it.
    pub fn failure(&self, ip: Option<IpAddr>) -> bool {
        self.failure_at(ip, Instant::now())
    }

    fn failure_at(&self, ip: Option<IpAddr>, now: Instant) -> bool {
        let Some(ip) = ip else { return false };
        let limit = self.limit.load(Relaxed);
        if limit == 0 {
            return false;
        }
        let window = self.window();
        let ip = canonical(ip);
        let mut table = self.table.lock();
        if !table.contains_key(&ip) && table.len() >= MAX_ADDRESSES {
            self.evict_oldest(&mut table);
        }
        let entry = table.entry(ip).or_insert(Entry {
            window_start: now,
            failures: 0,
            blocked_until: None,
            last_failure: now,
        });
        entry.last_failure = now;
        if entry.blocked_until.is_some() {
            // Refused attempts do not extend the block.
            return false;
        }
        if now.duration_since(entry.window_start) >= window {
            entry.window_start = now;
            entry.failures = 0;
        }
        entry.failures += 1;
        if entry.failures >= limit {
            entry.blocked_until = Some(now + window);
            self.blocked.fetch_add(1, Relaxed);
            return true;
        }
        false
    }

    fn evict_oldest(&self, table: &mut HashMap<IpAddr, Entry>) {
        let oldest = table
            .iter()
            // Unblocked addresses go first, then the least recent.
            .min_by_key(|(_, entry)| (entry.blocked_until.is_some(), entry.last_failure))
            .map(|(ip, entry)| (*ip, entry.blocked_until.is_some()));
        if let Some((ip, was_blocked)) = oldest {
            table.remove(&ip);
            if was_blocked {
                self.blocked.fetch_sub(1, Relaxed);
            }
        }
    }

    /// Addresses in the table (tests, SHOW-style figures).
    pub fn len(&self) -> usize {
        self.table.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// IPv4-mapped IPv6 addresses count as their IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_and_recovers_after_the_window() {
        let limiter = Limiter::new(3, 1000);
        let ip = Some(IpAddr::from([10, 0, 0, 1]));
        let other = Some(IpAddr::from([10, 0, 0, 2]));
        let t0 = Instant::now();
        assert!(!limiter.failure_at(ip, t0));
        assert!(!limiter.failure_at(ip, t0));
        assert_eq!(limiter.check_at(ip, t0), Ok(()));
        assert!(limiter.failure_at(ip, t0));
        assert!(limiter
            .check_at(ip, t0 + Duration::from_millis(10))
            .is_err());
        assert_eq!(limiter.check_at(other, t0), Ok(()));
        // Refused attempts do not extend the block.
        assert!(!limiter.failure_at(ip, t0 + Duration::from_millis(500)));
        assert!(limiter
            .check_at(ip, t0 + Duration::from_millis(999))
            .is_err());
        assert_eq!(
            limiter.check_at(ip, t0 + Duration::from_millis(1000)),
            Ok(())
        );
        assert_eq!(limiter.blocked.load(Relaxed), 0);
        // Failures spread over more than a window do not add up.
        let t1 = t0 + Duration::from_secs(10);
        limiter.failure_at(ip, t1);
        limiter.failure_at(ip, t1);
        assert!(!limiter.failure_at(ip, t1 + Duration::from_millis(1500)));
    }

    #[test]
    fn the_table_is_bounded_and_off_means_off() {
        let limiter = Limiter::new(1, 60_000);
        let t0 = Instant::now();
        for i in 0..(MAX_ADDRESSES as u32 + 10) {
            limiter.failure_at(
                Some(IpAddr::from(i.to_be_bytes())),
                t0 + Duration::from_micros(i as u64),
            );
        }
        assert_eq!(limiter.len(), MAX_ADDRESSES);
        assert_eq!(limiter.blocked.load(Relaxed), MAX_ADDRESSES);
        // The oldest went first.
        assert_eq!(
            limiter.check_at(Some(IpAddr::from([0, 0, 0, 0])), t0),
            Ok(())
        );
        limiter.configure(0, 60_000);
        assert!(limiter.is_empty());
        assert!(!limiter.failure_at(Some(IpAddr::from([1, 1, 1, 1])), t0));
    }
}
