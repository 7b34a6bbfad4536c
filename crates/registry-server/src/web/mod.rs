//! Pages for people: server-rendered HTML on the API's port, in Chinese, English and Dutch.
//! Templates are `maud` (compiled into the binary, escaping everything they insert); CSS and a
//! little JavaScript are static files compiled in too; every page works without JavaScript.
//! A page calls the service the API calls, with the same caller and the same role checks
//! (`session::Page<R>`, `session::MyPage`), never a second copy of a rule.

pub mod consumer;
pub mod furnisher;
pub mod i18n;
pub mod lender;
pub mod session;
pub mod supervisor;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, html};
use registry_service::keys::PrincipalRole;
use serde::Deserialize;

use self::i18n::{LANG_COOKIE, Lang, cookie, t, t_with};
use self::session::{SESSION_COOKIE, SESSION_TTL, SIGN_IN_CSRF_COOKIE, home_of, over_tls, random_token, same_token, set_cookie};
use crate::AppState;
use crate::caller::principal_of_key;
use crate::error::{ApiError, ErrorCode};

const STYLE: &str = include_str!("static/style.css");
const SCRIPT: &str = include_str!("static/app.js");
/// Static files are named by the build, so they can be cached for a year.
const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The pages' routes, to be merged with the API's.
pub fn pages(state: AppState) -> Router {
    Router::new()
        .route("/", get(sign_in_page))
        .route("/sign-in", post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/static/{file}", get(static_file))
        .merge(consumer::routes())
        .merge(lender::routes())
        .merge(furnisher::routes(state.settings.request_body_bytes_max))
        .merge(supervisor::routes())
        .layer(axum::middleware::from_fn(remember_language))
        .with_state(state)
}

/// Who is signed in, for the page's frame: the navigation, the sign-out form.
pub struct Frame<'a> {
    pub lang: Lang,
    /// The path without `lang=`, for the language switch.
    pub path: &'a str,
    pub signed_in: Option<(&'a str, PrincipalRole, &'a str)>,
}

impl<'a> Frame<'a> {
    pub fn of(signed: &'a session::Signed, path: &'a str) -> Frame<'a> {
        Frame { lang: signed.lang, path, signed_in: Some((&signed.principal.name, signed.principal.role, &signed.csrf)) }
    }
}

