//! Who is calling, as types. A handler that is not public takes one of these extractors, and
//! the type names the roles it admits: `Caller<roles::Lender>`, `Me` (a consumer with their
//! subject), `FurnisherCaller` (the operator, or the furnisher named by `{furnisher}` in the
//! path). Each authenticates the `Authorization: Bearer KEY` header (401 without a live key),
//! applies the key's rate limit (429 with `Retry-After`) and refuses other roles (403), before
//! the handler runs. There is no role-less caller: a handler that forgot its roles would have
//! nothing to take, so it does not compile; one that takes no caller is public, and only
//! `/health` and `/openapi.json` are.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use registry_core::model::FurnisherId;
use registry_core::report::SubjectKey;
use registry_service::keys::{Principal, PrincipalRole};

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

/// The roles an endpoint admits, as a type.
pub trait Roles: Send + Sync + 'static {
    const ADMITTED: &'static [PrincipalRole];
}

/// The role sets endpoints admit.
pub mod roles {
    use registry_service::keys::PrincipalRole;

    use super::Roles;

    macro_rules! role_set {
        ($(#[$meta:meta])* $name:ident: $($role:ident),+) => {
            $(#[$meta])*
            pub struct $name;
            impl Roles for $name {
                const ADMITTED: &'static [PrincipalRole] = &[$(PrincipalRole::$role),+];
            }
        };
    }

    role_set!(
        /// The operator: drill-downs, the whole registry.
        Operator: Operator
    );
    role_set!(
        /// A lender: inquiries under consent.
        Lender: Lender
    );
    role_set!(
        /// A furnisher, on its own submissions and disputes (the pages; the API's routes name
        /// the furnisher in the path and take `FurnisherCaller`).
        Furnisher: Furnisher
    );
    role_set!(
        /// A supervisor: market-wide figures, no one's personal data.
        Supervisor: Supervisor
    );
    role_set!(
        /// The operator or a supervisor: operational figures.
        OperatorOrSupervisor: Operator, Supervisor
    );
    role_set!(
        /// Any key holder: what the registry publishes to all of them (the log's heads).
        AnyRole: Operator, Furnisher, Lender, Consumer, Supervisor
    );
}

/// An authenticated caller whose role is one of `R`'s.
pub struct Caller<R: Roles> {
    pub principal: Principal,
    roles: PhantomData<R>,
}

/// A consumer, with the subject their key is bound to.
pub struct Me {
    pub principal: Principal,
    pub subject: SubjectKey,
}

/// The operator, or the furnisher the path's `{furnisher}` names (its key's name is its
/// furnisher id): a furnisher works on its own submissions and disputes only.
pub struct FurnisherCaller {
    pub principal: Principal,
    pub furnisher: FurnisherId,
}

/// The live key the request presents, within its rate limit.
async fn authenticated(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    let presented = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|key| key.trim().to_owned())
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "send an API key: Authorization: Bearer KEY"))?;
    principal_of_key(state, presented).await
}

/// The principal of a live key, within its rate limit: the one check of a key, whether it
/// came as a bearer header or from a page's session.
pub(crate) async fn principal_of_key(state: &AppState, key: String) -> Result<Principal, ApiError> {
    let principal = state
        .run(move |registry| registry.authenticate(&key))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "the API key is not valid (unknown, mistyped or revoked)"))?;
    state.limiter.take(&principal.key_id)?;
    Ok(principal)
}

/// Refuses a principal whose role is not one of `admitted`.
pub(crate) fn admit(principal: &Principal, admitted: &[PrincipalRole]) -> Result<(), ApiError> {
    if admitted.contains(&principal.role) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::Forbidden, format!("a {} key may not call this endpoint", principal.role)))
    }
}

impl<R: Roles> FromRequestParts<AppState> for Caller<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller<R>, ApiError> {
        let principal = authenticated(parts, state).await?;
        admit(&principal, R::ADMITTED)?;
        Ok(Caller { principal, roles: PhantomData })
    }
}

impl FromRequestParts<AppState> for Me {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Me, ApiError> {
        let principal = authenticated(parts, state).await?;
        admit(&principal, &[PrincipalRole::Consumer])?;
        let subject = principal.subject.ok_or_else(|| ApiError::new(ErrorCode::Internal, "this consumer key is bound to no subject"))?;
        Ok(Me { principal, subject })
    }
}

impl FromRequestParts<AppState> for FurnisherCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<FurnisherCaller, ApiError> {
        let principal = authenticated(parts, state).await?;
        let crate::extract::ApiPath(params) = crate::extract::ApiPath::<HashMap<String, String>>::from_request_parts(parts, state).await?;
        let named = params.get("furnisher").ok_or_else(|| ApiError::new(ErrorCode::Internal, "this route names no furnisher"))?;
        let furnisher = FurnisherId::parse(named).map_err(|e| ApiError::new(ErrorCode::InvalidFurnisher, e.to_string()))?;
        admit(&principal, &[PrincipalRole::Operator, PrincipalRole::Furnisher])?;
        if principal.role == PrincipalRole::Furnisher && principal.name != furnisher.as_str() {
            return Err(ApiError::new(ErrorCode::Forbidden, "a furnisher key reads and writes only its own furnisher's submissions"));
        }
        Ok(FurnisherCaller { principal, furnisher })
    }
}

/// Per-key token buckets: `per_minute` requests a minute on average, bursts up to that many.
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter { per_minute: per_minute.max(1), buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one request from the key's bucket, or says when the next one will be there.
    pub fn take(&self, key_id: &str) -> Result<(), ApiError> {
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Keys are few (one per institution or person); a bucket that has refilled is
        // indistinguishable from none, so the map is pruned of those when it grows.
        if buckets.len() > 100_000 {
            buckets.retain(|_, b| b.tokens + now.duration_since(b.updated).as_secs_f64() * per_second < capacity);
        }
        let bucket = buckets.entry(key_id.to_owned()).or_insert(Bucket { tokens: capacity, updated: now });
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.updated).as_secs_f64() * per_second).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait = Duration::from_secs_f64((1.0 - bucket.tokens) / per_second);
        let mut error =
            ApiError::new(ErrorCode::RateLimited, format!("this key's limit is {} requests a minute; retry later", self.per_minute));
        error.retry_after_s = Some(wait.as_secs() + 1);
        Err(error)
    }
}
