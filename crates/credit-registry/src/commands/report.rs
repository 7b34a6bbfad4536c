//! `report`: one subject's credit report, as text or JSON.

use registry_core::report::{Audience, SubjectKey, render_text};
use registry_service::audit::{Access, AccessAction};
use registry_service::{ErrorCode, ServiceError};

use crate::cli::ReportArgs;
use crate::commands::{open_registry, print_json};
use crate::config::Config;
use crate::failure::{CommandResult, Failure};

pub fn run(config: &Config, args: ReportArgs) -> CommandResult {
    let registry = open_registry(config)?;
    let not_found = || Failure::new(ErrorCode::SubjectNotFound, "the registry has never seen this subject");
    let subject = match (&args.registry_id, args.id_type, &args.id) {
        (Some(registry_id), _, _) => SubjectKey::parse_registry_id(registry_id).ok_or_else(not_found)?,
        (None, Some(id_type), Some(id)) => match registry.find_subject(id_type, id) {
            Ok(Some(subject)) => subject,
            Ok(None) => return Err(not_found()),
            // An identifier that breaks its type's rules belongs to no one: not found.
            Err(ServiceError::InvalidInput(message)) => {
                return Err(Failure::new(ErrorCode::SubjectNotFound, format!("the registry has never seen this subject: {message}")));
            }
            Err(other) => return Err(other.into()),
        },
        _ => return Err(Failure::usage("give --id-type and --id, or --registry-id")),
    };
    // The operator's own read: logged like any other.
    let access = Access::command_line(AccessAction::DrillDown, None);
    let report = registry.read_report(&access, subject, args.as_of, Audience::Masked)?.ok_or_else(not_found)?;
    if args.json {
        print_json(&report)
    } else {
        print!("{}", render_text(&report));
        Ok(())
    }
}
