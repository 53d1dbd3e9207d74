//! Turning handler outcomes into HTTP responses: the JSON envelope, Prometheus' status codes
//! per error type, and 204 for handlers that return no data (`web/api/v1/api.go` `wrap`).

use argus_model::api::{ApiError, ErrorType};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::json_codec;

/// A handler's outcome.
pub type ApiResult = Result<Response, Fail>;

/// An API error on its way to the client, encoded with Prometheus' JSON escaping.
#[derive(Debug)]
pub struct Fail(pub ApiError);

impl From<ApiError> for Fail {
    fn from(e: ApiError) -> Self {
        Fail(e)
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        error_response(&self.0)
    }
}

/// `{"status":"error",...}` with the status code Prometheus uses for the error type.
pub fn error_response(e: &ApiError) -> Response {
    let status = StatusCode::from_u16(e.error_type.status_code())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json_codec::error_envelope(e.error_type.as_str(), &e.message);
    json_response(status, body)
}

/// A success envelope around already-encoded `data` JSON.
pub fn raw_success(data: &[u8], warnings: &[String], infos: &[String]) -> Response {
    json_response(
        StatusCode::OK,
        json_codec::success_envelope(data, warnings, infos),
    )
}

/// A success envelope around `data`.
pub fn success<T: Serialize + ?Sized>(data: &T) -> ApiResult {
    success_with_warnings(data, &[])
}

/// A success envelope around `data`, with warnings.
pub fn success_with_warnings<T: Serialize + ?Sized>(data: &T, warnings: &[String]) -> ApiResult {
    let encoded = json_codec::to_vec(data)
        .map_err(|e| ApiError::internal(format!("error marshaling response: {e}")))?;
    Ok(raw_success(&encoded, warnings, &[]))
}

/// 204 No Content: what Prometheus answers when a handler has no data (admin endpoints).
pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// `invalid parameter "<name>": <message>` as a `bad_data` error.
pub fn invalid_param(name: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::bad_data(format!("invalid parameter \"{name}\": {message}"))
}

/// A `bad_data` error with a plain message.
pub fn bad_data(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorType::BadData, message)
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}
