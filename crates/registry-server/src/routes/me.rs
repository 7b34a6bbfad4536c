//! A consumer's own file: their report (unmasked, free), every read of their data, and the
//! proof that each read is in the signed access log. Role: consumer (the key's subject).

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use registry_core::report::{Audience, Report, SubjectKey};
use registry_service::audit::{Access, AccessAction, AccessEntry, InclusionProofDoc};
use registry_service::keys::PrincipalRole;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::reports::AsOfQuery;
use crate::caller::Caller;
use crate::error::{ApiError, ErrorCode, ErrorDocument};
use crate::AppState;

/// The consumer's subject: a consumer key always has one.
fn own_subject(caller: &Caller) -> Result<SubjectKey, ApiError> {
    caller
        .allow(&[PrincipalRole::Consumer])?
        .subject
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, "this consumer key is bound to no subject"))
}

/// The consumer's own report, unmasked. Logged in the access log as a self-view.
#[utoipa::path(get, path = "/v1/me/report", tag = "consumers",
    params(AsOfQuery),
    responses(
        (status = 200, body = Report, description = "The consumer's full report"),
        (status = 401, body = ErrorDocument, description = "No valid API key"),
        (status = 403, body = ErrorDocument, description = "Not a consumer key"),
        (status = 404, body = ErrorDocument, description = "The registry holds nothing about the consumer any more"),
        (status = 429, body = ErrorDocument, description = "The key's rate limit; see Retry-After"),
    ))]
pub async fn my_report(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<AsOfQuery>, QueryRejection>,
) -> Result<Json<Report>, ApiError> {
    let subject = own_subject(&caller)?;
    let AsOfQuery { as_of } = super::query(query)?;
    let access = Access { actor: caller.0.actor(), action: AccessAction::SelfView, purpose: None, consent_id: None };
    let registry = state.registry.clone();
    let report = super::blocking(move || registry.read_report(&access, subject, as_of, Audience::Subject))
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
        (status = 401, body = ErrorDocument, description = "No valid API key"),
        (status = 403, body = ErrorDocument, description = "Not a consumer key"),
        (status = 429, body = ErrorDocument, description = "The key's rate limit; see Retry-After"),
    ))]
pub async fn my_accesses(State(state): State<AppState>, caller: Caller) -> Result<Json<Accesses>, ApiError> {
    let subject = own_subject(&caller)?;
    let registry = state.registry.clone();
    let accesses = super::blocking(move || registry.subject_accesses(subject)).await?;
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
        (status = 401, body = ErrorDocument, description = "No valid API key"),
        (status = 403, body = ErrorDocument, description = "Not a consumer key"),
        (status = 404, body = ErrorDocument, description = "No such entry about this consumer, or no head of that size"),
        (status = 429, body = ErrorDocument, description = "The key's rate limit; see Retry-After"),
    ))]
pub async fn my_access_proof(
    State(state): State<AppState>,
    caller: Caller,
    seq: Result<Path<u64>, PathRejection>,
    query: Result<Query<ProofQuery>, QueryRejection>,
) -> Result<Json<InclusionProofDoc>, ApiError> {
    let subject = own_subject(&caller)?;
    let seq = super::path(seq)?;
    let ProofQuery { tree_size } = super::query(query)?;
    let registry = state.registry.clone();
    let proof = super::blocking(move || {
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
