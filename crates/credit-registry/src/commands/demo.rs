//! `demo`: the whole loop on a synthetic market, from an empty directory, offline: generate,
//! ingest with progress, serve, and print what to try.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use registry_service::IngestOptions;
use registry_service::document::DocumentStatus;
use registry_service::keys::PrincipalRole;
use registry_synth::{FileLayout, MANIFEST_FILE, Manifest};

use crate::cli::DemoArgs;
use crate::commands::generate::{generate, params};
use crate::commands::open_registry;
use crate::commands::serve::{bind_or_any, runtime, serve};
use crate::config::Config;
use crate::failure::CommandResult;
use crate::progress::BatchBar;

#[derive(Default)]
struct Tally {
    applied: usize,
    duplicate: usize,
    rejected_whole: usize,
    accepted: u64,
    rejected: u64,
    codes: BTreeMap<String, u64>,
    /// A submission with rejections, to show off `submission`.
    with_rejections: Option<(String, String)>,
}

pub fn run(config: &Config, args: DemoArgs) -> CommandResult {
    let data_dir = config.registry.data_dir.clone();
    let params = params(&args.population, FileLayout::PerFurnisher);
    let input = data_dir.join("demo-input").join(format!(
        "seed{}-people{}-{}-to-{}-invalid{}",
        params.seed,
        params.subjects,
        params.first_month(),
        params.end_month,
        params.invalid_share
    ));
    let manifest = if let Some(manifest) = read_manifest(&input) {
        eprintln!("reusing the population generated earlier in {}", input.display());
        manifest
    } else {
        eprintln!("generating {} people over {} months …", params.subjects, params.months);
        generate(&params, &input)?
    };
    // The market's institutions file, unless one is configured: the supervisor's figures that
    // the co-lending limits are judged against.
    let institutions =
        manifest.institutions.as_ref().map(|file| input.join(file)).filter(|_| config.registry.supervision.institutions_file.is_none());
    let registry = match &institutions {
        Some(file) => {
            let mut with_institutions = config.clone();
            with_institutions.registry.supervision.institutions_file = Some(file.clone());
            open_registry(&with_institutions)?
        }
        None => open_registry(config)?,
    };

    let total_bytes: u64 = manifest.files.iter().filter_map(|f| std::fs::metadata(input.join(&f.path)).ok()).map(|m| m.len()).sum();
    let bar = BatchBar::new(total_bytes);
    let mut tally = Tally::default();
    for file in &manifest.files {
        let path = input.join(&file.path);
        bar.start_file(&file.path);
        let furnisher = file.furnisher.parse().map_err(anyhow::Error::from)?;
        let mut source = std::fs::File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        let outcome = registry.ingest(&furnisher, Some(&file.path), &mut source, &IngestOptions::default(), &bar)?;
        let head = registry.outcome_head(Some(&file.path), &outcome);
        match head.status {
            DocumentStatus::Applied => tally.applied += 1,
            DocumentStatus::Duplicate => tally.duplicate += 1,
            DocumentStatus::Rejected => tally.rejected_whole += 1,
        }
        if head.status == DocumentStatus::Applied {
            tally.accepted += head.accepted.unwrap_or(0);
            tally.rejected += head.rejected.unwrap_or(0);
            registry.for_each_rejection(&head.submission_id, &mut |error| {
                *tally.codes.entry(error.code.as_str().to_string()).or_default() += 1;
                Ok(std::ops::ControlFlow::Continue(()))
            })?;
            if tally.with_rejections.is_none() && head.rejected.unwrap_or(0) > 0 {
                tally.with_rejections = Some((head.furnisher.clone(), head.submission_id.clone()));
            }
        }
        bar.finish_file(std::fs::metadata(&path).map_or(0, |m| m.len()), file.records);
    }
    bar.finish();

    let mut examples = Vec::new();
    for example in &manifest.examples {
        let Ok(id_type) = example.id_type.parse() else { continue };
        if let Some(subject) = registry.find_subject(id_type, &example.id)? {
            examples.push((subject.registry_id(), example));
        }
    }

    print_summary(&manifest, &tally, &data_dir);
    let month = registry_core::report::YearMonth::parse(&manifest.end_month);
    let supervision = match month {
        Some(month) => Some((month, registry.supervise(month, &[], &|_, _| {})?)),
        None => None,
    };
    let supervision =
        supervision.as_ref().map(|(month, document)| Supervision { month: *month, document, institutions: institutions.as_deref() });
    // The findings the evaluators stored beside each ingest: no second pass.
    let quality = Quality {
        by_evaluator: registry.findings_by_evaluator(&registry_service::quality::QualityScope::default())?,
        overview: registry.quality_overview()?,
        planted: manifest.planted.len(),
    };
    if args.no_serve {
        print_commands(&examples, &tally, &data_dir, &input, &manifest, None);
        print_supervision(supervision.as_ref(), &data_dir, None);
        print_quality(&quality, &data_dir, None);
        return Ok(());
    }
    // Keys for the commands printed below: every API call but /health needs one.
    let operator_key = registry.create_key(PrincipalRole::Operator, "demo-operator", None)?.key;
    let supervisor_key = registry.create_key(PrincipalRole::Supervisor, "demo-supervisor", None)?.key;
    let consumer_key = match examples.first() {
        Some((_, example)) => match example.id_type.parse() {
            Ok(id_type) => Some(registry.create_key(PrincipalRole::Consumer, "demo-consumer", Some((id_type, &example.id)))?.key),
            Err(()) => None,
        },
        None => None,
    };
    let lender_key = registry.create_key(PrincipalRole::Lender, "bank-a", None)?.key;
    let furnisher_key = registry.create_key(PrincipalRole::Furnisher, DEMO_FURNISHER, None)?.key;
    let api_keys = ApiKeys {
        operator: operator_key,
        consumer: consumer_key,
        supervisor: supervisor_key,
        lender: lender_key,
        furnisher: furnisher_key,
    };
    let preferred = args.listen.unwrap_or(config.listen);
    runtime()?.block_on(async {
        let (listener, moved) = bind_or_any(preferred).await?;
        let address = listener.local_addr().context("reading the bound address")?;
        if moved {
            println!("(port {} was taken; using {} instead)", preferred.port(), address.port());
        }
        let base = format!("http://{address}");
        print_commands(&examples, &tally, &data_dir, &input, &manifest, Some((&base, &api_keys)));
        print_supervision(supervision.as_ref(), &data_dir, Some((&base, &api_keys.supervisor)));
        print_quality(&quality, &data_dir, Some((&base, &api_keys.supervisor)));
        println!("\nServing until Ctrl-C.");
        serve(registry.clone(), config, listener).await
    })?;
    Ok(())
}

