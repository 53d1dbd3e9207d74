//! Immutable on-disk blocks: `<ulid>/{meta.json, index, chunks/NNNNNN, tombstones}`.
//!
//! A block is opened once (every checksum of its index and small files verified) and shared
//! as `Arc<Block>`. Queriers hold the `Arc`; a block dropped from the database by compaction
//! or retention is marked and its directory is deleted when the last holder lets go.

pub mod columns;
pub mod meta;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use argus_model::{Labels, Matcher};
use parking_lot::RwLock;
use roaring::RoaringBitmap;
use tracing::{info, warn};

use crate::chunk::columnar::{values_header, ENCODING_TIMES, ENCODING_VALUES};
use crate::chunk::xor::ENCODING_XOR;
use crate::chunk::{ChunkData, ChunkMeta, ColumnarData};
use crate::chunk_file::ChunkFiles;
use crate::error::{Result, TsdbError};
use crate::fs::atomic_write::{atomic_write, delete_dir, dir_size};
use crate::index::reader::IndexReader;
use crate::index::ChunkEntry;
use crate::querier::postings::postings_for_matchers;
use crate::querier::source::{SeriesSource, SourceData};
use crate::tombstones::{self, add_interval, covers, Interval, Tombstones};
use meta::BlockMeta;

/// An open block.
#[derive(Debug)]
pub struct Block {
    dir: PathBuf,
    meta: BlockMeta,
    index: IndexReader,
    chunks: ChunkFiles,
    tombstones: RwLock<Arc<Tombstones>>,
    size: u64,
    delete_on_drop: AtomicBool,
}

impl Block {
    /// Opens the block in `dir`, verifying meta, index and tombstones.
    pub fn open(dir: &Path) -> Result<Block> {
        let meta = BlockMeta::read(dir)?;
        let index = IndexReader::open(&dir.join("index"))?;
        let chunks = ChunkFiles::open(&dir.join("chunks"))?;
        let tpath = dir.join("tombstones");
        let tombstones = match std::fs::read(&tpath) {
            Ok(b) => tombstones::decode(&b, &tpath)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Tombstones::new(),
            Err(e) => return Err(TsdbError::io("read", &tpath, e)),
        };
        Ok(Block {
            dir: dir.to_path_buf(),
            size: dir_size(dir),
            meta,
            index,
            chunks,
            tombstones: RwLock::new(Arc::new(tombstones)),
            delete_on_drop: AtomicBool::new(false),
        })
    }

    /// The block's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its metadata.
    pub fn meta(&self) -> &BlockMeta {
        &self.meta
    }

    /// The index.
    pub fn index(&self) -> &IndexReader {
        &self.index
    }

    /// The chunk files.
    pub fn chunks(&self) -> &ChunkFiles {
        &self.chunks
    }

    /// Bytes on disk.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Current tombstones.
    pub fn tombstones(&self) -> Arc<Tombstones> {
        self.tombstones.read().clone()
    }

