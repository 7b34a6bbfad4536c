//! `ingest`: each file one submission of the furnisher; a per-file result.
//!
//! With `--json` the `{"files": [...]}` document is written as each file finishes, its
//! rejections streamed from the store, so a file of millions of bad lines does not have to fit
//! in memory. If something fails half-way, the document is closed with an `"error"` member.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use anyhow::Context;
use registry_core::furnishing::Format;
use registry_core::furnishing::metro2::{Metro2Options, Mode};
use registry_service::document::{DocumentStatus, SubmissionHead};
use registry_service::{IngestOptions, Registry};
use serde_json::json;

use crate::cli::{IngestArgs, InputFormat};
use crate::commands::open_registry;
use crate::config::Config;
use crate::failure::{CommandResult, Failure};
use crate::progress::FileBar;

/// Rejections shown per file in text output; `--json` and `submission` show all.
const ERRORS_SHOWN: usize = 20;

pub fn run(config: &Config, args: IngestArgs) -> CommandResult {
    let registry = open_registry(config)?;
    let purged = registry.purge_archive()?;
    if purged > 0 {
        tracing::info!(purged, "purged archived files past their retention");
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if args.json {
        write!(out, "{{\"files\":[").context("writing the output")?;
    }
    let result = ingest_all(&registry, &args, &mut out);
    if args.json {
        match &result {
            Err(Failure::Internal(error)) => {
                let error = json!({"code": "internal", "message": format!("{error:#}")});
                writeln!(out, "],\"error\":{error}}}").context("writing the output")?;
                out.flush().context("writing the output")?;
                return Err(Failure::InternalReported(anyhow::anyhow!("{error}")));
            }
            _ => writeln!(out, "]}}").context("writing the output")?,
        }
    }
    out.flush().context("writing the output")?;
    result
}

fn ingest_all(registry: &Registry, args: &IngestArgs, out: &mut dyn Write) -> CommandResult {
    let options = IngestOptions {
        format: match args.format {
            InputFormat::Auto => None,
            InputFormat::Jsonl => Some(Format::JsonLines),
            InputFormat::Metro2 => Some(Format::Metro2),
        },
        metro2: Metro2Options { mode: if args.lenient { Mode::Lenient } else { Mode::Strict }, currency: args.currency },
    };
    let mut any_rejected = false;
    for (index, path) in args.files.iter().enumerate() {
        if args.json && index > 0 {
            out.write_all(b",").context("writing the output")?;
        }
        let shown = path.display().to_string();
        let (mut source, size): (Box<dyn Read>, Option<u64>) = if path == Path::new("-") {
            (Box::new(io::stdin().lock()), None)
        } else {
            match File::open(path) {
                Ok(file) => {
                    let size = file.metadata().ok().map(|m| m.len());
                    (Box::new(file), size)
                }
                Err(e) => {
                    any_rejected = true;
                    let message = format!("cannot read {shown}: {e}");
                    if args.json {
                        let entry = json!({"file": shown, "status": "rejected", "error": {"code": "file_unreadable", "message": message}});
                        write!(out, "{entry}").context("writing the output")?;
                    } else {
                        writeln!(out, "{shown}: rejected: {message}").context("writing the output")?;
                    }
                    continue;
                }
            }
        };
        let file_name = path.file_name().and_then(|n| n.to_str()).filter(|n| *n != "-");
        let bar = FileBar::new(&shown, size);
        let outcome = registry.ingest(&args.furnisher, file_name, &mut source, &options, &bar);
        bar.finish();
        let head = registry.outcome_head(Some(&shown), &outcome?);
        any_rejected |= head.status == DocumentStatus::Rejected;
        if args.json {
            registry.write_document(&head, out)?;
        } else {
            write_text(registry, &head, out)?;
        }
        out.flush().context("writing the output")?;
    }
    if any_rejected { Err(Failure::FilesRejected) } else { Ok(()) }
}

fn write_text(registry: &Registry, head: &SubmissionHead, out: &mut dyn Write) -> CommandResult {
    let file = head.file.as_deref().unwrap_or("-");
    if let Some(error) = &head.error {
        writeln!(out, "{file}: rejected whole, nothing applied ({}): {}", error.code, error.message).context("writing the output")?;
        return Ok(());
    }
    let verb = if head.status == DocumentStatus::Duplicate { "already applied (duplicate), nothing changed" } else { "applied" };
    writeln!(
        out,
        "{file}: {verb} as {}: {} records, {} accepted, {} rejected",
        head.submission_id,
        head.records,
        head.accepted.unwrap_or(0),
        head.rejected.unwrap_or(0)
    )
    .context("writing the output")?;
    let errors = registry.first_rejections(&head.submission_id, ERRORS_SHOWN + 1)?;
    let unit = if head.format == Format::Metro2 { "record" } else { "line" };
    for error in errors.iter().take(ERRORS_SHOWN) {
        let field = if error.field.is_empty() { String::new() } else { format!(" {}", error.field) };
        writeln!(out, "  {unit} {}{field}: {} — {}", error.line, error.code, error.message).context("writing the output")?;
    }
    if errors.len() > ERRORS_SHOWN {
        writeln!(out, "  … and more; `credit-registry submission --furnisher {} {}` lists them all", head.furnisher, head.submission_id)
            .context("writing the output")?;
    }
    Ok(())
}
