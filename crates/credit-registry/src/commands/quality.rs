//! `quality`: evaluate the store's records with the published evaluators and list what they
//! find; `quality scorecard`, `quality evaluators`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use registry_service::quality::{FindingsDocument, Page, QualityScope, evaluators};

use crate::cli::{QualityArgs, QualityCommand, QualityRunArgs};
use crate::commands::{open_registry, print_json};
use crate::config::Config;
use crate::failure::CommandResult;
use crate::progress;

pub fn run(config: &Config, args: QualityArgs) -> CommandResult {
    match args.command {
        Some(QualityCommand::Evaluators { json, markdown }) => {
            if json {
                print_json(&serde_json::json!({"evaluators": evaluators()}))
            } else if markdown {
                print!("{}", catalogue_markdown());
                Ok(())
            } else {
                for e in evaluators() {
                    println!("{:<17} {:<11} {:<7} {}", e.id, e.category.as_str(), e.severity.as_str(), e.description);
                }
                Ok(())
            }
        }
        Some(QualityCommand::Scorecard { furnisher, json }) => scorecard(config, furnisher.as_ref(), json),
        None => evaluate(config, &args.run),
    }
}

fn evaluate(config: &Config, args: &QualityRunArgs) -> CommandResult {
    let registry = open_registry(config)?;
    let scope = QualityScope { furnisher: args.furnisher.clone(), month: args.month };
    let page = Page { offset: args.offset, limit: args.limit };
    let document = if args.stored {
        registry.findings(&scope, page)?
    } else {
        let bar = progress::count_bar(0, "evaluating");
        let document = registry.evaluate_store(&scope, page, &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })?;
        bar.finish_and_clear();
        document
    };
    if args.json {
        return print_json(&document);
    }
    print!("{}", render(&document, &registry.findings_by_evaluator(&scope)?));
    Ok(())
}

fn render(document: &FindingsDocument, by_evaluator: &BTreeMap<String, u64>) -> String {
    let mut out = format!("{} findings on {} records\n", document.total, document.records_evaluated);
    for (id, hits) in by_evaluator {
        let severity = registry_core::quality::evaluator(id).map_or("", |e| e.severity.as_str());
        let _ = writeln!(out, "  {id:<17} {severity:<7} {hits:>8}");
    }
    if !document.findings.is_empty() {
        let _ = writeln!(out, "\nfindings {} to {}:", document.offset + 1, document.offset + document.findings.len() as u64);
    }
    for f in &document.findings {
        let _ = writeln!(out, "  {} {} {} {:<17} {}", f.furnisher, f.account, f.as_of, f.evaluator, f.message);
    }
    let next = document.offset + document.findings.len() as u64;
    if document.findings.is_empty() && document.total > 0 {
        let _ = writeln!(out, "  (--limit N lists them; the records behind a finding: history --furnisher F --account A)");
    } else if document.total > next {
        let _ = writeln!(out, "  … --offset {next} for more; the records behind a finding: history --furnisher F --account A");
    }
    out
}

fn scorecard(config: &Config, furnisher: Option<&registry_core::model::FurnisherId>, json: bool) -> CommandResult {
    let registry = open_registry(config)?;
    if furnisher.is_none() && !json {
        let overview = registry.quality_overview()?;
        println!("{:<16} {:>10} {:>9} {:>6} {:>14}", "furnisher", "records", "findings", "high", "high / 10,000");
        for f in &overview.furnishers {
            println!("{:<16} {:>10} {:>9} {:>6} {:>14.2}", f.furnisher, f.records, f.findings, f.high_findings, f.high_per_10000);
        }
        return Ok(());
    }
    let cards = registry.scorecards(furnisher)?;
    if json {
        return print_json(&serde_json::json!({"scorecards": cards, "overview": registry.quality_overview()?}));
    }
    for card in &cards {
        println!("{}: {} records, {} findings ({} high)", card.furnisher, card.records, card.findings, card.high_findings);
        for e in &card.evaluators {
            let recent: Vec<String> = e.months.iter().rev().take(6).rev().map(|m| format!("{} {:.1}", m.month, m.per_10000)).collect();
            println!(
                "  {:<17} {:<7} {:>6} hits  per 10,000 by month: {}  ({})",
                e.evaluator,
                e.severity.as_str(),
                e.hits,
                recent.join(", "),
                e.trend
            );
        }
    }
    Ok(())
}

/// The catalogue as Markdown: what docs/data-quality.md holds between its markers (a test
/// checks they agree, so the page cannot drift from the code).
pub fn catalogue_markdown() -> String {
    let mut out = String::new();
    for e in evaluators() {
        let _ = writeln!(out, "### `{}` ({}, {})\n", e.id, e.category.as_str(), e.severity.as_str());
        let _ = writeln!(out, "{}\n", e.description);
        let _ = writeln!(out, "- Why: {}", e.rationale);
        let _ = writeln!(out, "- Harm if it stands: {}", e.potential_harm);
        let _ = writeln!(out, "- When a hit is legitimate: {}", e.alternate_explanation);
        let _ = writeln!(out, "- Fields: {}", e.fields.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "));
        let _ = writeln!(out, "- Source: {}\n", e.source);
    }
    out
}
