//! Building the snappy-compressed protobuf `WriteRequest` of a batch.
//!
//! The message types are the receiver's ([`argus_scrape::remote_write::proto`]). Rather
//! than build a `WriteRequest` value per batch, which clones every label string of every
//! series on every send, each series' `Label` fields are encoded once when the watcher first
//! sees the series ([`SeriesEntry::new`]) and spliced into each `TimeSeries` as bytes; the
//! `Sample`s are encoded with prost from the same message types. The bytes are exactly
//! what prost would produce for the equivalent `WriteRequest` (the tests decode them back).
//!
//! Samples of one series in a batch share one `TimeSeries`, in the order they were read
//! from the WAL.

use std::sync::Arc;

use argus_model::Labels;
use argus_scrape::remote_write::proto;
use prost::encoding::{encode_key, encode_varint, message, WireType};

/// A series as sent: the encoding of its final labels (external labels added, relabeled).
/// The labels themselves are not kept: the encoding is all a send needs, and a queue holds
/// one entry per series in the WAL.
#[derive(Debug)]
pub struct SeriesEntry {
    /// The `labels` fields of a `TimeSeries` (tag 1, one `Label` message each).
    encoded: Vec<u8>,
    /// Picks the shard.
    pub hash: u64,
}

impl SeriesEntry {
    /// Encodes `labels` once.
    pub fn new(labels: &Labels) -> Self {
        let mut encoded = Vec::with_capacity(labels.text_len() + 4 * labels.len());
        for l in labels.iter() {
            let m = proto::Label {
                name: l.name.to_owned(),
                value: l.value.to_owned(),
            };
            message::encode(1, &m, &mut encoded);
        }
        encoded.shrink_to_fit();
        SeriesEntry {
            encoded,
            hash: labels.stable_hash(),
        }
    }

    /// Bytes held for this series (for memory accounting).
    pub fn heap_bytes(&self) -> usize {
        self.encoded.capacity()
    }
}

/// A sample waiting in a shard. `seq` is the WAL record it came from, for acknowledgement.
#[derive(Debug, Clone)]
pub struct QueuedSample {
    /// The series.
    pub series: Arc<SeriesEntry>,
    /// Timestamp, ms.
    pub t: i64,
    /// Value.
    pub v: f64,
    /// Sequence number of the WAL record.
    pub seq: u64,
}

/// Reusable buffers for encoding batches (one per shard).
pub struct BatchEncoder {
    order: Vec<(usize, u32)>,
    raw: Vec<u8>,
    compressed: Vec<u8>,
    snappy: snap::raw::Encoder,
}

fn sample_msg(s: &QueuedSample) -> proto::Sample {
    proto::Sample {
        value: s.v,
        timestamp: s.t,
    }
}

impl Default for BatchEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl BatchEncoder {
    /// A fresh encoder.
    pub fn new() -> Self {
        BatchEncoder {
            order: Vec::new(),
            raw: Vec::new(),
            compressed: Vec::new(),
            snappy: snap::raw::Encoder::new(),
        }
    }

    /// Encodes `batch` as a `WriteRequest` and returns the snappy-compressed body and the
    /// uncompressed size.
    pub fn encode(&mut self, batch: &[QueuedSample]) -> (bytes::Bytes, usize) {
        self.encode_raw(batch);
        let raw_len = self.raw.len();
        self.compressed
            .resize(snap::raw::max_compress_len(raw_len), 0);
        let n = match self.snappy.compress(&self.raw, &mut self.compressed) {
            Ok(n) => n,
            // Only inputs beyond snappy's 4 GiB limit fail; a batch never gets there, but
            // fall back to an allocation-heavy path rather than send nothing.
            Err(_) => {
                self.compressed = self.snappy.compress_vec(&self.raw).unwrap_or_default();
                self.compressed.len()
            }
        };
        let body = bytes::Bytes::copy_from_slice(self.compressed.get(..n).unwrap_or_default());
        (body, raw_len)
    }

