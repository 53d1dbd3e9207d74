//! The Prometheus HTTP API envelope and its number formatting, shared by every crate that
//! serves part of `/api/v1` (query, scrape targets, rules, metadata) so the bytes match
//! Prometheus everywhere.
//!
//! ```json
//! {"status":"success","data":…,"warnings":[…],"infos":[…]}
//! {"status":"error","errorType":"bad_data","error":"…"}
//! ```

use std::fmt::Write as _;

use serde::{Serialize, Serializer};

/// Prometheus' error types; each maps to an HTTP status (`web/api/v1/api.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorType {
    /// Invalid parameters: 400.
    BadData,
    /// Evaluation failed: 422.
    Execution,
    /// Client went away or the query was canceled: 499.
    Canceled,
    /// Query timeout: 503.
    Timeout,
    /// Server bug or storage failure: 500.
    Internal,
    /// Unknown resource: 404.
    NotFound,
    /// Not acceptable: 406.
    NotAcceptable,
    /// Storage or service unavailable: 500 (Prometheus' default code).
    Unavailable,
}

impl ErrorType {
    /// The `errorType` string.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::BadData => "bad_data",
            ErrorType::Execution => "execution",
            ErrorType::Canceled => "canceled",
            ErrorType::Timeout => "timeout",
            ErrorType::Internal => "internal",
            ErrorType::NotFound => "not_found",
            ErrorType::NotAcceptable => "not_acceptable",
            ErrorType::Unavailable => "unavailable",
        }
    }

    /// The HTTP status code Prometheus uses for this error type.
    pub fn status_code(self) -> u16 {
        match self {
            ErrorType::BadData => 400,
            ErrorType::Execution => 422,
            ErrorType::Canceled => 499,
            ErrorType::Timeout => 503,
            ErrorType::Internal => 500,
            ErrorType::NotFound => 404,
            ErrorType::NotAcceptable => 406,
            // Prometheus' `getDefaultErrorCode` has no case for `unavailable`, so it falls to
            // the default 500 (e.g. "admin APIs disabled").
            ErrorType::Unavailable => 500,
        }
    }
}

impl Serialize for ErrorType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An API error: type plus message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// The error type (decides the HTTP status).
    pub error_type: ErrorType,
    /// The human-readable message.
    pub message: String,
}

impl ApiError {
    /// A new error.
    pub fn new(error_type: ErrorType, message: impl Into<String>) -> Self {
        ApiError {
            error_type,
            message: message.into(),
        }
    }

    /// A `bad_data` (400) error.
    pub fn bad_data(message: impl Into<String>) -> Self {
        Self::new(ErrorType::BadData, message)
    }

    /// An `internal` (500) error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorType::Internal, message)
    }

    /// The envelope for this error.
    pub fn envelope(&self) -> ApiResponse<()> {
        ApiResponse {
            status: Status::Error,
            data: None,
            error_type: Some(self.error_type),
            error: Some(self.message.clone()),
            warnings: Vec::new(),
            infos: Vec::new(),
        }
    }
}

/// `"success"` or `"error"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// success
    Success,
    /// error
    Error,
}

/// The JSON envelope of every `/api/v1` response.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiResponse<T> {
    /// success or error.
    pub status: Status,
    /// The payload (absent on error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
    /// The error type (errors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_type: Option<ErrorType>,
    /// The error message (errors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Warnings (omitted when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Informational notes (omitted when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub infos: Vec<String>,
}

impl<T> ApiResponse<T> {
    /// A success envelope around `data`.
    pub fn success(data: T) -> Self {
        ApiResponse {
            status: Status::Success,
            data: Some(data),
            error_type: None,
            error: None,
            warnings: Vec::new(),
            infos: Vec::new(),
        }
    }

    /// Adds warnings.
    pub fn with_warnings(mut self, warnings: Vec<String>) -> Self {
        self.warnings = warnings;
        self
    }

    /// Adds infos.
    pub fn with_infos(mut self, infos: Vec<String>) -> Self {
        self.infos = infos;
        self
    }
}

/// Formats a sample value as Prometheus does in JSON: `"+Inf"`, `"-Inf"`, `"NaN"`, otherwise
/// the shortest decimal that round-trips: plain for `1e-6 <= |v| < 1e21` (Go's
/// `FormatFloat(v, 'f', -1, 64)`), exponent form like Go's `'e'` outside (`1e-07`, `1e+21`),
/// the cut-offs of Prometheus' `json_codec.go` `marshalFloat`.
pub fn format_value(v: f64) -> String {
    let mut s = String::new();
    write_value(v, &mut s);
    s
}

/// Appends [`format_value`]`(v)` to `out`.
pub fn write_value(v: f64, out: &mut String) {
    let abs = v.abs();
    if abs.is_finite() && abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        crate::gofloat::write_e(v, out);
    } else {
        crate::gofloat::write_f(v, out);
    }
}

