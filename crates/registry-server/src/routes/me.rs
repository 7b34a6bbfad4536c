//! A consumer's own file: their report (unmasked, free), every read of their data, and the
//! proof that each read is in the signed access log. Role: consumer (the key's subject).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use registry_core::model::Date;
use registry_core::report::{Audience, Report};
use registry_service::audit::{Access, AccessAction, AccessEntry, InclusionProofDoc};
use registry_service::rights::{ConsentView, DisputeView, FlagKind, FlagView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::reports::AsOfQuery;
use crate::AppState;
use crate::caller::Me;
use crate::error::{ApiError, ErrorCode, ErrorDocument};
use crate::extract::{ApiJson, ApiJsonOrEmpty, ApiPath, ApiQuery, JsonShape};

/// The consumer's own report, unmasked where the jurisdiction profile says so (all three
/// do). Logged in the access log as a self-view.
#[utoipa::path(get, path = "/v1/me/report", tag = "consumers",
    params(AsOfQuery),
    responses(
        (status = 200, body = Report, description = "The consumer's full report"),
        (status = 403, body = ErrorDocument, description = "Not a consumer key"),
        (status = 404, body = ErrorDocument, description = "The registry holds nothing about the consumer any more"),
    ))]
pub async fn my_report(
    State(state): State<AppState>,
    me: Me,
    ApiQuery(AsOfQuery { as_of }): ApiQuery<AsOfQuery>,
) -> Result<Json<Report>, ApiError> {
    let subject = me.subject;
    let access = Access { actor: me.principal.actor(), action: AccessAction::SelfView, purpose: None, consent_id: None };
    // What a consumer may see of their own file is the jurisdiction's to say.
    let audience = if state.registry.profile().consumer.sees_full_report { Audience::Subject } else { Audience::Masked };
    let report = state
        .run(move |registry| registry.read_report(&access, subject, as_of, audience))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::SubjectNotFound, "the registry holds no report about you"))?;
    Ok(Json(report))
}

#[derive(Serialize, ToSchema)]
pub struct Accesses {
    /// Every read of the consumer's data, oldest first.
    pub accesses: Vec<AccessEntry>,
}

/// Every read of the consumer's data: who, when, why, under which consent.
#[utoipa::path(get, path = "/v1/me/accesses", tag = "consumers",
    responses(
        (status = 200, body = Accesses, description = "The consumer's access log entries"),
        (status = 403, body = ErrorDocument, description = "Not a consumer key"),
    ))]
pub async fn my_accesses(State(state): State<AppState>, me: Me) -> Result<Json<Accesses>, ApiError> {
    let subject = me.subject;
    let accesses = state.run(move |registry| registry.subject_accesses(subject)).await?;
    Ok(Json(Accesses { accesses }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProofQuery {
    /// The tree size to prove against (default: the latest signed head).
    pub tree_size: Option<u64>,
}

/// The inclusion proof of one of the consumer's access log entries against a signed tree head.
#[utoipa::path(get, path = "/v1/me/accesses/{seq}/proof", tag = "consumers",
    params(("seq" = u64, Path, description = "The entry's number (`seq`)"), ProofQuery),
    responses(
        (status = 200, body = InclusionProofDoc, description = "The entry, its inclusion path and the signed head"),
        (status = 403, body = ErrorDocument, description = "Not a consumer key"),
        (status = 404, body = ErrorDocument, description = "No such entry about this consumer, or no head of that size"),
    ))]
pub async fn my_access_proof(
    State(state): State<AppState>,
    me: Me,
    ApiPath(seq): ApiPath<u64>,
    ApiQuery(ProofQuery { tree_size }): ApiQuery<ProofQuery>,
) -> Result<Json<InclusionProofDoc>, ApiError> {
    let subject = me.subject;
    let proof = state
        .run(move |registry| {
            // Another person's entry is as absent as one that does not exist.
            let own = registry.subject_accesses(subject)?.iter().any(|entry| entry.seq == seq);
            if !own {
                return Err(registry_service::ServiceError::NotFound("you have no access log entry with that number".into()));
            }
            registry.inclusion_proof(seq, tree_size)
        })
        .await?;
    Ok(Json(proof))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConsent {
    /// The lender, as named by its API key.
    pub lender: String,
    /// A purpose of the jurisdiction (`credit_application`, `account_review`, …).
    pub purpose: String,
    /// The last day the consent may be used, YYYY-MM-DD.
    #[serde(deserialize_with = "super::strict_date")]
    #[schema(value_type = String, format = Date)]
    pub expires: Option<Date>,
}

impl JsonShape for NewConsent {
    const SHAPE: &'static str = r#"{"lender", "purpose", "expires": "YYYY-MM-DD"}"#;
}

#[derive(Serialize, ToSchema)]
pub struct Consents {
    pub consents: Vec<ConsentView>,
}

/// Grants a lender consent to inquire for one purpose until a date.
#[utoipa::path(post, path = "/v1/me/consents", tag = "consumers",
    request_body = NewConsent,
    responses(
        (status = 201, body = ConsentView, description = "The consent, with the `consent_id` to give the lender"),
        (status = 400, body = ErrorDocument, description = "Unknown purpose or lender, or an expiry in the past"),
        (status = 403, body = ErrorDocument, description = "Not a consumer key"),
    ))]
