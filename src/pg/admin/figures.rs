//! The numbers SHOW STATS and SHOW WORKERS print, from the same
//! [`Snapshot`] that INFO and /metrics print (so the three agree), and
//! the sliding window SHOW STATS' averages come from.
//!
//! Totals are since start. Averages are over the last
//! [`WINDOW`] (PgBouncer averages over its `stats_period`, 60 s by
//! default): each worker samples the PostgreSQL totals once a second in
//! its housekeeping tick, and a SHOW compares a fresh snapshot with the
//! oldest sample it kept. With metrics off, statement and transaction
//! counts and times stand still (as in /metrics); bytes still count.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::runtime::Shared;
use crate::stats::{Figures, Protocol, Snapshot};

/// How far back SHOW STATS' averages look.
pub const WINDOW: Duration = Duration::from_secs(10);
/// How often a worker samples.
const SAMPLE_INTERVAL: Duration = Duration::from_secs(1);
/// Samples kept: a full window and the one just past it.
const SAMPLES_MAX: usize = 11;

/// PostgreSQL totals of database `kv`. Console commands are not
/// statements (they are not counted); the console's bytes are in the byte
/// totals, which count per protocol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Transactions ended: blocks and implicit ones.
    pub xact_count: u64,
    /// Statements.
    pub query_count: u64,
    pub received_bytes: u64,
    pub sent_bytes: u64,
    pub xact_time_us: u64,
    pub query_time_us: u64,
}

impl Totals {
    pub fn of(total: &Figures) -> Totals {
        let pg = Protocol::Pg as usize;
        Totals {
            xact_count: total.pg_transactions,
            query_count: total.commands[pg],
            received_bytes: total.input_bytes[pg],
            sent_bytes: total.output_bytes[pg],
            xact_time_us: total.pg_transaction_time_ns / 1000,
            query_time_us: total.latency_ns[pg] / 1000,
        }
    }
}

/// PgBouncer's averages: rates per second, and mean durations (µs) of the
/// transactions and statements that ended in the window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Averages {
    pub xact_per_sec: u64,
    pub query_per_sec: u64,
    pub received_bytes_per_sec: u64,
    pub sent_bytes_per_sec: u64,
    pub xact_time_us: u64,
    pub query_time_us: u64,
}

impl Averages {
    /// From `old` to `new`, `elapsed` apart.
    pub fn between(old: &Totals, new: &Totals, elapsed: Duration) -> Averages {
        let ms = elapsed.as_millis().max(1) as u64;
        let per_sec = |old: u64, new: u64| new.saturating_sub(old).saturating_mul(1000) / ms;
        // Nothing ended in the window: no mean (0, as PgBouncer shows).
        let mean = |time_old: u64, time_new: u64, n_old: u64, n_new: u64| {
            time_new
                .saturating_sub(time_old)
                .checked_div(n_new.saturating_sub(n_old))
                .unwrap_or(0)
        };
        Averages {
            xact_per_sec: per_sec(old.xact_count, new.xact_count),
            query_per_sec: per_sec(old.query_count, new.query_count),
            received_bytes_per_sec: per_sec(old.received_bytes, new.received_bytes),
            sent_bytes_per_sec: per_sec(old.sent_bytes, new.sent_bytes),
            xact_time_us: mean(
                old.xact_time_us,
                new.xact_time_us,
                old.xact_count,
                new.xact_count,
            ),
            query_time_us: mean(
                old.query_time_us,
                new.query_time_us,
                old.query_count,
                new.query_count,
            ),
        }
    }
}

/// One worker's recent samples of the process-wide PostgreSQL totals
/// (owned by the worker: nothing shared, no lock).
#[derive(Debug)]
pub struct StatsWindow {
    samples: VecDeque<(Instant, Totals)>,
    next_sample: Instant,
}

impl StatsWindow {
    pub fn new(now: Instant) -> StatsWindow {
        StatsWindow {
            samples: VecDeque::with_capacity(SAMPLES_MAX),
            next_sample: now,
        }
    }

