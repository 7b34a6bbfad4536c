//! Every door personal data leaves by, on both backends: a read is in the access log, and in
//! each person's own accesses where it names them, before anything is handed over; a read that
//! fails hands nothing over and logs nothing.

use std::cell::Cell;
use std::ops::ControlFlow;
use std::path::Path;

use registry_core::model::IdType;
use registry_core::report::{Audience, SubjectKey};
use registry_service::audit::{Access, AccessAction, AccessEntry};
use registry_service::disclosure::Destination;
use registry_service::export::{ExportFormat, ExportRequest};
use registry_service::{Registry, ServiceError};

use crate::{Backend, examples, furnisher, ingest, on_both_backends, open_on};

on_both_backends!(
    a_report_is_logged_naming_its_subject,
    history_names_every_person_on_the_account,
    an_export_is_logged_once_and_written_for_its_owner_only,
    an_archived_file_is_a_logged_read_written_for_its_owner_only,
    batch_work_is_logged_before_the_first_subject_is_read,
);

const WANG: &str = "11010519491231002X";
const CHEN: &str = "320102198706153316";

/// An account of Wang's with Chen on it as joint borrower.
const JOINT: &str = r#"{"account":"JT-1","as_of":"2021-06-30","product":"credit_card","opened":"2019-05-01","currency":"CNY","credit_limit":500000,"balance":100000,"past_due":0,"status":"current","subjects":[{"role":"primary","id_type":"cn_rid","id":"11010519491231002X","family_name":"Wang","given_name":"Fang","birth_date":"1949-12-31"},{"role":"joint","id_type":"cn_rid","id":"320102198706153316","family_name":"Chen","given_name":"Jing","birth_date":"1987-06-15"}]}"#;

fn operator(action: AccessAction) -> Access {
    Access::command_line(action, Some("a test".into()))
}

/// How many entries the access log holds (and that it verifies).
fn log_size(registry: &Registry) -> u64 {
    registry.verify_log().unwrap().unwrap().entries
}

fn accesses(registry: &Registry, subject: SubjectKey) -> Vec<AccessEntry> {
    registry.subject_accesses(subject).unwrap()
}

fn subject(registry: &Registry, id: &str) -> SubjectKey {
    registry.find_subject(IdType::CnRid, id).unwrap().unwrap()
}

#[cfg(unix)]
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(not(unix))]
fn mode_of(_: &Path) -> u32 {
    0o600
}

fn a_report_is_logged_naming_its_subject(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = open_on(backend, dir.path()) else { return };
    ingest(&registry, "payplat", &std::fs::read(examples().join("spec-example.jsonl")).unwrap());
    let wang = subject(&registry, WANG);
    let report = registry.read_report(&operator(AccessAction::DrillDown), wang, None, Audience::Masked).unwrap();
    assert!(report.is_some());
    assert_eq!(log_size(&registry), 1);
    let seen = accesses(&registry, wang);
    assert_eq!((seen.len(), seen[0].action, seen[0].subject.clone()), (1, AccessAction::DrillDown, Some(wang.registry_id())));
    // Nobody there: nothing read, nothing logged.
    let nobody = registry.read_report(&operator(AccessAction::DrillDown), SubjectKey(wang.0 + 1000), None, Audience::Masked).unwrap();
    assert!(nobody.is_none());
    assert_eq!(log_size(&registry), 1);
}

fn history_names_every_person_on_the_account(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = open_on(backend, dir.path()) else { return };
    ingest(&registry, "payplat", JOINT.as_bytes());
    let (wang, chen) = (subject(&registry, WANG), subject(&registry, CHEN));
    let versions = registry.account_history(&operator(AccessAction::DrillDown), &furnisher("payplat"), "JT-1").unwrap();
    assert_eq!(versions.len(), 1);
    // One entry for each person on it, each in that person's own accesses.
    assert_eq!(log_size(&registry), 2);
    for person in [wang, chen] {
        let seen = accesses(&registry, person);
        assert_eq!(seen.len(), 1, "{person:?}");
        assert_eq!((seen[0].action, seen[0].purpose.as_deref()), (AccessAction::DrillDown, Some("a test")));
    }
    let missing = registry.account_history(&operator(AccessAction::DrillDown), &furnisher("payplat"), "NO-SUCH").unwrap_err();
    assert!(matches!(missing, ServiceError::NotFound(_)), "{missing:?}");
    assert_eq!(log_size(&registry), 2);
}

