//! Signed-in pages: a session cookie stands for the API key the person signed in with, so a
//! page's caller is the API's caller, checked the same way (the key is live, within its rate
//! limit, of a role the page admits) on every request. Every form carries the session's CSRF
//! token; the sign-in form, before any session, a token in a cookie of its own.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use registry_core::report::SubjectKey;
use registry_service::keys::{Principal, PrincipalRole};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::i18n::{Lang, cookie};
use super::{PageError, PageErrorKind};
use crate::AppState;
use crate::caller::{Roles, admit, principal_of_key};
use crate::error::ErrorCode;

pub const SESSION_COOKIE: &str = "session";
pub const SIGN_IN_CSRF_COOKIE: &str = "sign_in_csrf";
/// How long a session lasts from sign-in: a working day. Not sliding, so a session left open
/// on a shared computer ends.
pub const SESSION_TTL: Duration = Duration::from_hours(8);
/// Sessions kept at most; beyond it the oldest go first (a bound on memory whatever the traffic).
const SESSIONS_MAX: usize = 100_000;

struct Session {
    key: String,
    csrf: String,
    expires: Instant,
}

/// The server's sessions, in memory: a restart signs everyone out, which is the safe failure.
#[derive(Default)]
pub struct Sessions {
    by_token: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// A new session for `key`; its token (the cookie's value) and CSRF token.
    pub fn create(&self, key: String) -> (String, String) {
        let token = random_token();
        let csrf = random_token();
        let now = Instant::now();
        let mut sessions = self.by_token.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        sessions.retain(|_, s| s.expires > now);
        if sessions.len() >= SESSIONS_MAX
            && let Some(oldest) = sessions.iter().min_by_key(|(_, s)| s.expires).map(|(t, _)| t.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(token.clone(), Session { key, csrf: csrf.clone(), expires: now + SESSION_TTL });
        (token, csrf)
    }

    /// The key and CSRF token of a live session.
    pub fn get(&self, token: &str) -> Option<(String, String)> {
        let mut sessions = self.by_token.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match sessions.get(token) {
            Some(s) if s.expires > Instant::now() => Some((s.key.clone(), s.csrf.clone())),
            Some(_) => {
                sessions.remove(token);
                None
            }
            None => None,
        }
    }

    pub fn end(&self, token: &str) {
        self.by_token.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(token);
    }
}

/// 32 random bytes, hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    hex::encode(bytes)
}

/// Whether two tokens are equal, in time that does not depend on where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Whether the request came over TLS (directly or through a proxy that says so): cookies are
/// then `Secure`.
pub fn over_tls(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, path `/`, `Secure` over TLS.
pub fn set_cookie(name: &str, value: &str, max_age: Duration, secure: bool) -> HeaderValue {
    let cookie = cookie::Cookie::build((name, value))
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .path("/")
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX)))
        .build();
    HeaderValue::from_str(&cookie.to_string()).expect("a cookie of hex and names is a header value")
}

/// What a signed-in page knows about its caller.
pub struct Signed {
    pub principal: Principal,
    pub csrf: String,
    pub lang: Lang,
}

/// A signed-in caller whose key's role is one of `R`'s: the pages' `Caller<R>`.
pub struct Page<R: Roles> {
    pub signed: Signed,
    roles: PhantomData<R>,
}

/// A signed-in consumer with their subject: the pages' `Me`.
pub struct MyPage {
    pub signed: Signed,
    pub subject: SubjectKey,
}

async fn signed(parts: &Parts, state: &AppState, admitted: &[PrincipalRole]) -> Result<Signed, PageError> {
    let lang = Lang::of_request(parts);
    let session = cookie(&parts.headers, SESSION_COOKIE).and_then(|token| state.sessions.get(&token));
    let Some((key, csrf)) = session else {
        return Err(PageError::new(lang, PageErrorKind::SignIn));
    };
    let principal = principal_of_key(state, key).await.map_err(|e| match e.code {
        // A key revoked since sign-in ends the session's use.
        ErrorCode::Unauthenticated => PageError::new(lang, PageErrorKind::SignIn),
        _ => PageError::new(lang, PageErrorKind::Api(e)),
    })?;
    admit(&principal, admitted).map_err(|_| PageError::new(lang, PageErrorKind::Forbidden(principal.role)))?;
    Ok(Signed { principal, csrf, lang })
}

impl<R: Roles> FromRequestParts<AppState> for Page<R> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Page<R>, PageError> {
        Ok(Page { signed: signed(parts, state, R::ADMITTED).await?, roles: PhantomData })
    }
}

impl FromRequestParts<AppState> for MyPage {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<MyPage, PageError> {
        let signed = signed(parts, state, &[PrincipalRole::Consumer]).await?;
        let subject = signed.principal.subject.ok_or_else(|| PageError::new(signed.lang, PageErrorKind::Internal))?;
        Ok(MyPage { signed, subject })
    }
}

/// A posted form whose `csrf` field is the session's token: `T` is the rest of its fields.
/// The only way a page handler receives a form, so none can forget the check.
pub struct Checked<T>(pub T);

#[derive(serde::Deserialize)]
struct WithCsrf<T> {
    csrf: String,
    #[serde(flatten)]
    fields: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Checked<T> {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &AppState) -> Result<Checked<T>, PageError> {
        let lang = Lang::of_request(&request_parts(&request));
        let expected = cookie(request.headers(), SESSION_COOKIE).and_then(|token| state.sessions.get(&token)).map(|(_, csrf)| csrf);
        let axum::Form(form) = axum::Form::<WithCsrf<T>>::from_request(request, state).await.map_err(|e| {
            // A form without its token is a forged or stale one, whatever else is wrong.
            if e.body_text().contains("csrf") {
                PageError::new(lang, PageErrorKind::Csrf)
            } else {
                PageError::new(lang, PageErrorKind::BadForm(e.body_text()))
            }
        })?;
        match expected {
            Some(expected) if same_token(&expected, &form.csrf) => Ok(Checked(form.fields)),
            Some(_) => Err(PageError::new(lang, PageErrorKind::Csrf)),
            None => Err(PageError::new(lang, PageErrorKind::SignIn)),
        }
    }
}

/// A copy of a request's head (its URI and headers: what the language is read from).
fn request_parts(request: &Request) -> Parts {
    let mut head = axum::http::Request::builder().uri(request.uri().clone()).body(()).expect("a URI taken from a request").into_parts().0;
    head.headers = request.headers().clone();
    head
}

/// Where sign-in leads each role.
pub fn home_of(role: PrincipalRole) -> &'static str {
    match role {
        PrincipalRole::Consumer => "/me",
        PrincipalRole::Lender => "/lender",
        PrincipalRole::Furnisher => "/furnisher",
        PrincipalRole::Supervisor | PrincipalRole::Operator => "/supervision",
    }
}

/// A redirect after a form (303: the browser fetches the page with GET).
pub fn see_other(path: &str) -> Response {
    Redirect::to(path).into_response()
}
