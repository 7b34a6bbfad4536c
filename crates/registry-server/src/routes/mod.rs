//! The API's handlers, one module per resource.

pub mod disputes;
pub mod health;
pub mod inquiries;
pub mod log;
pub mod me;
pub mod reports;
pub mod submissions;

use registry_core::model::Date;
use serde::{Deserialize, Deserializer};

use crate::error::{ApiError, ErrorCode};

/// Runs store work on a blocking thread (the store is synchronous), with its error mapped. The
/// request's span goes along, so what the work logs carries the request id.
pub(crate) async fn blocking<T, E>(work: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, ApiError>
where
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work))
        .await
        .map_err(|_| ApiError::new(ErrorCode::Internal, "a background task failed; the server log has details"))?
        .map_err(Into::into)
}

/// A date in the API: exactly `YYYY-MM-DD`, as in furnishing files (no extended years).
pub(crate) fn strict_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Date>, D::Error> {
    let text: Option<String> = Option::deserialize(deserializer)?;
    text.map(|text| registry_core::furnishing::parse_date(&text).ok_or_else(|| serde::de::Error::custom("a date must be YYYY-MM-DD")))
        .transpose()
}
