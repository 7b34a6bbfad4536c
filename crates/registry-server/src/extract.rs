//! The request's path, query and JSON body, with axum's rejections turned into the API's error
//! document in one place: a handler takes `ApiPath<T>`, `ApiQuery<T>` or `ApiJson<T>` and never
//! sees a rejection.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode};

/// The path's parameters (400 `invalid_request` when they cannot be read, say a
/// percent-encoding that is not UTF-8).
pub struct ApiPath<T>(pub T);

/// The query string (400 `invalid_request` for an unknown or malformed parameter).
pub struct ApiQuery<T>(pub T);

/// A JSON request body, read whole (400 `invalid_request` when it is not the expected shape,
/// 413 `payload_too_large` past the body limit).
pub struct ApiJson<T>(pub T);

/// A JSON body that may be left empty, meaning the type's default.
pub struct ApiJsonOrEmpty<T>(pub T);

/// What a JSON request body looks like, said to a caller who sent something else.
pub trait JsonShape {
    const SHAPE: &'static str;
}

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|rejection| ApiError::new(ErrorCode::InvalidRequest, rejection.body_text()))
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| ApiError::new(ErrorCode::InvalidRequest, rejection.body_text()))
    }
}

async fn body_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state).await.map_err(|rejection| {
        let code = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE { ErrorCode::PayloadTooLarge } else { ErrorCode::InvalidRequest };
        ApiError::new(code, rejection.body_text())
    })
}

fn parse_json<T: DeserializeOwned + JsonShape>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::new(ErrorCode::InvalidRequest, format!("the body must be {}: {}", T::SHAPE, json_problem(&e))))
}

impl<T: DeserializeOwned + JsonShape, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        parse_json(&body_bytes(request, state).await?).map(ApiJson)
    }
}

impl<T: DeserializeOwned + JsonShape + Default, S: Send + Sync> FromRequest<S> for ApiJsonOrEmpty<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let body = body_bytes(request, state).await?;
        if body.is_empty() { Ok(ApiJsonOrEmpty(T::default())) } else { parse_json(&body).map(ApiJsonOrEmpty) }
    }
}

/// What is wrong with a JSON body, without repeating any value from it (a body may carry an
/// identifier or a name, and messages end up in logs): serde's messages about unknown or
/// missing fields name only fields; the others quote the offending value, so only their
/// position is given.
pub(crate) fn json_problem(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let names_no_value = ["unknown field", "missing field", "duplicate field", "a date must be"];
    if names_no_value.iter().any(|start| message.starts_with(start)) {
        message
    } else {
        let kind = match error.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => "not valid JSON",
            _ => "a value of the wrong type or form",
        };
        format!("{kind} at line {} column {}", error.line(), error.column())
    }
}
