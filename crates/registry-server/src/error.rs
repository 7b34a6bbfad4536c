//! The API's one error type: a stable code, an HTTP status and a plain message, sent as
//! `{"error": {"code", "message"}}`. Internal details are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use registry_service::ServiceError;
use registry_service::rights::Refusal;
use registry_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// Every error code the API returns, with its HTTP status. Codes are stable; add, never rename.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidFurnisher,
    SubjectNotFound,
    SubmissionNotFound,
    NotFound,
    Unauthenticated,
    Forbidden,
    RateLimited,
    ConsentRequired,
    FileFrozen,
    MethodNotAllowed,
    PayloadTooLarge,
    StoreBusy,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidFurnisher => "invalid_furnisher",
            ErrorCode::SubjectNotFound => "subject_not_found",
            ErrorCode::SubmissionNotFound => "submission_not_found",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::FileFrozen => "file_frozen",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::StoreBusy => "store_busy",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::InvalidRequest | ErrorCode::InvalidFurnisher => StatusCode::BAD_REQUEST,
            ErrorCode::SubjectNotFound | ErrorCode::SubmissionNotFound | ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden | ErrorCode::ConsentRequired | ErrorCode::FileFrozen => StatusCode::FORBIDDEN,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::StoreBusy | ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
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
        let mut response = (self.code.status(), Json(body)).into_response();
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
        match &error {
            ServiceError::InvalidInput(message) => ApiError::new(ErrorCode::InvalidRequest, message.clone()),
            ServiceError::NotFound(message) => ApiError::new(ErrorCode::NotFound, message.clone()),
            ServiceError::Refused(refusal, message) => {
                let code = match refusal {
                    Refusal::ConsentRequired => ErrorCode::ConsentRequired,
                    Refusal::SubjectNotFound => ErrorCode::SubjectNotFound,
                    Refusal::FileFrozen => ErrorCode::FileFrozen,
                };
                ApiError::new(code, message.clone())
            }
            ServiceError::Store(StoreError::Busy) => {
                ApiError::new(ErrorCode::StoreBusy, "the registry is busy applying another submission; retry shortly")
            }
            ServiceError::Store(StoreError::Unavailable(_)) => {
                tracing::warn!(error = %error, "the database is unavailable");
                ApiError::new(ErrorCode::Unavailable, "the registry's database is unavailable; nothing was changed, retry shortly")
            }
            ServiceError::Io { source, .. } if source.get_ref().is_some_and(|inner| inner.downcast_ref::<BodyTooLarge>().is_some()) => {
                ApiError::new(ErrorCode::PayloadTooLarge, "the file is larger than this server accepts")
            }
            _ => {
                tracing::error!(error = %error, "request failed");
                ApiError::new(ErrorCode::Internal, "internal error; the server log has details")
            }
        }
    }
}
