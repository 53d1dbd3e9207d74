//! Which blocks to merge next, following Prometheus' `LeveledCompactor.Plan`:
//!
//! 1. Overlapping blocks (out-of-order data, snapshots restored next to live blocks) are
//!    merged first ("vertical compaction").
//! 2. Otherwise, leaving out the newest block (so a freshly cut block can be backed up before
//!    it is merged), blocks that together fill an aligned range of the next level are merged
//!    ("leveled compaction": 2 h → 6 h → 18 h → ...). A range that is not yet full is merged
//!    only once a newer block exists after it.
//! 3. Otherwise, a block whose tombstones cover more than 5% of its series is rewritten.

/// What the planner needs to know about a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanBlock {
    /// ULID.
    pub ulid: String,
    /// Inclusive start.
    pub min_time: i64,
    /// Exclusive end.
    pub max_time: i64,
    /// Series count.
    pub num_series: u64,
    /// Series with tombstones.
    pub num_tombstones: u64,
}

/// The blocks to merge next (ULIDs), or `None`.
pub fn plan(blocks: &[PlanBlock], ranges: &[i64]) -> Option<Vec<String>> {
    let mut ds: Vec<&PlanBlock> = blocks.iter().collect();
    ds.sort_by(|a, b| (a.min_time, &a.ulid).cmp(&(b.min_time, &b.ulid)));

    if let Some(g) = overlapping(&ds) {
        return Some(g);
    }
    // Never touch the newest block in leveled compaction.
    let newest_excluded: Vec<&PlanBlock> = ds
        .iter()
        .take(ds.len().saturating_sub(1))
        .copied()
        .collect();
    if let Some(g) = select_dirs(&newest_excluded, ranges) {
        return Some(g.iter().map(|b| b.ulid.clone()).collect());
    }
    for b in newest_excluded.iter().rev() {
        if b.num_series > 0 && b.num_tombstones * 20 > b.num_series {
            return Some(vec![b.ulid.clone()]);
        }
    }
    None
}

/// The first group of blocks whose ranges overlap, if any.
fn overlapping(ds: &[&PlanBlock]) -> Option<Vec<String>> {
    let mut group: Vec<String> = Vec::new();
    let mut group_max = i64::MIN;
    for b in ds {
        if !group.is_empty() && b.min_time < group_max {
            group.push(b.ulid.clone());
            group_max = group_max.max(b.max_time);
            continue;
        }
        if group.len() > 1 {
            return Some(group);
        }
        group = vec![b.ulid.clone()];
        group_max = b.max_time;
    }
    (group.len() > 1).then_some(group)
}

/// Groups of blocks that fall into the same aligned range of size `tr`.
fn split_by_range<'a>(ds: &[&'a PlanBlock], tr: i64) -> Vec<Vec<&'a PlanBlock>> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(m) = ds.get(i) {
        let t0 = m.min_time.div_euclid(tr) * tr;
        if m.max_time > t0 + tr {
            i += 1;
            continue;
        }
        let mut group = Vec::new();
        while let Some(b) = ds.get(i) {
            if b.max_time > t0 + tr {
                break;
            }
            group.push(*b);
            i += 1;
        }
        if !group.is_empty() {
            out.push(group);
        }
    }
    out
}

fn select_dirs<'a>(ds: &[&'a PlanBlock], ranges: &[i64]) -> Option<Vec<&'a PlanBlock>> {
    let high = ds.last()?.min_time;
    for &iv in ranges.iter().skip(1) {
        for p in split_by_range(ds, iv) {
            let (Some(first), Some(last)) = (p.first(), p.last()) else {
                continue;
            };
            let (mint, maxt) = (first.min_time, last.max_time);
            if (maxt - mint == iv || maxt <= high) && p.len() > 1 {
                return Some(p);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn b(id: &str, min: i64, max: i64) -> PlanBlock {
        PlanBlock {
            ulid: id.into(),
            min_time: min,
            max_time: max,
            num_series: 10,
            num_tombstones: 0,
        }
    }

    fn ranges() -> Vec<i64> {
        vec![2 * H, 6 * H, 18 * H]
    }

    #[test]
    fn nothing_to_do_with_few_blocks() {
        assert_eq!(plan(&[], &ranges()), None);
        assert_eq!(plan(&[b("a", 0, 2 * H)], &ranges()), None);
        assert_eq!(
            plan(&[b("a", 0, 2 * H), b("b", 2 * H, 4 * H)], &ranges()),
            None
        );
    }

    #[test]
    fn full_range_is_merged_but_not_the_newest() {
        let bs = [b("a", 0, 2 * H), b("b", 2 * H, 4 * H), b("c", 4 * H, 6 * H)];
        // c is newest and excluded; a+b don't fill 6h and 4h > high (=2h)... a's max 2h <= b.min.
        assert_eq!(plan(&bs, &ranges()), None);
        let bs = [
            b("a", 0, 2 * H),
            b("b", 2 * H, 4 * H),
            b("c", 4 * H, 6 * H),
            b("d", 6 * H, 8 * H),
        ];
        assert_eq!(
            plan(&bs, &ranges()),
            Some(vec!["a".into(), "b".into(), "c".into()])
        );
    }

    #[test]
    fn overlapping_blocks_first() {
        let bs = [b("a", 0, 2 * H), b("x", H, 2 * H), b("b", 2 * H, 4 * H)];
        assert_eq!(plan(&bs, &ranges()), Some(vec!["a".into(), "x".into()]));
    }

    #[test]
    fn tombstone_heavy_block_is_rewritten() {
        let mut a = b("a", 0, 2 * H);
        a.num_tombstones = 5;
        let bs = [a, b("b", 2 * H, 4 * H)];
        assert_eq!(plan(&bs, &ranges()), Some(vec!["a".into()]));
    }
}
