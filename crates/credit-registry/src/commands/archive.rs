//! `archive`: the encrypted copies of submitted files.

use std::io::{self, Write};

use anyhow::Context;
use serde_json::json;

use crate::cli::ArchiveCommand;
use crate::commands::{open_registry, print_json};
use crate::config::Config;
use crate::failure::{CommandResult, Failure};

pub fn run(config: &Config, command: ArchiveCommand) -> CommandResult {
    let registry = open_registry(config)?;
    match command {
        ArchiveCommand::List { json } => {
            let entries = registry.archive().list().context("listing the archive")?;
            let rows: Vec<_> = entries
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
            let mut reader = registry.archive().reader(&content_sha256, registry.vault()).map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => Failure::NotFound {
                    code: "archive_not_found",
                    message: format!("no archived file {content_sha256} (expired or never submitted)"),
                },
                io::ErrorKind::InvalidInput => Failure::usage(e.to_string()),
                _ => Failure::Internal(anyhow::Error::from(e).context("opening the archived file")),
            })?;
            let mut file = std::fs::File::create(&out).with_context(|| format!("creating {}", out.display()))?;
            io::copy(&mut reader, &mut file).context("decrypting the archived file")?;
            file.flush().context("writing the file")?;
            eprintln!("wrote {}", out.display());
            Ok(())
        }
        ArchiveCommand::Purge => {
            let purged = registry.purge_archive()?;
            println!("purged {purged} archived files older than {} days", config.registry.archive_retention_days);
            Ok(())
        }
    }
}
