//! The access log's public face: its signed head and consistency proofs between heads, for any
//! key holder who wants to check that the log only ever grows.

use axum::Json;
use axum::extract::State;
use registry_service::audit::{ConsistencyProofDoc, SignedTreeHead};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::caller::{Caller, roles};
use crate::error::{ApiError, ErrorCode, ErrorDocument};
use crate::extract::ApiQuery;

/// The latest signed tree head of the access log. Roles: all.
#[utoipa::path(get, path = "/v1/log/head", tag = "access log",
    responses(
        (status = 200, body = SignedTreeHead, description = "Size, root, time and Ed25519 signature"),
        (status = 404, body = ErrorDocument, description = "Nothing has been logged yet"),
    ))]
pub async fn head(State(state): State<AppState>, _caller: Caller<roles::AnyRole>) -> Result<Json<SignedTreeHead>, ApiError> {
    let head = state
        .run(move |registry| registry.tree_head(None))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "the access log is empty"))?;
    Ok(Json(head))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    /// Size of the older signed head.
    pub from: u64,
    /// Size of the newer signed head.
    pub to: u64,
}

/// Proof that the log at `from` entries is a prefix of the log at `to` entries. Roles: all.
#[utoipa::path(get, path = "/v1/log/consistency", tag = "access log",
    params(ConsistencyQuery),
    responses(
        (status = 200, body = ConsistencyProofDoc, description = "The consistency path and both signed heads"),
        (status = 400, body = ErrorDocument, description = "from is 0 or larger than to"),
        (status = 404, body = ErrorDocument, description = "The log never had a signed head of that size"),
    ))]
pub async fn consistency(
    State(state): State<AppState>,
    _caller: Caller<roles::AnyRole>,
    ApiQuery(ConsistencyQuery { from, to }): ApiQuery<ConsistencyQuery>,
) -> Result<Json<ConsistencyProofDoc>, ApiError> {
    Ok(Json(state.run(move |registry| registry.consistency_proof(from, to)).await?))
}
