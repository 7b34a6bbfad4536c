//! A lender's inquiry, under a consumer's consent. Role: lender.

use axum::Json;
use axum::extract::State;
use registry_core::report::Report;
use registry_service::rights::InquiryRequest;

use crate::AppState;
use crate::caller::{Caller, roles};
use crate::error::{ApiError, ErrorDocument};
use crate::extract::{ApiJson, JsonShape};

impl JsonShape for InquiryRequest {
    const SHAPE: &'static str = r#"{"subject": {"id_type", "id", "family_name", "given_name", "birth_date"}, "purpose", "consent_id"}"#;
}

/// A lender's inquiry about a consumer who consented to it.
///
/// Without a valid consent of this subject for this lender and purpose: `403 consent_required`,
/// whether or not the subject exists. With one, identity details that do not match the
/// consenting subject (identifier exactly, birth date exactly, family name ignoring case):
/// `404 subject_not_found`, without saying which. A frozen file and a purpose for new credit:
/// `403 file_frozen`. Otherwise the report (identifiers masked; `account_review` and other
/// summary purposes get no account list), the inquiry recorded on the subject's file and in the
/// access log.
#[utoipa::path(post, path = "/v1/inquiries", tag = "inquiries",
    request_body = InquiryRequest,
    responses(
        (status = 200, body = Report, description = "The report, as the purpose may see it"),
        (status = 400, body = ErrorDocument, description = "Malformed request or a purpose the jurisdiction does not have"),
        (status = 403, body = ErrorDocument, description = "Not a lender key (`forbidden`), no valid consent (`consent_required`), or the file is frozen (`file_frozen`)"),
        (status = 404, body = ErrorDocument, description = "The details do not match the consenting subject (`subject_not_found`)"),
    ))]
pub async fn inquire(
    State(state): State<AppState>,
    caller: Caller<roles::Lender>,
    ApiJson(request): ApiJson<InquiryRequest>,
) -> Result<Json<Report>, ApiError> {
    let lender = caller.principal;
    let report = state.run(move |registry| registry.inquire(&lender, &request)).await?;
    state.metrics.reports.inc();
    Ok(Json(report))
}