/// A whole page: the skip link, the header (site, language switch, who is signed in, the
/// role's navigation), the content under `<main>`.
pub fn layout(frame: &Frame<'_>, title: &str, content: Markup) -> Html<String> {
    let lang = frame.lang;
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (t(lang, "site-name")) }
                link rel="stylesheet" href={ "/static/style.css?v=" (ASSET_VERSION) };
                script src={ "/static/app.js?v=" (ASSET_VERSION) } defer {}
            }
            body {
                a.skip href="#main" { (t(lang, "skip-to-content")) }
                header.site {
                    p.brand { a href="/" { (t(lang, "site-name")) } }
                    nav.languages aria-label=(t(lang, "language")) {
                        ul {
                            @for other in Lang::ALL {
                                li {
                                    @if other == lang {
                                        span aria-current="true" lang=(other.tag()) { (other.endonym()) }
                                    } @else {
                                        a href=(with_lang(frame.path, other)) lang=(other.tag()) hreflang=(other.tag()) { (other.endonym()) }
                                    }
                                }
                            }
                        }
                    }
                    @if let Some((name, role, csrf)) = frame.signed_in {
                        div.who {
                            span { (t_with(lang, "signed-in-as", &[("name", name.into()), ("role", t(lang, &format!("role-{}", role.as_str())).into())])) }
                            form method="post" action="/sign-out" {
                                input type="hidden" name="csrf" value=(csrf);
                                button type="submit" { (t(lang, "sign-out")) }
                            }
                        }
                        nav.main aria-label=(t(lang, "main-navigation")) {
                            ul {
                                @for (href, label) in navigation(role) {
                                    li {
                                        @if frame.path.split('?').next() == Some(href) {
                                            a href=(href) aria-current="page" { (t(lang, label)) }
                                        } @else {
                                            a href=(href) { (t(lang, label)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                main #main tabindex="-1" {
                    (content)
                }
            }
        }
    };
    Html(markup.into_string())
}

fn navigation(role: PrincipalRole) -> &'static [(&'static str, &'static str)] {
    match role {
        PrincipalRole::Consumer => &[
            ("/me", "nav-report"),
            ("/me/accesses", "nav-accesses"),
            ("/me/consents", "nav-consents"),
            ("/me/disputes", "nav-disputes"),
            ("/me/protection", "nav-protection"),
        ],
        PrincipalRole::Lender => &[("/lender", "nav-inquiry")],
        PrincipalRole::Furnisher => &[("/furnisher", "nav-submissions"), ("/furnisher/disputes", "nav-furnisher-disputes")],
        PrincipalRole::Supervisor | PrincipalRole::Operator => &[("/supervision", "nav-supervision")],
    }
}

/// The request's path and query, for the frame (the language switch keeps the query).
pub fn path_of(uri: &axum::http::Uri) -> String {
    uri.path_and_query().map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned())
}

/// `path` with `lang=` set to `lang` (and no other `lang=`).
pub fn with_lang(path: &str, lang: Lang) -> String {
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let mut pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty() && !p.starts_with("lang=")).collect();
    let tag = format!("lang={}", lang.tag());
    pairs.push(&tag);
    format!("{base}?{}", pairs.join("&"))
}

/// `?lang=` sets the language and a cookie remembers it, on every page.
async fn remember_language(request: Request, next: Next) -> Response {
    let chosen = Lang::from_query(request.uri().query());
    let secure = over_tls(request.headers());
    let mut response = next.run(request).await;
    if let Some(lang) = chosen {
        response
            .headers_mut()
            .append(header::SET_COOKIE, set_cookie(LANG_COOKIE, lang.tag(), std::time::Duration::from_hours(365 * 24), secure));
    }
    response
}

async fn static_file(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "style.css" => (STYLE, "text/css; charset=utf-8"),
        "app.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "public, max-age=31536000, immutable")], body).into_response()
}

/// Why a page could not be shown, in the reader's language.
pub struct PageError {
    lang: Lang,
    kind: PageErrorKind,
}

pub enum PageErrorKind {
    /// No session, or its key is no longer valid: to the sign-in page.
    SignIn,
    Forbidden(PrincipalRole),
    Csrf,
    BadForm(String),
    NotFound,
    /// The service's answer, in its words (they name no person).
    Api(ApiError),
    Internal,
}

impl PageError {
    pub fn new(lang: Lang, kind: PageErrorKind) -> PageError {
        PageError { lang, kind }
    }

    pub fn api(lang: Lang, error: impl Into<ApiError>) -> PageError {
        PageError { lang, kind: PageErrorKind::Api(error.into()) }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let lang = self.lang;
        let (status, message) = match &self.kind {
            PageErrorKind::SignIn => {
                let mut response = axum::response::Redirect::to(&with_lang("/", lang)).into_response();
                *response.status_mut() = StatusCode::SEE_OTHER;
                return response;
            }
            PageErrorKind::Forbidden(role) => {
                (StatusCode::FORBIDDEN, t_with(lang, "error-forbidden", &[("role", t(lang, &format!("role-{}", role.as_str())).into())]))
            }
            PageErrorKind::Csrf => (StatusCode::FORBIDDEN, t(lang, "error-csrf")),
            PageErrorKind::BadForm(problem) => {
                (StatusCode::BAD_REQUEST, t_with(lang, "refusal-invalid", &[("problem", problem.as_str().into())]))
            }
            PageErrorKind::NotFound => (StatusCode::NOT_FOUND, t(lang, "error-not-found")),
            PageErrorKind::Api(e) => (crate::error::status_of(e.code), e.message.clone()),
            PageErrorKind::Internal => (StatusCode::INTERNAL_SERVER_ERROR, t(lang, "error-internal")),
        };
        let frame = Frame { lang, path: "/", signed_in: None };
        let body = html! {
            h1 { (t(lang, "error-title")) }
            p.error role="alert" { (message) }
            p { a href="/" { (t(lang, "back-home")) } }
        };
        (status, layout(&frame, &t(lang, "error-title"), body)).into_response()
    }
}

#[derive(Deserialize)]
struct SignInQuery {
    failed: Option<String>,
}

/// `/`: the sign-in form (a signed-in person goes to their role's page).
async fn sign_in_page(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
    axum::extract::Query(query): axum::extract::Query<SignInQuery>,
    parts_lang: LangOf,
) -> Response {
    let lang = parts_lang.0;
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Some((key, _)) = state.sessions.get(&token)
        && let Ok(principal) = principal_of_key(&state, key).await
    {
        return session::see_other(&with_lang(home_of(principal.role), lang));
    }
    let csrf = random_token();
    let path = path_of(&uri);
    let frame = Frame { lang, path: &path, signed_in: None };
    let body = html! {
        h1 { (t(lang, "sign-in-title")) }
        p { (t(lang, "sign-in-intro")) }
        @if query.failed.is_some() {
            p.error role="alert" #sign-in-error { (t(lang, "sign-in-failed")) }
        }
        form.sign-in method="post" action="/sign-in" {
            input type="hidden" name="csrf" value=(csrf);
            div.field {
                label for="key" { (t(lang, "sign-in-key-label")) }
                input #key name="key" type="password" autocomplete="current-password" required aria-describedby="key-help"
                    aria-invalid=[query.failed.as_ref().map(|_| "true")];
                p.help #key-help { (t(lang, "sign-in-key-help")) }
            }
            button type="submit" { (t(lang, "sign-in-button")) }
        }
    };
    let mut response = layout(&frame, &t(lang, "sign-in-title"), body).into_response();
    let secure = over_tls(&headers);
    response.headers_mut().append(header::SET_COOKIE, set_cookie(SIGN_IN_CSRF_COOKIE, &csrf, std::time::Duration::from_hours(1), secure));
    response
}

/// The request's language, as an extractor.
pub struct LangOf(pub Lang);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for LangOf {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<LangOf, Self::Rejection> {
        Ok(LangOf(Lang::of_request(parts)))
    }
}

#[derive(Deserialize)]
struct SignInForm {
    key: String,
    csrf: String,
}

async fn sign_in(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    LangOf(lang): LangOf,
    form: axum::Form<SignInForm>,
) -> Response {
    let axum::Form(form) = form;
    // The sign-in form's token is the one its page set in a cookie: a form posted from
    // another site has neither.
    let expected = cookie(&headers, SIGN_IN_CSRF_COOKIE);
    if !expected.is_some_and(|expected| same_token(&expected, &form.csrf)) {
        return PageError::new(lang, PageErrorKind::Csrf).into_response();
    }
    let key = form.key.trim().to_owned();
    let principal = match principal_of_key(&state, key.clone()).await {
        Ok(principal) => principal,
        Err(e) if e.code == ErrorCode::Unauthenticated => return session::see_other(&format!("{}&failed=1", with_lang("/", lang))),
        Err(e) => return PageError::api(lang, e).into_response(),
    };
    let (token, _) = state.sessions.create(key);
    let secure = over_tls(&headers);
    let mut response = session::see_other(&with_lang(home_of(principal.role), lang));
    response.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &token, SESSION_TTL, secure));
    response.headers_mut().append(header::SET_COOKIE, set_cookie(SIGN_IN_CSRF_COOKIE, "", std::time::Duration::ZERO, secure));
    response
}

#[derive(Deserialize)]
struct Nothing {}

async fn sign_out(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    LangOf(lang): LangOf,
    session::Checked(Nothing {}): session::Checked<Nothing>,
) -> Response {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state.sessions.end(&token);
    }
    let mut response = session::see_other(&with_lang("/", lang));
    response.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", std::time::Duration::ZERO, over_tls(&headers)));
    response
}

/// A table cell's text for a missing value.
pub const NONE: &str = "—";
