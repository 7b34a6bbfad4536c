//! Liveness and metrics.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::caller::{Caller, roles};
use crate::error::{ApiError, ErrorCode, ErrorDocument};

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the store answers.
    pub status: String,
    pub version: String,
}

/// Whether the server and its store are up. Public: no key needed, no data given.
#[utoipa::path(get, path = "/health", tag = "operations", security(()),
    responses(
        (status = 200, body = Health, description = "The server and its store answer"),
        (status = 503, body = ErrorDocument, description = "The store does not answer"),
    ))]
pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let registry = state.registry.clone();
    tokio::task::spawn_blocking(move || registry.ping())
        .await
        .map_err(|_| ApiError::new(ErrorCode::Internal, "health check failed"))?
        .map_err(|e| {
            tracing::warn!(error = %e, "store health check failed");
            ApiError::new(ErrorCode::Unavailable, "the store does not answer")
        })?;
    Ok(Json(Health { status: "ok".into(), version: env!("CARGO_PKG_VERSION").into() }))
}

/// Prometheus metrics in the text exposition format. Roles: operator, supervisor.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, content_type = "text/plain; version=0.0.4", body = String, description = "Metrics"),
        (status = 403, body = ErrorDocument, description = "Not an operator or supervisor key"),
    ))]
pub async fn metrics(State(state): State<AppState>, _caller: Caller<roles::OperatorOrSupervisor>) -> Result<impl IntoResponse, ApiError> {
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render()))
}
