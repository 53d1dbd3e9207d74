//! The remote-write 1.0 receiver: capped snappy decode → zero-copy protobuf walk →
//! appender, with Prometheus' status codes.
//!
//! | outcome | status |
//! |---|---|
//! | every sample stored | 204, `X-Prometheus-Remote-Write-Samples-Written` |
//! | some samples refused (out of order, duplicate, out of bounds, too far in the future, invalid labels) | 400 naming what was refused; the rest is stored |
//! | body not snappy / not a `WriteRequest` | 400 |
//! | body or decoded size over the cap | 413 |
//! | unsupported `Content-Type` / `Content-Encoding` (e.g. remote-write 2.0) | 415 |
//! | storage failure (nothing of the request is stored) | 500, or 503 when storage is full; the sender retries |
//!
//! Refused samples do not fail the whole request: the accepted ones are committed first,
//! as Prometheus' remote-write 2.0 handler does (the 1.0 handler rolls everything back on
//! the first out-of-order sample, which makes a sender drop a whole batch for one bad
//! series). The 400 tells the sender not to retry.

use std::fmt::Write as _;

use argus_model::{now_ms, AppendError, Appendable, Labels, StorageError, METRIC_NAME};
use axum::http::{HeaderMap, StatusCode};

use super::proto::{for_each_series, WireError};

/// Size caps of the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest compressed body accepted (bytes).
    pub max_body_bytes: usize,
    /// Largest decompressed body accepted (bytes).
    pub max_decoded_bytes: usize,
}

impl Default for Limits {
    /// 32 MiB compressed, 256 MiB decoded: far above what Prometheus sends (batches of
    /// 2,000 samples by default, a few hundred KiB), low enough to bound memory.
    fn default() -> Self {
        Limits {
            max_body_bytes: 32 << 20,
            max_decoded_bytes: 256 << 20,
        }
    }
}

/// Samples further in the future than this are refused, as Prometheus does.
const MAX_AHEAD_MS: i64 = 10 * 60 * 1000;

/// What a request stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Series in the request.
    pub series: u64,
    /// Samples stored.
    pub samples_written: u64,
    /// Samples refused.
    pub samples_rejected: u64,
}

/// Why a request was not (fully) stored. See the module table for the status codes.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RemoteWriteError {
    /// Content-Type or Content-Encoding the receiver does not speak.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body (or its decoded form) is over the cap.
    #[error("{0}")]
    TooLarge(String),
    /// Not snappy, or not a `WriteRequest`.
    #[error("{0}")]
    BadRequest(String),
    /// Some samples were refused; the others were stored.
    #[error("{message}")]
    Rejected {
        /// What was stored.
        stats: WriteStats,
        /// What was refused and why (counts by reason and the first examples).
        message: String,
    },
    /// Storage failed; nothing of the request was stored.
    #[error("storage: {0}")]
    Storage(StorageError),
}

impl RemoteWriteError {
    /// The HTTP status Prometheus would answer with.
    pub fn status_code(&self) -> StatusCode {
        match self {
            RemoteWriteError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RemoteWriteError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            RemoteWriteError::BadRequest(_) | RemoteWriteError::Rejected { .. } => {
                StatusCode::BAD_REQUEST
            }
            RemoteWriteError::Storage(StorageError::OutOfSpace(_)) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            RemoteWriteError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Samples stored despite the error (only for [`RemoteWriteError::Rejected`]).
    pub fn samples_written(&self) -> u64 {
        match self {
            RemoteWriteError::Rejected { stats, .. } => stats.samples_written,
            _ => 0,
        }
    }
}

impl From<WireError> for RemoteWriteError {
    fn from(e: WireError) -> Self {
        RemoteWriteError::BadRequest(format!("decoding WriteRequest: {e}"))
    }
}

fn check_headers(headers: &HeaderMap) -> Result<(), RemoteWriteError> {
    let ct = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.is_empty() {
        let mut parts = ct.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        if media != "application/x-protobuf" {
            return Err(RemoteWriteError::UnsupportedMediaType(format!(
                "unsupported Content-Type {ct:?}; expected application/x-protobuf"
            )));
        }
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                if k.trim().eq_ignore_ascii_case("proto") && v.trim() != "prometheus.WriteRequest" {
                    return Err(RemoteWriteError::UnsupportedMediaType(format!(
                        "unsupported proto {:?}; this receiver speaks remote-write 1.0 (prometheus.WriteRequest)",
                        v.trim()
                    )));
                }
            }
        }
    }
    let enc = headers
        .get(axum::http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // An absent encoding is tolerated (old 1.0 clients); anything else must be snappy.
    if !enc.is_empty() && !enc.eq_ignore_ascii_case("snappy") {
        return Err(RemoteWriteError::UnsupportedMediaType(format!(
            "unsupported Content-Encoding {enc:?}; expected snappy"
        )));
    }
    Ok(())
}

/// Decompresses a snappy block body, refusing to allocate more than the cap.
pub fn decode_snappy(body: &[u8], limits: &Limits) -> Result<Vec<u8>, RemoteWriteError> {
    if body.len() > limits.max_body_bytes {
        return Err(RemoteWriteError::TooLarge(format!(
            "body of {} bytes exceeds the limit of {} bytes",
            body.len(),
            limits.max_body_bytes
        )));
    }
    let n = snap::raw::decompress_len(body)
        .map_err(|e| RemoteWriteError::BadRequest(format!("snappy: {e}")))?;
    if n > limits.max_decoded_bytes {
        return Err(RemoteWriteError::TooLarge(format!(
            "decoded body of {n} bytes exceeds the limit of {} bytes",
            limits.max_decoded_bytes
        )));
    }
    snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| RemoteWriteError::BadRequest(format!("snappy: {e}")))
}