pub async fn grant_consent(
    State(state): State<AppState>,
    me: Me,
    ApiJson(request): ApiJson<NewConsent>,
) -> Result<(StatusCode, Json<ConsentView>), ApiError> {
    let subject = me.subject;
    let expires = request.expires.ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest, "expires is required, YYYY-MM-DD"))?;
    let consent = state.run(move |registry| registry.grant_consent(subject, &request.lender, &request.purpose, expires)).await?;
    Ok((StatusCode::CREATED, Json(consent)))
}

/// The consumer's consents, active, expired and revoked.
#[utoipa::path(get, path = "/v1/me/consents", tag = "consumers",
    responses(
        (status = 200, body = Consents, description = "Every consent, oldest first"),
        (status = 403, body = ErrorDocument, description = "Not a consumer key"),
    ))]
pub async fn list_consents(State(state): State<AppState>, me: Me) -> Result<Json<Consents>, ApiError> {
    let subject = me.subject;
    Ok(Json(Consents { consents: state.run(move |registry| registry.consents(subject)).await? }))
}

/// Revokes a consent at once: the lender's next inquiry under it is refused.
#[utoipa::path(delete, path = "/v1/me/consents/{consent_id}", tag = "consumers",
    params(("consent_id" = String, Path, description = "The consent's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, body = ErrorDocument, description = "Already revoked"),
        (status = 403, body = ErrorDocument, description = "Not a consumer key"),
        (status = 404, body = ErrorDocument, description = "The consumer has no such consent"),
    ))]
pub async fn revoke_consent(State(state): State<AppState>, me: Me, ApiPath(id): ApiPath<String>) -> Result<StatusCode, ApiError> {
    let subject = me.subject;
    state.run(move |registry| registry.revoke_consent(subject, &id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDispute {
    pub furnisher: String,
    pub account: String,
    /// One field of the account (`balance`, `status`, …); absent: the whole account.
    pub field: Option<String>,
    pub reason: String,
}

impl JsonShape for NewDispute {
    const SHAPE: &'static str = r#"{"furnisher", "account", "field"?, "reason"}"#;
}

#[derive(Serialize, ToSchema)]
pub struct Disputes {
    pub disputes: Vec<DisputeView>,
}

/// Disputes one of the consumer's accounts, or one field of it. It goes to the furnisher's
/// queue with the jurisdiction's deadline and is marked on the report while open.
#[utoipa::path(post, path = "/v1/me/disputes", tag = "consumers",
    request_body = NewDispute,
    responses(
        (status = 201, body = DisputeView, description = "The dispute, with its deadline"),
        (status = 400, body = ErrorDocument, description = "No reason, or not a field of an account"),
        (status = 403, body = ErrorDocument, description = "Not a consumer key"),
        (status = 404, body = ErrorDocument, description = "The consumer's report has no such account"),
    ))]
pub async fn open_dispute(
    State(state): State<AppState>,
    me: Me,
    ApiJson(request): ApiJson<NewDispute>,
) -> Result<(StatusCode, Json<DisputeView>), ApiError> {
    let subject = me.subject;
    let dispute = state
        .run(move |registry| {
            registry.open_dispute(subject, &request.furnisher, &request.account, request.field.as_deref(), &request.reason)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(dispute)))
}

/// The consumer's disputes and their answers.
#[utoipa::path(get, path = "/v1/me/disputes", tag = "consumers",
    responses(
        (status = 200, body = Disputes, description = "Every dispute, oldest first"),
        (status = 403, body = ErrorDocument, description = "Not a consumer key"),
    ))]
