//! Dropping persisted data from the head and garbage-collecting series left without data.

use std::sync::atomic::Ordering;

use tracing::info;

use super::Head;

/// What a truncation removed.
#[derive(Debug, Clone, Copy, Default)]
pub struct TruncateStats {
    /// Chunks dropped.
    pub chunks_removed: usize,
    /// Series garbage-collected.
    pub series_removed: usize,
}

/// Drops in-order data before `mint` and out-of-order samples before `mint` from commits up
/// to `max_id` (those were written to blocks), then removes empty series. The caller makes
/// sure no reader that could still need the data is open.
pub fn truncate_memory(head: &Head, mint: i64, max_id: u64) -> TruncateStats {
    let mut st = TruncateStats::default();
    head.metrics.head_truncations.inc();
    head.series.for_each(|s| {
        st.chunks_removed += s.data.lock().truncate_before(mint, max_id);
    });
    st.series_removed = gc(head);
    if head.min_time() < mint || head.min_time() == i64::MAX {
        head.set_min_time(mint);
    }
    head.metrics.head_chunks.sub(st.chunks_removed as i64);
    info!(
        mint,
        chunks_removed = st.chunks_removed,
        series_removed = st.series_removed,
        series_left = head.num_series(),
        "Head truncated."
    );
    st
}

/// Removes series that hold no data and have no pending appends. Returns how many.
pub fn gc(head: &Head) -> usize {
    let removed = head
        .series
        .remove_if(|s| s.pending.load(Ordering::SeqCst) == 0 && s.data.lock().is_empty());
    if !removed.is_empty() {
        let mut p = head.postings.write();
        for s in &removed {
            p.remove(s.r, &s.labels);
        }
    }
    head.metrics.series_removed.inc_by(removed.len() as u64);
    head.metrics.head_series.sub(removed.len() as i64);
    removed.len()
}