/// Appends `v` in Go's `strconv.FormatFloat(v, 'e', -1, 64)` form: shortest round-trip
/// mantissa, then `e`, a sign and at least two exponent digits (`1.5e-07`, `1e+21`).
pub fn write_go_exponent(v: f64, out: &mut String) {
    crate::gofloat::write_e(v, out);
}

/// Appends a millisecond timestamp as Prometheus writes it: seconds, then `.` and exactly
/// three digits when the milliseconds are not zero (`1435781451.781`, `10.500`, `3`).
pub fn write_timestamp(t_ms: i64, out: &mut String) {
    let mut t = t_ms as i128;
    if t < 0 {
        out.push('-');
        t = -t;
    }
    let _ = write!(out, "{}", t / 1000);
    let frac = t % 1000;
    if frac != 0 {
        let _ = write!(out, ".{frac:03}");
    }
}

/// A `[timestamp, "value"]` pair that serializes exactly like Prometheus' sample points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ApiPoint {
    /// Milliseconds.
    pub t: i64,
    /// Value.
    pub v: f64,
}

impl Serialize for ApiPoint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut ts = String::with_capacity(16);
        write_timestamp(self.t, &mut ts);
        let n = serde_json::value::RawValue::from_string(ts).map_err(serde::ser::Error::custom)?;
        let mut tup = s.serialize_tuple(2)?;
        tup.serialize_element(&n)?;
        tup.serialize_element(&format_value(self.v))?;
        tup.end()
    }
}

/// Formats a millisecond timestamp as RFC 3339 in UTC with millisecond precision when
/// needed (`2024-01-02T03:04:05.678Z`), as Prometheus prints times in its API.
pub fn format_rfc3339(t_ms: i64) -> String {
    let secs = t_ms.div_euclid(1000);
    let ms = t_ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    );
    if ms != 0 {
        let mut frac = format!("{ms:03}");
        while frac.ends_with('0') {
            frac.pop();
        }
        s.push('.');
        s.push_str(&frac);
    }
    s.push('Z');
    s
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(feature = "axum")]
mod axum_impl {
    use axum::http::{header, HeaderValue, StatusCode};
    use axum::response::{IntoResponse, Response};

    use super::{ApiError, ApiResponse};

    impl<T: serde::Serialize> IntoResponse for ApiResponse<T> {
        fn into_response(self) -> Response {
            let status = self
                .error_type
                .and_then(|e| StatusCode::from_u16(e.status_code()).ok())
                .unwrap_or(StatusCode::OK);
            match serde_json::to_vec(&self) {
                Ok(body) => json_response(status, body),
                Err(e) => {
                    ApiError::internal(format!("error encoding response: {e}")).into_response()
                }
            }
        }
    }

    impl IntoResponse for ApiError {
        fn into_response(self) -> Response {
            let status = StatusCode::from_u16(self.error_type.status_code())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = serde_json::to_vec(&self.envelope()).unwrap_or_default();
            json_response(status, body)
        }
    }

    fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
        let mut r = (status, body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_like_go() {
        assert_eq!(format_value(1.0), "1");
        assert_eq!(format_value(0.1), "0.1");
        assert_eq!(format_value(1e21), "1e+21");
        assert_eq!(format_value(1e-7), "1e-07");
        assert_eq!(format_value(-1.5e-7), "-1.5e-07");
        assert_eq!(format_value(1.2345e300), "1.2345e+300");
        assert_eq!(format_value(1e-6), "0.000001");
        assert_eq!(format_value(9.99e20), "999000000000000000000");
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(-0.0), "-0");
    }

    #[test]
    fn timestamps_like_prometheus() {
        let f = |t| {
            let mut s = String::new();
            write_timestamp(t, &mut s);
            s
        };
        assert_eq!(f(1_435_781_451_781), "1435781451.781");
        assert_eq!(f(10_500), "10.500");
        assert_eq!(f(3_000), "3");
        assert_eq!(f(5), "0.005");
        assert_eq!(f(-1_500), "-1.500");
    }

    #[test]
    fn envelope_shapes() {
        let ok = serde_json::to_string(&ApiResponse::success(vec![ApiPoint { t: 1_000, v: 2.5 }]))
            .unwrap();
        assert_eq!(ok, r#"{"status":"success","data":[[1,"2.5"]]}"#);
        let err = serde_json::to_string(&ApiError::bad_data("nope").envelope()).unwrap();
        assert_eq!(
            err,
            r#"{"status":"error","errorType":"bad_data","error":"nope"}"#
        );
    }

    #[test]
    fn rfc3339() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_rfc3339(1_700_000_000_123),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(format_rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
    }
}
