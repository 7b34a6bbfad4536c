//! The supervisor's view of the market (`shared/spec/supervision.md`): a section's measures for
//! a month, which name no person, and the drill-down lists of people, each listed person an
//! audited read.

use axum::Json;
use axum::extract::State;
use registry_core::report::YearMonth;
use registry_core::supervision::{BorrowerList, Document, Section};
use registry_service::audit::{Access, AccessAction};
use registry_service::supervision::BorrowerListing;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::caller::{Caller, roles};
use crate::error::{ApiError, ErrorCode, ErrorDocument};
use crate::extract::{ApiPath, ApiQuery};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MonthQuery {
    /// The reference month, YYYY-MM.
    pub month: String,
}

fn month(text: &str) -> Result<YearMonth, ApiError> {
    YearMonth::parse(text)
        .filter(|m| (1950..=2999).contains(&m.year()))
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest, "month must be YYYY-MM, between 1950 and 2999"))
}

/// One section of the month's measures: `market`, `co_lending`, `borrowers` or `credit_risk`.
/// Roles: supervisor, operator. Aggregates name furnishers and institutions, never a person.
#[utoipa::path(get, path = "/v1/supervision/{section}", tag = "supervision",
    params(("section" = String, Path, description = "market, co_lending, borrowers or credit_risk"), MonthQuery),
    responses(
        (status = 200, body = Document, description = "The month and the section asked for"),
        (status = 400, body = ErrorDocument, description = "No month, or not YYYY-MM"),
        (status = 403, body = ErrorDocument, description = "Not a supervisor or operator key"),
        (status = 404, body = ErrorDocument, description = "No such section"),
        (status = 503, body = ErrorDocument, description = "The database is unavailable; retry"),
    ))]
pub async fn section(
    State(state): State<AppState>,
    _caller: Caller<roles::OperatorOrSupervisor>,
    ApiPath(section): ApiPath<String>,
    ApiQuery(MonthQuery { month: month_text }): ApiQuery<MonthQuery>,
) -> Result<Json<Document>, ApiError> {
    let section: Section = section
        .parse()
        .map_err(|()| ApiError::new(ErrorCode::NotFound, "no such section: market, co_lending, borrowers or credit_risk"))?;
    let month = month(&month_text)?;
    Ok(Json(state.run(move |registry| registry.supervise(month, &[section], &|_, _| {})).await?))
}

/// The people on a drill-down list of the month: `over_microloan_cap` (open microloans above
/// the cap) or `stacking` (accounts opened at two or more lenders in the month's last 30 days),
/// by registry id with the figures that put them there. Roles: supervisor, operator. Each
/// person listed is a read in the access log (the caller, purpose `supervision`), which they
/// see among their accesses.
#[utoipa::path(get, path = "/v1/supervision/borrowers/{list}", tag = "supervision",
    params(("list" = String, Path, description = "over_microloan_cap or stacking"), MonthQuery),
    responses(
        (status = 200, body = BorrowerListing, description = "The people on the list, by registry id"),
        (status = 400, body = ErrorDocument, description = "No month, or not YYYY-MM"),
        (status = 403, body = ErrorDocument, description = "Not a supervisor or operator key"),
        (status = 404, body = ErrorDocument, description = "No such list"),
        (status = 503, body = ErrorDocument, description = "The database is unavailable; retry"),
    ))]
pub async fn borrower_list(
    State(state): State<AppState>,
    caller: Caller<roles::OperatorOrSupervisor>,
    ApiPath(list): ApiPath<String>,
    ApiQuery(MonthQuery { month: month_text }): ApiQuery<MonthQuery>,
) -> Result<Json<BorrowerListing>, ApiError> {
    let list: BorrowerList =
        list.parse().map_err(|()| ApiError::new(ErrorCode::NotFound, "no such list: over_microloan_cap or stacking"))?;
    let month = month(&month_text)?;
    let access = Access { actor: caller.principal.actor(), action: AccessAction::DrillDown, purpose: None, consent_id: None };
    Ok(Json(state.run(move |registry| registry.supervision_list(&access, month, list, &|_, _| {})).await?))
}
