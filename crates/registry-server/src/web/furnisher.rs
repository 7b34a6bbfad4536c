//! The furnisher's pages: its submissions (with the data-quality evaluators' hits), a file
//! upload with its result and rejections (also as CSV), and the dispute queue with the answer
//! form. Role: furnisher, on its own data (the key's name is its furnisher id). The upload is
//! the API's ingest: the same pipeline, the same result.

use std::io::{self, Read};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use registry_core::model::FurnisherId;
use registry_service::document::{DocumentStatus, SubmissionHead};
use registry_service::rights::DisputeOutcome;
use registry_service::{IngestOptions, NoProgress};
use serde::Deserialize;

use super::i18n::{Lang, date, integer, t};
use super::session::{Checked, Page, Signed, same_token, see_other};
use super::{Frame, NONE, PageError, PageErrorKind, layout, path_of, with_lang};
use crate::AppState;
use crate::caller::roles;

/// Submissions listed on the furnisher's page.
const SUBMISSIONS_LISTED: u32 = 50;
/// Rejections shown on a submission's page; all of them are in its CSV.
const REJECTIONS_SHOWN: usize = 500;

pub fn routes(upload_bytes_max: u64) -> Router<AppState> {
    Router::new()
        .route("/furnisher", get(submissions))
        .route("/furnisher/upload", post(upload).layer(DefaultBodyLimit::max(usize::try_from(upload_bytes_max).unwrap_or(usize::MAX))))
        .route("/furnisher/submissions/{id}", get(submission))
        .route("/furnisher/submissions/{id}/rejections.csv", get(rejections_csv))
        .route("/furnisher/disputes", get(disputes).post(answer))
}

fn furnisher_of(signed: &Signed) -> Result<FurnisherId, PageError> {
    FurnisherId::parse(&signed.principal.name).map_err(|_| PageError::new(signed.lang, PageErrorKind::Internal))
}

fn status_name(lang: Lang, status: DocumentStatus) -> String {
    t(
        lang,
        match status {
            DocumentStatus::Applied => "submission-state-applied",
            DocumentStatus::Duplicate => "submission-state-duplicate",
            DocumentStatus::Rejected => "submission-state-rejected",
        },
    )
}

fn hits_of(head: &SubmissionHead) -> u64 {
    head.quality_hits.as_ref().map_or(0, |hits| hits.values().sum())
}

