//! The generator's promises: deterministic by seed, valid records unless asked otherwise,
//! the market's shape (co-funding, many lenders, delinquency that rolls and cures).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use registry_core::furnishing::{Entry, FurnishingReader, LINE_BYTES_MAX_DEFAULT, Rules};
use registry_core::model::Status;
use registry_core::report::YearMonth;
use registry_synth::{Manifest, Params, generate};

fn params(subjects: u32, invalid_share: f64) -> Params {
    Params { seed: 42, invalid_share, ..Params::new(subjects, 24, YearMonth::parse("2026-10").unwrap()) }
}

fn run(dir: &Path, params: &Params) -> Manifest {
    generate(params, dir, &mut |_| {}).unwrap()
}

fn read(dir: &Path, manifest: &Manifest) -> (Vec<(String, registry_core::model::AccountRecord)>, usize) {
    let mut accepted = Vec::new();
    let mut rejected = 0;
    for file in &manifest.files {
        let bytes = std::fs::read(dir.join(&file.path)).unwrap();
        let mut reader = FurnishingReader::new(&bytes[..], Rules { today: "2030-01-01".parse().unwrap() }, LINE_BYTES_MAX_DEFAULT);
        while let Some(entry) = reader.next_entry().unwrap_or_else(|e| panic!("{}: {e:?}", file.path)) {
            match entry {
                Entry::Accepted { record, .. } => accepted.push((file.furnisher.clone(), record)),
                Entry::Rejected { .. } => rejected += 1,
            }
        }
        assert_eq!(reader.record_count(), file.records);
    }
    (accepted, rejected)
}

#[test]
fn same_seed_same_files() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = run(a.path(), &params(60, 0.02));
    let second = run(b.path(), &params(60, 0.02));
    assert_eq!(first.files.len(), second.files.len());
    for file in &first.files {
        assert_eq!(std::fs::read(a.path().join(&file.path)).unwrap(), std::fs::read(b.path().join(&file.path)).unwrap(), "{}", file.path);
    }
    let other = tempfile::tempdir().unwrap();
    let mut changed = params(60, 0.02);
    changed.seed = 43;
    let third = run(other.path(), &changed);
    assert_ne!(
        std::fs::read(a.path().join(&first.files[0].path)).unwrap(),
        std::fs::read(other.path().join(&third.files[0].path)).unwrap()
    );
}

#[test]
fn a_clean_population_is_all_valid_and_shaped_like_a_market() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = run(dir.path(), &params(1500, 0.0));
    let (records, rejected) = read(dir.path(), &manifest);
    assert_eq!(rejected, 0);
    assert!(manifest.invalid_records.is_empty());
    assert_eq!(records.len() as u64, manifest.records);

    let furnishers: BTreeSet<&str> = records.iter().map(|(f, _)| f.as_str()).collect();
    assert!(furnishers.len() >= 8, "{furnishers:?}");
    let months: BTreeSet<String> = records.iter().map(|(_, r)| YearMonth::of(r.facts.as_of).to_string()).collect();
    assert_eq!(months.len(), 24);

    // The platform's microloans are co-funded; it keeps at least 30 % of most, and less of about
    // one in eight (what supervision is there to flag).
    let co_funded: Vec<_> = records.iter().filter(|(f, r)| f == "payplat" && !r.facts.funding.is_empty()).collect();
    assert!(!co_funded.is_empty());
    let own =
        |r: &registry_core::model::AccountRecord| r.facts.funding.iter().find(|s| s.institution == "payplat").map_or(0, |s| s.share_bp);
    let below = co_funded.iter().filter(|(_, r)| own(r) < 3000).count();
    assert!(below > 0 && below * 4 < co_funded.len(), "{below} of {} below the floor", co_funded.len());
    assert!(co_funded.iter().all(|(_, r)| [1000, 2000, 3000, 3500, 4000, 4500, 5000].contains(&own(r))));
    // An institutions file for the co-funders, named in the manifest.
    let institutions = std::fs::read_to_string(dir.path().join(manifest.institutions.as_deref().unwrap())).unwrap();
    assert!(institutions.contains("[bank-river]\ntier1_capital = { CNY = "), "{institutions}");

    // Delinquency rolls forward to charge-off and also cures.
    let statuses: HashMap<Status, usize> = records.iter().fold(HashMap::new(), |mut m, (_, r)| {
        *m.entry(r.facts.status).or_default() += 1;
        m
    });
    for status in [
        Status::Current,
        Status::Dpd30,
        Status::Dpd60,
        Status::Dpd90,
        Status::Dpd180,
        Status::ChargedOff,
        Status::Paid,
        Status::PaidWasChargedOff,
    ] {
        assert!(statuses.get(&status).copied().unwrap_or(0) > 0, "no {status} in {statuses:?}");
    }
    let mut cured = false;
    let mut by_account: HashMap<&str, Vec<Status>> = HashMap::new();
    for (_, r) in &records {
        by_account.entry(r.facts.account.as_str()).or_default().push(r.facts.status);
    }
    for history in by_account.values() {
        cured |= history.windows(2).any(|w| w[0] == Status::Dpd30 && w[1] == Status::Current);
    }
    assert!(cured, "some 30-day lateness cures");

    // Someone borrows from five or more lenders, and the examples say so.
    assert!(manifest.examples.iter().any(|e| e.why.starts_with("open accounts at")), "{:?}", manifest.examples);
    assert!(manifest.examples.len() >= 4);
}

#[test]
fn the_requested_share_of_records_is_broken_in_every_way() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = run(dir.path(), &params(150, 1.0));
    let (accepted, rejected) = read(dir.path(), &manifest);
    let kinds = registry_synth::CORRUPTIONS.len() + registry_synth::TEXTUAL_KINDS.len();
    assert_eq!(manifest.invalid_records.len(), kinds, "{:?}", manifest.invalid_records);
    // Only the first copy of a repeated key reads as valid on its own (the store rejects the second).
    assert_eq!(accepted.len() as u64, 2 * manifest.invalid_records["duplicate_record"]);
    assert!(rejected > 0);
}
