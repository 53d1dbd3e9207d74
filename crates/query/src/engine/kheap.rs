//! The candidate heap of `topk`/`bottomk`, sifting exactly as Go's `container/heap` does in
//! Prometheus' `aggregationK`.
//!
//! Which of several equal values end up in the result depends on the heap's internal order:
//! a newcomer replaces the root (the current worst) only when it is strictly better, and
//! among equal worst values the root is whichever the sift operations put there. Mirroring
//! the same sift steps and comparison makes ties resolve to the same series as Prometheus 3.

/// A candidate: (input series index, value).
pub(crate) type Entry = (usize, f64);

/// The heap's "less" of Prometheus: `vectorByValueHeap` for topk (smallest on top, NaN
/// below everything), `vectorByReverseValueHeap` for bottomk (largest on top, NaN too).
fn less(top: bool, a: f64, b: f64) -> bool {
    a.is_nan() || if top { a < b } else { a > b }
}

fn value(h: &[Entry], i: usize) -> f64 {
    h.get(i).map_or(f64::NAN, |e| e.1)
}

fn up(h: &mut [Entry], mut j: usize, top: bool) {
    while j > 0 {
        let parent = (j - 1) / 2;
        if !less(top, value(h, j), value(h, parent)) {
            break;
        }
        h.swap(parent, j);
        j = parent;
    }
}

fn down(h: &mut [Entry], i0: usize, top: bool) -> bool {
    let n = h.len();
    let mut i = i0;
    loop {
        let left = 2 * i + 1;
        if left >= n {
            break;
        }
        let mut j = left;
        let right = left + 1;
        if right < n && less(top, value(h, right), value(h, left)) {
            j = right;
        }
        if !less(top, value(h, j), value(h, i)) {
            break;
        }
        h.swap(i, j);
        i = j;
    }
    i > i0
}

/// Offers one sample to a group's heap of at most `k` entries.
pub(crate) fn offer(h: &mut Vec<Entry>, k: usize, e: Entry, top: bool) {
    if h.len() < k {
        h.push(e);
        let last = h.len() - 1;
        up(h, last, top);
        return;
    }
    let Some(root) = h.first().map(|r| r.1) else {
        return;
    };
    let beats = if top { root < e.1 } else { root > e.1 };
    // A NaN on top gives way to any number, but not to another NaN.
    if beats || (root.is_nan() && !e.1.is_nan()) {
        if let Some(r) = h.first_mut() {
            *r = e;
        }
        if k > 1 && !down(h, 0, top) {
            up(h, 0, top);
        }
    }
}

/// Puts the kept entries in result order: best first (Go sorts the heap with the reversed
/// "less"; for the small heaps of practice that is an insertion sort, which keeps the heap
/// order of ties, as the stable sort here does). NaN goes last.
pub(crate) fn finish(h: &mut [Entry], top: bool) {
    h.sort_by(|a, b| {
        let better = |x: f64, y: f64| less(top, y, x) && !x.is_nan();
        if better(a.1, b.1) {
            std::cmp::Ordering::Less
        } else if better(b.1, a.1) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(vals: &[f64], k: usize, top: bool) -> Vec<usize> {
        let mut h = Vec::new();
        for (i, v) in vals.iter().enumerate() {
            offer(&mut h, k, (i, *v), top);
        }
        finish(&mut h, top);
        h.iter().map(|e| e.0).collect()
    }

    #[test]
    fn keeps_the_largest_and_orders_them() {
        assert_eq!(run(&[1.0, 5.0, 3.0, 4.0], 2, true), vec![1, 3]);
        assert_eq!(run(&[1.0, 5.0, 3.0, 4.0], 2, false), vec![0, 2]);
    }

    #[test]
    fn nan_only_when_needed_and_not_churned() {
        assert_eq!(run(&[f64::NAN, 2.0, 1.0], 2, true), vec![1, 2]);
        // A NaN on top is not replaced by another NaN.
        assert_eq!(run(&[46.0, f64::NAN, f64::NAN], 2, true), vec![0, 1]);
        assert_eq!(run(&[f64::NAN, 2.0, 1.0], 2, false), vec![2, 1]);
    }

    #[test]
    fn ties_follow_the_heap() {
        // [a=3, b=3] then 4 replaces the root a; the heap is then [b, c].
        assert_eq!(run(&[3.0, 3.0, 4.0], 2, true), vec![2, 1]);
    }
}