async fn submissions(State(state): State<AppState>, caller: Page<roles::Furnisher>, uri: Uri) -> Result<Response, PageError> {
    let lang = caller.signed.lang;
    let furnisher = furnisher_of(&caller.signed)?;
    let heads = state
        .run(move |registry| registry.recent_submissions(&furnisher, SUBMISSIONS_LISTED))
        .await
        .map_err(|e| PageError::api(lang, e))?;
    let path = path_of(&uri);
    let frame = Frame::of(&caller.signed, &path);
    let body = html! {
        h1 { (t(lang, "submissions-title")) }
        p { (t(lang, "submissions-intro")) }
        h2 #upload-h { (t(lang, "submissions-upload")) }
        form.stack method="post" action="/furnisher/upload" enctype="multipart/form-data" aria-labelledby="upload-h" {
            input type="hidden" name="csrf" value=(caller.signed.csrf);
            div.field { label for="file" { (t(lang, "submissions-file")) } input #file name="file" type="file" required; }
            button type="submit" { (t(lang, "submissions-send")) }
        }
        @if heads.is_empty() { p { (t(lang, "submissions-none")) } } @else {
            table.data {
                thead { tr {
                    th scope="col" { (t(lang, "submission-received")) }
                    th scope="col" { (t(lang, "submission-file")) }
                    th scope="col" { (t(lang, "submission-status")) }
                    th scope="col" { (t(lang, "submission-records")) }
                    th scope="col" { (t(lang, "submission-accepted")) }
                    th scope="col" { (t(lang, "submission-rejected")) }
                    th scope="col" { (t(lang, "submission-quality")) }
                } }
                tbody { @for head in &heads { tr {
                    td { a href=(with_lang(&format!("/furnisher/submissions/{}", head.submission_id), lang)) { (head.received_at.get(..16).unwrap_or(&head.received_at).replace('T', " ")) } }
                    td { (head.file.as_deref().unwrap_or(NONE)) }
                    td { (status_name(lang, head.status)) }
                    td { (integer(lang, head.records.into())) }
                    td { (head.accepted.map_or_else(|| NONE.to_owned(), |n| integer(lang, n.into()))) }
                    td { (head.rejected.map_or_else(|| NONE.to_owned(), |n| integer(lang, n.into()))) }
                    td { (integer(lang, hits_of(head).into())) }
                } } }
            }
        }
    };
    Ok(layout(&frame, &t(lang, "submissions-title"), body).into_response())
}

/// The submission's page: its head, quality hits by evaluator, and its first rejections.
async fn submission(
    State(state): State<AppState>,
    caller: Page<roles::Furnisher>,
    uri: Uri,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let lang = caller.signed.lang;
    let furnisher = furnisher_of(&caller.signed)?;
    let found = state
        .run(move |registry| {
            let Some(summary) = registry.submission(&furnisher, &id)? else { return Ok(None) };
            let head = registry.submission_head(&summary);
            let rejections = registry.first_rejections(&head.submission_id, REJECTIONS_SHOWN)?;
            Ok::<_, registry_service::ServiceError>(Some((head, rejections)))
        })
        .await
        .map_err(|e| PageError::api(lang, e))?;
    let Some((head, rejections)) = found else { return Err(PageError::new(lang, PageErrorKind::NotFound)) };
    let path = path_of(&uri);
    let frame = Frame::of(&caller.signed, &path);
    Ok(layout(&frame, &t(lang, "submissions-title"), result_view(lang, &head, &rejections)).into_response())
}

fn result_view(lang: Lang, head: &SubmissionHead, rejections: &[registry_core::furnishing::RecordError]) -> Markup {
    html! {
        h1 { (head.file.as_deref().unwrap_or(&head.submission_id)) }
        dl.facts {
            div { dt { (t(lang, "submission-status")) } dd { (status_name(lang, head.status)) } }
            div { dt { (t(lang, "submission-received")) } dd { (head.received_at.get(..16).unwrap_or(&head.received_at).replace('T', " ")) } }
            div { dt { (t(lang, "submission-records")) } dd { (integer(lang, head.records.into())) } }
            div { dt { (t(lang, "submission-accepted")) } dd { (head.accepted.map_or_else(|| NONE.to_owned(), |n| integer(lang, n.into()))) } }
            div { dt { (t(lang, "submission-rejected")) } dd { (head.rejected.map_or_else(|| NONE.to_owned(), |n| integer(lang, n.into()))) } }
        }
        @if let Some(error) = &head.error { p.error role="alert" { (error.code.as_str()) ": " (error.message) } }
        @if let Some(hits) = head.quality_hits.as_ref().filter(|h| !h.is_empty()) {
            h2 { (t(lang, "submission-quality")) }
            table.data { tbody { @for (evaluator, n) in hits { tr { th scope="row" { code { (evaluator) } } td { (integer(lang, (*n).into())) } } } } }
        }
        @if !rejections.is_empty() {
            h2 { (t(lang, "submission-rejections")) }
            p { a href={ "/furnisher/submissions/" (head.submission_id) "/rejections.csv" } download { (t(lang, "submission-download")) } }
            table.data {
                thead { tr { th scope="col" { (t(lang, "submission-line")) } th scope="col" { (t(lang, "submission-code")) } th scope="col" { (t(lang, "submission-message")) } } }
                tbody { @for r in rejections { tr { td { (r.line) } td { code { (r.code.as_str()) } } td { @if !r.field.is_empty() { code { (r.field) } ": " } (r.message) } } } }
            }
        }
        p { a href=(with_lang("/furnisher", lang)) { (t(lang, "submissions-title")) } }
    }
}

/// Every rejection of a submission as CSV (line, field, code, message), collected in memory:
/// the page is for files a person uploads; a submission with millions of rejections is read
/// through the API, which streams them.
async fn rejections_csv(
    State(state): State<AppState>,
    caller: Page<roles::Furnisher>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let lang = caller.signed.lang;
    let furnisher = furnisher_of(&caller.signed)?;
    let bytes = state
        .run(move |registry| {
            let Some(summary) = registry.submission(&furnisher, &id)? else { return Ok(None) };
            let mut out = csv::Writer::from_writer(Vec::new());
            let header = out.write_record(["line", "field", "code", "message"]);
            header.map_err(|e| registry_service::ServiceError::Internal(e.to_string()))?;
            registry.for_each_rejection(&summary.submission_id, &mut |r| {
                out.write_record([r.line.to_string().as_str(), &r.field, r.code.as_str(), &r.message])
                    .map_err(|e| registry_service::ServiceError::Internal(e.to_string()))?;
                Ok(std::ops::ControlFlow::Continue(()))
            })?;
            out.into_inner().map(Some).map_err(|e| registry_service::ServiceError::Internal(e.to_string()))
        })
        .await
        .map_err(|e| PageError::api(lang, e))?
        .ok_or_else(|| PageError::new(lang, PageErrorKind::NotFound))?;
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"rejections.csv\"")],
        bytes,
    )
        .into_response())
}

