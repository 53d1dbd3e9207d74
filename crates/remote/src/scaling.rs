//! How many shards a queue should run.
//!
//! The idea is Prometheus' (`storage/remote/queue_manager.go` `calculateDesiredShards`):
//! every update interval, the rates of samples read, samples sent and seconds spent sending
//! are smoothed with an EWMA. Sending a sample costs `send_seconds / samples_out` of shard
//! time, so keeping up with the input needs that times `samples_in` shards, and a backlog of
//! `lag` seconds of input is worked off at 5% per second on top. The count only changes when
//! the wish moves more than 30% away from the current count, so it does not flap, and stays
//! within `min_shards..=max_shards`.
//!
//! Catching up a WAL backlog makes the lag large and the read rate equal to the send rate,
//! so the queue grows towards `max_shards` until the backlog is gone.

/// Smoothing weight of a new interval's rate (Prometheus' `ewmaWeight`).
pub const EWMA_WEIGHT: f64 = 0.2;

/// The wish must leave `current × (1 ± this)` before the count changes.
pub const TOLERANCE: f64 = 0.3;

/// Share of the backlog to work off per second.
const BACKLOG_CATCHUP: f64 = 0.05;

/// An exponentially weighted moving average of a per-second rate.
#[derive(Debug, Clone, Default)]
pub struct Ewma {
    rate: Option<f64>,
}

impl Ewma {
    /// Folds in `count` events seen over `secs` seconds.
    pub fn update(&mut self, count: f64, secs: f64) {
        if secs <= 0.0 {
            return;
        }
        let r = count / secs;
        self.rate = Some(match self.rate {
            None => r,
            Some(old) => old + EWMA_WEIGHT * (r - old),
        });
    }

    /// The smoothed rate (0 before the first update).
    pub fn rate(&self) -> f64 {
        self.rate.unwrap_or(0.0)
    }
}

/// The smoothed inputs of one decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// Samples read from the WAL and enqueued, per second.
    pub samples_in: f64,
    /// Samples sent (or dropped for good), per second.
    pub samples_out: f64,
    /// Seconds of send calls per second, summed over shards.
    pub send_seconds: f64,
    /// How far the sent data lags behind the data there is to send, in seconds.
    pub lag_seconds: f64,
}

/// The unclamped number of shards the rates call for.
pub fn desired(r: &Rates) -> f64 {
    if r.samples_out <= 0.0 || r.send_seconds <= 0.0 {
        return 0.0;
    }
    let per_sample = r.send_seconds / r.samples_out;
    let backlog = r.lag_seconds.max(0.0) * r.samples_in * BACKLOG_CATCHUP;
    per_sample * (r.samples_in + backlog)
}

/// The shard count to switch to, or `None` to keep `current`.
pub fn next_shards(current: usize, wish: f64, min: usize, max: usize) -> Option<usize> {
    if wish.is_nan() {
        return None;
    }
    let cur = current as f64;
    if wish >= cur * (1.0 - TOLERANCE) && wish <= cur * (1.0 + TOLERANCE) {
        return None;
    }
    // Float to count saturates (infinity becomes usize::MAX) and is clamped right after.
    let n = if wish > 0.0 { wish.ceil() as usize } else { 0 };
    let n = n.clamp(min.max(1), max.max(min.max(1)));
    (n != current).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ewma_starts_at_the_first_rate_and_moves_by_a_fifth() {
        let mut e = Ewma::default();
        assert_eq!(e.rate(), 0.0);
        e.update(100.0, 10.0);
        assert_eq!(e.rate(), 10.0);
        e.update(200.0, 10.0);
        assert!((e.rate() - 12.0).abs() < 1e-9);
        e.update(5.0, 0.0);
        assert!((e.rate() - 12.0).abs() < 1e-9);
    }

    #[test]
    fn keeping_up_needs_busy_time_only() {
        // 10k samples/s, each batch of 2000 takes 100 ms: 0.5 s of sending per second.
        let r = Rates {
            samples_in: 10_000.0,
            samples_out: 10_000.0,
            send_seconds: 0.5,
            lag_seconds: 0.0,
        };
        assert!((desired(&r) - 0.5).abs() < 1e-9);
        assert_eq!(next_shards(1, desired(&r), 1, 50), None);
        assert_eq!(next_shards(4, desired(&r), 1, 50), Some(1));
    }

    #[test]
    fn a_backlog_scales_up_to_max_shards() {
        // One saturated shard, one hour behind.
        let r = Rates {
            samples_in: 50_000.0,
            samples_out: 50_000.0,
            send_seconds: 1.0,
            lag_seconds: 3600.0,
        };
        assert!((desired(&r) - 181.0).abs() < 1e-6);
        assert_eq!(next_shards(1, desired(&r), 1, 50), Some(50));
        // Ten seconds behind: 1.5 shards; four is too many, two is close enough.
        let r = Rates {
            lag_seconds: 10.0,
            ..r
        };
        assert_eq!(next_shards(4, desired(&r), 1, 50), Some(2));
        assert_eq!(next_shards(2, desired(&r), 1, 50), None);
    }

    #[test]
    fn idle_or_failing_queues_fall_back_to_min_shards() {
        let idle = Rates {
            samples_in: 0.0,
            samples_out: 0.0,
            send_seconds: 0.0,
            lag_seconds: 0.0,
        };
        assert_eq!(desired(&idle), 0.0);
        assert_eq!(next_shards(8, desired(&idle), 2, 10), Some(2));
        assert_eq!(next_shards(2, desired(&idle), 2, 10), None);
        assert_eq!(next_shards(1, f64::NAN, 1, 10), None);
        assert_eq!(next_shards(3, f64::INFINITY, 1, 10), Some(10));
    }
}
