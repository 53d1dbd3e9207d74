//! `POST /api/v1/read`: Prometheus remote read (`storage/remote/read_handler.go`).
//!
//! The request is a snappy-compressed `ReadRequest`. Two response types:
//! - `SAMPLES`: one snappy-compressed `ReadResponse` (`application/x-protobuf`), every sample
//!   in memory at once, capped by `sample_limit`;
//! - `STREAMED_XOR_CHUNKS`: frames of `uvarint(len) | crc32c(data) BE | data`, each a
//!   `ChunkedReadResponse` with one series' XOR chunks, at most `max_bytes_in_frame` of chunks
//!   per frame (`application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse`).
//!
//! External labels are added to every returned series (series labels win), and equality
//! matchers on an external label with its value are dropped before selecting, so a
//! federating reader can ask for `{cluster="a"}` without the data carrying that label.

pub mod proto;
pub mod xor;

use std::sync::Arc;

use argus_model::{Labels, LabelsBuilder, MatchOp, Matcher, Queryable, SelectHints};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use prost::Message;
use tokio::sync::Semaphore;

use super::state::ApiState;
use proto::{
    Chunk, ChunkEncoding, ChunkedReadResponse, ChunkedSeries, Label, LabelMatcher, MatcherType,
    Query, QueryResult, ReadRequest, ReadResponse, ResponseType, Sample, TimeSeries,
};

/// Largest decompressed request accepted (a read request is a handful of matchers).
const MAX_REQUEST_BYTES: usize = 32 << 20;

/// Content type of streamed responses.
pub const STREAMED_CONTENT_TYPE: &str =
    "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse";

/// Remote-read state: the API state plus the concurrency gate.
#[derive(Clone)]
pub struct ReadState {
    /// Shared API state.
    pub api: ApiState,
    /// At most `concurrency_limit` reads at once.
    pub gate: Option<Arc<Semaphore>>,
}

/// An error as plain text, as the upstream handler answers (`http.Error`).
fn text_error(status: StatusCode, msg: impl std::fmt::Display) -> Response {
    let mut r = (status, format!("{msg}\n")).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// The handler.
pub async fn read(State(st): State<ReadState>, body: Bytes) -> Response {
    let _permit = match &st.gate {
        Some(g) => match g.clone().acquire_owned().await {
            Ok(p) => Some(p),
            Err(_) => return text_error(StatusCode::INTERNAL_SERVER_ERROR, "read gate closed"),
        },
        None => None,
    };
    let req = match decode_request(&body) {
        Ok(r) => r,
        Err(e) => return text_error(StatusCode::BAD_REQUEST, e),
    };
    let response_type = if req.accepted_response_types.is_empty() {
        Some(ResponseType::Samples)
    } else {
        req.accepted_response_types
            .iter()
            .find_map(|&t| ResponseType::try_from(t).ok())
    };
    let Some(response_type) = response_type else {
        return text_error(
            StatusCode::NOT_IMPLEMENTED,
            format!(
                "none of requested response types are implemented: {:?}",
                req.accepted_response_types
            ),
        );
    };
    let storage = st.api.storage.clone();
    let external = st.api.external_labels.clone();
    let opts = st.api.remote_read;
    let result = tokio::task::spawn_blocking(move || match response_type {
        ResponseType::Samples => {
            samples_response(storage.as_ref(), &external, &req, opts.sample_limit)
        }
        ResponseType::StreamedXorChunks => {
            streamed_response(storage.as_ref(), &external, &req, opts.max_bytes_in_frame)
        }
    })
    .await;
    match result {
        Ok(Ok(r)) => r,
        Ok(Err((status, msg))) => text_error(status, msg),
        Err(e) => text_error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

fn decode_request(body: &[u8]) -> Result<ReadRequest, String> {
    let len = snap::raw::decompress_len(body).map_err(|e| e.to_string())?;
    if len > MAX_REQUEST_BYTES {
        return Err(format!(
            "decompressed request of {len} bytes exceeds the limit of {MAX_REQUEST_BYTES}"
        ));
    }
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| e.to_string())?;
    ReadRequest::decode(raw.as_slice()).map_err(|e| e.to_string())
}

type HandlerError = (StatusCode, String);

/// Converts protobuf matchers, dropping `name="value"` matchers satisfied by an external
/// label (`filterExtLabelsFromMatchers`).
fn matchers(pb: &[LabelMatcher], external: &Labels) -> Result<Vec<Matcher>, HandlerError> {
    let mut out = Vec::with_capacity(pb.len());
    for m in pb {
        let op = match MatcherType::try_from(m.r#type) {
            Ok(MatcherType::Eq) => MatchOp::Equal,
            Ok(MatcherType::Neq) => MatchOp::NotEqual,
            Ok(MatcherType::Re) => MatchOp::Regex,
            Ok(MatcherType::Nre) => MatchOp::NotRegex,
            Err(_) => {
                return Err((
                    StatusCode::BAD_REQUEST,
                    format!("invalid matcher type {}", m.r#type),
                ))
            }
        };
        if op == MatchOp::Equal && external.get(&m.name) == Some(m.value.as_str()) {
            continue;
        }
        out.push(
            Matcher::new(op, m.name.clone(), m.value.clone())
                .map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))?,
        );
    }
    Ok(out)
}

fn hints(q: &Query) -> SelectHints {
    let mut h = SelectHints {
        start: q.start_timestamp_ms,
        end: q.end_timestamp_ms,
        ..SelectHints::default()
    };
    if let Some(rh) = &q.hints {
        h.step = rh.step_ms;
        h.range = rh.range_ms;
        h.func = (!rh.func.is_empty()).then(|| rh.func.clone());
        h.grouping = rh.grouping.clone();
        h.by = rh.by;
    }
    h
}

/// Series labels plus the external labels they lack, sorted.
fn with_external(l: &Labels, external: &Labels) -> Vec<Label> {
    let merged = if external.is_empty() {
        l.clone()
    } else {
        let mut b = LabelsBuilder::from(l);
        for e in external.iter() {
            if !l.has(e.name) {
                b.set(e.name, e.value);
            }
        }
        b.build()
    };
    merged
        .iter()
        .map(|x| Label {
            name: x.name.to_owned(),
            value: x.value.to_owned(),
        })
        .collect()
}

/// Runs one query, calling `f` with each series' labels and samples in `[start, end]`.
fn for_each_series(
    storage: &dyn Queryable,
    external: &Labels,
    q: &Query,
    mut f: impl FnMut(Vec<Label>, Vec<(i64, f64)>) -> Result<(), HandlerError>,
) -> Result<(), HandlerError> {
    let ms = matchers(&q.matchers, external)?;
    let internal =
        |e: argus_model::StorageError| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    let querier = storage
        .querier(q.start_timestamp_ms, q.end_timestamp_ms)
        .map_err(internal)?;
    let h = hints(q);
    let mut set = querier.select(true, Some(&h), &ms);
    while let Some(s) = set.next() {
        let s = s.map_err(internal)?;
        let mut it = s.iterator();
        let mut samples = Vec::new();
        if it.seek(q.start_timestamp_ms) {
            loop {
                let smp = it.at();
                if smp.t > q.end_timestamp_ms {
                    break;
                }
                samples.push((smp.t, smp.v));
                if !it.next() {
                    break;
                }
            }
        }
        if let Some(e) = it.err() {
            return Err(internal(e.clone()));
        }
        f(with_external(s.labels(), external), samples)?;
    }
    Ok(())
}

fn samples_response(
    storage: &dyn Queryable,
    external: &Labels,
    req: &ReadRequest,
    sample_limit: usize,
) -> Result<Response, HandlerError> {
    let mut resp = ReadResponse::default();
    for q in &req.queries {
        let mut result = QueryResult::default();
        let mut total = 0usize;
        for_each_series(storage, external, q, |labels, samples| {
            total += samples.len();
            if sample_limit > 0 && total > sample_limit {
                return Err((
                    StatusCode::BAD_REQUEST,
                    format!("exceeded sample limit ({sample_limit})"),
                ));
            }
            result.timeseries.push(TimeSeries {
                labels,
                samples: samples
                    .into_iter()
                    .map(|(timestamp, value)| Sample { value, timestamp })
                    .collect(),
            });
            Ok(())
        })?;
        resp.results.push(result);
    }
    let raw = resp.encode_to_vec();
    let body = snap::raw::Encoder::new()
        .compress_vec(&raw)
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-protobuf"),
    );
    h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("snappy"));
    Ok(r)
}

