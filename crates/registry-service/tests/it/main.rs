//! The application end to end on a real data directory: ingest → store → report.

mod backends;
mod doors;
mod faults;
mod governance;
mod metro2;
mod quality;
mod retention;
mod rights;
mod scoring;
mod supervision;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use registry_core::furnishing::{FileErrorCode, RecordErrorCode};
use registry_core::model::{Date, FurnisherId, IdType};
use registry_core::report::Audience;
use registry_service::clock::FixedClock;
use registry_service::{IngestOptions, IngestOutcome, NoProgress, Registry, RegistrySettings, ServiceError};
use registry_store::SubmissionStatus;
use serde_json::Value;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/examples")
}

fn open(dir: &Path) -> Registry {
    let clock = FixedClock(Utc.with_ymd_and_hms(2022, 6, 30, 12, 0, 0).unwrap());
    Registry::open(RegistrySettings::new(dir), Arc::new(clock)).unwrap()
}

/// Where a test's registry keeps its data: every behaviour test runs on both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A registry on `backend` (archive in `dir`) and the database to drop after it.
pub struct Opened {
    registry: Registry,
    _database: Option<registry_store::testing::TestDatabase>,
}

impl std::ops::Deref for Opened {
    type Target = Registry;
    fn deref(&self) -> &Registry {
        &self.registry
    }
}

/// Opens a registry on `backend`, or `None` for PostgreSQL when `DATABASE_URL` is unset (the
/// case then passes trivially, saying so).
fn open_on(backend: Backend, dir: &Path) -> Option<Opened> {
    let clock = FixedClock(Utc.with_ymd_and_hms(2022, 6, 30, 12, 0, 0).unwrap());
    open_on_with(backend, dir, Arc::new(clock), "cn")
}

/// `open_on` with settings as `configure` leaves them.
fn open_on_settings(backend: Backend, dir: &Path, configure: &mut dyn FnMut(&mut RegistrySettings)) -> Option<Opened> {
    let clock = FixedClock(Utc.with_ymd_and_hms(2022, 6, 30, 12, 0, 0).unwrap());
    open_configured(backend, dir, Arc::new(clock), "cn", configure)
}

/// `open_on` with a clock and a jurisdiction profile of the test's choosing.
fn open_on_with(backend: Backend, dir: &Path, clock: Arc<dyn registry_service::clock::Clock>, jurisdiction: &str) -> Option<Opened> {
    open_configured(backend, dir, clock, jurisdiction, &mut |_| {})
}

fn open_configured(
    backend: Backend,
    dir: &Path,
    clock: Arc<dyn registry_service::clock::Clock>,
    jurisdiction: &str,
    configure: &mut dyn FnMut(&mut RegistrySettings),
) -> Option<Opened> {
    let mut settings = RegistrySettings::new(dir);
    jurisdiction.clone_into(&mut settings.jurisdiction);
    configure(&mut settings);
    let database = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => {
            let Some(database) = registry_store::testing::TestDatabase::create() else {
                eprintln!("DATABASE_URL is not set: skipping the PostgreSQL case");
                return None;
            };
            settings.postgres = Some(registry_store::PostgresSettings::new(database.url()));
            settings.keys = Some(registry_service::vault::Keys::generate().unwrap());
            Some(database)
        }
    };
    Some(Opened { registry: Registry::open(settings, clock).unwrap(), _database: database })
}

/// Runs each named case (a `fn(Backend)`) once per backend.
macro_rules! on_both_backends {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $( #[test] fn $case() { super::$case(crate::Backend::Sqlite) } )+
        }
        mod postgres {
            $( #[test] fn $case() { super::$case(crate::Backend::Postgres) } )+
        }
    };
}
pub(crate) use on_both_backends;

on_both_backends!(
    spec_examples_through_the_store_give_their_summaries,
    the_same_bytes_twice_apply_once,
    a_file_rejected_whole_changes_nothing_and_is_recorded,
    rejections_are_listed_with_the_submission,
    a_correction_replaces_the_record_and_keeps_the_old_version,
    two_ingests_at_once_both_land_whole,
    an_invalid_identifier_is_an_input_error_not_a_miss,
);

fn furnisher(name: &str) -> FurnisherId {
    FurnisherId::parse(name).unwrap()
}

