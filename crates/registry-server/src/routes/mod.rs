//! The API's handlers, one module per resource.

pub mod health;
pub mod reports;
pub mod submissions;

use axum::extract::rejection::QueryRejection;
use axum::extract::Query;

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

/// Turns axum's query-string rejection into the API's error document.
pub(crate) fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query
        .map(|Query(value)| value)
        .map_err(|rejection| ApiError::new(ErrorCode::InvalidRequest, rejection.body_text()))
}