fn read_manifest(dir: &Path) -> Option<Manifest> {
    let text = std::fs::read_to_string(dir.join(MANIFEST_FILE)).ok()?;
    let manifest: Manifest = serde_json::from_str(&text).ok()?;
    // Only reuse a complete generation: every file it lists must be there.
    manifest.files.iter().all(|f| dir.join(&f.path).exists()).then_some(manifest)
}

fn print_summary(manifest: &Manifest, tally: &Tally, data_dir: &Path) {
    println!("credit-registry demo");
    println!("  population  {} people, {} to {}, seed {}", manifest.subjects, manifest.first_month, manifest.end_month, manifest.seed);
    println!(
        "  ingested    {} files: {} applied, {} already applied before, {} rejected whole",
        manifest.files.len(),
        tally.applied,
        tally.duplicate,
        tally.rejected_whole
    );
    if tally.applied > 0 {
        let mut codes: Vec<(&String, &u64)> = tally.codes.iter().collect();
        codes.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let top: Vec<String> = codes.iter().take(5).map(|(c, n)| format!("{c} {n}")).collect();
        println!(
            "              {} records accepted, {} rejected ({} kinds of error; most common: {})",
            tally.accepted,
            tally.rejected,
            codes.len(),
            top.join(", ")
        );
    }
    println!("  data        {}", data_dir.display());
}