    /// True when `[mint, maxt]` (inclusive) overlaps the block's half-open range.
    pub fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        self.meta.min_time <= maxt && mint < self.meta.max_time
    }

    /// Deletes the directory once the last reference is dropped.
    pub fn mark_for_deletion(&self) {
        self.delete_on_drop.store(true, Ordering::Release);
    }

    /// Series matching `ms` with chunks in `[mint, maxt]`.
    pub fn source(self: &Arc<Self>, ms: &[Matcher], mint: i64, maxt: i64) -> Result<BlockSource> {
        let ords = postings_for_matchers(&self.index, ms)?;
        Ok(BlockSource {
            block: self.clone(),
            ords: ords.into_iter(),
            mint,
            maxt,
            tomb: self.tombstones(),
            buf: Vec::new(),
        })
    }

    /// Ordinals of the series matching `ms`.
    pub fn matching(&self, ms: &[Matcher]) -> Result<RoaringBitmap> {
        postings_for_matchers(&self.index, ms)
    }

    /// Records the deletion of `[mint, maxt]` for matching series (rewrites `tombstones`).
    /// Returns the number of series affected.
    pub fn delete(&self, mint: i64, maxt: i64, ms: &[Matcher]) -> Result<usize> {
        if !self.overlaps(mint, maxt) {
            return Ok(0);
        }
        let ords = postings_for_matchers(&self.index, ms)?;
        if ords.is_empty() {
            return Ok(0);
        }
        let mut guard = self.tombstones.write();
        let mut t: Tombstones = (**guard).clone();
        for o in &ords {
            add_interval(t.entry(o).or_default(), Interval { mint, maxt });
        }
        atomic_write(&self.dir.join("tombstones"), &tombstones::encode(&t))?;
        *guard = Arc::new(t);
        info!(block = %self.meta.ulid, series = ords.len(), mint, maxt, "Tombstones added.");
        Ok(ords.len() as usize)
    }

    /// Chunk metas of series `ord` overlapping `[mint, maxt]`, minus fully deleted chunks.
    pub fn series_chunks(
        &self,
        ord: u32,
        entries: &mut Vec<ChunkEntry>,
        deleted: &[Interval],
        mint: i64,
        maxt: i64,
    ) -> Result<(Labels, Vec<ChunkMeta>)> {
        let labels = self.index.series(ord, entries)?;
        let mut out = Vec::with_capacity(entries.len());
        for e in entries.iter() {
            if e.maxt < mint || e.mint > maxt || covers(deleted, e.mint, e.maxt) {
                continue;
            }
            let data = self.chunk_data(e.r)?;
            out.push(ChunkMeta {
                mint: e.mint,
                maxt: e.maxt,
                data,
                limit: u16::MAX,
            });
        }
        Ok((labels, out))
    }

    /// The chunk at `r`, with the time column of a columnar chunk resolved. Checksums are
    /// verified when the chunk is first read, except where resolving needs the bytes.
    pub fn chunk_data(&self, r: u64) -> Result<ChunkData> {
        let (enc, data) = self.chunks.chunk(r)?;
        match enc {
            ENCODING_XOR => Ok(data),
            ENCODING_VALUES => {
                let bad = |why: String| TsdbError::corruption(&data.path(), r & 0xffff_ffff, why);
                // The reference is read before the checksum is checked: a damaged one must be
                // reported as the checksum mismatch it is, not as a dangling reference.
                let header = values_header(data.bytes());
                let times = header.and_then(|(_, tr)| self.chunks.chunk(tr).ok());
                let Some((ENCODING_TIMES, times)) = times else {
                    if let Err((_, why)) = data.verify() {
                        return Err(bad(why));
                    }
                    return Err(bad(format!(
                        "value chunk refers to no time column ({header:?})"
                    )));
                };
                Ok(ChunkData::Columnar(Arc::new(ColumnarData {
                    values: data,
                    times,
                })))
            }
            _ => Err(TsdbError::corruption(
                &self.dir,
                r,
                format!("unknown chunk encoding {enc}"),
            )),
        }
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        if self.delete_on_drop.load(Ordering::Acquire) {
            if let Err(e) = delete_dir(&self.dir) {
                warn!(block = %self.dir.display(), error = %e, "Cannot delete block directory.");
            }
        }
    }
}

/// A block's series for one select.
pub struct BlockSource {
    block: Arc<Block>,
    ords: roaring::bitmap::IntoIter,
    mint: i64,
    maxt: i64,
    tomb: Arc<Tombstones>,
    buf: Vec<ChunkEntry>,
}

impl SeriesSource for BlockSource {
    fn next(&mut self) -> Option<Result<(Labels, Vec<SourceData>)>> {
        for ord in self.ords.by_ref() {
            let deleted: Arc<[Interval]> = match self.tomb.get(&ord) {
                Some(d) => Arc::from(d.as_slice()),
                None => Arc::from(Vec::new()),
            };
            let (labels, chunks) =
                match self
                    .block
                    .series_chunks(ord, &mut self.buf, &deleted, self.mint, self.maxt)
                {
                    Ok(x) => x,
                    Err(e) => return Some(Err(e)),
                };
            if chunks.is_empty() {
                continue;
            }
            return Some(Ok((labels, vec![SourceData::Chunks { chunks, deleted }])));
        }
        None
    }
}
