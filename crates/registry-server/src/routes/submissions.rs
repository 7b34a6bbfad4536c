//! Furnishers submit files and read their submissions' results.

use std::io;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use registry_core::furnishing::metro2::Mode;
use registry_core::model::Currency;
use registry_service::document::{DocumentStatus, SubmissionDocument, SubmissionHead};
use registry_service::{IngestOptions, IngestOutcome, NoProgress};
use serde::Deserialize;
use tokio_util::io::{StreamReader, SyncIoBridge};
use utoipa::IntoParams;

use crate::AppState;
use crate::caller::FurnisherCaller;
use crate::error::{ApiError, BodyTooLarge, ErrorCode, ErrorDocument};
use crate::extract::{ApiPath, ApiQuery};
use crate::metrics::{OutcomeLabel, StatusLabel};
use crate::stream::blocking_body;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SubmitQuery {
    /// A name for the file, kept with the submission (for the furnisher's own reference).
    pub file_name: Option<String>,
    /// Metro 2 only: read line by line, as the CFPB's evaluator does (record lengths and the
    /// trailer ignored). Default false: record lengths trusted, header and trailer reconciled.
    pub lenient: Option<bool>,
    /// Metro 2 only: the ISO 4217 currency of the file's whole-unit amounts. Default USD.
    pub currency: Option<String>,
}

/// Submits one furnishing file (JSON Lines or Metro 2, told apart by content) as one submission.
///
/// Roles: operator, or the furnisher itself.
///
/// The body is the file itself, streamed. The whole file is applied atomically; records that
/// break a rule are rejected one by one and listed in `errors`. The same bytes sent again by
/// the same furnisher are recognised and not applied twice.
#[utoipa::path(post, path = "/v1/furnishers/{furnisher}/submissions", tag = "submissions",
    params(("furnisher" = String, Path, description = "The furnisher's id"), SubmitQuery),
    request_body(content = String, content_type = "application/x-ndjson", description = "A furnishing file, JSON Lines or Metro 2"),
    responses(
        (status = 201, body = SubmissionDocument, description = "Applied"),
        (status = 200, body = SubmissionDocument, description = "Duplicate: these bytes were already applied"),
        (status = 422, body = SubmissionDocument, description = "Rejected whole; nothing applied"),
        (status = 400, body = ErrorDocument, description = "Invalid furnisher or parameters"),
        (status = 403, body = ErrorDocument, description = "Not an operator key, nor this furnisher's own key"),
        (status = 413, body = ErrorDocument, description = "The file is larger than the server accepts"),
        (status = 503, body = ErrorDocument, description = "Another submission held the store longer than lock_wait_ms (`store_busy`), or the database is unavailable (`unavailable`); nothing was applied; retry"),
    ))]
pub async fn submit(
    State(state): State<AppState>,
    caller: FurnisherCaller,
    ApiQuery(SubmitQuery { file_name, lenient, currency }): ApiQuery<SubmitQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let furnisher = caller.furnisher;
    let mut options = IngestOptions::default();
    if lenient == Some(true) {
        options.metro2.mode = Mode::Lenient;
    }
    if let Some(code) = currency {
        options.metro2.currency =
            Currency::from_code(&code).ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest, "currency is an ISO 4217 code, like USD"))?;
    }
    if let Some(name) = &file_name
        && (name.is_empty() || name.chars().count() > 255 || name.chars().any(char::is_control))
    {
        return Err(ApiError::new(ErrorCode::InvalidRequest, "file_name is 1 to 255 characters, none of them control characters"));
    }
    let limit = state.settings.request_body_bytes_max;
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|bytes| bytes > limit) {
        return Err(ApiError::new(ErrorCode::PayloadTooLarge, format!("the file is larger than this server accepts ({limit} bytes)")));
    }
    let mut received = 0u64;
    let stream = body.into_data_stream().map(move |chunk| {
        let chunk = chunk.map_err(io::Error::other)?;
        received += chunk.len() as u64;
        if received > limit { Err(io::Error::other(BodyTooLarge)) } else { Ok(chunk) }
    });
    let mut source = SyncIoBridge::new(StreamReader::new(stream));
    let started = std::time::Instant::now();
    let (outcome, head) = state
        .run(move |registry| {
            let outcome = registry.ingest(&furnisher, file_name.as_deref(), &mut source, &options, &NoProgress)?;
            let head = registry.outcome_head(file_name.as_deref(), &outcome);
            Ok::<_, registry_service::ServiceError>((outcome, head))
        })
        .await?;
    state.metrics.ingest_seconds.observe(started.elapsed().as_secs_f64());
    let status = match outcome {
        IngestOutcome::Applied(ref summary) => {
            state.metrics.records.get_or_create(&OutcomeLabel { outcome: "accepted".into() }).inc_by(summary.accepted_count);
            state.metrics.records.get_or_create(&OutcomeLabel { outcome: "rejected".into() }).inc_by(summary.rejected_count);
            StatusCode::CREATED
        }
        IngestOutcome::Duplicate(_) => StatusCode::OK,
        IngestOutcome::Rejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let label = match head.status {
        DocumentStatus::Applied => "applied",
        DocumentStatus::Duplicate => "duplicate",
        DocumentStatus::Rejected => "rejected",
    };
    state.metrics.submissions.get_or_create(&StatusLabel { status: label.into() }).inc();
    Ok(document_response(status, Arc::clone(&state.registry), head))
}

/// A submission's result, with every rejection. Roles: operator, or the furnisher itself.
#[utoipa::path(get, path = "/v1/furnishers/{furnisher}/submissions/{submission_id}", tag = "submissions",
    params(
        ("furnisher" = String, Path, description = "The furnisher's id"),
        ("submission_id" = String, Path, description = "The id returned when the file was submitted"),
    ),
    responses(
        (status = 200, body = SubmissionDocument, description = "The submission"),
        (status = 403, body = ErrorDocument, description = "Not an operator key, nor this furnisher's own key"),
        (status = 404, body = ErrorDocument, description = "No such submission for this furnisher"),
    ))]
pub async fn get_submission(
    State(state): State<AppState>,
    caller: FurnisherCaller,
    ApiPath((_, submission_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let furnisher = caller.furnisher;
    let summary = state
        .run(move |registry| registry.submission(&furnisher, &submission_id))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::SubmissionNotFound, "this furnisher has no submission with that id"))?;
    let head = state.registry.submission_head(&summary);
    Ok(document_response(StatusCode::OK, Arc::clone(&state.registry), head))
}

/// The submission document, its rejections streamed from the store.
fn document_response(status: StatusCode, registry: Arc<registry_service::Registry>, head: SubmissionHead) -> Response {
    let body = blocking_body(move |out| registry.write_document(&head, out));
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