#[derive(Default)]
struct Rejections {
    counts: [u64; 5],
    examples: Vec<String>,
}

const REASONS: [&str; 5] = [
    "out of order sample",
    "duplicate sample for timestamp",
    "out of bounds",
    "too far in the future",
    "invalid labels",
];

impl Rejections {
    fn add(&mut self, reason: usize, n: u64, example: impl FnOnce() -> String) {
        if let Some(c) = self.counts.get_mut(reason) {
            *c += n;
        }
        if self.examples.len() < 3 {
            self.examples.push(example());
        }
    }

    fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    fn message(&self) -> String {
        let mut m = String::new();
        for (r, c) in REASONS.iter().zip(self.counts) {
            if c > 0 {
                if !m.is_empty() {
                    m.push_str("; ");
                }
                let _ = write!(m, "{r}: {c} samples rejected");
            }
        }
        let _ = write!(m, " (e.g. {})", self.examples.join(", "));
        m
    }
}

/// Handles one remote-write request with the default [`Limits`].
pub fn handle(
    appendable: &dyn Appendable,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<WriteStats, RemoteWriteError> {
    handle_with_limits(appendable, headers, body, &Limits::default())
}

/// Handles one remote-write request: checks headers, decodes, appends and commits.
pub fn handle_with_limits(
    appendable: &dyn Appendable,
    headers: &HeaderMap,
    body: &[u8],
    limits: &Limits,
) -> Result<WriteStats, RemoteWriteError> {
    check_headers(headers)?;
    let raw = decode_snappy(body, limits)?;
    let max_t = now_ms().saturating_add(MAX_AHEAD_MS);
    let mut app = appendable.appender();
    let mut stats = WriteStats::default();
    let mut rej = Rejections::default();
    let (mut lbuf, mut sbuf) = (Vec::with_capacity(32), Vec::with_capacity(64));
    let walked =
        for_each_series::<RemoteWriteError>(&raw, &mut lbuf, &mut sbuf, |labels, samples| {
            stats.series += 1;
            let ls = match series_labels(labels) {
                Ok(l) => l,
                Err(why) => {
                    rej.add(4, samples.len() as u64, || why);
                    return Ok(());
                }
            };
            let mut r = None;
            for &(t, v) in samples {
                if t > max_t {
                    rej.add(3, 1, || format!("{ls} @ {t}"));
                    continue;
                }
                match app.append(r, &ls, t, v) {
                    Ok(nr) => {
                        r = Some(nr);
                        stats.samples_written += 1;
                    }
                    Err(e) => {
                        let reason = match e {
                            AppendError::OutOfOrder => 0,
                            AppendError::DuplicateSample => 1,
                            AppendError::OutOfBounds | AppendError::TooOld => 2,
                            AppendError::InvalidLabels { .. } | AppendError::Limit(_) => 4,
                            AppendError::Storage(err) => {
                                return Err(RemoteWriteError::Storage(err))
                            }
                        };
                        rej.add(reason, 1, || format!("{ls} @ {t}"));
                    }
                }
            }
            Ok(())
        });
    if let Err(e) = walked {
        let _ = app.rollback();
        return Err(e);
    }
    app.commit().map_err(RemoteWriteError::Storage)?;
    stats.samples_rejected = rej.total();
    if stats.samples_rejected > 0 {
        return Err(RemoteWriteError::Rejected {
            stats,
            message: rej.message(),
        });
    }
    Ok(stats)
}

/// Builds a series' labels, refusing what Prometheus refuses: no metric name, empty or
/// duplicate label names.
fn series_labels(pairs: &[(&str, &str)]) -> Result<Labels, String> {
    let mut has_name = false;
    // Senders sort labels by name: strictly increasing names cannot repeat, so the
    // quadratic duplicate check only runs for unsorted input.
    let sorted = pairs.windows(2).all(|w| matches!(w, [a, b] if a.0 < b.0));
    for (i, (n, v)) in pairs.iter().enumerate() {
        if n.is_empty() {
            return Err("empty label name".into());
        }
        if *n == METRIC_NAME && !v.is_empty() {
            has_name = true;
        }
        if !sorted && pairs.get(..i).unwrap_or(&[]).iter().any(|(m, _)| m == n) {
            return Err(format!("duplicate label name {n:?}"));
        }
    }
    if !has_name {
        let shown: Vec<String> = pairs.iter().map(|(n, v)| format!("{n}={v:?}")).collect();
        return Err(format!(
            "series without metric name {{{}}}",
            shown.join(", ")
        ));
    }
    // Senders sort labels by name; `from_sorted_iter` checks and falls back to sorting.
    Ok(Labels::from_sorted_iter(pairs.iter().copied()))
}
