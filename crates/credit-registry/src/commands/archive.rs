//! `archive`: the encrypted copies of submitted files.

use std::path::Path;

use registry_service::ErrorCode;
use registry_service::audit::{Access, AccessAction};
use registry_service::disclosure::Destination;
use serde_json::json;

use crate::cli::ArchiveCommand;
use crate::commands::{open_registry, print_json};
use crate::config::Config;
use crate::failure::{CommandResult, Failure};

pub fn run(config: &Config, command: ArchiveCommand) -> CommandResult {
    let registry = open_registry(config)?;
    match command {
        ArchiveCommand::List { json } => {
            let rows: Vec<_> = registry
                .archived_files()?
                .iter()
                .map(|e| {
                    let at: chrono::DateTime<chrono::Utc> = e.archived_at.into();
                    (e.content_sha256.clone(), e.stored_bytes, at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                })
                .collect();
            if json {
                let list: Vec<_> =
                    rows.iter().map(|(h, b, at)| json!({"content_sha256": h, "stored_bytes": b, "archived_at": at})).collect();
                return print_json(&json!({"files": list, "retention_days": config.registry.archive_retention_days}));
            }
            for (hash, bytes, at) in rows {
                println!("{hash}  {bytes:>12}  {at}");
            }
            Ok(())
        }
        ArchiveCommand::Get { content_sha256, out } => {
            // A furnisher's whole file, every identifier in it: the operator's read is logged
            // before the file is written, readable by its owner only.
            let access = Access::command_line(AccessAction::ArchiveRead, Some(format!("archived file {content_sha256}")));
            let bytes = registry
                .archived_file(&access, &content_sha256, Destination::File(Path::new(&out)))
                .map_err(Failure::not_found_as(ErrorCode::ArchiveNotFound))?;
            eprintln!("wrote {} ({bytes} bytes)", out.display());
            Ok(())
        }
        ArchiveCommand::Purge => {
            let purged = registry.purge_archive()?;
            println!("purged {purged} archived files older than {} days", config.registry.archive_retention_days);
            Ok(())
        }
    }
}
