//! The submission result document: what `ingest --json` prints per file and what the API
//! returns for a submission (`shared/spec/report.md`, command-line contract).

use registry_core::furnishing::{FileRejection, RecordError};
use registry_store::{SubmissionStatus, SubmissionSummary};
use serde::Serialize;

use crate::{IngestOutcome, Registry, ServiceError};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    Applied,
    Duplicate,
    Rejected,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize)]
pub struct SubmissionDocument {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub submission_id: String,
    pub status: DocumentStatus,
    pub furnisher: String,
    pub content_sha256: String,
    pub received_at: String,
    pub records: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<u64>,
    /// Every rule every rejected record broke, in file order (applied and duplicate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<RecordError>>,
    /// Why the file was rejected whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<FileRejection>,
}

impl Registry {
    /// The document for an ingest's outcome, its rejections read back from the store.
    pub fn outcome_document(&self, file: Option<&str>, outcome: &IngestOutcome) -> Result<SubmissionDocument, ServiceError> {
        let status = match outcome {
            IngestOutcome::Applied(_) => DocumentStatus::Applied,
            IngestOutcome::Duplicate(_) => DocumentStatus::Duplicate,
            IngestOutcome::Rejected(_) => DocumentStatus::Rejected,
        };
        self.document(file, status, outcome.summary())
    }

    /// The document of a stored submission.
    pub fn submission_document(&self, summary: &SubmissionSummary) -> Result<SubmissionDocument, ServiceError> {
        let status = match summary.status {
            SubmissionStatus::Applied => DocumentStatus::Applied,
            SubmissionStatus::Rejected => DocumentStatus::Rejected,
        };
        self.document(summary.file_name.as_deref(), status, summary)
    }

    fn document(&self, file: Option<&str>, status: DocumentStatus, summary: &SubmissionSummary) -> Result<SubmissionDocument, ServiceError> {
        let applied = summary.status == SubmissionStatus::Applied;
        let errors = if applied {
            let mut errors = Vec::new();
            self.store().for_each_rejection(&summary.submission_id, &mut |e| {
                errors.push(e);
                Ok(())
            })?;
            Some(errors)
        } else {
            None
        };
        Ok(SubmissionDocument {
            file: file.map(str::to_owned),
            submission_id: summary.submission_id.clone(),
            status,
            furnisher: summary.furnisher.clone(),
            content_sha256: summary.content_sha256.clone(),
            received_at: summary.received_at.clone(),
            records: summary.record_count,
            accepted: applied.then_some(summary.accepted_count),
            rejected: applied.then_some(summary.rejected_count),
            errors,
            error: summary.error.clone(),
        })
    }
}
