//! Remote-read requests to a peer (`POST /api/v1/read`, SAMPLES response type): the
//! protocol every Prometheus-compatible server answers, so backfill needs nothing beyond
//! what the peer serves anyway.

use std::time::Duration;

use anyhow::Context as _;
use argus_query::api::remote_read::proto::{
    LabelMatcher, MatcherType, Query, ReadRequest, ReadResponse, ResponseType, TimeSeries,
};
use prost::Message as _;

/// Largest decompressed response accepted; callers keep windows small enough.
const MAX_RESPONSE_BYTES: usize = 1 << 30;

/// An equality matcher.
pub fn eq(name: &str, value: &str) -> LabelMatcher {
    LabelMatcher {
        r#type: MatcherType::Eq as i32,
        name: name.to_owned(),
        value: value.to_owned(),
    }
}

/// Reads the series matching `matchers` in `[start, end]` from the peer at `base`.
pub async fn read(
    client: &reqwest::Client,
    base: &str,
    start: i64,
    end: i64,
    matchers: Vec<LabelMatcher>,
    timeout: Duration,
) -> anyhow::Result<Vec<TimeSeries>> {
    let req = ReadRequest {
        queries: vec![Query {
            start_timestamp_ms: start,
            end_timestamp_ms: end,
            matchers,
            hints: None,
        }],
        accepted_response_types: vec![ResponseType::Samples as i32],
    };
    let body = snap::raw::Encoder::new()
        .compress_vec(&req.encode_to_vec())
        .context("compressing the read request")?;
    let resp = client
        .post(format!("{base}/api/v1/read"))
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .header("X-Prometheus-Remote-Read-Version", "0.1.0")
        .timeout(timeout)
        .body(body)
        .send()
        .await
        .context("sending the read request")?;
    let status = resp.status();
    let bytes = resp.bytes().await.context("reading the read response")?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(bytes.get(..bytes.len().min(512)).unwrap_or(&[]));
        anyhow::bail!("remote read answered {status}: {}", text.trim());
    }
    let len = snap::raw::decompress_len(&bytes).context("read response is not snappy")?;
    anyhow::ensure!(
        len <= MAX_RESPONSE_BYTES,
        "read response of {len} bytes exceeds {MAX_RESPONSE_BYTES}"
    );
    let raw = snap::raw::Decoder::new()
        .decompress_vec(&bytes)
        .context("decompressing the read response")?;
    let resp = ReadResponse::decode(raw.as_slice()).context("decoding the read response")?;
    Ok(resp
        .results
        .into_iter()
        .next()
        .map(|r| r.timeseries)
        .unwrap_or_default())
}