fn program() -> String {
    let exe = std::env::current_exe().ok();
    let cwd = std::env::current_dir().ok();
    match (exe, cwd) {
        (Some(exe), Some(cwd)) => match exe.strip_prefix(&cwd) {
            Ok(relative) => format!("./{}", relative.display()),
            Err(_) => exe.display().to_string(),
        },
        _ => "credit-registry".into(),
    }
}

/// The demo's own API keys, for the commands it prints.
struct ApiKeys {
    operator: String,
    consumer: Option<String>,
    supervisor: String,
    lender: String,
    furnisher: String,
}

/// The furnisher whose key the demo prints for its pages: the market's payment platform.
const DEMO_FURNISHER: &str = "payplat";

/// The market's measures in the last month, for what the demo points at.
struct Supervision<'d> {
    month: registry_core::report::YearMonth,
    document: &'d registry_core::supervision::Document,
    /// The institutions file the demo judged the co-lending limits by, if not configured.
    institutions: Option<&'d Path>,
}

/// The supervise command, and what in this market it shows that no single lender sees.
fn print_supervision(supervision: Option<&Supervision<'_>>, data_dir: &Path, api: Option<(&str, &str)>) {
    let Some(Supervision { month, document, institutions }) = supervision else { return };
    let program = program();
    let dir = format!("--data-dir {}", shell_quote(data_dir));
    let env = institutions.map(|file| format!("CREDIT_REGISTRY_INSTITUTIONS={} ", shell_quote(file))).unwrap_or_default();
    println!("\nThe supervisor's view ({month}), what no single lender sees:");
    println!("  {env}{program} supervise {dir} --month {month}");
    if let Some(co) = &document.co_lending {
        for institution in &co.institutions {
            for breach in institution.breaches.iter().flatten() {
                let partner = breach.partner.as_deref().map(|p| format!(" with {p}")).unwrap_or_default();
                println!(
                    "  - {}: co-lending{partner} at {:.1}% of its tier-1 capital, over the {:.0}% limit",
                    institution.institution,
                    breach.value * 100.0,
                    breach.limit * 100.0
                );
            }
        }
        for furnisher in co.furnishers.iter().filter(|f| f.loans_below_min_own_share > 0) {
            println!(
                "  - {}: {} of its {} co-lent loans funded below the 30% own share",
                furnisher.furnisher, furnisher.loans_below_min_own_share, furnisher.co_lent_loans
            );
        }
    }
    if let Some(borrowers) = &document.borrowers {
        let over: u64 = borrowers.over_microloan_cap.values().sum();
        println!(
            "  - {over} people over the microloan cap, {} opening accounts at several lenders within 30 days (who: --list over_microloan_cap, --list stacking; each person listed is logged)",
            borrowers.stacking_subjects
        );
        let shares = &borrowers.delinquent_share_by_lenders_open;
        if let (Some((one, low)), Some((many, high))) = (shares.iter().next(), shares.iter().last()) {
            println!("  - delinquency {:.1}% among people with {one} lender, {:.1}% with {many}", low * 100.0, high * 100.0);
        }
    }
    if let Some((base, key)) = api {
        println!("  curl -s -H 'authorization: Bearer {key}' '{base}/v1/supervision/co_lending?month={month}'   (a supervisor key)");
    }
}

struct Quality {
    by_evaluator: BTreeMap<String, u64>,
    overview: registry_service::quality::QualityOverview,
    /// Defects the generator planted (the manifest's `planted`).
    planted: usize,
}

/// What the evaluators found at ingest, where a supervisor would look first, and the commands.
fn print_quality(quality: &Quality, data_dir: &Path, api: Option<(&str, &str)>) {
    let program = program();
    let dir = format!("--data-dir {}", shell_quote(data_dir));
    let findings: u64 = quality.by_evaluator.values().sum();
    println!("\nData quality, evaluated beside every ingest:");
    println!(
        "  {findings} findings by {} evaluators ({} defects planted by the generator; the manifest lists them)",
        quality.by_evaluator.len(),
        quality.planted
    );
    if let Some(worst) = quality.overview.furnishers.first().filter(|f| f.high_findings > 0) {
        println!(
            "  - {} ranks first: {} high-severity findings, {:.1} per 10,000 records",
            worst.furnisher, worst.high_findings, worst.high_per_10000
        );
    }
    println!("  {program} quality {dir} --stored          (the findings; without --stored, evaluate the store again)");
    println!("  {program} quality scorecard {dir}        (per furnisher, hits per 10,000 records by month, the trend)");
    println!("  {program} quality evaluators             (the published catalogue)");
    if let Some((base, key)) = api {
        println!("  curl -s -H 'authorization: Bearer {key}' '{base}/v1/quality'   (a supervisor key)");
    }
}

