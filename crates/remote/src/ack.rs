//! Which WAL position is fully acknowledged.
//!
//! Samples of one WAL record go to several shards and come back acknowledged in any order.
//! The watcher registers each record it enqueues samples from, with the number of samples
//! and the position just past the record; shards acknowledge per record. The acknowledged
//! position is the end of the longest prefix of registered records whose samples are all
//! done (sent, or dropped for good), or, when nothing is outstanding, the position of the
//! last record read. Persisting only that position makes a restart resend, never skip.

use std::collections::VecDeque;

use parking_lot::Mutex;

use crate::position::Position;

/// Per-record outstanding sample counts, in WAL order.
pub struct AckTracker {
    inner: Mutex<Inner>,
}

struct Inner {
    /// Sequence number of `marks[0]`.
    base: u64,
    /// (end of the record, samples not yet acknowledged).
    marks: VecDeque<(Position, u64)>,
    /// End of the last record read (all of it registered).
    read: Option<Position>,
    /// End of the last record whose samples and all before it are done.
    done: Option<Position>,
}

impl AckTracker {
    /// A tracker whose acknowledged position starts at `start` (`None`: unknown until the
    /// watcher reaches the place it starts sending from).
    pub fn new(start: Option<Position>) -> Self {
        AckTracker {
            inner: Mutex::new(Inner {
                base: 0,
                marks: VecDeque::new(),
                read: start,
                done: start,
            }),
        }
    }

    /// Registers a record ending at `end` with `count` samples about to be enqueued;
    /// returns the sequence number the samples carry.
    pub fn register(&self, end: Position, count: u64) -> u64 {
        if count == 0 {
            self.set_read(end);
            return u64::MAX;
        }
        let mut g = self.inner.lock();
        let seq = g.base + g.marks.len() as u64;
        g.marks.push_back((end, count));
        seq
    }

    /// Everything up to `end` has been read and registered.
    pub fn set_read(&self, end: Position) {
        let mut g = self.inner.lock();
        if g.read.is_some_and(|r| end <= r) {
            return;
        }
        g.read = Some(end);
        match g.marks.back_mut() {
            None => g.done = Some(end),
            // Records without samples complete as soon as everything before them does: a
            // trailing zero mark carries their end.
            Some((e, _)) if *e >= end => {}
            Some((e, 0)) => *e = end,
            Some(_) => g.marks.push_back((end, 0)),
        }
    }

    /// The position reading continues from (`None` before it is known).
    pub fn read_position(&self) -> Option<Position> {
        self.inner.lock().read
    }

    /// Acknowledges `n` samples of record `seq` for each `(seq, n)`.
    pub fn ack(&self, runs: &[(u64, u64)]) {
        let mut g = self.inner.lock();
        for &(seq, n) in runs {
            let Some(i) = seq.checked_sub(g.base) else {
                continue;
            };
            if let Some(m) = usize::try_from(i).ok().and_then(|i| g.marks.get_mut(i)) {
                m.1 = m.1.saturating_sub(n);
            }
        }
        while let Some(&(end, 0)) = g.marks.front() {
            g.marks.pop_front();
            g.base += 1;
            g.done = Some(end);
        }
        if g.marks.is_empty() {
            g.done = g.read.max(g.done);
        }
    }

    /// The position up to which everything is acknowledged.
    pub fn acked(&self) -> Option<Position> {
        self.inner.lock().done
    }

    /// Records still waiting for acknowledgements.
    pub fn outstanding(&self) -> usize {
        self.inner.lock().marks.len()
    }
}

