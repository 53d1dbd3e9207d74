//! Administrative operations: deletes, tombstone cleanup, snapshots and the cardinality
//! status of `/api/v1/status/tsdb` (`argus_model::TsdbAdmin`).

use std::path::Path;
use std::sync::Arc;

use argus_model::storage::{HeadStats, TsdbStatus};
use argus_model::{Matcher, StorageError, TsdbAdmin};
use tracing::info;

use crate::block::writer::{write_block, NewBlock};
use crate::block::Block;
use crate::db::Db;
use crate::error::{Result, TsdbError};
use crate::head::read::HeadSeriesSource;
use crate::querier::source::{MergedSeriesSet, SeriesSource};

impl Db {
    /// Deletes samples of matching series in `[mint, maxt]` from blocks and head.
    pub fn delete(&self, mint: i64, maxt: i64, ms: &[Matcher]) -> Result<usize> {
        if mint > maxt {
            return Err(TsdbError::InvalidArgument(format!(
                "delete range start {mint} after end {maxt}"
            )));
        }
        let _g = self.inner.maintenance.lock();
        let mut n = 0;
        for b in self.blocks() {
            n += b.delete(mint, maxt, ms)?;
        }
        n += self.inner.head.delete(mint, maxt, ms)?;
        info!(mint, maxt, series = n, "Series deleted.");
        Ok(n)
    }

    /// Rewrites every block that has tombstones, so deleted data leaves the disk.
    pub fn clean_tombstones(&self) -> Result<usize> {
        let _g = self.inner.maintenance.lock();
        let mut n = 0;
        for b in self.blocks() {
            if b.tombstones().is_empty() {
                continue;
            }
            crate::compact::merge(&self.inner, std::slice::from_ref(&b))?;
            n += 1;
        }
        Ok(n)
    }

    /// Writes a snapshot into a new directory under `dir`: blocks hard-linked (they are
    /// immutable), the head written as a block unless `skip_head`. Returns the new directory's
    /// name.
    pub fn snapshot(&self, dir: &Path, skip_head: bool) -> Result<String> {
        let _g = self.inner.maintenance.lock();
        let name = snapshot_name();
        let out = dir.join(&name);
        std::fs::create_dir_all(&out).map_err(|e| TsdbError::io("create dir", &out, e))?;
        for b in self.blocks() {
            link_dir(b.dir(), &out.join(&b.meta().ulid))?;
        }
        if !skip_head {
            let head = &self.inner.head;
            let reader = head.register_reader();
            let series = head.select_series(&[])?;
            let mut mint = i64::MAX;
            let mut maxt = i64::MIN;
            for s in &series {
                let d = s.data.lock();
                if let Some(m) = d.min_time() {
                    mint = mint.min(m);
                }
                maxt = maxt.max(d.last_t);
                if let Some(o) = d.ooo.last() {
                    maxt = maxt.max(o.t);
                }
            }
            if mint <= maxt {
                let src: Box<dyn SeriesSource> =
                    Box::new(HeadSeriesSource::new(series, mint, maxt, reader.max_id));
                let mut set = MergedSeriesSet::new(vec![src], mint, maxt, true, Arc::new(()));
                let nb = NewBlock {
                    mint,
                    maxt: maxt.saturating_add(1),
                    level: 1,
                    sources: Vec::new(),
                    parents: Vec::new(),
                    tight_mint: true,
                };
                write_block(&out, &nb, &mut set)?;
            }
        }
        crate::fs::atomic_write::sync_dir(&out)?;
        info!(snapshot = %out.display(), skip_head, "Snapshot created.");
        Ok(name)
    }

    /// Cardinality statistics of the head (top `limit` per list).
    pub fn status(&self, limit: usize) -> TsdbStatus {
        let head = &self.inner.head;
        let (st, pairs) = {
            let p = head.postings.read();
            (p.stats(limit), p.num_label_pairs())
        };
        let mut chunks = 0u64;
        head.series
            .for_each(|s| chunks += s.data.lock().num_chunks() as u64);
        let (min, max) = (head.min_time(), head.max_time());
        TsdbStatus {
            head_stats: HeadStats {
                num_series: head.num_series() as u64,
                num_label_pairs: pairs,
                chunk_count: chunks,
                min_time: if min == i64::MAX { 0 } else { min },
                max_time: if max == i64::MIN { 0 } else { max },
            },
            series_count_by_metric_name: st.series_count_by_metric_name,
            label_value_count_by_label_name: st.label_value_count_by_label_name,
            memory_in_bytes_by_label_name: st.memory_in_bytes_by_label_name,
            series_count_by_label_value_pair: st.series_count_by_label_value_pair,
        }
    }
}

/// `20060102T150405Z-<16 hex digits>`, like Prometheus' snapshot names.
fn snapshot_name() -> String {
    let now = argus_model::now_ms();
    let secs = now.div_euclid(1000);
    let (y, m, d) = argus_model::api::civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let rand = crate::ulid::new_ulid(now);
    let hex: String = rand
        .bytes()
        .skip(10)
        .fold(0u64, |acc, b| {
            acc.wrapping_mul(31).wrapping_add(u64::from(b))
        })
        .to_le_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z-{hex}",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

/// Hard-links every file of `src` (recursively) into `dst`.
fn link_dir(src: &Path, dst: &Path) -> Result<()> {
    std::fs::create_dir_all(dst).map_err(|e| TsdbError::io("create dir", dst, e))?;
    let rd = std::fs::read_dir(src).map_err(|e| TsdbError::io("read dir", src, e))?;
    for e in rd {
        let e = e.map_err(|e| TsdbError::io("read dir", src, e))?;
        let to = dst.join(e.file_name());
        if e.path().is_dir() {
            link_dir(&e.path(), &to)?;
        } else {
            std::fs::hard_link(e.path(), &to)
                .map_err(|err| TsdbError::io("link", &e.path(), err))?;
        }
    }
    Ok(())
}

impl TsdbAdmin for Db {
    fn delete_series(
        &self,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<(), StorageError> {
        self.delete(mint, maxt, matchers)
            .map(|_| ())
            .map_err(Into::into)
    }

    fn clean_tombstones(&self) -> Result<(), StorageError> {
        Db::clean_tombstones(self).map(|_| ()).map_err(Into::into)
    }

    fn snapshot(&self, dir: &Path, skip_head: bool) -> Result<String, StorageError> {
        Db::snapshot(self, dir, skip_head).map_err(Into::into)
    }

    fn status(&self, limit: usize) -> Result<TsdbStatus, StorageError> {
        Ok(Db::status(self, limit))
    }
}

/// Opens a block directory on its own (tools).
pub fn open_block(dir: &Path) -> Result<Block> {
    Block::open(dir)
}
