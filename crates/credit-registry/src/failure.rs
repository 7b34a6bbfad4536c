//! How a command fails: a documented exit status and, with `--json`, an error document.

use serde_json::json;

/// Exit statuses (shared/spec/report.md, command-line contract).
pub const EXIT_OK: u8 = 0;
pub const EXIT_INTERNAL: u8 = 1;
pub const EXIT_REJECTED_OR_NOT_FOUND: u8 = 2;
pub const EXIT_USAGE: u8 = 64;

#[derive(Debug)]
pub enum Failure {
    /// A flag or value the command cannot work with.
    Usage { code: &'static str, message: String },
    /// The subject (or submission) does not exist.
    NotFound { code: &'static str, message: String },
    /// The request cannot be met by the data (an export Metro 2 has no room for).
    Refused { code: &'static str, message: String },
    /// At least one input file was rejected whole; the per-file document is already printed.
    FilesRejected,
    /// Anything else.
    Internal(anyhow::Error),
    /// Anything else, after the command already wrote its JSON document (with the error in it).
    InternalReported(anyhow::Error),
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::Usage { code: "usage", message: message.into() }
    }

    pub fn exit_status(&self) -> u8 {
        match self {
            Failure::Usage { .. } => EXIT_USAGE,
            Failure::NotFound { .. } | Failure::Refused { .. } | Failure::FilesRejected => EXIT_REJECTED_OR_NOT_FOUND,
            Failure::Internal(_) | Failure::InternalReported(_) => EXIT_INTERNAL,
        }
    }

    /// Tells the user: the error document on stdout with `--json`, a message on stderr always.
    pub fn report(&self, json_output: bool) {
        let (code, message) = match self {
            Failure::Usage { code, message } | Failure::NotFound { code, message } | Failure::Refused { code, message } => {
                (*code, message.clone())
            }
            Failure::FilesRejected => return,
            Failure::InternalReported(error) => {
                eprintln!("error: {error:#}");
                return;
            }
            Failure::Internal(error) => ("internal", format!("{error:#}")),
        };
        if json_output {
            println!("{}", json!({"error": {"code": code, "message": message}}));
        }
        eprintln!("error: {message}");
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Failure {
        Failure::Internal(error)
    }
}

impl From<registry_service::ServiceError> for Failure {
    fn from(error: registry_service::ServiceError) -> Failure {
        match error {
            registry_service::ServiceError::InvalidInput(message) => Failure::Usage { code: "invalid_input", message },
            registry_service::ServiceError::NotFound(message) => Failure::NotFound { code: "not_found", message },
            registry_service::ServiceError::NotExpressible(message) => Failure::Refused { code: "not_expressible", message },
            registry_service::ServiceError::Refused(refusal, message) => Failure::Refused { code: refusal.code(), message },
            other => Failure::Internal(other.into()),
        }
    }
}

pub type CommandResult = Result<(), Failure>;