pub async fn list_disputes(State(state): State<AppState>, me: Me) -> Result<Json<Disputes>, ApiError> {
    let subject = me.subject;
    Ok(Json(Disputes { disputes: state.run(move |registry| registry.subject_disputes(subject)).await? }))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct NewFlag {
    /// The last day in force, YYYY-MM-DD. Default: a freeze until lifted, a fraud alert a year.
    #[serde(default, deserialize_with = "super::strict_date")]
    #[schema(value_type = Option<String>, format = Date)]
    pub until: Option<Date>,
}

impl JsonShape for NewFlag {
    const SHAPE: &'static str = r#"{"until"?: "YYYY-MM-DD"}"#;
}

#[derive(Serialize, ToSchema)]
pub struct Flags {
    pub flags: Vec<FlagView>,
}

async fn place(state: AppState, me: Me, kind: FlagKind, request: NewFlag) -> Result<(StatusCode, Json<FlagView>), ApiError> {
    let subject = me.subject;
    Ok((StatusCode::CREATED, Json(state.run(move |registry| registry.place_flag(subject, kind, request.until)).await?)))
}

async fn lift(state: AppState, me: Me, kind: FlagKind) -> Result<StatusCode, ApiError> {
    let subject = me.subject;
    state.run(move |registry| registry.lift_flag(subject, kind)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Freezes the file: no inquiry for new credit is answered while it is in force.
#[utoipa::path(post, path = "/v1/me/freeze", tag = "consumers",
    request_body(content = NewFlag, description = "Optional"),
    responses(
        (status = 201, body = FlagView, description = "The freeze, from today"),
        (status = 400, body = ErrorDocument, description = "Already frozen, or an end in the past"),
        (status = 403, body = ErrorDocument, description = "Not a consumer key"),
    ))]
pub async fn place_freeze(
    State(state): State<AppState>,
    me: Me,
    ApiJsonOrEmpty(request): ApiJsonOrEmpty<NewFlag>,
) -> Result<(StatusCode, Json<FlagView>), ApiError> {
    place(state, me, FlagKind::Freeze, request).await
}

/// Lifts the freeze from today.
#[utoipa::path(delete, path = "/v1/me/freeze", tag = "consumers",
    responses(
        (status = 204, description = "Lifted"),
        (status = 403, body = ErrorDocument, description = "Not a consumer key"),
        (status = 404, body = ErrorDocument, description = "No freeze is in force"),
    ))]
pub async fn lift_freeze(State(state): State<AppState>, me: Me) -> Result<StatusCode, ApiError> {
    lift(state, me, FlagKind::Freeze).await
}

/// Places a fraud alert: lenders are told to verify the applicant's identity.
#[utoipa::path(post, path = "/v1/me/fraud-alert", tag = "consumers",
    request_body(content = NewFlag, description = "Optional"),
    responses(
        (status = 201, body = FlagView, description = "The alert, from today"),
        (status = 400, body = ErrorDocument, description = "Already in force, or an end in the past"),
        (status = 403, body = ErrorDocument, description = "Not a consumer key"),
    ))]
pub async fn place_fraud_alert(
    State(state): State<AppState>,
    me: Me,
    ApiJsonOrEmpty(request): ApiJsonOrEmpty<NewFlag>,
) -> Result<(StatusCode, Json<FlagView>), ApiError> {
    place(state, me, FlagKind::FraudAlert, request).await
}

/// Ends the fraud alert from today.
#[utoipa::path(delete, path = "/v1/me/fraud-alert", tag = "consumers",
    responses(
        (status = 204, description = "Ended"),
        (status = 403, body = ErrorDocument, description = "Not a consumer key"),
        (status = 404, body = ErrorDocument, description = "No fraud alert is in force"),
    ))]
pub async fn lift_fraud_alert(State(state): State<AppState>, me: Me) -> Result<StatusCode, ApiError> {
    lift(state, me, FlagKind::FraudAlert).await
}

/// The consumer's freezes and fraud alerts, past and present.
#[utoipa::path(get, path = "/v1/me/flags", tag = "consumers",
    responses(
        (status = 200, body = Flags, description = "Every freeze and fraud alert, oldest first"),
        (status = 403, body = ErrorDocument, description = "Not a consumer key"),
    ))]
pub async fn list_flags(State(state): State<AppState>, me: Me) -> Result<Json<Flags>, ApiError> {
    let subject = me.subject;
    Ok(Json(Flags { flags: state.run(move |registry| registry.flags(subject)).await? }))
}
