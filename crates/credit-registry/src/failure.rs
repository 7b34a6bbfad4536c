//! How a command fails: a documented exit status and, with `--json`, an error document whose
//! code is from the registry's one table (`registry_service::ErrorCode`).

use registry_service::{ErrorCode, ServiceError};
use serde_json::json;

/// Exit statuses (shared/spec/report.md, command-line contract).
pub const EXIT_OK: u8 = 0;
pub const EXIT_INTERNAL: u8 = 1;
pub const EXIT_REJECTED_OR_NOT_FOUND: u8 = 2;
pub const EXIT_USAGE: u8 = 64;

#[derive(Debug)]
pub enum Failure {
    /// The registry's answer to what was asked, with its code: the code decides the exit status.
    Coded { code: ErrorCode, message: String },
    /// At least one input file was rejected whole; the per-file document is already printed.
    FilesRejected,
    /// Anything else.
    Internal(anyhow::Error),
    /// Anything else, after the command already wrote its JSON document (with the error in it).
    InternalReported(anyhow::Error),
}

/// The exit status of a code: what the command line makes of each code in the table. Every
/// code is decided here, so a new code cannot be left without one.
fn exit_status_of(code: ErrorCode) -> u8 {
    match code {
        ErrorCode::Usage | ErrorCode::InvalidRequest | ErrorCode::InvalidFurnisher | ErrorCode::InvalidData => EXIT_USAGE,
        ErrorCode::NotFound
        | ErrorCode::SubjectNotFound
        | ErrorCode::SubmissionNotFound
        | ErrorCode::AccountNotFound
        | ErrorCode::ArchiveNotFound
        | ErrorCode::FileUnreadable
        | ErrorCode::NotExpressible
        | ErrorCode::DestinationNotEmpty
        | ErrorCode::LogTampered
        | ErrorCode::ConsentRequired
        | ErrorCode::FileFrozen => EXIT_REJECTED_OR_NOT_FOUND,
        ErrorCode::Unauthenticated
        | ErrorCode::Forbidden
        | ErrorCode::RateLimited
        | ErrorCode::MethodNotAllowed
        | ErrorCode::PayloadTooLarge
        | ErrorCode::StoreBusy
        | ErrorCode::Unavailable
        | ErrorCode::Internal => EXIT_INTERNAL,
    }
}

impl Failure {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Failure {
        Failure::Coded { code, message: message.into() }
    }

    /// A flag or value the command cannot work with.
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(ErrorCode::Usage, message)
    }

    /// The registry's not-found, named more precisely by what the command asked for.
    pub fn not_found_as(code: ErrorCode) -> impl Fn(ServiceError) -> Failure {
        move |error| match error {
            ServiceError::NotFound(message) => Failure::new(code, message),
            other => other.into(),
        }
    }

    pub fn exit_status(&self) -> u8 {
        match self {
            Failure::Coded { code, .. } => exit_status_of(*code),
            Failure::FilesRejected => EXIT_REJECTED_OR_NOT_FOUND,
            Failure::Internal(_) | Failure::InternalReported(_) => EXIT_INTERNAL,
        }
    }

    /// Tells the user: the error document on stdout with `--json`, a message on stderr always.
    pub fn report(&self, json_output: bool) {
        let (code, message) = match self {
            Failure::Coded { code, message } => (*code, message.clone()),
            Failure::FilesRejected => return,
            Failure::InternalReported(error) => {
                eprintln!("error: {error:#}");
                return;
            }
            Failure::Internal(error) => (ErrorCode::Internal, format!("{error:#}")),
        };
        if json_output {
            println!("{}", json!({"error": {"code": code.as_str(), "message": message}}));
        }
        eprintln!("error: {message}");
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Failure {
        Failure::Internal(error)
    }
}

impl From<ServiceError> for Failure {
    fn from(error: ServiceError) -> Failure {
        match error.code() {
            ErrorCode::Internal => Failure::Internal(error.into()),
            code => Failure::new(code, error.to_string()),
        }
    }
}

pub type CommandResult = Result<(), Failure>;
