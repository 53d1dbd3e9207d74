//! Request-header parsing for asset responses: content negotiation and revalidation.

use axum::http::{header, HeaderMap};

/// Whether the client accepts a gzip-encoded body (`Accept-Encoding`, RFC 9110 §12.5.3):
/// `gzip` or `*` listed without `q=0`. An explicit `gzip;q=0` refuses it even with `*`.
pub(crate) fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut star = false;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                let p = p.trim();
                p.strip_prefix("q=")
                    .or_else(|| p.strip_prefix("Q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            match coding.as_str() {
                "gzip" | "x-gzip" => return !refused,
                "*" => star = !refused,
                _ => {}
            }
        }
    }
    star
}

/// Whether `If-None-Match` names this ETag (weak comparison, as RFC 9110 §13.1.2 asks).
pub(crate) fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    let want = etag.trim_start_matches("W/");
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.trim_start_matches("W/") == want)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with(name: header::HeaderName, values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(name.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn gzip_negotiation() {
        let ae = |v: &[&str]| accepts_gzip(&with(header::ACCEPT_ENCODING, v));
        assert!(ae(&["gzip, deflate, br"]));
        assert!(ae(&["br;q=1.0, GZIP;q=0.5"]));
        assert!(ae(&["deflate", "gzip"]));
        assert!(ae(&["*"]));
        assert!(ae(&["x-gzip"]));
        assert!(!ae(&[]));
        assert!(!ae(&["identity"]));
        assert!(!ae(&["br, deflate"]));
        assert!(!ae(&["gzip;q=0"]));
        assert!(!ae(&["gzip; q=0.000"]));
        assert!(!ae(&["*, gzip;q=0"]));
        assert!(!ae(&["*;q=0"]));
        assert!(ae(&["gzip;q=bogus"]));
    }

    #[test]
    fn etag_revalidation() {
        let etag = "W/\"00ff\"";
        let inm = |v: &[&str]| if_none_match(&with(header::IF_NONE_MATCH, v), etag);
        assert!(inm(&["W/\"00ff\""]));
        assert!(inm(&["\"00ff\""]));
        assert!(inm(&["\"aaaa\", W/\"00ff\""]));
        assert!(inm(&["*"]));
        assert!(!inm(&[]));
        assert!(!inm(&["\"00fe\""]));
    }
}