fn an_export_is_logged_once_and_written_for_its_owner_only(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = open_on(backend, dir.path()) else { return };
    ingest(&registry, "payplat", &std::fs::read(examples().join("spec-example.jsonl")).unwrap());
    let request = |as_of: &str, format| ExportRequest {
        furnisher: furnisher("payplat"),
        as_of: as_of.parse().unwrap(),
        format,
        identification_number: None,
    };
    let outputs = dir.path().join("out");
    std::fs::create_dir(&outputs).unwrap();
    let out = outputs.join("cycle.jsonl");
    let summary =
        registry.export(&operator(AccessAction::Export), &request("2021-06-30", ExportFormat::JsonLines), Destination::File(&out)).unwrap();
    assert_eq!(summary.records, 2);
    assert!(std::fs::read_to_string(&out).unwrap().contains("HB-000123"));
    assert_eq!(mode_of(&out), 0o600);
    assert_eq!(log_size(&registry), 1, "one entry for the cycle");
    // A microloan has no Metro 2 account type: refused whole, no file, nothing logged.
    let refused = outputs.join("cycle.metro2");
    let error = registry
        .export(&operator(AccessAction::Export), &request("2021-06-30", ExportFormat::Metro2), Destination::File(&refused))
        .unwrap_err();
    assert!(matches!(error, ServiceError::NotExpressible(_)), "{error:?}");
    assert!(!refused.exists());
    // A month without records: not found, nothing logged.
    let error = registry
        .export(&operator(AccessAction::Export), &request("2021-07-31", ExportFormat::JsonLines), Destination::Stream(&mut Vec::new()))
        .unwrap_err();
    assert!(matches!(error, ServiceError::NotFound(_)), "{error:?}");
    assert_eq!(log_size(&registry), 1);
    // Nothing temporary is left beside the output.
    assert_eq!(std::fs::read_dir(&outputs).unwrap().count(), 1);
}

fn an_archived_file_is_a_logged_read_written_for_its_owner_only(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = open_on(backend, dir.path()) else { return };
    let bytes = std::fs::read(examples().join("spec-example.jsonl")).unwrap();
    ingest(&registry, "payplat", &bytes);
    let archived = registry.archived_files().unwrap();
    assert_eq!(archived.len(), 1);
    assert_eq!(log_size(&registry), 0, "listing the archive reads no one's data");
    let out = dir.path().join("back.jsonl");
    let access = operator(AccessAction::ArchiveRead);
    let written = registry.archived_file(&access, &archived[0].content_sha256, Destination::File(&out)).unwrap();
    assert_eq!((written, std::fs::read(&out).unwrap()), (bytes.len() as u64, bytes));
    assert_eq!(mode_of(&out), 0o600);
    assert_eq!(log_size(&registry), 1);
    // An unknown file and a malformed hash: nothing written, nothing logged.
    let nothing = dir.path().join("nothing");
    let unknown = registry.archived_file(&access, &"0".repeat(64), Destination::File(&nothing)).unwrap_err();
    assert!(matches!(unknown, ServiceError::NotFound(_)), "{unknown:?}");
    let malformed = registry.archived_file(&access, "../../etc/passwd", Destination::File(&nothing)).unwrap_err();
    assert!(matches!(malformed, ServiceError::InvalidInput(_)), "{malformed:?}");
    assert!(!nothing.exists());
    assert_eq!(log_size(&registry), 1);
}

fn batch_work_is_logged_before_the_first_subject_is_read(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = open_on(backend, dir.path()) else { return };
    ingest(&registry, "payplat", &std::fs::read(examples().join("history-example.jsonl")).unwrap());
    let as_of = "2021-12-31".parse().unwrap();
    // Scoring every subject: when the first subject arrives, its run is in the log already.
    let logged_when_first = Cell::new(None);
    registry
        .score_all(&operator(AccessAction::ScoreBatch), as_of, &mut |_, _, _| {
            if logged_when_first.get().is_none() {
                logged_when_first.set(Some(log_size(&registry)));
            }
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(logged_when_first.get(), Some(1));
    assert_eq!(log_size(&registry), 1, "one entry for the run");
    // A development sample likewise; one with a horizon it cannot have logs nothing.
    let logged_when_first = Cell::new(None);
    registry
        .development_sample(&operator(AccessAction::ScoreBatch), as_of, 6, &mut |_, _| {
            if logged_when_first.get().is_none() {
                logged_when_first.set(Some(log_size(&registry)));
            }
        })
        .unwrap();
    assert_eq!(log_size(&registry), 2);
    assert!(logged_when_first.get().is_none_or(|size| size == 2), "{:?}", logged_when_first.get());
    let refused = registry.development_sample(&operator(AccessAction::ScoreBatch), as_of, 30, &mut |_, _| {}).unwrap_err();
    assert!(matches!(refused, ServiceError::InvalidInput(_)), "{refused:?}");
    assert_eq!(log_size(&registry), 2);
}
