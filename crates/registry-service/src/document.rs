//! The submission result document: what `ingest --json` prints per file and what the API
//! returns for a submission (`shared/spec/report.md`, command-line contract).
//!
//! A file can hold millions of rejected lines, so the document is never built whole: its head
//! (status and counts) is a value, and `write_document` streams the rejections from the store
//! after it, so memory does not grow with their number.

use std::collections::BTreeMap;
use std::io::Write;
use std::ops::ControlFlow;

use registry_core::furnishing::{FileRejection, Format, RecordError};
use registry_core::model::FurnisherId;
use registry_store::{SubmissionStatus, SubmissionSummary};
use serde::Serialize;

use crate::{IngestOutcome, Registry, ServiceError, io_error};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    Applied,
    Duplicate,
    Rejected,
}

/// Everything in a submission's document but its list of rejections.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize)]
pub struct SubmissionHead {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub submission_id: String,
    pub status: DocumentStatus,
    pub furnisher: String,
    pub content_sha256: String,
    pub received_at: String,
    /// The file's format: `jsonl`, or `metro2`, where an error's `line` is the record number
    /// (the header is record 1).
    pub format: Format,
    pub records: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<u64>,
    /// Why the file was rejected whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<FileRejection>,
    /// What the data-quality evaluators found on the accepted records: hits by evaluator
    /// (docs/data-quality.md). Absent for a file rejected whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality_hits: Option<BTreeMap<String, u64>>,
}

impl SubmissionHead {
    /// Applied and duplicate submissions list their rejections; a file rejected whole has none.
    pub fn lists_rejections(&self) -> bool {
        self.status != DocumentStatus::Rejected
    }
}

/// The whole document as it goes over the wire: the head and, for applied and duplicate
/// submissions, `errors`: every rule every rejected record broke, in file order. Describes the
/// response for the OpenAPI document; the document itself is streamed by `write_document`.
#[cfg(feature = "openapi")]
#[derive(Serialize, utoipa::ToSchema)]
pub struct SubmissionDocument {
    #[serde(flatten)]
    pub head: SubmissionHead,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<RecordError>>,
}

impl Registry {
    /// The head of an ingest's document.
    pub fn outcome_head(&self, file: Option<&str>, outcome: &IngestOutcome) -> SubmissionHead {
        let status = match outcome {
            IngestOutcome::Applied(_) => DocumentStatus::Applied,
            IngestOutcome::Duplicate(_) => DocumentStatus::Duplicate,
            IngestOutcome::Rejected(_) => DocumentStatus::Rejected,
        };
        self.with_hits(head(file, status, outcome.summary()))
    }

    /// The furnisher's latest `limit` submissions' heads, newest first.
    pub fn recent_submissions(&self, furnisher: &FurnisherId, limit: u32) -> Result<Vec<SubmissionHead>, ServiceError> {
        Ok(self.store.recent_submissions(furnisher, limit)?.iter().map(|summary| self.submission_head(summary)).collect())
    }

    /// The head of a stored submission's document.
    pub fn submission_head(&self, summary: &SubmissionSummary) -> SubmissionHead {
        let status = match summary.status {
            SubmissionStatus::Applied => DocumentStatus::Applied,
            SubmissionStatus::Rejected => DocumentStatus::Rejected,
        };
        self.with_hits(head(summary.file_name.as_deref(), status, summary))
    }

    /// The head with its submission's quality hits (an applied or duplicate submission's).
    fn with_hits(&self, mut head: SubmissionHead) -> SubmissionHead {
        if head.lists_rejections()
            && let Ok(furnisher) = FurnisherId::parse(&head.furnisher)
        {
            match self.submission_hits(&furnisher, &head.submission_id) {
                Ok(hits) => head.quality_hits = Some(hits),
                // The document is still right without them; the log says why they are missing.
                Err(e) => tracing::warn!(error = %e, "reading a submission's quality hits failed"),
            }
        }
        head
    }

    /// Writes the document as one JSON object: the head, then `"errors"` streamed from the store.
    pub fn write_document(&self, head: &SubmissionHead, out: &mut dyn Write) -> Result<(), ServiceError> {
        let write_failed = io_error("writing the submission document failed");
        let mut text = serde_json::to_string(head).map_err(|e| ServiceError::Internal(e.to_string()))?;
        if !head.lists_rejections() {
            return out.write_all(text.as_bytes()).map_err(write_failed);
        }
        // Reopen the head's object to append the list.
        text.pop();
        text.push_str(if text.ends_with('{') { "\"errors\":[" } else { ",\"errors\":[" });
        out.write_all(text.as_bytes()).map_err(&write_failed)?;
        let mut first = true;
        self.for_each_rejection(&head.submission_id, &mut |error| {
            if !first {
                out.write_all(b",").map_err(&write_failed)?;
            }
            first = false;
            serde_json::to_writer(&mut *out, &error).map_err(|e| write_failed(std::io::Error::other(e)))?;
            Ok(ControlFlow::Continue(()))
        })?;
        out.write_all(b"]}").map_err(write_failed)
    }

    /// Calls `visit` with each rejection of a submission, in file order, until it stops or
    /// fails (its error is returned).
    pub fn for_each_rejection(
        &self,
        submission_id: &str,
        visit: &mut dyn FnMut(RecordError) -> Result<ControlFlow<()>, ServiceError>,
    ) -> Result<(), ServiceError> {
        Ok(self.store.for_each_rejection(submission_id, &mut |error| visit(error).map_err(crate::visit_error))?)
    }

    /// The first `limit` rejections of a submission.
    pub fn first_rejections(&self, submission_id: &str, limit: usize) -> Result<Vec<RecordError>, ServiceError> {
        let mut errors = Vec::new();
        self.for_each_rejection(submission_id, &mut |error| {
            errors.push(error);
            Ok(if errors.len() < limit { ControlFlow::Continue(()) } else { ControlFlow::Break(()) })
        })?;
        Ok(errors)
    }
}

fn head(file: Option<&str>, status: DocumentStatus, summary: &SubmissionSummary) -> SubmissionHead {
    let applied = summary.status == SubmissionStatus::Applied;
    SubmissionHead {
        file: file.map(str::to_owned),
        submission_id: summary.submission_id.clone(),
        status,
        furnisher: summary.furnisher.clone(),
        content_sha256: summary.content_sha256.clone(),
        received_at: summary.received_at.clone(),
        format: summary.format,
        records: summary.record_count,
        accepted: applied.then_some(summary.accepted_count),
        rejected: applied.then_some(summary.rejected_count),
        error: summary.error.clone(),
        quality_hits: None,
    }
}
