//! Who is calling: every handler that is not public takes a `Caller`, which authenticates the
//! `Authorization: Bearer KEY` header (401 without a live key), applies the key's rate limit
//! (429 with `Retry-After`), and then `allow`s only the roles the endpoint names (403
//! otherwise). An endpoint that forgets to call `allow` still requires a key; one that takes no
//! `Caller` is public, and only `/health` and `/openapi.json` are.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use registry_service::keys::{Principal, PrincipalRole};

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller(pub Principal);

impl Caller {
    /// Refuses the caller unless its role is one of `roles`.
    pub fn allow(&self, roles: &[PrincipalRole]) -> Result<&Principal, ApiError> {
        if roles.contains(&self.0.role) {
            Ok(&self.0)
        } else {
            Err(ApiError::new(ErrorCode::Forbidden, format!("a {} key may not call this endpoint", self.0.role)))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(|key| key.trim().to_owned())
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "send an API key: Authorization: Bearer KEY"))?;
        let registry = state.registry.clone();
        let principal = crate::routes::blocking(move || registry.authenticate(&presented))
            .await?
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "the API key is not valid (unknown, mistyped or revoked)"))?;
        state.limiter.take(&principal.key_id)?;
        Ok(Caller(principal))
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
