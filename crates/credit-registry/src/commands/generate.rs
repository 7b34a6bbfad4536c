//! `generate`: the synthetic population as furnishing files.

use std::path::Path;

use anyhow::Context;
use registry_core::report::YearMonth;
use registry_synth::{FileLayout, Manifest, Params};

use crate::cli::{GenerateArgs, Layout, PopulationArgs};
use crate::config::Config;
use crate::failure::CommandResult;
use crate::progress::count_bar;

pub fn params(population: &PopulationArgs, layout: FileLayout) -> Params {
    let last_month = YearMonth::of(chrono::Utc::now().date_naive()).plus(-1);
    Params {
        subjects: population.subjects,
        seed: population.seed,
        months: population.months,
        end_month: population.end_month.unwrap_or(last_month),
        warmup_months: population.warmup_months,
        invalid_share: population.invalid_share,
        layout,
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
    let params = params(&args.population, layout);
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
