//! Prometheus remote-write 1.0 messages (`prompb/remote.proto`, `prompb/types.proto`),
//! written out by hand with prost derives (no `protoc`), and a zero-copy decoder of
//! `WriteRequest` for the receive path.
//!
//! ```text
//! WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
//! TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2;
//!                repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
//! Label        { string name = 1; string value = 2; }
//! Sample       { double value = 1; int64 timestamp = 2; }
//! ```
//!
//! The receive path does not build these structs: [`for_each_series`] walks the wire
//! format once, handing out label names and values as `&str` borrowed from the decoded
//! body, which saves two allocations per label of every series.

/// `prometheus.Label`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    /// Name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Sample {
    /// Value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Timestamp, ms.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// `prometheus.Exemplar`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Exemplar {
    /// Labels.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Value.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Timestamp, ms.
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// `prometheus.TimeSeries` (native histograms are not decoded: Argus stores floats).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// Labels, sorted by name.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Samples in time order.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    /// Exemplars.
    #[prost(message, repeated, tag = "3")]
    pub exemplars: Vec<Exemplar>,
}

/// `prometheus.MetricMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricMetadata {
    /// Type (0 unknown, 1 counter, 2 gauge, 3 histogram, 4 gaugehistogram, 5 summary,
    /// 6 info, 7 stateset).
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    /// Family name.
    #[prost(string, tag = "2")]
    pub metric_family_name: String,
    /// HELP.
    #[prost(string, tag = "4")]
    pub help: String,
    /// UNIT.
    #[prost(string, tag = "5")]
    pub unit: String,
}

/// `prometheus.WriteRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    /// Series.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
    /// Metadata.
    #[prost(message, repeated, tag = "3")]
    pub metadata: Vec<MetricMetadata>,
}

impl WriteRequest {
    /// Encodes and snappy-compresses the request, as a remote-write sender does.
    pub fn encode_snappy(&self) -> Vec<u8> {
        use prost::Message;
        let raw = self.encode_to_vec();
        // Compressing into a Vec cannot fail for inputs below snappy's 4 GiB limit,
        // which an encoded Vec of a valid request never reaches in practice.
        snap::raw::Encoder::new()
            .compress_vec(&raw)
            .unwrap_or_default()
    }
}

/// A wire-format error, with the byte offset where decoding stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid protobuf at byte {offset}: {what}")]
pub struct WireError {
    /// Offset in the decoded body.
    pub offset: usize,
    /// What was wrong.
    pub what: &'static str,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, pos: 0, base }
    }

    fn err(&self, what: &'static str) -> WireError {
        WireError {
            offset: self.base + self.pos,
            what,
        }
    }

    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    #[inline]
    fn varint(&mut self) -> Result<u64, WireError> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| self.err("truncated varint"))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err("varint too long"))
    }

    #[inline]
    fn fixed64(&mut self) -> Result<u64, WireError> {
        let b = self
            .buf
            .get(self.pos..self.pos + 8)
            .ok_or_else(|| self.err("truncated fixed64"))?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        self.pos += 8;
        Ok(u64::from_le_bytes(a))
    }

    /// A length-delimited field: its bytes and their offset in the whole body.
    #[inline]
    fn bytes(&mut self) -> Result<(&'a [u8], usize), WireError> {
        let len = usize::try_from(self.varint()?).map_err(|_| self.err("length overflow"))?;
        let start = self.pos;
        let b = self
            .buf
            .get(
                start
                    ..start
                        .checked_add(len)
                        .ok_or_else(|| self.err("length overflow"))?,
            )
            .ok_or_else(|| self.err("truncated length-delimited field"))?;
        self.pos += len;
        Ok((b, self.base + start))
    }

    fn skip(&mut self, wire: u64) -> Result<(), WireError> {
        match wire {
            0 => self.varint().map(|_| ()),
            1 => self.fixed64().map(|_| ()),
            2 => self.bytes().map(|_| ()),
            5 => {
                if self.pos + 4 > self.buf.len() {
                    return Err(self.err("truncated fixed32"));
                }
                self.pos += 4;
                Ok(())
            }
            _ => Err(self.err("unsupported wire type")),
        }
    }
}

