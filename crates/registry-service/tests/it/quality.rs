//! Data quality through the store: every evaluator finds the defects the generator plants of
//! its kind, clean accounts stay clean, both backends find the same at ingest and over the whole
//! store, and a consumer's open dispute is checked against what the furnisher sends.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use registry_core::model::IdType;
use registry_core::report::YearMonth;
use registry_service::clock::FixedClock;
use registry_service::quality::QualityScope;
use registry_service::{IngestOutcome, Registry};
use registry_store::Page;
use registry_synth::{Manifest, Params};

use crate::{Backend, furnisher, ingest, open_on_with};

const ALL: Page = Page { offset: 0, limit: u64::MAX };

/// A market of the generator's with defects planted.
fn generate(dir: &Path, subjects: u32, defect_share: f64) -> Manifest {
    let params = Params { seed: 5, defect_share, ..Params::new(subjects, 12, YearMonth::parse("2022-05").unwrap()) };
    registry_synth::generate(&params, dir, &mut |_| {}).unwrap()
}

/// A registry on `backend` that knows the market's institutions (its co-funders).
fn open_knowing(backend: Backend, data: &Path, files: &Path, manifest: &Manifest) -> Option<crate::Opened> {
    let institutions = files.join(manifest.institutions.as_deref().unwrap());
    crate::open_on_settings(backend, data, &mut |settings| settings.supervision.institutions_file = Some(institutions.clone()))
}

/// Ingests the market file by file; the hits each submission's evaluation found, by evaluator.
fn ingest_market(registry: &Registry, dir: &Path, manifest: &Manifest) -> BTreeMap<String, u64> {
    let mut hits = BTreeMap::new();
    for file in &manifest.files {
        let outcome = ingest(registry, &file.furnisher, &std::fs::read(dir.join(&file.path)).unwrap());
        let IngestOutcome::Applied(summary) = outcome else { panic!("{} not applied", file.path) };
        for (evaluator, n) in registry.submission_hits(&furnisher(&file.furnisher), &summary.submission_id).unwrap() {
            *hits.entry(evaluator).or_default() += n;
        }
    }
    hits
}

/// The accounts of every file, by furnisher.
fn accounts(dir: &Path, manifest: &Manifest) -> BTreeSet<(String, String)> {
    let mut accounts = BTreeSet::new();
    for file in &manifest.files {
        for line in std::fs::read_to_string(dir.join(&file.path)).unwrap().lines() {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(account) = value["account"].as_str() {
                accounts.insert((file.furnisher.clone(), account.to_owned()));
            }
        }
    }
    accounts
}

