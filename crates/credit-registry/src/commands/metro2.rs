//! `metro2 validate`: every problem of a Metro 2 file, without ingesting it.
//!
//! Problems are printed as they are found (in file order), so memory does not grow with a
//! file full of them; `--json` streams them into one document.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;

use anyhow::Context;
use metro2::{Mode, Problem};
use serde_json::json;

use crate::cli::{Metro2Command, Metro2ValidateArgs};
use crate::config::Config;
use registry_service::ErrorCode;

use crate::failure::{CommandResult, Failure};
use crate::progress::bytes_bar;

pub fn run(_config: &Config, command: Metro2Command) -> CommandResult {
    match command {
        Metro2Command::Validate(args) => validate(&args),
    }
}

fn validate(args: &Metro2ValidateArgs) -> CommandResult {
    let shown = args.file.display().to_string();
    let (input, size): (Box<dyn Read>, Option<u64>) = if args.file == Path::new("-") {
        (Box::new(io::stdin().lock()), None)
    } else {
        let file = File::open(&args.file).map_err(|e| Failure::new(ErrorCode::FileUnreadable, format!("cannot read {shown}: {e}")))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(file), size)
    };
    let mode = if args.lenient { Mode::Lenient } else { Mode::Strict };
    let threads = args.threads.map_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get), usize::from);
    let bar = bytes_bar(size, "checking", &shown);
    let input = bar.wrap_read(input);

    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut written: io::Result<()> = Ok(());
    let mut first = true;
    if args.json {
        written = write!(out, "{{\"file\":{},\"problems\":[", json!(shown));
    }
    let mut on_problem = |problem: &Problem| {
        if written.is_err() {
            return;
        }
        written = if args.json {
            let comma = if first { "" } else { "," };
            first = false;
            serde_json::to_string(problem).map_err(io::Error::other).and_then(|text| write!(out, "{comma}\n{text}"))
        } else {
            writeln!(out, "{problem}")
        };
    };
    let summary = metro2::validate_parallel(input, mode, threads, &mut on_problem);
    bar.finish_and_clear();
    let summary = summary.with_context(|| format!("reading {shown}"))?;
    written.context("writing the output")?;
    if args.json {
        let summary_json = serde_json::to_string(&summary).context("serialising the summary")?;
        writeln!(out, "],\"valid\":{},\"summary\":{summary_json}}}", summary.valid()).context("writing the output")?;
    } else {
        let segments = &summary.segments;
        let counts = format!(
            "{} data records (J1 {}, J2 {}, K1 {}, K2 {}, K3 {}, K4 {}, L1 {}, N1 {}), {} bytes",
            summary.data_records,
            segments.j1,
            segments.j2,
            segments.k1,
            segments.k2,
            segments.k3,
            segments.k4,
            segments.l1,
            segments.n1,
            summary.bytes
        );
        if summary.valid() {
            writeln!(out, "{shown}: valid: {counts}").context("writing the output")?;
        } else {
            writeln!(
                out,
                "{shown}: invalid: {} problems ({} of the file, {} data records with problems); {counts}",
                summary.problems, summary.file_problems, summary.data_records_with_problems
            )
            .context("writing the output")?;
        }
    }
    out.flush().context("writing the output")?;
    if summary.valid() { Ok(()) } else { Err(Failure::FilesRejected) }
}