fn utf8(b: &[u8], offset: usize) -> Result<&str, WireError> {
    std::str::from_utf8(b).map_err(|_| WireError {
        offset,
        what: "label is not valid UTF-8",
    })
}

/// Walks a decoded `WriteRequest`, calling `f(labels, samples)` per time series with the
/// labels as written (`(name, value)` pairs) and the samples `(timestamp, value)`.
/// Exemplars, histograms and metadata are skipped.
pub fn for_each_series<'a, E: From<WireError>>(
    body: &'a [u8],
    labels: &mut Vec<(&'a str, &'a str)>,
    samples: &mut Vec<(i64, f64)>,
    mut f: impl FnMut(&[(&'a str, &'a str)], &[(i64, f64)]) -> Result<(), E>,
) -> Result<(), E> {
    let mut r = Reader::new(body, 0);
    while !r.done() {
        let key = r.varint()?;
        if key != (1 << 3) | 2 {
            r.skip(key & 7)?;
            continue;
        }
        let (ts, base) = r.bytes()?;
        labels.clear();
        samples.clear();
        let mut t = Reader::new(ts, base);
        while !t.done() {
            let key = t.varint()?;
            match key {
                // labels
                0x0a => {
                    let (lb, lbase) = t.bytes()?;
                    let mut l = Reader::new(lb, lbase);
                    let (mut name, mut value) = ("", "");
                    while !l.done() {
                        match l.varint()? {
                            0x0a => {
                                let (b, o) = l.bytes()?;
                                name = utf8(b, o)?;
                            }
                            0x12 => {
                                let (b, o) = l.bytes()?;
                                value = utf8(b, o)?;
                            }
                            k => l.skip(k & 7)?,
                        }
                    }
                    labels.push((name, value));
                }
                // samples
                0x12 => {
                    let (sb, sbase) = t.bytes()?;
                    let mut s = Reader::new(sb, sbase);
                    let (mut v, mut ts_ms) = (0f64, 0i64);
                    while !s.done() {
                        match s.varint()? {
                            0x09 => v = f64::from_bits(s.fixed64()?),
                            // int64 is encoded as two's complement varint.
                            0x10 => ts_ms = s.varint()? as i64,
                            k => s.skip(k & 7)?,
                        }
                    }
                    samples.push((ts_ms, v));
                }
                k => t.skip(k & 7)?,
            }
        }
        f(labels, samples)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    #[test]
    fn zero_copy_decoder_matches_prost() {
        let req = WriteRequest {
            timeseries: vec![
                TimeSeries {
                    labels: vec![
                        Label {
                            name: "__name__".into(),
                            value: "up".into(),
                        },
                        Label {
                            name: "job".into(),
                            value: "ä".into(),
                        },
                    ],
                    samples: vec![
                        Sample {
                            value: 1.5,
                            timestamp: -5,
                        },
                        Sample {
                            value: f64::NAN,
                            timestamp: 1 << 40,
                        },
                    ],
                    exemplars: vec![Exemplar {
                        labels: vec![],
                        value: 2.0,
                        timestamp: 3,
                    }],
                },
                TimeSeries::default(),
            ],
            metadata: vec![MetricMetadata {
                r#type: 1,
                metric_family_name: "up".into(),
                help: "h".into(),
                unit: String::new(),
            }],
        };
        let bytes = req.encode_to_vec();
        let mut got = Vec::new();
        let (mut l, mut s) = (Vec::new(), Vec::new());
        for_each_series::<WireError>(&bytes, &mut l, &mut s, |l, s| {
            got.push((
                l.iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect::<Vec<_>>(),
                s.to_vec(),
            ));
            Ok(())
        })
        .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0[1], ("job".into(), "ä".into()));
        assert_eq!(got[0].1[0], (-5, 1.5));
        assert!(got[0].1[1].1.is_nan() && got[0].1[1].0 == 1 << 40);
        let err =
            for_each_series::<WireError>(&bytes[..bytes.len() - 3], &mut l, &mut s, |_, _| Ok(()))
                .unwrap_err();
        assert!(err.offset > 0);
    }
}
