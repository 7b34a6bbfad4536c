//! The HTTP API: furnishers submit files, readers fetch reports, operators watch health and
//! metrics. Built on axum; the OpenAPI document is generated from the handlers themselves
//! (utoipa), so it cannot drift from them. The only crate that knows HTTP.

pub mod caller;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod routes;
pub mod stream;
pub mod web;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use registry_service::Registry;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::caller::RateLimiter;
use crate::error::{ApiError, ErrorCode};
use crate::metrics::{HttpLabels, Metrics, RouteLabels};

/// Declares the bearer API key in the OpenAPI document.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key from `credit-registry keys create`"))
                    .build(),
            ),
        );
    }
}

/// Largest JSON request body (a report query is a few hundred bytes).
const JSON_BODY_BYTES_MAX: usize = 64 * 1024;

/// Limits and knobs of the server.
#[derive(Clone, Debug)]
pub struct ServerSettings {
    pub request_body_bytes_max: u64,
    /// Requests a minute each API key may make (bursts up to as many).
    pub rate_limit_per_minute: u32,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings { request_body_bytes_max: 4 << 30, rate_limit_per_minute: 600 }
    }
}

/// What every handler can reach. No global state: everything lives here.
#[derive(Clone)]
pub struct AppState {
    pub registry: Arc<Registry>,
    pub metrics: Arc<Metrics>,
    pub settings: Arc<ServerSettings>,
    pub limiter: Arc<RateLimiter>,
    /// The pages' signed-in sessions.
    pub sessions: Arc<web::session::Sessions>,
}

impl AppState {
    pub fn new(registry: Arc<Registry>, settings: ServerSettings) -> AppState {
        AppState {
            registry,
            metrics: Arc::new(Metrics::new()),
            limiter: Arc::new(RateLimiter::new(settings.rate_limit_per_minute)),
            settings: Arc::new(settings),
            sessions: Arc::default(),
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "credit-registry",
        description = "A consumer credit registry: furnishers submit account data, readers fetch consolidated credit reports.\n\nEvery endpoint but /health and /openapi.json needs an API key (`credit-registry keys create`), sent as `Authorization: Bearer KEY`, and names the roles it admits; each key has a rate limit. Every read of personal data is recorded in a signed Merkle-tree access log.",
    ),
    modifiers(&BearerAuth),
    security(("api_key" = [])
    ),
    tags(
        (name = "submissions", description = "Furnishing files and their results"),
        (name = "reports", description = "Consolidated credit reports (the operator's audited drill-down)"),
        (name = "inquiries", description = "A lender's inquiry under a consumer's consent"),
        (name = "disputes", description = "A furnisher's queue of consumers' disputes"),
        (name = "consumers", description = "A consumer's own report, the reads of their data and the proofs of them"),
        (name = "access log", description = "The signed, append-only log of every read of personal data"),
        (name = "data quality", description = "Evaluators' findings on furnished data, scorecards and the supervisor's overview"),
        (name = "supervision", description = "The supervisor's view of the whole market: measures that name no person, and audited drill-down lists"),
        (name = "operations", description = "Health and metrics"),
    )
)]
struct ApiDoc;

/// Every operation that needs an API key (those that do not opt out of the global security
/// requirement) can answer 401 (no valid key) and 429 (the key's rate limit): documented here,
/// once, rather than on each handler, where they drifted apart.
fn document_key_responses(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorDocument"))).build())
            .build()
    };
    for item in document.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten().filter(|op| op.security.is_none()) {
            let responses = &mut operation.responses.responses;
            responses.entry("401".into()).or_insert_with(|| error("No valid API key").into());
            responses.entry("429".into()).or_insert_with(|| error("The key's rate limit; see Retry-After").into());
        }
    }
}

