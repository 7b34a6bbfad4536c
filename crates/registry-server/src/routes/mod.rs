//! The API's handlers, one module per resource.

pub mod health;
pub mod reports;
pub mod submissions;

use axum::extract::rejection::QueryRejection;
use axum::extract::Query;

use crate::error::{ApiError, ErrorCode};

/// Turns axum's query-string rejection into the API's error document.
pub(crate) fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query
        .map(|Query(value)| value)
        .map_err(|rejection| ApiError::new(ErrorCode::InvalidRequest, rejection.body_text()))
}
