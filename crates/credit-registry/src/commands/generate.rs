//! `generate`: the synthetic population as furnishing files.

use std::path::Path;

use anyhow::Context;
use registry_core::report::YearMonth;
use registry_synth::{FileFormat, FileLayout, Manifest, Market, Params};

use crate::cli::{self, GenerateArgs, Layout, OutputFormat, PopulationArgs};
use crate::config::Config;
use crate::failure::{CommandResult, Failure};
use crate::progress::count_bar;

/// The CN market in JSON Lines, as the demo uses it; `generate` sets market and format.
pub fn params(population: &PopulationArgs, layout: FileLayout) -> Params {
    let last_month = YearMonth::of(chrono::Utc::now().date_naive()).plus(-1);
    Params {
        subjects: population.subjects,
        seed: population.seed,
        months: population.months,
        end_month: population.end_month.unwrap_or(last_month),
        warmup_months: population.warmup_months,
        invalid_share: population.invalid_share,
        defect_share: population.defect_share,
        layout,
        market: Market::Cn,
        format: FileFormat::JsonLines,
    }
}

/// Generates with a progress bar.
pub fn generate(params: &Params, out: &Path) -> anyhow::Result<Manifest> {
    let bar = count_bar(u64::from(params.subjects), "people");
    let manifest = registry_synth::generate(params, out, &mut |done| {
        if done % 64 == 0 || done == params.subjects {
            bar.set_position(u64::from(done));
        }
    })
    .with_context(|| format!("generating into {}", out.display()))?;
    bar.finish_and_clear();
    Ok(manifest)
}

pub fn run(_config: &Config, args: GenerateArgs) -> CommandResult {
    let layout = match args.layout {
        Layout::PerFurnisher => FileLayout::PerFurnisher,
        Layout::Combined => FileLayout::Combined,
    };
    let mut params = params(&args.population, layout);
    params.format = match args.format {
        OutputFormat::Jsonl => FileFormat::JsonLines,
        OutputFormat::Metro2 => FileFormat::Metro2,
    };
    params.market = match (args.market, args.format) {
        (Some(cli::Market::Us), _) | (None, OutputFormat::Metro2) => Market::Us,
        (Some(cli::Market::Cn), OutputFormat::Metro2) => {
            return Err(Failure::usage("Metro 2 identifies people by social security number: use --market us (the default for Metro 2)"));
        }
        (Some(cli::Market::Cn), _) | (None, OutputFormat::Jsonl) => Market::Cn,
    };
    let manifest = generate(&params, &args.out)?;
    let invalid: u64 = manifest.invalid_records.values().sum();
    println!(
        "wrote {} files, {} records ({} deliberately invalid), {} people, {} to {}, into {}",
        manifest.files.len(),
        manifest.records,
        invalid,
        manifest.subjects,
        manifest.first_month,
        manifest.end_month,
        args.out.display()
    );
    println!("manifest (ingest order, examples): {}", args.out.join(registry_synth::MANIFEST_FILE).display());
    Ok(())
}
