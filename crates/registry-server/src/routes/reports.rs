//! Credit reports, by national identifier or by registry id.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use registry_core::model::{Date, IdType};
use registry_core::report::{Audience, Report, SubjectKey};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::caller::Caller;
use crate::error::{ApiError, ErrorCode, ErrorDocument};
use crate::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    pub id_type: IdType,
    /// The national identifier, as furnished.
    pub id: String,
    /// Report date (default: today, UTC).
    pub as_of: Option<Date>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AsOfQuery {
    /// Report date YYYY-MM-DD (default: today, UTC).
    pub as_of: Option<Date>,
}

async fn build(state: &AppState, subject: Option<SubjectKey>, as_of: Option<Date>) -> Result<Json<Report>, ApiError> {
    let not_found = || ApiError::new(ErrorCode::SubjectNotFound, "the registry has no subject with that identifier");
    let subject = subject.ok_or_else(not_found)?;
    let registry = state.registry.clone();
    let report = super::blocking(move || registry.report(subject, as_of, Audience::Masked)).await?.ok_or_else(not_found)?;
    state.metrics.reports.inc();
    Ok(Json(report))
}

/// The credit report of the subject with a national identifier.
///
/// The identifier travels in the body, not the URL, so it stays out of access logs.
#[utoipa::path(post, path = "/v1/reports", tag = "reports",
    request_body = ReportRequest,
    responses(
        (status = 200, body = Report, description = "The report; identifiers masked"),
        (status = 400, body = ErrorDocument, description = "Malformed request or identifier"),
        (status = 404, body = ErrorDocument, description = "The registry has never seen this subject"),
    ))]
pub async fn report_by_identifier(State(state): State<AppState>, _caller: Caller, body: Bytes) -> Result<Json<Report>, ApiError> {
    let request: ReportRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(ErrorCode::InvalidRequest, format!("the body must be {{\"id_type\", \"id\", \"as_of\"?}}: {e}")))?;
    let registry = state.registry.clone();
    let subject = super::blocking(move || {
        registry.find_subject(request.id_type, &request.id).map_err(|e| match e {
            registry_service::ServiceError::InvalidInput(message) => ApiError::new(ErrorCode::InvalidIdentifier, message),
            other => other.into(),
        })
    })
    .await?;
    build(&state, subject, request.as_of).await
}

/// The credit report of the subject with a registry id (`S…`, as shown in reports).
#[utoipa::path(get, path = "/v1/subjects/{registry_id}/report", tag = "reports",
    params(("registry_id" = String, Path, description = "Registry id, like S000000042"), AsOfQuery),
    responses(
        (status = 200, body = Report, description = "The report; identifiers masked"),
        (status = 400, body = ErrorDocument, description = "Malformed date"),
        (status = 404, body = ErrorDocument, description = "No subject with this registry id"),
    ))]
pub async fn report_by_registry_id(
    State(state): State<AppState>,
    _caller: Caller,
    Path(registry_id): Path<String>,
    query: Result<Query<AsOfQuery>, QueryRejection>,
) -> Result<Json<Report>, ApiError> {
    let AsOfQuery { as_of } = super::query(query)?;
    build(&state, SubjectKey::parse_registry_id(&registry_id), as_of).await
}