fn print_commands(
    examples: &[(String, &registry_synth::Example)],
    tally: &Tally,
    data_dir: &Path,
    input: &Path,
    manifest: &Manifest,
    api: Option<(&str, &ApiKeys)>,
) {
    let program = program();
    let dir = format!("--data-dir {}", shell_quote(data_dir));
    let base = api.map(|(base, _)| base);
    if let Some((base, keys)) = api {
        println!("\nAPI         {base}   (OpenAPI {base}/openapi.json)");
        println!("  operator key  {}", keys.operator);
        if let Some(consumer) = &keys.consumer {
            println!("  consumer key  {consumer}   (the first subject below)");
        }
        println!("  (more: {program} keys create {dir} --role lender --name bank-a)");
        println!("\nPages       {base}/   (中文, English, Nederlands; sign in with one of these keys)");
        if let Some(consumer) = &keys.consumer {
            println!("  a consumer      {consumer}   (their report, who read it, consents, disputes, freeze)");
        }
        println!("  a lender        {}   (bank-a: inquiries under the consumer's consent)", keys.lender);
        println!("  a furnisher     {}   ({DEMO_FURNISHER}: submissions, uploads, the dispute queue)", keys.furnisher);
        println!("  a supervisor    {}   (the market's measures as charts)", keys.supervisor);
    }
    let operator = api.map(|(_, keys)| format!("-H 'authorization: Bearer {}'", keys.operator)).unwrap_or_default();
    println!("\nSubjects to look at:");
    for (registry_id, example) in examples {
        println!("  {registry_id}  {} {}  {} — {}", example.id_type, example.id, example.name, example.why);
    }
    println!("\nTry:");
    if let Some((registry_id, example)) = examples.first() {
        println!("  {program} report {dir} --id-type {} --id {}", example.id_type, example.id);
        println!("  {program} report {dir} --registry-id {registry_id} --json");
        if let Some(base) = base {
            println!("  curl -s {operator} {base}/v1/subjects/{registry_id}/report");
            println!(
                "  curl -s {operator} {base}/v1/reports -H 'content-type: application/json' -d '{{\"id_type\":\"{}\",\"id\":\"{}\"}}'",
                example.id_type, example.id
            );
            if let Some(consumer) = api.and_then(|(_, keys)| keys.consumer.as_ref()) {
                println!("  curl -s -H 'authorization: Bearer {consumer}' {base}/v1/me/accesses");
            }
            println!("  {program} audit verify {dir}");
        }
    }
    if let Some((furnisher, submission)) = &tally.with_rejections {
        println!("  {program} submission {dir} --furnisher {furnisher} {submission}");
    }
    // Every report carries a score; the model shipped is trained on synthetic history.
    println!("  {program} score batch {dir} --out scores.csv");
    if let Some(observed) = registry_core::report::YearMonth::parse(&manifest.end_month).map(|m| m.plus(-12).last_day()) {
        println!("  {program} score train {dir} --from-registry --as-of {observed} --horizon-months 12 --out model.json");
    }
    if let (Some(base), Some(file)) = (base, manifest.files.last()) {
        let path: PathBuf = input.join(&file.path);
        println!(
            "  curl -s {operator} --data-binary @{} '{base}/v1/furnishers/{}/submissions?file_name=again.jsonl'",
            shell_quote(&path),
            file.furnisher
        );
    }
}

fn shell_quote(path: &Path) -> String {
    let text = path.display().to_string();
    if text.chars().all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c)) { text } else { format!("'{}'", text.replace('\'', "'\\''")) }
}