#[test]
fn every_evaluator_finds_its_planted_defects_and_clean_accounts_stay_clean() {
    let (files, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let manifest = generate(files.path(), 1500, 0.02);
    let registry = open_knowing(Backend::Sqlite, data.path(), files.path(), &manifest).unwrap();
    ingest_market(&registry, files.path(), &manifest);
    let found = registry.evaluate_store(&QualityScope::default(), ALL, &|_, _| {}).unwrap();
    let hits: BTreeSet<(&str, &str, &str, String)> =
        found.findings.iter().map(|f| (f.evaluator.as_str(), f.furnisher.as_str(), f.account.as_str(), f.as_of.to_string())).collect();
    let hit_accounts: BTreeSet<(&str, &str, &str)> = hits.iter().map(|(e, f, a, _)| (*e, *f, *a)).collect();

    // Recall: per evaluator, the share of its planted defects it flags.
    let mut planted: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for p in &manifest.planted {
        let entry = planted.entry(&p.evaluator).or_default();
        entry.0 += 1;
        // An identity finding names an account of the person's at the furnisher, with its
        // latest record's date.
        let flagged = if p.evaluator.starts_with("IDENT") {
            hit_accounts.contains(&(p.evaluator.as_str(), p.furnisher.as_str(), p.account.as_str()))
        } else {
            hits.contains(&(p.evaluator.as_str(), p.furnisher.as_str(), p.account.as_str(), p.as_of.to_string()))
        };
        entry.1 += u64::from(flagged);
    }
    let mut report = String::new();
    for evaluator in registry_service::quality::evaluators().iter().filter(|e| e.id != "DISPUTE-2") {
        let (n, flagged) = planted.get(evaluator.id).copied().unwrap_or((0, 0));
        report.push_str(&format!("{} {flagged}/{n}\n", evaluator.id));
        assert!(n >= 8, "{} has too few planted defects to measure: {n}", evaluator.id);
        assert!(flagged * 100 >= n * 95, "{} finds {flagged} of {n} planted defects", evaluator.id);
    }
    eprintln!("recall by evaluator:\n{report}");

    // Precision: accounts with no defect planted that any evaluator flags.
    let planted_accounts: BTreeSet<(String, String)> = manifest.planted.iter().map(|p| (p.furnisher.clone(), p.account.clone())).collect();
    let clean: Vec<(String, String)> = accounts(files.path(), &manifest).into_iter().filter(|a| !planted_accounts.contains(a)).collect();
    let flagged_accounts: BTreeSet<(&str, &str)> = found.findings.iter().map(|f| (f.furnisher.as_str(), f.account.as_str())).collect();
    let clean_flagged = clean.iter().filter(|(f, a)| flagged_accounts.contains(&(f.as_str(), a.as_str()))).count();
    eprintln!("clean accounts flagged: {clean_flagged} of {}", clean.len());
    assert!(clean_flagged * 100 <= clean.len(), "{clean_flagged} of {} clean accounts flagged", clean.len());

    // Findings name accounts, never people: no identifier, no family name in any message.
    let mut people = BTreeSet::new();
    for file in &manifest.files {
        for line in std::fs::read_to_string(files.path().join(&file.path)).unwrap().lines() {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            for subject in value["subjects"].as_array().into_iter().flatten() {
                people.insert(subject["id"].as_str().unwrap().to_owned());
                let family = subject["family_name"].as_str().unwrap();
                if family.len() >= 4 {
                    people.insert(family.to_owned());
                }
            }
        }
    }
    for finding in &found.findings {
        assert!(!people.iter().any(|p| finding.message.contains(p.as_str())), "{}", finding.message);
    }
}

/// What one backend finds in the 300-person market: at ingest, by evaluator; over the store.
fn findings_on(backend: Backend) -> Option<(BTreeMap<String, u64>, Vec<registry_core::quality::Finding>)> {
    let (files, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let manifest = generate(files.path(), 300, 0.05);
    let registry = open_knowing(backend, data.path(), files.path(), &manifest)?;
    let at_ingest = ingest_market(&registry, files.path(), &manifest);
    assert!(!manifest.planted.is_empty());
    // What the submissions found is stored (a record corrected later is evaluated again, and
    // its findings replaced, so the submissions' hits can count one twice).
    let stored = registry.findings(&QualityScope::default(), ALL).unwrap();
    let mut stored_by_evaluator: BTreeMap<String, u64> = BTreeMap::new();
    for f in &stored.findings {
        *stored_by_evaluator.entry(f.evaluator.clone()).or_default() += 1;
    }
    assert_eq!(registry.findings_by_evaluator(&QualityScope::default()).unwrap(), stored_by_evaluator);
    for (evaluator, n) in &stored_by_evaluator {
        assert!(at_ingest.get(evaluator).is_some_and(|hits| hits >= n), "{backend:?} {evaluator}: {n} stored, {at_ingest:?} at ingest");
    }
    // The whole store evaluated again finds what ingest found (each record against the one
    // before it as stored now), and what only a later record or another furnisher shows.
    let again = registry.evaluate_store(&QualityScope::default(), ALL, &|_, _| {}).unwrap();
    let again_keys: BTreeSet<_> = again.findings.iter().map(|f| (&f.evaluator, &f.furnisher, &f.account, f.as_of)).collect();
    let missing = stored.findings.iter().filter(|f| !again_keys.contains(&(&f.evaluator, &f.furnisher, &f.account, f.as_of))).count();
    assert!(missing * 50 <= stored.findings.len(), "{backend:?}: {missing} of {} ingest findings not found again", stored.findings.len());
    // A page; a scoped run replaces its scope only.
    let page = registry.findings(&QualityScope::default(), Page { offset: 2, limit: 3 }).unwrap();
    assert_eq!((page.findings.len(), page.offset, page.total), (3, 2, again.total));
    let month = YearMonth::parse("2022-05").unwrap();
    let scoped =
        registry.evaluate_store(&QualityScope { furnisher: Some(furnisher("payplat")), month: Some(month) }, ALL, &|_, _| {}).unwrap();
    assert!(scoped.findings.iter().all(|f| f.furnisher == "payplat" && YearMonth::of(f.as_of) == month));
    assert_eq!(registry.findings(&QualityScope::default(), ALL).unwrap().total, again.total);
    // Scorecards count every finding; the overview ranks by high-severity hits per 10,000.
    assert_eq!(registry.scorecards(None).unwrap().iter().map(|c| c.findings).sum::<u64>(), again.total);
    let overview = registry.quality_overview().unwrap();
    assert!(overview.furnishers.windows(2).all(|w| w[0].high_per_10000 >= w[1].high_per_10000));
    Some((at_ingest, again.findings))
}

#[test]
fn both_backends_find_the_same_at_ingest_and_over_the_store() {
    let embedded = findings_on(Backend::Sqlite).unwrap();
    if let Some(postgres) = findings_on(Backend::Postgres) {
        assert_eq!(postgres.0, embedded.0, "at ingest");
        assert_eq!(postgres.1, embedded.1, "over the store");
    }
}

const WANG: &str = "11010519491231002X";

fn record(as_of: &str, dispute: &str) -> String {
    format!(
        r#"{{"account":"D-1","as_of":"{as_of}","product":"credit_card","opened":"2020-01-01","currency":"CNY","credit_limit":500000,"balance":1000,"past_due":0,"status":"current","dispute":"{dispute}","subjects":[{{"role":"primary","id_type":"cn_rid","id":"{WANG}","family_name":"Wang","given_name":"Fang","birth_date":"1949-12-31"}}]}}"#
    ) + "\n"
}

#[test]
fn an_open_dispute_the_furnisher_does_not_flag_is_found() {
    let data = tempfile::tempdir().unwrap();
    let at = |date: &str| -> Arc<dyn registry_service::clock::Clock> {
        let date: chrono::NaiveDate = date.parse().unwrap();
        Arc::new(FixedClock(Utc.from_utc_datetime(&date.and_hms_opt(12, 0, 0).unwrap())))
    };
    {
        let registry = open_on_with(Backend::Sqlite, data.path(), at("2022-03-05"), "cn").unwrap();
        ingest(&registry, "bank", record("2022-02-28", "none").as_bytes());
        let subject = registry.find_subject(IdType::CnRid, WANG).unwrap().unwrap();
        registry.open_dispute(subject, "bank", "D-1", Some("balance"), "I paid it").unwrap();
    }
    let registry = open_on_with(Backend::Sqlite, data.path(), at("2022-06-30"), "cn").unwrap();
    // Flagged: no finding. Not flagged a month on: found.
    let IngestOutcome::Applied(flagged) = ingest(&registry, "bank", record("2022-03-31", "disputed").as_bytes()) else { panic!() };
    assert_eq!(registry.submission_hits(&furnisher("bank"), &flagged.submission_id).unwrap().get("DISPUTE-2"), None);
    let IngestOutcome::Applied(dropped) = ingest(&registry, "bank", record("2022-05-31", "none").as_bytes()) else { panic!() };
    let hits = registry.submission_hits(&furnisher("bank"), &dropped.submission_id).unwrap();
    assert_eq!(hits.get("DISPUTE-2"), Some(&1), "{hits:?}");
    // And the flag dropped without a resolution is DISPUTE-1.
    assert_eq!(hits.get("DISPUTE-1"), Some(&1), "{hits:?}");
}