/// Collapses the sequence numbers of a batch into `(seq, count)` runs.
pub fn runs(seqs: impl Iterator<Item = u64>, out: &mut Vec<(u64, u64)>) {
    out.clear();
    for s in seqs {
        match out.last_mut() {
            Some((last, n)) if *last == s => *n += 1,
            _ => out.push((s, 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(segment: u64, offset: u64) -> Position {
        Position { segment, offset }
    }

    #[test]
    fn advances_only_over_a_fully_acknowledged_prefix() {
        let t = AckTracker::new(Some(p(0, 0)));
        let a = t.register(p(0, 100), 3);
        t.set_read(p(0, 100));
        let b = t.register(p(0, 200), 2);
        t.set_read(p(0, 200));
        // A series record without samples.
        t.set_read(p(0, 250));
        assert_eq!(t.acked(), Some(p(0, 0)));
        // The later record completes first: nothing moves.
        t.ack(&[(b, 2)]);
        assert_eq!(t.acked(), Some(p(0, 0)));
        t.ack(&[(a, 2)]);
        assert_eq!(t.acked(), Some(p(0, 0)));
        t.ack(&[(a, 1)]);
        // Both done and nothing outstanding: up to the last record read.
        assert_eq!(t.acked(), Some(p(0, 250)));
        assert_eq!(t.outstanding(), 0);
        let c = t.register(p(1, 10), 1);
        t.set_read(p(1, 10));
        t.set_read(p(1, 20));
        assert_eq!(t.acked(), Some(p(0, 250)));
        t.ack(&[(c, 1)]);
        assert_eq!(t.acked(), Some(p(1, 20)));
    }

    #[test]
    fn partial_acks_stop_at_the_first_open_record() {
        let t = AckTracker::new(Some(p(3, 0)));
        let seqs: Vec<u64> = (1..=4).map(|i| t.register(p(3, i * 10), 1)).collect();
        t.set_read(p(3, 40));
        t.ack(&[(seqs[0], 1), (seqs[1], 1), (seqs[3], 1)]);
        assert_eq!(t.acked(), Some(p(3, 20)));
        // Unknown or stale sequence numbers are ignored.
        t.ack(&[(999, 1), (seqs[0], 1)]);
        assert_eq!(t.acked(), Some(p(3, 20)));
        t.ack(&[(seqs[2], 1)]);
        assert_eq!(t.acked(), Some(p(3, 40)));
    }

    #[test]
    fn unknown_start_stays_unknown_until_reading_starts() {
        let t = AckTracker::new(None);
        assert_eq!(t.acked(), None);
        t.set_read(p(5, 64));
        assert_eq!(t.acked(), Some(p(5, 64)));
        assert_eq!(t.read_position(), Some(p(5, 64)));
    }

    #[test]
    fn runs_collapse_consecutive_sequence_numbers() {
        let mut out = Vec::new();
        runs([1, 1, 2, 2, 2, 1, 5].into_iter(), &mut out);
        assert_eq!(out, [(1, 2), (2, 3), (1, 1), (5, 1)]);
    }

    proptest::proptest! {
        /// Against a model: the acknowledged position is the end of the last record before
        /// the first one with samples outstanding, whatever order the acks come in.
        #[test]
        fn never_passes_an_unacknowledged_record(
            counts in proptest::collection::vec(0u64..4, 1..30),
            order in proptest::collection::vec(proptest::prelude::any::<u16>(), 0..200),
        ) {
            let t = AckTracker::new(Some(p(0, 0)));
            let mut marks = Vec::new();
            let mut acks = Vec::new();
            for (i, &c) in counts.iter().enumerate() {
                let end = p(0, (i as u64 + 1) * 10);
                let seq = t.register(end, c);
                t.set_read(end);
                marks.push((end, c));
                for _ in 0..c {
                    acks.push((i, seq));
                }
            }
            let mut left: Vec<u64> = counts.clone();
            for k in order {
                if acks.is_empty() {
                    break;
                }
                let (i, seq) = acks.swap_remove(k as usize % acks.len());
                t.ack(&[(seq, 1)]);
                left[i] -= 1;
                let first_open = left.iter().position(|&n| n > 0);
                let want = match first_open {
                    None => marks.last().unwrap().0,
                    Some(0) => p(0, 0),
                    Some(j) => marks[j - 1].0,
                };
                proptest::prop_assert_eq!(t.acked(), Some(want));
            }
        }
    }
}
