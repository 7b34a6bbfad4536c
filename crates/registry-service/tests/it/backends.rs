//! One behaviour, two backends: the same files ingested into the embedded store and into
//! PostgreSQL give byte-identical results.

use std::path::Path;

use registry_core::model::{Date, FurnisherId};
use registry_core::report::{Audience, SubjectKey, YearMonth};
use registry_service::export::ExportFormat;
use registry_service::{IngestOptions, NoProgress, Registry, RegistrySettings};
use registry_synth::Params;

use super::{Backend, open_on};

/// Every outcome, rejection, report and export of one registry, as text.
fn everything(registry: &Registry, dir: &Path, manifest: &registry_synth::Manifest) -> Vec<String> {
    let mut out = ingest_all(registry, dir, manifest);
    out.extend(read_all(registry, manifest));
    out
}

/// Ingests every file; each outcome and rejection as text.
fn ingest_all(registry: &Registry, dir: &Path, manifest: &registry_synth::Manifest) -> Vec<String> {
    let mut out = Vec::new();
    for file in &manifest.files {
        let bytes = std::fs::read(dir.join(&file.path)).unwrap();
        let furnisher = FurnisherId::parse(&file.furnisher).unwrap();
        let outcome = registry.ingest(&furnisher, Some(&file.path), &mut &bytes[..], &IngestOptions::default(), &NoProgress).unwrap();
        let summary = outcome.summary();
        out.push(format!(
            "{} {:?} {} {} {}",
            file.path, summary.status, summary.record_count, summary.accepted_count, summary.rejected_count
        ));
        registry
            .for_each_rejection(&summary.submission_id, &mut |e| {
                out.push(format!("{} {} {} {}", e.line, e.field, e.code.as_str(), e.message));
                Ok(std::ops::ControlFlow::Continue(()))
            })
            .unwrap();
    }
    out
}

/// Every report and export, as text.
fn read_all(registry: &Registry, manifest: &registry_synth::Manifest) -> Vec<String> {
    let mut out = Vec::new();
    let as_of: Date = "2022-05-31".parse().unwrap();
    let mut missing_in_a_row = 0;
    for key in 1.. {
        match registry.report_unlogged(SubjectKey(key), Some(as_of), Audience::Subject).unwrap() {
            Some(report) => {
                missing_in_a_row = 0;
                out.push(serde_json::to_string(&report).unwrap());
            }
            None if missing_in_a_row > 50 => break,
            None => missing_in_a_row += 1,
        }
    }
    for file in &manifest.files {
        let furnisher = FurnisherId::parse(&file.furnisher).unwrap();
        let mut exported = Vec::new();
        crate::export_to(registry, &furnisher, YearMonth::parse(&file.month).unwrap().day(1), ExportFormat::JsonLines, &mut exported)
            .unwrap();
        out.push(String::from_utf8(exported).unwrap());
    }
    out
}

#[test]
fn the_same_files_give_byte_identical_results_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    let manifest = market(&files);
    let Some(postgres) = open_on(Backend::Postgres, &dir.path().join("postgres")) else { return };
    let sqlite = open_on(Backend::Sqlite, &dir.path().join("sqlite")).unwrap();
    let expected = everything(&sqlite, &files, &manifest);
    assert!(expected.iter().filter(|line| line.starts_with("{\"")).count() > 150, "most people have a report");
    let got = everything(&postgres, &files, &manifest);
    assert_eq!(got.len(), expected.len());
    for (got, expected) in got.iter().zip(&expected) {
        assert_eq!(got, expected);
    }
}

#[test]
fn a_registry_copied_to_postgres_reads_the_same_and_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    let manifest = market(&files);
    let Some(database) = registry_store::testing::TestDatabase::create() else { return };
    let sqlite_dir = dir.path().join("sqlite");
    let sqlite = open_on(Backend::Sqlite, &sqlite_dir).unwrap();
    ingest_all(&sqlite, &files, &manifest);
    // Governance data travels too: a key, a consent, an inquiry, a flag, a dispute, the log.
    let lender = sqlite.create_key(registry_service::keys::PrincipalRole::Lender, "bank-a", None).unwrap();
    let subject = registry_core::report::SubjectKey(1);
    let consent = sqlite.grant_consent(subject, "bank-a", "credit_application", "2022-12-31".parse().unwrap()).unwrap();
    sqlite.place_flag(subject, registry_service::rights::FlagKind::FraudAlert, None).unwrap();
    let access = registry_service::audit::Access {
        actor: registry_service::audit::Actor::command_line(),
        action: registry_service::audit::AccessAction::DrillDown,
        purpose: None,
        consent_id: None,
    };
    for _ in 0..5 {
        sqlite.read_report(&access, subject, None, registry_core::report::Audience::Masked).unwrap();
    }
    // Reading everything exports every cycle, which the log records too.
    let expected = read_all(&sqlite, &manifest);
    let log_before = sqlite.verify_log().unwrap().unwrap();
    let flags_before = sqlite.flags(subject).unwrap();
    drop(sqlite);

    let to = registry_store::PostgresSettings::new(database.url());
    let copied = registry_service::copy_to_postgres(&RegistrySettings::new(&sqlite_dir), to.clone()).unwrap();
    assert!(copied.rows > 1000, "{copied:?}");
    // Into a database that holds a registry already: refused, nothing changed.
    let again = registry_service::copy_to_postgres(&RegistrySettings::new(&sqlite_dir), to.clone()).unwrap_err();
    assert!(matches!(again, registry_service::ServiceError::Store(registry_store::StoreError::NotEmpty)), "{again:?}");

    let mut settings = RegistrySettings::new(&sqlite_dir);
    settings.postgres = Some(to);
    settings.keys = Some(copied.keys);
    let clock = registry_service::clock::FixedClock(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2022, 6, 30, 12, 0, 0).unwrap());
    let postgres = Registry::open(settings, std::sync::Arc::new(clock)).unwrap();
    assert!(postgres.authenticate(&lender.key).unwrap().is_some(), "the key works on the copy");
    assert_eq!(postgres.consents(subject).unwrap()[0].consent_id, consent.consent_id);
    assert_eq!(postgres.flags(subject).unwrap(), flags_before);
    let log_after = postgres.verify_log().unwrap().unwrap();
    assert_eq!(log_after, log_before, "the same log, the same root");
    postgres.log_access(&access, Some(subject)).unwrap();
    assert_eq!(postgres.verify_log().unwrap().unwrap().entries, log_before.entries + 1, "and it carries on");
    let got = read_all(&postgres, &manifest);
    assert_eq!(got.len(), expected.len());
    for (got, expected) in got.iter().zip(&expected) {
        assert_eq!(got, expected);
    }
    // It carries on where the copy left off: the same files again are recognised as applied.
    for file in &manifest.files {
        let bytes = std::fs::read(files.join(&file.path)).unwrap();
        let furnisher = FurnisherId::parse(&file.furnisher).unwrap();
        let outcome = postgres.ingest(&furnisher, None, &mut &bytes[..], &IngestOptions::default(), &NoProgress).unwrap();
        assert!(matches!(outcome, registry_service::IngestOutcome::Duplicate(_)), "{outcome:?}");
    }
}

/// The Chinese market: joint and co-lent accounts (one account, several subjects), spelling
/// variants, corrections, and a share of broken records.
fn market(files: &Path) -> registry_synth::Manifest {
    let params = Params { seed: 4, warmup_months: 6, invalid_share: 0.03, ..Params::new(200, 4, YearMonth::parse("2022-05").unwrap()) };
    registry_synth::generate(&params, files, &mut |_| {}).unwrap()
}
