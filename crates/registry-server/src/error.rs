//! The API's one error type: a stable code from the registry's one table
//! (`registry_service::ErrorCode`, shared with the command line), the HTTP status each code
//! answers with, and a plain message, sent as `{"error": {"code", "message"}}`. Internal
//! details are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
pub use registry_service::ErrorCode;
use registry_service::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

/// The HTTP status of each code. Every code is decided here, so a new code cannot be left
/// without one.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Usage | ErrorCode::InvalidRequest | ErrorCode::InvalidFurnisher | ErrorCode::InvalidData => StatusCode::BAD_REQUEST,
        ErrorCode::NotFound
        | ErrorCode::SubjectNotFound
        | ErrorCode::SubmissionNotFound
        | ErrorCode::AccountNotFound
        | ErrorCode::ArchiveNotFound
        | ErrorCode::FileUnreadable => StatusCode::NOT_FOUND,
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden | ErrorCode::ConsentRequired | ErrorCode::FileFrozen => StatusCode::FORBIDDEN,
        ErrorCode::NotExpressible | ErrorCode::DestinationNotEmpty => StatusCode::CONFLICT,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::StoreBusy | ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::LogTampered | ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Sent as `Retry-After` (seconds) with `rate_limited`.
    pub retry_after_s: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into(), retry_after_s: None }
    }
}

/// The body of every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorDocument {
    pub error: ErrorBody,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable code.
    pub code: String,
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorDocument { error: ErrorBody { code: self.code.as_str().into(), message: self.message } };
        let mut response = (status_of(self.code), Json(body)).into_response();
        if let Some(seconds) = self.retry_after_s {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(seconds));
        }
        if self.code == ErrorCode::Unauthenticated {
            response.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Marks a request body that went over the configured limit.
#[derive(Debug)]
pub struct BodyTooLarge;

impl std::fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("request body too large")
    }
}

impl std::error::Error for BodyTooLarge {}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> ApiError {
        match (&error, error.code()) {
            (ServiceError::Io { source, .. }, _)
                if source.get_ref().is_some_and(|inner| inner.downcast_ref::<BodyTooLarge>().is_some()) =>
            {
                ApiError::new(ErrorCode::PayloadTooLarge, "the file is larger than this server accepts")
            }
            (_, ErrorCode::StoreBusy) => {
                ApiError::new(ErrorCode::StoreBusy, "the registry is busy applying another submission; retry shortly")
            }
            (_, ErrorCode::Unavailable) => {
                tracing::warn!(error = %error, "the database is unavailable");
                ApiError::new(ErrorCode::Unavailable, "the registry's database is unavailable; nothing was changed, retry shortly")
            }
            (_, ErrorCode::Internal) => {
                tracing::error!(error = %error, "request failed");
                ApiError::new(ErrorCode::Internal, "internal error; the server log has details")
            }
            (_, code) => ApiError::new(code, error.to_string()),
        }
    }
}
