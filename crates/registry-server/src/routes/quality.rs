//! Data quality (`shared/spec/data-quality.md`): a furnisher's findings and scorecard, and the
//! supervisor's overview. Findings name accounts, never people.

use axum::Json;
use axum::extract::State;
use registry_core::report::YearMonth;
use registry_service::quality::{FindingsDocument, Page, QualityOverview, QualityScope, Scorecard};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::caller::{Caller, FurnisherCaller, roles};
use crate::error::{ApiError, ErrorCode, ErrorDocument};
use crate::extract::ApiQuery;

/// Findings a page holds at most.
const PAGE_LIMIT_MAX: u64 = 1_000;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QualityQuery {
    /// Only findings on records dated in this month, YYYY-MM.
    pub month: Option<String>,
    /// Findings to skip (default 0).
    pub offset: Option<u64>,
    /// Findings in the page, 1 to 1,000 (default 100).
    pub limit: Option<u64>,
}

impl QualityQuery {
    fn scope_and_page(&self) -> Result<(Option<YearMonth>, Page), ApiError> {
        let month = self
            .month
            .as_deref()
            .map(|text| {
                YearMonth::parse(text)
                    .filter(|m| (1950..=2999).contains(&m.year()))
                    .ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest, "month must be YYYY-MM, between 1950 and 2999"))
            })
            .transpose()?;
        let limit = self.limit.unwrap_or(100);
        if !(1..=PAGE_LIMIT_MAX).contains(&limit) {
            return Err(ApiError::new(ErrorCode::InvalidRequest, format!("limit must be 1 to {PAGE_LIMIT_MAX}")));
        }
        Ok((month, Page { offset: self.offset.unwrap_or(0), limit }))
    }
}

/// A furnisher's data quality: its scorecard and a page of its findings.
#[derive(Serialize, ToSchema)]
pub struct FurnisherQualityDocument {
    pub scorecard: Option<Scorecard>,
    #[serde(flatten)]
    pub findings: FindingsDocument,
}

/// The furnisher's scorecard (hits per 10,000 records by evaluator and month, with the trend)
/// and a page of the findings on its records. Roles: operator, or the furnisher itself.
#[utoipa::path(get, path = "/v1/furnishers/{furnisher}/quality", tag = "data quality",
    params(("furnisher" = String, Path, description = "The furnisher's id"), QualityQuery),
    responses(
        (status = 200, body = FurnisherQualityDocument, description = "Scorecard and findings; a finding names an account, never a person"),
        (status = 400, body = ErrorDocument, description = "A malformed month, or a limit out of range"),
        (status = 403, body = ErrorDocument, description = "Not an operator key, nor this furnisher's own key"),
    ))]
pub async fn furnisher_quality(
    State(state): State<AppState>,
    caller: FurnisherCaller,
    ApiQuery(query): ApiQuery<QualityQuery>,
) -> Result<Json<FurnisherQualityDocument>, ApiError> {
    let (month, page) = query.scope_and_page()?;
    let furnisher = caller.furnisher;
    let document = state
        .run(move |registry| {
            let scorecard = registry.scorecards(Some(&furnisher))?.into_iter().next();
            let findings = registry.findings(&QualityScope { furnisher: Some(furnisher), month }, page)?;
            Ok::<_, registry_service::ServiceError>(FurnisherQualityDocument { scorecard, findings })
        })
        .await?;
    Ok(Json(document))
}

/// Every furnisher's data quality, for supervision.
#[derive(Serialize, ToSchema)]
pub struct QualityDocument {
    /// Furnishers ranked by high-severity hits per 10,000 records, worst first.
    pub overview: QualityOverview,
    #[serde(flatten)]
    pub findings: FindingsDocument,
}

/// The supervisor's overview (every furnisher ranked by high-severity hits per 10,000 records)
/// and a page of every furnisher's findings. Roles: supervisor, operator.
#[utoipa::path(get, path = "/v1/quality", tag = "data quality",
    params(QualityQuery),
    responses(
        (status = 200, body = QualityDocument, description = "Overview and findings; a finding names an account, never a person"),
        (status = 400, body = ErrorDocument, description = "A malformed month, or a limit out of range"),
        (status = 403, body = ErrorDocument, description = "Not a supervisor or operator key"),
    ))]
pub async fn overview(
    State(state): State<AppState>,
    _caller: Caller<roles::OperatorOrSupervisor>,
    ApiQuery(query): ApiQuery<QualityQuery>,
) -> Result<Json<QualityDocument>, ApiError> {
    let (month, page) = query.scope_and_page()?;
    let document = state
        .run(move |registry| {
            let overview = registry.quality_overview()?;
            let findings = registry.findings(&QualityScope { furnisher: None, month }, page)?;
            Ok::<_, registry_service::ServiceError>(QualityDocument { overview, findings })
        })
        .await?;
    Ok(Json(document))
}
