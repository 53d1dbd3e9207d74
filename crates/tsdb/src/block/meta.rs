//! `meta.json`: what a block holds, in Prometheus' field names, plus a checksum so a damaged
//! file is detected rather than misread.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, TsdbError};
use crate::fs::atomic_write::atomic_write;

/// Block statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockStats {
    /// Samples.
    pub num_samples: u64,
    /// Series.
    pub num_series: u64,
    /// Chunks.
    pub num_chunks: u64,
    /// Series with tombstones.
    #[serde(default)]
    pub num_tombstones: u64,
}

/// Compaction lineage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockCompaction {
    /// 1 for blocks cut from the head, +1 per merge.
    pub level: u32,
    /// ULIDs of the level-1 blocks whose data this block holds.
    #[serde(default)]
    pub sources: Vec<String>,
    /// ULIDs of the blocks merged into this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
}

/// The contents of `meta.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockMeta {
    /// Block ID.
    pub ulid: String,
    /// First timestamp covered (inclusive), ms.
    pub min_time: i64,
    /// End of the range covered (exclusive), ms.
    pub max_time: i64,
    /// Statistics.
    pub stats: BlockStats,
    /// Lineage.
    pub compaction: BlockCompaction,
    /// Meta format version.
    pub version: u32,
}

#[derive(Serialize, Deserialize)]
struct MetaFile {
    #[serde(flatten)]
    meta: BlockMeta,
    /// CRC32C of the JSON serialization of `meta` alone.
    checksum: u32,
}

impl BlockMeta {
    /// Writes `dir/meta.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join("meta.json");
        let inner = serde_json::to_vec(self)
            .map_err(|e| TsdbError::InvalidArgument(format!("serialize meta: {e}")))?;
        let f = MetaFile {
            meta: self.clone(),
            checksum: crc32c::crc32c(&inner),
        };
        let mut out = serde_json::to_vec_pretty(&f)
            .map_err(|e| TsdbError::InvalidArgument(format!("serialize meta: {e}")))?;
        out.push(b'\n');
        atomic_write(&path, &out)
    }

    /// Reads and verifies `dir/meta.json`.
    pub fn read(dir: &Path) -> Result<BlockMeta> {
        let path = dir.join("meta.json");
        let b = std::fs::read(&path).map_err(|e| TsdbError::io("read", &path, e))?;
        let f: MetaFile = serde_json::from_slice(&b).map_err(|e| {
            TsdbError::corruption(&path, e.column() as u64, format!("invalid meta.json: {e}"))
        })?;
        let inner = serde_json::to_vec(&f.meta)
            .map_err(|e| TsdbError::corruption(&path, 0, e.to_string()))?;
        if crc32c::crc32c(&inner) != f.checksum {
            return Err(TsdbError::corruption(
                &path,
                0,
                "meta.json checksum mismatch",
            ));
        }
        if f.meta.max_time < f.meta.min_time {
            return Err(TsdbError::corruption(
                &path,
                0,
                "meta.json maxTime before minTime",
            ));
        }
        Ok(f.meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper_detection() {
        let d = tempfile::tempdir().unwrap();
        let m = BlockMeta {
            ulid: "01ABC".into(),
            min_time: 0,
            max_time: 7_200_000,
            stats: BlockStats {
                num_samples: 10,
                num_series: 2,
                num_chunks: 2,
                num_tombstones: 0,
            },
            compaction: BlockCompaction {
                level: 1,
                sources: vec!["01ABC".into()],
                parents: vec![],
            },
            version: 1,
        };
        m.write(d.path()).unwrap();
        assert_eq!(BlockMeta::read(d.path()).unwrap(), m);
        let p = d.path().join("meta.json");
        let s = std::fs::read_to_string(&p)
            .unwrap()
            .replace("7200000", "7200001");
        std::fs::write(&p, s).unwrap();
        assert!(BlockMeta::read(d.path())
            .unwrap_err()
            .to_string()
            .contains("checksum"));
    }
}
