//! `submission`: a stored submission's result with every rejection.

use crate::cli::SubmissionArgs;
use crate::commands::{open_registry, print_json};
use crate::config::Config;
use crate::failure::{CommandResult, Failure};

pub fn run(config: &Config, args: SubmissionArgs) -> CommandResult {
    let registry = open_registry(config)?;
    let summary = registry.submission(&args.furnisher, &args.submission_id)?.ok_or_else(|| Failure::NotFound {
        code: "submission_not_found",
        message: format!("{} has no submission {}", args.furnisher, args.submission_id),
    })?;
    let document = registry.submission_document(&summary)?;
    if args.json {
        return print_json(&document);
    }
    println!("submission {} from {}", document.submission_id, document.furnisher);
    println!("  file         {}", document.file.as_deref().unwrap_or("-"));
    println!("  received     {}", document.received_at);
    println!("  sha-256      {}", document.content_sha256);
    println!("  status       {:?}", document.status);
    println!("  records      {}", document.records);
    if let Some(error) = &document.error {
        println!("  rejected     {}: {}", error.code, error.message);
    }
    if let (Some(accepted), Some(rejected)) = (document.accepted, document.rejected) {
        println!("  accepted     {accepted}");
        println!("  rejected     {rejected}");
    }
    for error in document.errors.as_deref().unwrap_or(&[]) {
        let field = if error.field.is_empty() { String::new() } else { format!(" {}", error.field) };
        println!("  line {}{field}: {} — {}", error.line, error.code, error.message);
    }
    Ok(())
}
