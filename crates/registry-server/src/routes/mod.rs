//! The API's handlers, one module per resource.

pub mod disputes;
pub mod health;
pub mod inquiries;
pub mod log;
pub mod me;
pub mod quality;
pub mod reports;
pub mod submissions;
pub mod supervision;

use std::sync::Arc;

use registry_core::model::Date;
use registry_service::Registry;
use serde::{Deserialize, Deserializer};

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

impl AppState {
    /// Runs work on the registry on a blocking thread (the store is synchronous), with its error
    /// mapped. The request's span goes along, so what the work logs carries the request id.
    pub(crate) async fn run<T, E>(&self, work: impl FnOnce(&Registry) -> Result<T, E> + Send + 'static) -> Result<T, ApiError>
    where
        T: Send + 'static,
        E: Into<ApiError> + Send + 'static,
    {
        let registry = Arc::clone(&self.registry);
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| work(&registry)))
            .await
            .map_err(|_| ApiError::new(ErrorCode::Internal, "a background task failed; the server log has details"))?
            .map_err(Into::into)
    }
}

/// A date in the API: exactly `YYYY-MM-DD`, as in furnishing files (no extended years).
pub(crate) fn strict_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Date>, D::Error> {
    let text: Option<String> = Option::deserialize(deserializer)?;
    text.map(|text| registry_core::furnishing::parse_date(&text).ok_or_else(|| serde::de::Error::custom("a date must be YYYY-MM-DD")))
        .transpose()
}
