//! `submission`: a stored submission's result with every rejection.

use std::io::{self, Write};
use std::ops::ControlFlow;

use anyhow::Context;

use registry_service::ErrorCode;

use crate::cli::SubmissionArgs;
use crate::commands::open_registry;
use crate::config::Config;
use crate::failure::{CommandResult, Failure};

pub fn run(config: &Config, args: SubmissionArgs) -> CommandResult {
    let registry = open_registry(config)?;
    let summary = registry.submission(&args.furnisher, &args.submission_id)?.ok_or_else(|| {
        Failure::new(ErrorCode::SubmissionNotFound, format!("{} has no submission {}", args.furnisher, args.submission_id))
    })?;
    let head = registry.submission_head(&summary);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if args.json {
        registry.write_document(&head, &mut out)?;
        writeln!(out).context("writing the output")?;
        out.flush().context("writing the output")?;
        return Ok(());
    }
    let mut lines = vec![
        format!("submission {} from {}", head.submission_id, head.furnisher),
        format!("  file         {}", head.file.as_deref().unwrap_or("-")),
        format!("  received     {}", head.received_at),
        format!("  sha-256      {}", head.content_sha256),
        format!("  status       {:?}", head.status),
        format!("  format       {}", head.format),
        format!("  records      {}", head.records),
    ];
    if let Some(error) = &head.error {
        lines.push(format!("  rejected     {}: {}", error.code, error.message));
    }
    if let (Some(accepted), Some(rejected)) = (head.accepted, head.rejected) {
        lines.push(format!("  accepted     {accepted}"));
        lines.push(format!("  rejected     {rejected}"));
    }
    for line in lines {
        writeln!(out, "{line}").context("writing the output")?;
    }
    let unit = if head.format == registry_core::furnishing::Format::Metro2 { "record" } else { "line" };
    registry.for_each_rejection(&head.submission_id, &mut |error| {
        let field = if error.field.is_empty() { String::new() } else { format!(" {}", error.field) };
        writeln!(out, "  {unit} {}{field}: {} — {}", error.line, error.code, error.message)
            .map_err(|source| registry_service::ServiceError::Io { context: "writing the output".into(), source })?;
        Ok(ControlFlow::Continue(()))
    })?;
    out.flush().context("writing the output")?;
    Ok(())
}
