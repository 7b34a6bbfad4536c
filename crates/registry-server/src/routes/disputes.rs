//! A furnisher's dispute queue and its answers. Roles: operator, or the furnisher itself.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use registry_service::rights::DisputeOutcome;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::me::Disputes;
use super::submissions::{allow_furnisher, furnisher_id};
use crate::AppState;
use crate::caller::Caller;
use crate::error::{ApiError, ErrorDocument};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// Also answered disputes (default: open ones only).
    pub all: Option<bool>,
}

/// The furnisher's disputes: open ones, oldest first (the queue), or all.
#[utoipa::path(get, path = "/v1/furnishers/{furnisher}/disputes", tag = "disputes",
    params(("furnisher" = String, Path, description = "The furnisher's id"), QueueQuery),
    responses(
        (status = 200, body = Disputes, description = "The disputes, each with its deadline"),
        (status = 403, body = ErrorDocument, description = "Not an operator key, nor this furnisher's own key"),
    ))]
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    furnisher: Result<Path<String>, PathRejection>,
    query: Result<Query<QueueQuery>, QueryRejection>,
) -> Result<Json<Disputes>, ApiError> {
    let furnisher = furnisher_id(&super::path(furnisher)?)?;
    allow_furnisher(&caller, &furnisher)?;
    let QueueQuery { all } = super::query(query)?;
    let registry = state.registry.clone();
    Ok(Json(Disputes { disputes: super::blocking(move || registry.furnisher_disputes(&furnisher, !all.unwrap_or(false))).await? }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    /// `confirmed`: the data is right; `corrected`: a corrected record was submitted.
    pub outcome: DisputeOutcome,
    /// What the furnisher found, for the consumer.
    #[serde(default)]
    pub note: String,
}

/// The furnisher's answer to a dispute.
#[utoipa::path(post, path = "/v1/furnishers/{furnisher}/disputes/{dispute_id}/resolution", tag = "disputes",
    params(("furnisher" = String, Path, description = "The furnisher's id"), ("dispute_id" = String, Path, description = "The dispute's id")),
    request_body = Resolution,
    responses(
        (status = 204, description = "Answered; the dispute leaves the queue and the report"),
        (status = 400, body = ErrorDocument, description = "Malformed, or already answered"),
        (status = 403, body = ErrorDocument, description = "Not an operator key, nor this furnisher's own key"),
        (status = 404, body = ErrorDocument, description = "The furnisher has no such dispute"),
    ))]
pub async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<(String, String)>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let (furnisher, dispute_id) = super::path(path)?;
    let furnisher = furnisher_id(&furnisher)?;
    allow_furnisher(&caller, &furnisher)?;
    let request: Resolution = super::json_body(body, r#"{"outcome": "confirmed" | "corrected", "note"?}"#)?;
    let registry = state.registry.clone();
    super::blocking(move || registry.resolve_dispute(&furnisher, &dispute_id, request.outcome, &request.note)).await?;
    Ok(StatusCode::NO_CONTENT)
}
