//! A furnisher's dispute queue and its answers. Roles: operator, or the furnisher itself.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use registry_service::rights::DisputeOutcome;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::me::Disputes;
use crate::AppState;
use crate::caller::FurnisherCaller;
use crate::error::{ApiError, ErrorDocument};
use crate::extract::{ApiJson, ApiPath, ApiQuery, JsonShape};

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
    caller: FurnisherCaller,
    ApiQuery(QueueQuery { all }): ApiQuery<QueueQuery>,
) -> Result<Json<Disputes>, ApiError> {
    let furnisher = caller.furnisher;
    Ok(Json(Disputes { disputes: state.run(move |registry| registry.furnisher_disputes(&furnisher, !all.unwrap_or(false))).await? }))
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

impl JsonShape for Resolution {
    const SHAPE: &'static str = r#"{"outcome": "confirmed" | "corrected", "note"?}"#;
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
    caller: FurnisherCaller,
    ApiPath((_, dispute_id)): ApiPath<(String, String)>,
    ApiJson(request): ApiJson<Resolution>,
) -> Result<StatusCode, ApiError> {
    let furnisher = caller.furnisher;
    state.run(move |registry| registry.resolve_dispute(&furnisher, &dispute_id, request.outcome, &request.note)).await?;
    Ok(StatusCode::NO_CONTENT)
}
