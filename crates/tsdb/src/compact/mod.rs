//! Compaction: persisting the head into level-1 blocks, merging blocks, and the cycle that
//! runs both plus retention.
//!
//! Head persistence, step by step (the order is what makes it crash- and race-safe):
//! 1. Under the commit lock: raise the head's min valid time to `T` (in-order appends below
//!    it are refused from now on), roll the WAL to a new segment, and note the newest commit
//!    `M`. Every commit ≤ M is in the segments before the roll.
//! 2. Write a block per chunk range that holds head data below `T` as of `M` (in-order
//!    chunks and out-of-order samples).
//! 3. Publish the blocks and wait until no querier opened before them is left.
//! 4. Drop that data from memory and garbage-collect empty series.
//! 5. Checkpoint the WAL segments before the roll, keeping samples ≥ `T`.
//!
//! A crash anywhere leaves either the WAL (replayed; samples below a published block's end
//! are then refused as out of bounds, or with an out-of-order window re-flushed into an
//! overlapping block that the next merge deduplicates) or the blocks plus a shorter WAL.

pub mod plan;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use tracing::{error, info};

use crate::block::writer::{write_block, NewBlock};
use crate::block::Block;
use crate::db::DbInner;
use crate::error::Result;
use crate::head::read::HeadSeriesSource;
use crate::head::series::range_end;
use crate::head::truncate::truncate_memory;
use crate::head::Head;
use crate::querier::source::{MergedSeriesSet, SeriesSource};
use crate::wal::checkpoint::checkpoint;
use plan::{plan, PlanBlock};

/// One background cycle: persist the head when due, merge blocks, apply retention.
pub(crate) fn run_cycle(db: &DbInner) -> Result<()> {
    let _g = db.maintenance.lock();
    persist_head(db, false)?;
    compact_blocks(db)?;
    crate::retention::apply(db)?;
    Ok(())
}

/// Persists all head data now.
pub(crate) fn flush_all(db: &DbInner) -> Result<()> {
    let _g = db.maintenance.lock();
    persist_head(db, true)
}

/// Chunk-range starts that hold head data below `t`.
fn ranges_below(head: &Head, t: i64, range: i64) -> BTreeSet<i64> {
    let mut out = BTreeSet::new();
    let mut add = |x: i64| {
        if x < t {
            out.insert(x.div_euclid(range) * range);
        }
    };
    head.series.for_each(|s| {
        let d = s.data.lock();
        for c in &d.closed {
            add(c.mint);
            add(c.maxt.min(t - 1));
        }
        if let Some(o) = &d.open {
            add(o.mint);
            add(o.app.last_t().min(t - 1));
        }
        for o in &d.ooo {
            add(o.t);
        }
    });
    out
}

fn persist_head(db: &DbInner, all: bool) -> Result<()> {
    let head = &db.head;
    let range = db.opts.min_block_ms;
    loop {
        let (hmin, hmax) = (head.min_time(), head.max_time());
        let has_data = hmax != i64::MIN && hmin != i64::MAX;
        let compactable = has_data && hmax.saturating_sub(hmin) > range / 2 * 3;
        let t = if all {
            if has_data {
                hmax.saturating_add(1).max(head.min_valid_time())
            } else {
                head.min_valid_time()
            }
        } else if compactable {
            range_end(hmin, range)
        } else {
            head.min_valid_time()
        };
        if t == i64::MIN {
            return Ok(());
        }
        // Out-of-order data below `t` is flushed every cycle; in-order data once compactable.
        if !all && !compactable && (db.opts.out_of_order_window_ms == 0) {
            return Ok(());
        }
        let ranges = ranges_below(head, t, range);
        if ranges.is_empty() && !compactable && !all {
            return Ok(());
        }
        db.metrics.compactions_triggered.inc();
        let start = Instant::now();
        // Step 1: freeze.
        let (max_id, rolled) = {
            let mut c = head.commit.lock();
            head.set_min_valid_time(t);
            let rolled = match c.wal.as_mut() {
                Some(w) => {
                    w.roll()?;
                    Some(w.current_segment())
                }
                None => None,
            };
            (head.max_visible(), rolled)
        };
        // Step 2: write blocks (ranges recomputed: commits up to max_id are now in memory).
        let mut new_blocks = Vec::new();
        for r in ranges_below(head, t, range) {
            let end = (r + range).min(t);
            let series = head.select_series(&[])?;
            let src: Box<dyn SeriesSource> =
                Box::new(HeadSeriesSource::new(series, r, end - 1, max_id));
            let mut set = MergedSeriesSet::new(vec![src], r, end - 1, true, Arc::new(()));
            let nb = NewBlock {
                mint: r,
                maxt: end,
                level: 1,
                sources: Vec::new(),
                parents: Vec::new(),
                tight_mint: true,
            };
            let res = write_block(&db.dir, &nb, &mut set);
            match res {
                Ok(Some(meta)) => {
                    new_blocks.push(Arc::new(Block::open(&db.dir.join(&meta.ulid))?));
                }
                Ok(None) => {}
                Err(e) => {
                    db.metrics.compactions_failed.inc();
                    return Err(e);
                }
            }
        }
        let wrote = !new_blocks.is_empty();
        // Step 3: publish and wait for older readers.
        db.swap_blocks(&[], new_blocks, true);
        // Step 4: drop from memory.
        truncate_memory(head, t, max_id);
        if wrote {
            db.metrics.compactions.inc();
            db.metrics
                .compaction_duration
                .observe(start.elapsed().as_secs_f64());
        }
        // Step 5: checkpoint the WAL before the roll.
        if let Some(seg) = rolled {
            if seg > 0 {
                let keep = |r: u64| head.series.get_by_ref(r).is_some();
                if let Err(e) = checkpoint(&db.dir.join("wal"), seg - 1, &keep, t, &db.metrics.wal)
                {
                    error!(error = %e, "WAL checkpoint failed; it is retried after the next head compaction.");
                }
            }
        }
        db.update_block_metrics();
        if all || !compactable {
            return Ok(());
        }
    }
}