/// The API's router and its OpenAPI document.
pub fn api(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    let (router, document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(routes::health::health))
        .routes(routes!(routes::health::metrics))
        .routes(routes!(routes::submissions::submit))
        .routes(routes!(routes::submissions::get_submission))
        .routes(routes!(routes::reports::report_by_identifier))
        .routes(routes!(routes::reports::report_by_registry_id))
        .routes(routes!(routes::me::my_report))
        .routes(routes!(routes::me::my_accesses))
        .routes(routes!(routes::me::my_access_proof))
        .routes(routes!(routes::me::grant_consent, routes::me::list_consents))
        .routes(routes!(routes::me::revoke_consent))
        .routes(routes!(routes::me::open_dispute, routes::me::list_disputes))
        .routes(routes!(routes::me::place_freeze, routes::me::lift_freeze))
        .routes(routes!(routes::me::place_fraud_alert, routes::me::lift_fraud_alert))
        .routes(routes!(routes::me::list_flags))
        .routes(routes!(routes::inquiries::inquire))
        .routes(routes!(routes::disputes::queue))
        .routes(routes!(routes::disputes::resolve))
        .routes(routes!(routes::log::head))
        .routes(routes!(routes::log::consistency))
        .routes(routes!(routes::supervision::section))
        .routes(routes!(routes::supervision::borrower_list))
        .routes(routes!(routes::quality::furnisher_quality))
        .routes(routes!(routes::quality::overview))
        .with_state(state.clone())
        .split_for_parts();
    let mut document = document;
    document_key_responses(&mut document);
    let document_json = Arc::new(document.to_json().expect("the OpenAPI document serialises"));
    let router = router
        .route(
            "/openapi.json",
            get(move || {
                let json = document_json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], (*json).clone()) }
            }),
        )
        .merge(web::pages(state.clone()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Request bodies read whole (report queries) are small; submissions stream past this.
        .layer(axum::extract::DefaultBodyLimit::max(JSON_BODY_BYTES_MAX))
        .layer(axum::middleware::from_fn_with_state(state, count_requests))
        // Every log line of a request is in its span: its id, method and route (the route's
        // template, never the path itself, which may carry an id), then its status and latency.
        .layer(TraceLayer::new_for_http().make_span_with(request_span).on_request(()).on_response(log_response).on_failure(()))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid));
    (router, document)
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such endpoint; see /openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, "this endpoint does not take that method; see /openapi.json")
}

/// A request's method, as metrics and logs name it: only methods the API serves get their own
/// series, so arbitrary methods cannot grow them.
fn method_label(request: &Request) -> &'static str {
    match request.method().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "HEAD" => "HEAD",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        _ => "other",
    }
}

/// The route's template (`/v1/subjects/{registry_id}/report`), never the path itself.
fn route_label(request: &Request) -> String {
    request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned())
}

async fn count_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let labels = RouteLabels { method: method_label(&request).to_owned(), route: route_label(&request) };
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    state.metrics.http_request_seconds.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
    let RouteLabels { method, route } = labels;
    state.metrics.http_requests.get_or_create(&HttpLabels { method, route, status: response.status().as_u16() }).inc();
    response.into_response()
}

fn request_span(request: &Request) -> tracing::Span {
    let id = request.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or("-");
    tracing::info_span!("request", id = %id, method = method_label(request), route = %route_label(request))
}

fn log_response(response: &Response, latency: Duration, _span: &tracing::Span) {
    tracing::info!(status = response.status().as_u16(), latency_ms = latency.as_micros() as f64 / 1000.0, "answered");
}

/// Serves the API on `listener` until `shutdown` completes. Purges the file archive of
/// expired submissions and applies the jurisdiction's retention, at start and daily.
pub async fn serve(
    registry: Arc<Registry>,
    settings: ServerSettings,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = AppState::new(registry.clone(), settings);
    let (router, _) = api(state);
    let purger = tokio::spawn(async move {
        let mut daily = tokio::time::interval(Duration::from_hours(24));
        loop {
            daily.tick().await;
            let archive = registry.clone();
            match tokio::task::spawn_blocking(move || archive.purge_archive()).await {
                Ok(Ok(purged)) if purged > 0 => tracing::info!(purged, "purged expired archived files"),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "purging the archive failed"),
                Err(_) => tracing::warn!("the archive purge task failed"),
            }
            let retention = registry.clone();
            match tokio::task::spawn_blocking(move || retention.run_retention()).await {
                Ok(Ok(outcome)) if outcome.accounts_purged > 0 => {
                    tracing::info!(
                        accounts = outcome.accounts_purged,
                        records = outcome.records_purged,
                        "retention deleted expired negative information"
                    );
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "the retention run failed"),
                Err(_) => tracing::warn!("the retention task failed"),
            }
        }
    });
    let result = axum::serve(listener, router).with_graceful_shutdown(shutdown).await;
    purger.abort();
    result
}