/// Reads the bytes a channel hands over: the upload's chunks, as the blocking ingest reads them.
struct ChannelReader {
    chunks: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(chunk) => self.current = chunk?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// The upload: the `csrf` field first (the form puts it first), then the file, streamed into
/// the ingest as it arrives.
async fn upload(
    State(state): State<AppState>,
    caller: Page<roles::Furnisher>,
    uri: Uri,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let lang = caller.signed.lang;
    let bad = |what: &str| PageError::new(lang, PageErrorKind::BadForm(what.to_owned()));
    let first = multipart.next_field().await.map_err(|_| bad("the form"))?.ok_or_else(|| bad("the form"))?;
    if first.name() != Some("csrf") {
        return Err(PageError::new(lang, PageErrorKind::Csrf));
    }
    let token = first.text().await.map_err(|_| bad("csrf"))?;
    if !same_token(&token, &caller.signed.csrf) {
        return Err(PageError::new(lang, PageErrorKind::Csrf));
    }
    let mut file =
        multipart.next_field().await.map_err(|_| bad("file"))?.filter(|f| f.name() == Some("file")).ok_or_else(|| bad("file"))?;
    let file_name =
        file.file_name().map(str::to_owned).filter(|n| !n.is_empty() && n.chars().count() <= 255 && !n.chars().any(char::is_control));
    let furnisher = furnisher_of(&caller.signed)?;
    let (chunks, received) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(8);
    let mut source = ChannelReader { chunks: received, current: Bytes::new() };
    let ingest = state.run(move |registry| {
        let outcome = registry.ingest(&furnisher, file_name.as_deref(), &mut source, &IngestOptions::default(), &NoProgress)?;
        let head = registry.outcome_head(file_name.as_deref(), &outcome);
        let rejections = registry.first_rejections(&head.submission_id, REJECTIONS_SHOWN)?;
        Ok::<_, registry_service::ServiceError>((head, rejections))
    });
    let feed = async move {
        loop {
            match file.chunk().await {
                Ok(Some(chunk)) => {
                    if chunks.send(Ok(chunk)).await.is_err() {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = chunks.send(Err(io::Error::other(e.to_string()))).await;
                    break;
                }
            }
        }
    };
    let (ingested, ()) = tokio::join!(ingest, feed);
    let (head, rejections) = ingested.map_err(|e| PageError::api(lang, e))?;
    let path = uri.path().to_owned();
    let frame = Frame::of(&caller.signed, &path);
    let status = if head.status == DocumentStatus::Rejected { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, layout(&frame, &t(lang, "submissions-title"), result_view(lang, &head, &rejections))).into_response())
}

#[derive(Deserialize, Default)]
struct Answered {
    done: Option<String>,
}

async fn disputes(
    State(state): State<AppState>,
    caller: Page<roles::Furnisher>,
    uri: Uri,
    Query(done): Query<Answered>,
) -> Result<Response, PageError> {
    let lang = caller.signed.lang;
    let furnisher = furnisher_of(&caller.signed)?;
    let list = state.run(move |registry| registry.furnisher_disputes(&furnisher, false)).await.map_err(|e| PageError::api(lang, e))?;
    let path = path_of(&uri);
    let frame = Frame::of(&caller.signed, &path);
    let csrf = &caller.signed.csrf;
    let body = html! {
        h1 { (t(lang, "furnisher-disputes-title")) }
        @if done.done.is_some() { p.notice role="status" { (t(lang, "furnisher-answered")) } }
        @if list.is_empty() { p { (t(lang, "furnisher-disputes-none")) } }
        @for d in &list {
            article.account {
                h2 { (d.account) @if let Some(f) = &d.field { " · " code { (f) } } }
                dl.facts {
                    div { dt { (t(lang, "dispute-reason")) } dd { (d.reason) } }
                    div { dt { (t(lang, "dispute-opened-on")) } dd { (date(lang, d.opened_on)) } }
                    div { dt { (t(lang, "dispute-deadline")) } dd { (date(lang, d.deadline)) } }
                    div { dt { (t(lang, "dispute-status")) } dd { (t(lang, &format!("dispute-state-{}", d.status.as_str()))) } }
                }
                @if d.status == registry_core::governance::DisputeStatus::Open {
                    form.stack method="post" action="/furnisher/disputes" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="dispute_id" value=(d.dispute_id);
                        fieldset {
                            legend { (t(lang, "furnisher-answer")) }
                            label { input type="radio" name="outcome" value="confirmed" required; " " (t(lang, "furnisher-answer-confirmed")) }
                            br;
                            label { input type="radio" name="outcome" value="corrected"; " " (t(lang, "furnisher-answer-corrected")) }
                        }
                        @let note_id = format!("note-{}", d.dispute_id);
                        div.field { label for=(note_id) { (t(lang, "furnisher-answer-note")) } textarea id=(note_id) name="note" rows="2" {} }
                        button type="submit" { (t(lang, "furnisher-answer")) }
                    }
                }
            }
        }
    };
    Ok(layout(&frame, &t(lang, "furnisher-disputes-title"), body).into_response())
}

#[derive(Deserialize)]
struct AnswerForm {
    dispute_id: String,
    outcome: DisputeOutcome,
    note: String,
}

async fn answer(
    State(state): State<AppState>,
    caller: Page<roles::Furnisher>,
    Checked(form): Checked<AnswerForm>,
) -> Result<Response, PageError> {
    let lang = caller.signed.lang;
    let furnisher = furnisher_of(&caller.signed)?;
    state
        .run(move |registry| registry.resolve_dispute(&furnisher, &form.dispute_id, form.outcome, &form.note))
        .await
        .map_err(|e| PageError::api(lang, e))?;
    Ok(see_other(&format!("{}&done=1", with_lang("/furnisher/disputes", lang))))
}
