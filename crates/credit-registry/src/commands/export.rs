//! `export`: what the registry holds for a furnisher and monthly cycle, as a furnishing file.
//! The registry writes it privately and hands it over (to `--out`, readable by its owner only,
//! or to standard output) only once it is whole and the read is logged.

use std::io;

use registry_service::audit::{Access, AccessAction};
use registry_service::disclosure::Destination;
use registry_service::export::{ExportFormat, ExportRequest};

use crate::cli::{self, ExportArgs};
use crate::commands::{open_registry, print_json};
use crate::config::Config;
use crate::failure::{CommandResult, Failure};

pub fn run(config: &Config, args: ExportArgs) -> CommandResult {
    if let Some(id) = &args.identification_number
        && (id.is_empty() || id.len() > 20 || !id.bytes().all(|b| (0x20..0x7f).contains(&b)))
    {
        return Err(Failure::usage("--identification-number is 1 to 20 printable ASCII characters"));
    }
    let registry = open_registry(config)?;
    let request = ExportRequest {
        furnisher: args.furnisher.clone(),
        as_of: args.as_of,
        format: match args.format {
            cli::ExportFormat::Jsonl => ExportFormat::JsonLines,
            cli::ExportFormat::Metro2 => ExportFormat::Metro2,
        },
        identification_number: args.identification_number.clone(),
    };
    let access = Access::command_line(AccessAction::Export, Some(format!("export of {} as of {}", args.furnisher, args.as_of)));
    let summary = match &args.out {
        Some(path) => registry.export(&access, &request, Destination::File(path))?,
        None => registry.export(&access, &request, Destination::Stream(&mut io::stdout().lock()))?,
    };
    if args.json {
        return print_json(&serde_json::json!({
            "out": args.out.as_ref().map(|p| p.display().to_string()),
            "records": summary.records,
            "amounts_truncated": summary.amounts_truncated,
        }));
    }
    let truncated = if summary.amounts_truncated > 0 {
        format!("; {} amounts had minor units, dropped (Metro 2 carries whole units, as the CRRG says)", summary.amounts_truncated)
    } else {
        String::new()
    };
    eprintln!(
        "exported {} records of {} for {}{truncated}",
        summary.records,
        args.furnisher,
        registry_core::report::YearMonth::of(args.as_of)
    );
    Ok(())
}
