//! Counters. Each worker owns one `WorkerStats` and is its only writer, so
//! a bump is a plain relaxed load and store: no locked instruction and no
//! contended cache line on the request path. Readers (INFO) sum all workers.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// One worker's counters, on a cache line of its own.
#[derive(Default)]
#[repr(align(128))]
pub struct WorkerStats {
    pub connections_received: Counter,
    pub connections_rejected: Counter,
    pub connected_clients: Counter,
    pub commands_processed: Counter,
    pub net_input_bytes: Counter,
    pub net_output_bytes: Counter,
    pub keyspace_hits: Counter,
    pub keyspace_misses: Counter,
    /// Keys the active expiry cycle reclaimed.
    pub expired_keys: Counter,
    pub error_replies: Counter,
    pub protocol_errors: Counter,
    pub output_limit_disconnects: Counter,
    pub query_limit_disconnects: Counter,
}

/// A counter with a single writer.
#[derive(Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Only the owning worker may call this.
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }

    /// Only the owning worker may call this.
    #[inline]
    pub fn sub(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_sub(n), Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// Sums one field over all workers.
pub fn total(workers: &[WorkerStats], field: impl Fn(&WorkerStats) -> &Counter) -> u64 {
    workers.iter().map(|w| field(w).get()).sum()
}

/// Operations per second over the last sample window, kept by worker 0's
/// housekeeping tick (Redis samples every 100 ms over 16 samples).
pub struct OpsRate {
    samples: [u64; 16],
    next: usize,
    last_commands: u64,
    last_ms: u64,
}

impl OpsRate {
    pub fn new() -> OpsRate {
        OpsRate {
            samples: [0; 16],
            next: 0,
            last_commands: 0,
            last_ms: 0,
        }
    }

    /// Records a sample; `commands` is the process-wide total so far.
    pub fn sample(&mut self, now_ms: u64, commands: u64) {
        if self.last_ms != 0 && now_ms > self.last_ms {
            let per_sec = (commands - self.last_commands) * 1000 / (now_ms - self.last_ms);
            self.samples[self.next] = per_sec;
            self.next = (self.next + 1) % self.samples.len();
        }
        self.last_commands = commands;
        self.last_ms = now_ms;
    }

    pub fn per_sec(&self) -> u64 {
        self.samples.iter().sum::<u64>() / self.samples.len() as u64
    }
}

impl Default for OpsRate {
    fn default() -> Self {
        OpsRate::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_sum_every_worker() {
        let workers: Vec<WorkerStats> = (0..3).map(|_| WorkerStats::default()).collect();
        workers[0].commands_processed.add(2);
        workers[2].commands_processed.add(5);
        workers[2].connected_clients.add(3);
        workers[2].connected_clients.sub(1);
        assert_eq!(total(&workers, |w| &w.commands_processed), 7);
        assert_eq!(total(&workers, |w| &w.connected_clients), 2);
    }

    #[test]
    fn ops_rate_averages_samples() {
        let mut rate = OpsRate::new();
        rate.sample(1000, 0);
        for i in 1..=16 {
            rate.sample(1000 + i * 100, i * 100);
        }
        assert_eq!(rate.per_sec(), 1000);
    }
}
