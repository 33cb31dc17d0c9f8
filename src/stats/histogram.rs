//! Latency histograms with fixed, log-spaced buckets (1-2.5-5 per decade,
//! 1 µs to 10 s, then +Inf), kept as plain per-bucket counts by their one
//! writer and made cumulative only when read (Prometheus `le` buckets).

use super::Counter;

/// Upper bounds of the buckets, in nanoseconds; an observation lands in
/// the first bucket whose bound is >= it, else in the +Inf bucket.
/// Sub-10 µs buckets are there because most corewire requests run in
/// under a microsecond.
pub const BOUNDS_NS: [u64; 22] = [
    1_000,
    2_500,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// Buckets including +Inf.
pub const BUCKETS: usize = BOUNDS_NS.len() + 1;

/// The bucket of an observation. A linear scan: requests under 1 µs (the
/// common case) stop at the first comparison.
#[inline]
pub fn bucket_of(elapsed_ns: u64) -> usize {
    let mut i = 0;
    while i < BOUNDS_NS.len() && elapsed_ns > BOUNDS_NS[i] {
        i += 1;
    }
    i
}

/// A bound as Prometheus writes `le`: seconds, shortest form.
pub fn le_label(bucket: usize) -> String {
    match BOUNDS_NS.get(bucket) {
        Some(&ns) => format_seconds(ns),
        None => "+Inf".into(),
    }
}

/// Nanoseconds as seconds in the shortest exact decimal (`0.0000025`).
pub fn format_seconds(ns: u64) -> String {
    let whole = ns / 1_000_000_000;
    let frac = ns % 1_000_000_000;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:09}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Per-bucket counts (not cumulative), summed over workers on read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Buckets(pub [u64; BUCKETS]);

impl Default for Buckets {
    fn default() -> Self {
        Buckets([0; BUCKETS])
    }
}

impl Buckets {
    pub fn read(counters: &[Counter; BUCKETS]) -> Buckets {
        Buckets(std::array::from_fn(|i| counters[i].get()))
    }

    pub fn add(&mut self, other: &Buckets) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a += b;
        }
    }

    pub fn count(&self) -> u64 {
        self.0.iter().sum()
    }

    /// Running totals: what each `le` bucket reports.
    pub fn cumulative(&self) -> [u64; BUCKETS] {
        let mut running = 0;
        std::array::from_fn(|i| {
            running += self.0[i];
            running
        })
    }

    /// The `q` quantile (0..=1) in nanoseconds, interpolated linearly
    /// inside its bucket as Prometheus's histogram_quantile does; one in
    /// the +Inf bucket reports the largest finite bound. None when empty.
    pub fn quantile_ns(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * total as f64;
        let mut below = 0u64;
        for (i, &n) in self.0.iter().enumerate() {
            if n > 0 && (below + n) as f64 >= rank {
                let Some(&upper) = BOUNDS_NS.get(i) else {
                    return Some(BOUNDS_NS[BOUNDS_NS.len() - 1] as f64);
                };
                let lower = if i == 0 { 0 } else { BOUNDS_NS[i - 1] };
                let within = ((rank - below as f64) / n as f64).clamp(0.0, 1.0);
                return Some(lower as f64 + (upper - lower) as f64 * within);
            }
            below += n;
        }
        Some(BOUNDS_NS[BOUNDS_NS.len() - 1] as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_at_or_above_them() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(1_000), 0);
        assert_eq!(bucket_of(1_001), 1);
        assert_eq!(bucket_of(10_000_000_000), BOUNDS_NS.len() - 1);
        assert_eq!(bucket_of(10_000_000_001), BOUNDS_NS.len());
        assert_eq!(bucket_of(u64::MAX), BOUNDS_NS.len());
        assert!(BOUNDS_NS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn le_labels_are_seconds() {
        assert_eq!(le_label(0), "0.000001");
        assert_eq!(le_label(1), "0.0000025");
        assert_eq!(le_label(18), "1");
        assert_eq!(le_label(19), "2.5");
        assert_eq!(le_label(BUCKETS - 1), "+Inf");
        assert_eq!(format_seconds(1_500_000_000), "1.5");
    }

    #[test]
    fn quantiles_interpolate_inside_a_bucket() {
        let mut buckets = Buckets::default();
        assert_eq!(buckets.quantile_ns(0.5), None);
        // 100 observations in (1 µs, 2.5 µs].
        buckets.0[1] = 100;
        assert_eq!(buckets.quantile_ns(0.5), Some(1_750.0));
        assert_eq!(buckets.quantile_ns(1.0), Some(2_500.0));
        buckets.0[BUCKETS - 1] = 100;
        assert_eq!(buckets.quantile_ns(0.99), Some(10_000_000_000.0));
        assert_eq!(buckets.cumulative()[BUCKETS - 1], 200);
    }
}
