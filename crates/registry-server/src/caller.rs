//! Who is calling. Handlers take a `Caller` so that authorisation has one place to go.
//!
//! Authentication (API keys, roles, consent) arrives with access governance; until then every
//! caller is `Unauthenticated` and the server must only listen where the network is trusted
//! (the default address is loopback).

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    Unauthenticated,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Caller, Infallible> {
        Ok(Caller::Unauthenticated)
    }
}