fn ingest(registry: &Registry, furnisher_name: &str, bytes: &[u8]) -> IngestOutcome {
    registry.ingest(&furnisher(furnisher_name), Some("test.jsonl"), &mut &bytes[..], &IngestOptions::default(), &NoProgress).unwrap()
}

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn spec_examples_through_the_store_give_their_summaries(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = open_on(backend, dir.path()) else { return };
    for stem in ["spec-example", "history-example"] {
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(examples().join(format!("{stem}.summary.json"))).unwrap()).unwrap();
        let bytes = std::fs::read(examples().join(format!("{stem}.jsonl"))).unwrap();
        let outcome = ingest(&registry, expected["furnisher"].as_str().unwrap(), &bytes);
        assert!(matches!(outcome, IngestOutcome::Applied(ref s) if s.rejected_count == 0), "{outcome:?}");
        let id_type: IdType = expected["subject"]["id_type"].as_str().unwrap().parse().unwrap();
        let subject = registry.find_subject(id_type, expected["subject"]["id"].as_str().unwrap()).unwrap().unwrap();
        let report = registry.report_unlogged(subject, Some(d(expected["as_of"].as_str().unwrap())), Audience::Masked).unwrap().unwrap();
        assert_eq!(serde_json::to_value(&report.summary).unwrap(), expected["summary"], "{stem}");
    }
}

const TWO_RECORDS: &str = include_str!("../../../../../shared/spec/examples/spec-example.jsonl");

fn the_same_bytes_twice_apply_once(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = open_on(backend, dir.path()) else { return };
    let first = ingest(&registry, "payplat", TWO_RECORDS.as_bytes());
    let IngestOutcome::Applied(applied) = &first else { panic!("{first:?}") };
    assert_eq!((applied.record_count, applied.accepted_count), (2, 2));
    let again = ingest(&registry, "payplat", TWO_RECORDS.as_bytes());
    assert_eq!(again, IngestOutcome::Duplicate(applied.clone()));
    // Another furnisher sending the same bytes is a submission of its own.
    assert!(matches!(ingest(&registry, "other", TWO_RECORDS.as_bytes()), IngestOutcome::Applied(_)));
}

fn a_file_rejected_whole_changes_nothing_and_is_recorded(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = open_on(backend, dir.path()) else { return };
    let truncated = TWO_RECORDS.replace("{\"trailer\":{\"records\":2}}", "{\"trailer\":{\"records\":3}}");
    let outcome = ingest(&registry, "payplat", truncated.as_bytes());
    let IngestOutcome::Rejected(summary) = &outcome else { panic!("{outcome:?}") };
    assert_eq!(summary.status, SubmissionStatus::Rejected);
    assert_eq!(summary.error.as_ref().unwrap().code, FileErrorCode::TrailerMismatch);
    assert_eq!(registry.find_subject(IdType::CnRid, "11010519491231002X").unwrap(), None);
    assert_eq!(registry.submission(&furnisher("payplat"), &summary.submission_id).unwrap().as_ref(), Some(summary));
    // Fixed and sent again, it applies.
    assert!(matches!(ingest(&registry, "payplat", TWO_RECORDS.as_bytes()), IngestOutcome::Applied(_)));
}

fn rejections_are_listed_with_the_submission(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = open_on(backend, dir.path()) else { return };
    let mut lines: Vec<String> = TWO_RECORDS.lines().take(2).map(str::to_owned).collect();
    lines.push(lines[0].replace("\"balance\":231050", "\"balanse\":231050"));
    lines.push(lines[1].clone());
    let outcome = ingest(&registry, "payplat", lines.join("\n").as_bytes());
    let summary = outcome.summary();
    assert_eq!((summary.record_count, summary.accepted_count, summary.rejected_count), (4, 2, 2));
    let mut errors = Vec::new();
    registry
        .for_each_rejection(&summary.submission_id, &mut |e| {
            errors.push((e.line, e.field, e.code));
            Ok(std::ops::ControlFlow::Continue(()))
        })
        .unwrap();
    assert_eq!(
        errors,
        vec![
            (3, "balanse".into(), RecordErrorCode::UnknownField),
            (3, "balance".into(), RecordErrorCode::MissingField),
            (4, String::new(), RecordErrorCode::DuplicateRecord),
        ]
    );
}

fn a_correction_replaces_the_record_and_keeps_the_old_version(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = open_on(backend, dir.path()) else { return };
    ingest(&registry, "payplat", TWO_RECORDS.as_bytes());
    let corrected = TWO_RECORDS.lines().next().unwrap().replace("\"balance\":231050", "\"balance\":200000");
    ingest(&registry, "payplat", corrected.as_bytes());
    let operator = registry_service::audit::Access::command_line(registry_service::audit::AccessAction::DrillDown, None);
    let versions = registry.account_history(&operator, &furnisher("payplat"), "HB-000123").unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].facts.balance.0, 231050);
    assert!(versions[0].replaced_by.is_some());
    assert_eq!(versions[1].facts.balance.0, 200000);
    let subject = registry.find_subject(IdType::CnRid, "11010519491231002X").unwrap().unwrap();
    let report = registry.report_unlogged(subject, None, Audience::Masked).unwrap().unwrap();
    assert_eq!(report.summary.balance_open.values().sum::<u128>(), 200000 + 312000);
}

