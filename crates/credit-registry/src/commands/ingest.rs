//! `ingest`: each file one submission of the furnisher; a per-file result.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use registry_service::document::{DocumentStatus, SubmissionDocument};
use registry_service::Registry;
use serde_json::{Value, json};

use crate::cli::IngestArgs;
use crate::commands::{open_registry, print_json};
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
    let mut documents: Vec<Value> = Vec::new();
    let mut any_rejected = false;
    for path in &args.files {
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
                    if !args.json {
                        println!("{shown}: rejected: {message}");
                    }
                    documents.push(json!({"file": shown, "status": "rejected", "error": {"code": "file_unreadable", "message": message}}));
                    continue;
                }
            }
        };
        let file_name = path.file_name().and_then(|n| n.to_str()).filter(|n| *n != "-");
        let bar = FileBar::new(&shown, size);
        let outcome = registry.ingest(&args.furnisher, file_name, &mut source, &bar);
        bar.finish();
        let document = registry.outcome_document(Some(&shown), &outcome?)?;
        any_rejected |= document.status == DocumentStatus::Rejected;
        if !args.json {
            print_text(&document, &registry);
        }
        documents.push(serde_json::to_value(&document).map_err(anyhow::Error::from)?);
    }
    if args.json {
        print_json(&json!({"files": documents}))?;
    }
    if any_rejected { Err(Failure::FilesRejected) } else { Ok(()) }
}

fn print_text(document: &SubmissionDocument, _registry: &Registry) {
    let file = document.file.as_deref().unwrap_or("-");
    match document.status {
        DocumentStatus::Rejected => {
            let error = document.error.as_ref();
            println!(
                "{file}: rejected whole, nothing applied ({}): {}",
                error.map_or("", |e| e.code.as_str()),
                error.map_or("", |e| e.message.as_str())
            );
        }
        status => {
            let verb = if status == DocumentStatus::Duplicate { "already applied (duplicate), nothing changed" } else { "applied" };
            println!(
                "{file}: {verb} as {}: {} records, {} accepted, {} rejected",
                document.submission_id,
                document.records,
                document.accepted.unwrap_or(0),
                document.rejected.unwrap_or(0)
            );
            let errors = document.errors.as_deref().unwrap_or(&[]);
            for error in errors.iter().take(ERRORS_SHOWN) {
                let field = if error.field.is_empty() { String::new() } else { format!(" {}", error.field) };
                println!("  line {}{field}: {} — {}", error.line, error.code, error.message);
            }
            if errors.len() > ERRORS_SHOWN {
                println!(
                    "  … and {} more; `credit-registry submission --furnisher {} {}` lists them all",
                    errors.len() - ERRORS_SHOWN,
                    document.furnisher,
                    document.submission_id
                );
            }
        }
    }
}