/// Appends one frame: `uvarint(len) | crc32c(data) big-endian | data`.
pub fn write_frame(out: &mut Vec<u8>, data: &[u8]) {
    let mut n = data.len() as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out.extend_from_slice(&crc32c::crc32c(data).to_be_bytes());
    out.extend_from_slice(data);
}

fn streamed_response(
    storage: &dyn Queryable,
    external: &Labels,
    req: &ReadRequest,
    max_bytes_in_frame: usize,
) -> Result<Response, HandlerError> {
    let mut body = Vec::new();
    for (index, q) in req.queries.iter().enumerate() {
        let query_index = i64::try_from(index).unwrap_or(i64::MAX);
        for_each_series(storage, external, q, |labels, samples| {
            let mut frame_chunks: Vec<Chunk> = Vec::new();
            let mut frame_bytes = 0usize;
            let flush = |chunks: &mut Vec<Chunk>, body: &mut Vec<u8>| {
                let msg = ChunkedReadResponse {
                    chunked_series: vec![ChunkedSeries {
                        labels: labels.clone(),
                        chunks: std::mem::take(chunks),
                    }],
                    query_index,
                };
                write_frame(body, &msg.encode_to_vec());
            };
            for part in samples.chunks(xor::SAMPLES_PER_CHUNK) {
                let (Some(first), Some(last)) = (part.first(), part.last()) else {
                    continue;
                };
                let data = xor::encode_xor_chunk(part);
                frame_bytes += data.len();
                frame_chunks.push(Chunk {
                    min_time_ms: first.0,
                    max_time_ms: last.0,
                    r#type: ChunkEncoding::Xor as i32,
                    data,
                });
                if frame_bytes >= max_bytes_in_frame {
                    flush(&mut frame_chunks, &mut body);
                    frame_bytes = 0;
                }
            }
            if !frame_chunks.is_empty() {
                flush(&mut frame_chunks, &mut body);
            }
            Ok(())
        })?;
    }
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(STREAMED_CONTENT_TYPE),
    );
    Ok(r)
}
