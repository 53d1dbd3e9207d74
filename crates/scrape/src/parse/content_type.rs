//! Content negotiation: the Accept header Prometheus sends, and the format of a response
//! from its Content-Type.

use super::Format;
use crate::config::ScrapeProtocol;

/// Number of protocols Prometheus knows; the first offered gets weight `0.(N+1)`.
const KNOWN_PROTOCOLS: usize = 5;

/// The Accept header for `protocols` in preference order, as Prometheus builds it:
/// decreasing `q` weights and a final `*/*`. The text formats that support it ask for
/// `escaping=underscores`, because Argus' parsers read classic (unquoted) names.
///
/// ```
/// use argus_scrape::config::ScrapeProtocol;
/// let h = argus_scrape::parse::accept_header(&ScrapeProtocol::DEFAULT);
/// assert_eq!(h, "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,\
/// application/openmetrics-text;version=0.0.1;q=0.5,\
/// text/plain;version=1.0.0;escaping=underscores;q=0.4,\
/// text/plain;version=0.0.4;q=0.3,*/*;q=0.2");
/// ```
pub fn accept_header(protocols: &[ScrapeProtocol]) -> String {
    let mut out = String::new();
    let mut weight = KNOWN_PROTOCOLS + 1;
    for p in protocols {
        out.push_str(p.header());
        if matches!(
            p,
            ScrapeProtocol::PrometheusText100 | ScrapeProtocol::OpenMetricsText100
        ) {
            out.push_str(";escaping=underscores");
        }
        out.push_str(&format!(";q=0.{weight},"));
        weight = weight.saturating_sub(1).max(1);
    }
    out.push_str(&format!("*/*;q=0.{weight}"));
    out
}

fn protocol_format(p: ScrapeProtocol) -> Format {
    match p {
        ScrapeProtocol::PrometheusProto => Format::Protobuf,
        ScrapeProtocol::PrometheusText004 | ScrapeProtocol::PrometheusText100 => {
            Format::PrometheusText
        }
        ScrapeProtocol::OpenMetricsText001 | ScrapeProtocol::OpenMetricsText100 => {
            Format::OpenMetrics
        }
    }
}

/// The format of a response with Content-Type `ct`. A missing or unknown type uses
/// `fallback` (`fallback_scrape_protocol`) or is an error, as in Prometheus 3.
pub fn format_for_content_type(
    ct: Option<&str>,
    fallback: Option<ScrapeProtocol>,
) -> Result<Format, String> {
    let ct = ct.unwrap_or("").trim();
    let mut parts = ct.split(';');
    let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let params: Vec<(String, String)> = parts
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            Some((
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_owned(),
            ))
        })
        .collect();
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let found = match media.as_str() {
        "application/openmetrics-text" => Some(Format::OpenMetrics),
        "text/plain" => Some(Format::PrometheusText),
        "application/vnd.google.protobuf"
            if param("proto") == Some("io.prometheus.client.MetricFamily")
                && param("encoding").is_none_or(|e| e == "delimited") =>
        {
            Some(Format::Protobuf)
        }
        _ => None,
    };
    match (found, fallback) {
        (Some(f), _) => Ok(f),
        (None, Some(p)) => Ok(protocol_format(p)),
        (None, None) => Err(format!(
            "received unsupported Content-Type {ct:?} and no fallback_scrape_protocol specified for target"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let f = |ct| format_for_content_type(Some(ct), None);
        assert_eq!(
            f("text/plain; version=0.0.4; charset=utf-8"),
            Ok(Format::PrometheusText)
        );
        assert_eq!(f("text/plain"), Ok(Format::PrometheusText));
        assert_eq!(
            f("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            Ok(Format::OpenMetrics)
        );
        assert_eq!(
            f("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"),
            Ok(Format::Protobuf)
        );
        assert!(f("application/json").is_err());
        assert!(format_for_content_type(None, None).is_err());
        assert_eq!(
            format_for_content_type(None, Some(ScrapeProtocol::PrometheusText004)),
            Ok(Format::PrometheusText)
        );
    }

    #[test]
    fn proto_first_accept_header() {
        let h = accept_header(&[
            ScrapeProtocol::PrometheusProto,
            ScrapeProtocol::PrometheusText004,
        ]);
        assert_eq!(
            h,
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,text/plain;version=0.0.4;q=0.5,*/*;q=0.4"
        );
    }
}
