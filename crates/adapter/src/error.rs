//! The adapter's error type and its mapping to Kubernetes `Status` responses.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::config::ConfigError;
use crate::k8s::{Status, StatusDetails};

/// Everything that can go wrong while serving a request or starting up.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AdapterError {
    /// 404 `NotFound`.
    #[error("{message}")]
    NotFound {
        /// What was not found.
        message: String,
        /// The object concerned.
        details: Option<StatusDetails>,
    },
    /// 400 `BadRequest` (bad selector, bad path parameter).
    #[error("{0}")]
    BadRequest(String),
    /// 401 `Unauthorized`.
    #[error("{0}")]
    Unauthorized(String),
    /// 403 `Forbidden` (RBAC denied the request).
    #[error("{0}")]
    Forbidden(String),
    /// 504 `Timeout`.
    #[error("{0}")]
    Timeout(String),
    /// 503 `ServiceUnavailable` (storage closed or failing).
    #[error("{0}")]
    Unavailable(String),
    /// 500 `InternalError`.
    #[error("{0}")]
    Internal(String),
    /// A configuration was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// TLS set-up failed (certificates, keys, CA bundles).
    #[error("TLS: {0}")]
    Tls(String),
    /// A call to the Kubernetes API failed.
    #[error("Kubernetes API: {0}")]
    Kube(String),
}

impl AdapterError {
    /// A 404 with a message and no details.
    pub fn not_found(message: impl Into<String>) -> Self {
        AdapterError::NotFound {
            message: message.into(),
            details: None,
        }
    }

    /// The `Status` body for this error.
    pub fn status(&self) -> Status {
        match self {
            AdapterError::NotFound { message, details } => {
                let s = Status::failure(404, "NotFound", message.clone());
                match details {
                    Some(d) => s.with_details(d.clone()),
                    None => s,
                }
            }
            AdapterError::BadRequest(m) => Status::failure(400, "BadRequest", m.clone()),
            AdapterError::Unauthorized(m) => Status::failure(401, "Unauthorized", m.clone()),
            AdapterError::Forbidden(m) => Status::failure(403, "Forbidden", m.clone()),
            AdapterError::Timeout(m) => Status::failure(504, "Timeout", m.clone()),
            AdapterError::Unavailable(m) => Status::failure(503, "ServiceUnavailable", m.clone()),
            other => Status::failure(500, "InternalError", other.to_string()),
        }
    }
}

impl From<argus_model::StorageError> for AdapterError {
    fn from(e: argus_model::StorageError) -> Self {
        match e {
            argus_model::StorageError::Closed => AdapterError::Unavailable(e.to_string()),
            argus_model::StorageError::Canceled => AdapterError::Timeout(e.to_string()),
            other => AdapterError::Internal(format!("storage: {other}")),
        }
    }
}

impl From<crate::selector::SelectorError> for AdapterError {
    fn from(e: crate::selector::SelectorError) -> Self {
        AdapterError::BadRequest(e.0)
    }
}

/// A JSON response with the given status code.
pub fn json_response<T: serde::Serialize>(code: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(b) => (code, [(header::CONTENT_TYPE, "application/json")], b).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encoding response: {e}"),
        )
            .into_response(),
    }
}

impl IntoResponse for AdapterError {
    fn into_response(self) -> Response {
        let s = self.status();
        let code = StatusCode::from_u16(s.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        json_response(code, &s)
    }
}