    /// The worker's housekeeping tick: a sample once a second.
    pub fn tick(&mut self, shared: &Shared, now: Instant) {
        if now < self.next_sample {
            return;
        }
        self.next_sample = now + SAMPLE_INTERVAL;
        self.record(now, Totals::of(&Snapshot::take(shared).total));
    }

    fn record(&mut self, at: Instant, totals: Totals) {
        if self.samples.len() == SAMPLES_MAX {
            self.samples.pop_front();
        }
        self.samples.push_back((at, totals));
    }

    /// Averages from the oldest sample within the window (or the oldest
    /// kept) to `now`; zeros before the first sample.
    pub fn averages(&self, now: Instant, current: &Totals) -> Averages {
        let oldest = self
            .samples
            .iter()
            .find(|(at, _)| now.saturating_duration_since(*at) <= WINDOW + SAMPLE_INTERVAL)
            .or(self.samples.back());
        match oldest {
            Some((at, old)) if now > *at => {
                Averages::between(old, current, now.saturating_duration_since(*at))
            }
            _ => Averages::default(),
        }
    }
}

/// One worker's row of SHOW WORKERS.
#[derive(Debug, Default)]
pub struct WorkerFigures {
    /// Open connections by protocol.
    pub connections: [u64; 3],
    pub connections_received: u64,
    pub connections_rejected: u64,
    /// Every protocol's commands, and by protocol (metrics only).
    pub commands: u64,
    pub commands_by_protocol: [u64; 3],
    /// Commands answered with an error (metrics only).
    pub failed_commands: u64,
    pub ops_per_sec: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub engine_commits: u64,
    pub engine_conflicts: u64,
    pub engine_aborts: u64,
}

impl WorkerFigures {
    pub fn of(figures: &Figures) -> WorkerFigures {
        WorkerFigures {
            connections: Protocol::ALL.map(|protocol| figures.open(protocol)),
            connections_received: figures.accepted.iter().sum(),
            connections_rejected: figures.rejected.iter().sum(),
            commands: figures.commands_processed,
            commands_by_protocol: figures.commands,
            failed_commands: figures.failed.iter().sum(),
            ops_per_sec: figures.ops_per_sec,
            net_input_bytes: figures.net_input_bytes,
            net_output_bytes: figures.net_output_bytes,
            engine_commits: figures.engine.commits,
            engine_conflicts: figures.engine.conflicts,
            engine_aborts: figures.engine.aborts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(queries: u64, query_time_us: u64, received: u64) -> Totals {
        Totals {
            query_count: queries,
            query_time_us,
            received_bytes: received,
            ..Totals::default()
        }
    }

    #[test]
    fn averages_are_rates_and_mean_durations() {
        let old = totals(100, 5_000, 1_000);
        let new = totals(300, 9_000, 21_000);
        let averages = Averages::between(&old, &new, Duration::from_secs(10));
        assert_eq!(averages.query_per_sec, 20);
        assert_eq!(averages.received_bytes_per_sec, 2_000);
        assert_eq!(averages.query_time_us, 20);
        // Nothing ended: no mean, not a division by zero.
        assert_eq!(averages.xact_time_us, 0);
    }

    #[test]
    fn the_window_starts_at_its_oldest_recent_sample() {
        let start = Instant::now();
        let mut window = StatsWindow::new(start);
        let now = start + Duration::from_secs(30);
        assert_eq!(window.averages(now, &totals(5, 0, 0)), Averages::default());
        for second in 0..=30u64 {
            window.record(
                start + Duration::from_secs(second),
                totals(second * 10, 0, 0),
            );
        }
        assert_eq!(window.samples.len(), SAMPLES_MAX);
        // From the sample 10 s back (200 queries) to now (400): 20/s.
        let averages = window.averages(now, &totals(400, 0, 0));
        assert_eq!(averages.query_per_sec, 20);
    }
}
