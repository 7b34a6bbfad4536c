//! `export`: what the registry holds for a furnisher and monthly cycle, as a furnishing file.
//!
//! The file is written to a temporary file first and only then moved into place (or copied to
//! standard output): a record that cannot be written fails the export without leaving half a
//! file behind.

use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};
use std::path::Path;

use anyhow::Context;
use registry_service::audit::{Access, AccessAction};
use registry_service::export::ExportFormat;

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
    let format = match args.format {
        cli::ExportFormat::Jsonl => ExportFormat::JsonLines,
        cli::ExportFormat::Metro2 => ExportFormat::Metro2,
    };
    let dir = args.out.as_deref().and_then(Path::parent).filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("creating a file in {}", dir.display()))?;
    let summary = {
        let mut writer = BufWriter::new(temp.as_file_mut());
        let summary = registry.export(&args.furnisher, args.as_of, format, args.identification_number.as_deref(), &mut writer)?;
        writer.flush().context("writing the export")?;
        summary
    };
    // Personal data leaves the registry: logged (one entry for the furnisher's whole cycle)
    // before it is handed over.
    let access = Access::command_line(AccessAction::Export, Some(format!("export of {} as of {}", args.furnisher, args.as_of)));
    registry.log_access(&access, None)?;
    if let Some(path) = &args.out {
        temp.persist(path).with_context(|| format!("writing {}", path.display()))?;
    } else {
        let file: &mut File = temp.as_file_mut();
        file.rewind().context("reading back the export")?;
        let stdout = io::stdout();
        let mut out = stdout.lock();
        io::copy(file, &mut out).context("writing the export")?;
        out.flush().context("writing the export")?;
    }
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