#[test]
fn the_database_file_alone_reveals_no_identifier_or_name() {
    let dir = tempfile::tempdir().unwrap();
    {
        let registry = open(dir.path());
        ingest(&registry, "bankx", std::fs::read(examples().join("history-example.jsonl")).unwrap().as_slice());
        ingest(&registry, "payplat", TWO_RECORDS.as_bytes());
    }
    let mut bytes = Vec::new();
    for name in ["registry.db", "registry.db-wal"] {
        if let Ok(mut more) = std::fs::read(dir.path().join(name)) {
            bytes.append(&mut more);
        }
    }
    assert!(bytes.len() > 10_000);
    for secret in ["320102198706153316", "11010519491231002X", "Chen", "Jing", "Wang", "Fang", "1987-06-15", "1949-12-31"] {
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret} is readable in the database file");
    }
    // And the archive holds the files encrypted.
    for entry in std::fs::read_dir(dir.path().join("archive")).unwrap() {
        let archived = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!archived.windows(4).any(|w| w == b"Wang"));
    }
}

#[test]
fn keys_are_generated_once_and_guarded() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    let keys_file = dir.path().join("keys.toml");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&keys_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let keys = std::fs::read_to_string(&keys_file).unwrap();
    drop(open(dir.path()));
    assert_eq!(std::fs::read_to_string(&keys_file).unwrap(), keys, "reopening keeps the keys");

    // Losing the keys file of a registry with data is an error, not a silent new start.
    std::fs::remove_file(&keys_file).unwrap();
    let clock = Arc::new(FixedClock(Utc::now()));
    match Registry::open(RegistrySettings::new(dir.path()), clock.clone()) {
        Err(ServiceError::Keys(message)) => assert!(message.contains("missing"), "{message}"),
        other => panic!("expected a keys error, got {:?}", other.err()),
    }
    // Other keys than the registry's are refused too.
    let mut settings = RegistrySettings::new(dir.path());
    settings.keys = Some(registry_service::vault::Keys::generate().unwrap());
    assert!(matches!(Registry::open(settings, clock), Err(ServiceError::Keys(_))));
}

fn two_ingests_at_once_both_land_whole(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = open_on(backend, dir.path()) else { return };
    let other_file = TWO_RECORDS.replace("HB-000123", "HB-999").replace("JB-778", "JB-999");
    let outcomes: Vec<IngestOutcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = [TWO_RECORDS.to_string(), other_file.clone(), TWO_RECORDS.to_string()]
            .into_iter()
            .map(|text| {
                let registry = &registry;
                scope.spawn(move || ingest(registry, "payplat", text.as_bytes()))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let applied = outcomes.iter().filter(|o| matches!(o, IngestOutcome::Applied(_))).count();
    let duplicates = outcomes.iter().filter(|o| matches!(o, IngestOutcome::Duplicate(_))).count();
    assert_eq!((applied, duplicates), (2, 1), "{outcomes:?}");
    let subject = registry.find_subject(IdType::CnRid, "11010519491231002X").unwrap().unwrap();
    let report = registry.report_unlogged(subject, None, Audience::Masked).unwrap().unwrap();
    assert_eq!(report.summary.accounts_total, 4);
}

fn an_invalid_identifier_is_an_input_error_not_a_miss(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = open_on(backend, dir.path()) else { return };
    assert!(matches!(registry.find_subject(IdType::Ssn, "000000000"), Err(ServiceError::InvalidInput(_))));
    assert_eq!(registry.find_subject(IdType::Ssn, "123456789").unwrap(), None);
}

/// Exports a furnisher's cycle into `out`, as the operator at the command line.
pub fn export_to(
    registry: &Registry,
    furnisher: &registry_core::model::FurnisherId,
    as_of: registry_core::model::Date,
    format: registry_service::export::ExportFormat,
    out: &mut Vec<u8>,
) -> Result<registry_service::export::ExportSummary, ServiceError> {
    let access = registry_service::audit::Access::command_line(registry_service::audit::AccessAction::Export, None);
    let request = registry_service::export::ExportRequest { furnisher: furnisher.clone(), as_of, format, identification_number: None };
    registry.export(&access, &request, registry_service::disclosure::Destination::Stream(out))
}