    /// The uncompressed `WriteRequest` of `batch`, left in `self.raw`.
    pub fn encode_raw(&mut self, batch: &[QueuedSample]) -> &[u8] {
        self.order.clear();
        self.order.extend(
            batch
                .iter()
                .enumerate()
                .map(|(i, s)| (Arc::as_ptr(&s.series) as usize, i as u32)),
        );
        // Groups the samples of each series together and keeps their WAL order.
        self.order.sort_unstable();
        self.raw.clear();
        let mut i = 0;
        while let Some(&(ptr, first)) = self.order.get(i) {
            let mut j = i;
            while self.order.get(j).is_some_and(|(p, _)| *p == ptr) {
                j += 1;
            }
            let group = self.order.get(i..j).unwrap_or_default();
            let Some(head) = batch.get(first as usize) else {
                break;
            };
            let mut len = head.series.encoded.len();
            for (_, k) in group {
                if let Some(s) = batch.get(*k as usize) {
                    len += message::encoded_len(2, &sample_msg(s));
                }
            }
            encode_key(1, WireType::LengthDelimited, &mut self.raw);
            encode_varint(len as u64, &mut self.raw);
            self.raw.reserve(len);
            self.raw.extend_from_slice(&head.series.encoded);
            for (_, k) in group {
                if let Some(s) = batch.get(*k as usize) {
                    message::encode(2, &sample_msg(s), &mut self.raw);
                }
            }
            i = j;
        }
        &self.raw
    }
}

#[cfg(test)]
mod tests {
    use argus_model::{labels, stale_nan};
    use prost::Message;

    use super::*;

    fn q(series: &Arc<SeriesEntry>, t: i64, v: f64) -> QueuedSample {
        QueuedSample {
            series: series.clone(),
            t,
            v,
            seq: 0,
        }
    }

    #[test]
    fn decodes_as_the_equivalent_write_request() {
        let a = Arc::new(SeriesEntry::new(
            &labels!("__name__" => "up", "job" => "node"),
        ));
        let b = Arc::new(SeriesEntry::new(&labels!("__name__" => "x", "é" => "ü")));
        let batch = vec![
            q(&a, 1000, 1.0),
            q(&b, 1000, 0.0),
            q(&a, 2000, stale_nan()),
            q(&b, 0, -5.5),
            q(&a, 3000, 3.0),
        ];
        let mut enc = BatchEncoder::new();
        let (body, raw_len) = enc.encode(&batch);
        let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
        assert_eq!(raw.len(), raw_len);
        let req = proto::WriteRequest::decode(raw.as_slice()).unwrap();
        assert_eq!(req.timeseries.len(), 2);
        let find = |name: &str| {
            req.timeseries
                .iter()
                .find(|t| t.labels.iter().any(|l| l.value == name))
                .unwrap()
        };
        let ta = find("up");
        let names: Vec<_> = ta.labels.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["__name__", "job"]);
        let ts: Vec<i64> = ta.samples.iter().map(|s| s.timestamp).collect();
        assert_eq!(ts, [1000, 2000, 3000], "WAL order within a series");
        assert_eq!(ta.samples[1].value.to_bits(), stale_nan().to_bits());
        let tb = find("x");
        assert_eq!(tb.labels[1].name, "é");
        assert_eq!(
            tb.samples,
            vec![
                proto::Sample {
                    value: 0.0,
                    timestamp: 1000
                },
                proto::Sample {
                    value: -5.5,
                    timestamp: 0
                }
            ]
        );
        // Byte for byte what prost makes of the same message.
        assert_eq!(req.encode_to_vec(), raw);
    }

    #[test]
    fn empty_batch_is_an_empty_request() {
        let mut enc = BatchEncoder::new();
        assert!(enc.encode_raw(&[]).is_empty());
        let (body, _) = enc.encode(&[]);
        let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
        assert_eq!(
            proto::WriteRequest::decode(raw.as_slice()).unwrap(),
            proto::WriteRequest::default()
        );
    }
}
