//! How the registry fails, and the one table of stable error codes that both front doors (the
//! command line and the HTTP API) answer with. Each front door maps a code to its own signal
//! (an exit status, an HTTP status) in one exhaustive match, so a new code cannot be left out.

use std::io;

use registry_store::StoreError;

use crate::rights::Refusal;
use crate::vault::OpenError;

/// Every error code the registry answers with, on the command line (`--json`) and over HTTP.
/// Codes are stable: add, never rename.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A flag or argument the command line cannot work with.
    Usage,
    /// A value the registry cannot work with: malformed, out of range, not allowed.
    InvalidRequest,
    /// A furnisher id that breaks the id rules.
    InvalidFurnisher,
    /// A data file (CSV for scoring) that cannot be used as it is.
    InvalidData,
    /// A file named on the command line cannot be read.
    FileUnreadable,
    NotFound,
    SubjectNotFound,
    SubmissionNotFound,
    AccountNotFound,
    /// An archived file expired or never existed.
    ArchiveNotFound,
    /// Records the requested format has no room for (a microloan as Metro 2).
    NotExpressible,
    /// `copy` into a database that already holds a registry.
    DestinationNotEmpty,
    /// `audit verify` found the access log altered.
    LogTampered,
    Unauthenticated,
    Forbidden,
    RateLimited,
    ConsentRequired,
    FileFrozen,
    MethodNotAllowed,
    PayloadTooLarge,
    StoreBusy,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Usage => "usage",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidFurnisher => "invalid_furnisher",
            ErrorCode::InvalidData => "invalid_data",
            ErrorCode::FileUnreadable => "file_unreadable",
            ErrorCode::NotFound => "not_found",
            ErrorCode::SubjectNotFound => "subject_not_found",
            ErrorCode::SubmissionNotFound => "submission_not_found",
            ErrorCode::AccountNotFound => "account_not_found",
            ErrorCode::ArchiveNotFound => "archive_not_found",
            ErrorCode::NotExpressible => "not_expressible",
            ErrorCode::DestinationNotEmpty => "destination_not_empty",
            ErrorCode::LogTampered => "log_tampered",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::FileFrozen => "file_frozen",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::StoreBusy => "store_busy",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(StoreError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    #[error("{0}")]
    Keys(String),
    /// The caller's input is wrong (an identifier that cannot exist, say).
    #[error("{0}")]
    InvalidInput(String),
    /// A data file the caller gave cannot be used as it is (where and why).
    #[error("{0}")]
    InvalidData(String),
    /// What was asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// What was asked for cannot be written in the requested format (an export to Metro 2 of
    /// records it has no room for).
    #[error("{0}")]
    NotExpressible(String),
    #[error(transparent)]
    Sealed(#[from] OpenError),
    /// A request about someone's file that the rules refuse (no consent, no match, frozen).
    #[error("{1}")]
    Refused(Refusal, String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    /// A store error, or, when a visitor of a store's stream failed (`visit_error`), the
    /// visitor's own error as it was.
    fn from(error: StoreError) -> ServiceError {
        match error {
            StoreError::Visitor(inner) => match inner.downcast::<ServiceError>() {
                Ok(service) => *service,
                Err(other) => ServiceError::Internal(other.to_string()),
            },
            other => ServiceError::Store(other),
        }
    }
}

/// A service error as a store visitor's failure (`registry_store::Visit`): the store's method
/// returns it, and `From<StoreError>` gives it back as it was.
pub(crate) fn visit_error(error: impl Into<ServiceError>) -> registry_store::VisitError {
    Box::new(error.into())
}

pub(crate) fn io_error(context: &'static str) -> impl Fn(io::Error) -> ServiceError {
    move |source| ServiceError::Io { context: context.to_owned(), source }
}

impl ServiceError {
    /// The stable code this error answers with, wherever it surfaces.
    pub fn code(&self) -> ErrorCode {
        match self {
            ServiceError::InvalidInput(_) => ErrorCode::InvalidRequest,
            ServiceError::InvalidData(_) => ErrorCode::InvalidData,
            ServiceError::NotFound(_) => ErrorCode::NotFound,
            ServiceError::NotExpressible(_) => ErrorCode::NotExpressible,
            ServiceError::Refused(refusal, _) => refusal.code(),
            ServiceError::Store(StoreError::Busy) => ErrorCode::StoreBusy,
            ServiceError::Store(StoreError::Unavailable(_)) => ErrorCode::Unavailable,
            ServiceError::Store(StoreError::NotEmpty) => ErrorCode::DestinationNotEmpty,
            ServiceError::Store(_)
            | ServiceError::Io { .. }
            | ServiceError::Keys(_)
            | ServiceError::Sealed(_)
            | ServiceError::Internal(_) => ErrorCode::Internal,
        }
    }
}
