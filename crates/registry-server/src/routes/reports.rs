//! Credit reports, by national identifier or by registry id.

use axum::Json;
use axum::extract::State;
use registry_core::model::{Date, IdType};
use registry_core::report::{Audience, Report, SubjectKey};
use registry_service::audit::{Access, AccessAction};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::caller::{Caller, roles};
use crate::error::{ApiError, ErrorCode, ErrorDocument};
use crate::extract::{ApiJson, ApiPath, ApiQuery, JsonShape};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    pub id_type: IdType,
    /// The national identifier, as furnished.
    pub id: String,
    /// Report date YYYY-MM-DD (default: today, UTC).
    #[serde(default, deserialize_with = "super::strict_date")]
    #[schema(value_type = Option<String>, format = Date)]
    pub as_of: Option<Date>,
}

impl JsonShape for ReportRequest {
    const SHAPE: &'static str = r#"{"id_type", "id", "as_of"?}"#;
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AsOfQuery {
    /// Report date YYYY-MM-DD (default: today, UTC).
    #[serde(default, deserialize_with = "super::strict_date")]
    #[param(value_type = Option<String>, format = Date)]
    pub as_of: Option<Date>,
}

/// The operator's audited look at one subject: logged as a drill-down before it is returned.
async fn build(
    state: &AppState,
    caller: &Caller<roles::Operator>,
    subject: Option<SubjectKey>,
    as_of: Option<Date>,
) -> Result<Json<Report>, ApiError> {
    let not_found = || ApiError::new(ErrorCode::SubjectNotFound, "the registry has no subject with that identifier");
    let subject = subject.ok_or_else(not_found)?;
    let access = Access { actor: caller.principal.actor(), action: AccessAction::DrillDown, purpose: None, consent_id: None };
    let report = state.run(move |registry| registry.read_report(&access, subject, as_of, Audience::Masked)).await?.ok_or_else(not_found)?;
    state.metrics.reports.inc();
    Ok(Json(report))
}

/// The credit report of the subject with a national identifier: the operator's audited
/// drill-down (role: operator), logged in the access log. Lenders use inquiries.
///
/// The identifier travels in the body, not the URL, so it stays out of access logs.
#[utoipa::path(post, path = "/v1/reports", tag = "reports",
    request_body = ReportRequest,
    responses(
        (status = 200, body = Report, description = "The report; identifiers masked"),
        (status = 400, body = ErrorDocument, description = "Malformed request"),
        (status = 403, body = ErrorDocument, description = "Not an operator key"),
        (status = 404, body = ErrorDocument, description = "The registry has never seen this subject (or the identifier is not valid for its type)"),
        (status = 413, body = ErrorDocument, description = "The request body is too large"),
        (status = 503, body = ErrorDocument, description = "The database is unavailable; retry"),
    ))]
pub async fn report_by_identifier(
    State(state): State<AppState>,
    caller: Caller<roles::Operator>,
    ApiJson(request): ApiJson<ReportRequest>,
) -> Result<Json<Report>, ApiError> {
    let subject = state
        .run(move |registry| {
            // An identifier that breaks its type's rules belongs to no one: not found, like any other.
            match registry.find_subject(request.id_type, &request.id) {
                Err(registry_service::ServiceError::InvalidInput(message)) => {
                    Err(ApiError::new(ErrorCode::SubjectNotFound, format!("the registry has no subject with that identifier: {message}")))
                }
                other => other.map_err(ApiError::from),
            }
        })
        .await?;
    build(&state, &caller, subject, request.as_of).await
}

/// The credit report of the subject with a registry id (`S…`, as shown in reports): the
/// operator's audited drill-down (role: operator), logged in the access log.
#[utoipa::path(get, path = "/v1/subjects/{registry_id}/report", tag = "reports",
    params(("registry_id" = String, Path, description = "Registry id, like S000000042"), AsOfQuery),
    responses(
        (status = 200, body = Report, description = "The report; identifiers masked"),
        (status = 400, body = ErrorDocument, description = "Malformed date"),
        (status = 403, body = ErrorDocument, description = "Not an operator key"),
        (status = 404, body = ErrorDocument, description = "No subject with this registry id"),
        (status = 503, body = ErrorDocument, description = "The database is unavailable; retry"),
    ))]
pub async fn report_by_registry_id(
    State(state): State<AppState>,
    caller: Caller<roles::Operator>,
    ApiPath(registry_id): ApiPath<String>,
    ApiQuery(AsOfQuery { as_of }): ApiQuery<AsOfQuery>,
) -> Result<Json<Report>, ApiError> {
    build(&state, &caller, SubjectKey::parse_registry_id(&registry_id), as_of).await
}