/// Merges blocks as long as the planner finds something to do.
pub(crate) fn compact_blocks(db: &DbInner) -> Result<()> {
    let ranges = db.opts.block_ranges();
    loop {
        let blocks = db.state.read().blocks.clone();
        let metas: Vec<PlanBlock> = blocks
            .iter()
            .map(|b| PlanBlock {
                ulid: b.meta().ulid.clone(),
                min_time: b.meta().min_time,
                max_time: b.meta().max_time,
                num_series: b.meta().stats.num_series,
                num_tombstones: b.tombstones().len() as u64,
            })
            .collect();
        let Some(ids) = plan(&metas, &ranges) else {
            return Ok(());
        };
        let chosen: Vec<Arc<Block>> = blocks
            .into_iter()
            .filter(|b| ids.contains(&b.meta().ulid))
            .collect();
        if let Err(e) = merge(db, &chosen) {
            db.metrics.compactions_failed.inc();
            return Err(e);
        }
    }
}

/// Writes the union of `blocks` (tombstones applied, duplicates dropped) as one block and
/// swaps it in.
pub(crate) fn merge(db: &DbInner, blocks: &[Arc<Block>]) -> Result<()> {
    let start = Instant::now();
    let (Some(mint), Some(maxt)) = (
        blocks.iter().map(|b| b.meta().min_time).min(),
        blocks.iter().map(|b| b.meta().max_time).max(),
    ) else {
        return Ok(());
    };
    let mut sources: Vec<Box<dyn SeriesSource>> = Vec::new();
    for b in blocks {
        sources.push(Box::new(b.source(&[], mint, maxt - 1)?));
    }
    let pin: Arc<dyn Send + Sync> = Arc::new(blocks.to_vec());
    let mut set = MergedSeriesSet::new(sources, mint, maxt - 1, true, pin);
    let mut srcs: BTreeSet<String> = BTreeSet::new();
    for b in blocks {
        srcs.extend(b.meta().compaction.sources.iter().cloned());
    }
    let nb = NewBlock {
        mint,
        maxt,
        level: blocks
            .iter()
            .map(|b| b.meta().compaction.level)
            .max()
            .unwrap_or(1)
            + 1,
        sources: srcs.into_iter().collect(),
        parents: blocks.iter().map(|b| b.meta().ulid.clone()).collect(),
        tight_mint: false,
    };
    let meta = write_block(&db.dir, &nb, &mut set)?;
    let added = match &meta {
        Some(m) => vec![Arc::new(Block::open(&db.dir.join(&m.ulid))?)],
        None => Vec::new(),
    };
    let parents: Vec<String> = blocks.iter().map(|b| b.meta().ulid.clone()).collect();
    drop(set);
    db.swap_blocks(&parents, added, false);
    db.metrics.compactions.inc();
    db.metrics
        .compaction_duration
        .observe(start.elapsed().as_secs_f64());
    info!(
        parents = ?parents,
        result = ?meta.map(|m| m.ulid),
        mint,
        maxt,
        duration = ?start.elapsed(),
        "Blocks compacted."
    );
    Ok(())
}
