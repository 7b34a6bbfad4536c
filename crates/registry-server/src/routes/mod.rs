//! The API's handlers, one module per resource.

pub mod disputes;
pub mod health;
pub mod inquiries;
pub mod log;
pub mod me;
pub mod reports;
pub mod submissions;

use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use registry_core::model::Date;
use serde::{Deserialize, Deserializer};

use crate::error::{ApiError, ErrorCode};

/// Runs store work on a blocking thread (the store is synchronous), with its error mapped.
pub(crate) async fn blocking<T, E>(work: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, ApiError>
where
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| ApiError::new(ErrorCode::Internal, "a background task failed; the server log has details"))?
        .map_err(Into::into)
}

/// Turns axum's path rejection (say, a percent-encoding that is not UTF-8) into an error document.
pub(crate) fn path<T>(path: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    path.map(|Path(value)| value).map_err(|rejection| ApiError::new(ErrorCode::InvalidRequest, rejection.body_text()))
}

/// Turns axum's body rejection (too large, unreadable) into an error document.
pub(crate) fn body(body: Result<axum::body::Bytes, BytesRejection>) -> Result<axum::body::Bytes, ApiError> {
    body.map_err(|rejection| {
        let code = if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ErrorCode::PayloadTooLarge
        } else {
            ErrorCode::InvalidRequest
        };
        ApiError::new(code, rejection.body_text())
    })
}

/// A JSON request body read whole; `shape` tells the caller what was expected.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(
    body: Result<axum::body::Bytes, BytesRejection>,
    shape: &str,
) -> Result<T, ApiError> {
    let body = self::body(body)?;
    serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(ErrorCode::InvalidRequest, format!("the body must be {shape}: {}", json_problem(&e))))
}

/// What is wrong with a JSON body, without repeating any value from it (a body may carry an
/// identifier or a name, and messages end up in logs): serde's messages about unknown or
/// missing fields name only fields; the others quote the offending value, so only their
/// position is given.
pub(crate) fn json_problem(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let names_no_value = ["unknown field", "missing field", "duplicate field", "a date must be"];
    if names_no_value.iter().any(|start| message.starts_with(start)) {
        message
    } else {
        let kind = match error.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => "not valid JSON",
            _ => "a value of the wrong type or form",
        };
        format!("{kind} at line {} column {}", error.line(), error.column())
    }
}

/// A date in the API: exactly `YYYY-MM-DD`, as in furnishing files (no extended years).
pub(crate) fn strict_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Date>, D::Error> {
    let text: Option<String> = Option::deserialize(deserializer)?;
    text.map(|text| registry_core::furnishing::parse_date(&text).ok_or_else(|| serde::de::Error::custom("a date must be YYYY-MM-DD")))
        .transpose()
}

/// Turns axum's query-string rejection into the API's error document.
pub(crate) fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query.map(|Query(value)| value).map_err(|rejection| ApiError::new(ErrorCode::InvalidRequest, rejection.body_text()))
}
