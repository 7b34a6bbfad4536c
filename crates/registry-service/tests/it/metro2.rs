//! Metro 2 through the whole application: the same facts as Metro 2 or JSON Lines give the same
//! reports, and what the registry exports as Metro 2 gives them again.

use std::path::Path;

use registry_core::model::{Date, FurnisherId, IdType};
use registry_core::report::{Audience, YearMonth};
use registry_service::export::ExportFormat;
use registry_service::{IngestOptions, IngestOutcome, NoProgress, Registry, ServiceError};
use registry_synth::{FileFormat, Manifest, Market, Params};

fn population(dir: &Path, format: FileFormat) -> Manifest {
    let params =
        Params { seed: 9, warmup_months: 6, market: Market::Us, format, ..Params::new(150, 4, YearMonth::parse("2022-05").unwrap()) };
    registry_synth::generate(&params, dir, &mut |_| {}).unwrap()
}

fn ingest_all(registry: &Registry, dir: &Path, manifest: &Manifest) {
    for file in &manifest.files {
        let bytes = std::fs::read(dir.join(&file.path)).unwrap();
        let furnisher = FurnisherId::parse(&file.furnisher).unwrap();
        let outcome = registry.ingest(&furnisher, Some(&file.path), &mut &bytes[..], &IngestOptions::default(), &NoProgress).unwrap();
        let IngestOutcome::Applied(summary) = &outcome else { panic!("{}: {outcome:?}", file.path) };
        assert_eq!((summary.rejected_count, summary.accepted_count), (0, file.records), "{}", file.path);
    }
}

/// Every subject's report, as JSON, in one registry.
fn reports(registry: &Registry, subjects: u32, as_of: Date) -> Vec<serde_json::Value> {
    (0..subjects)
        .map(|index| {
            let ssn = registry_synth::make_ssn(9, index);
            let Some(subject) = registry.find_subject(IdType::Ssn, &ssn).unwrap() else { return serde_json::Value::Null };
            serde_json::to_value(registry.report_unlogged(subject, Some(as_of), Audience::Subject).unwrap().unwrap()).unwrap()
        })
        .collect()
}

super::on_both_backends!(metro2_and_json_lines_of_the_same_facts_give_the_same_reports, what_metro2_cannot_say_fails_the_export_by_name);

fn metro2_and_json_lines_of_the_same_facts_give_the_same_reports(backend: super::Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (jsonl, metro2) = (dir.path().join("jsonl"), dir.path().join("metro2"));
    let jsonl_manifest = population(&jsonl, FileFormat::JsonLines);
    let metro2_manifest = population(&metro2, FileFormat::Metro2);
    assert_eq!(jsonl_manifest.records, metro2_manifest.records);

    let Some(from_jsonl) = super::open_on(backend, &dir.path().join("registry-jsonl")) else { return };
    ingest_all(&from_jsonl, &jsonl, &jsonl_manifest);
    let Some(from_metro2) = super::open_on(backend, &dir.path().join("registry-metro2")) else { return };
    ingest_all(&from_metro2, &metro2, &metro2_manifest);

    let as_of: Date = "2022-05-31".parse().unwrap();
    let expected = reports(&from_jsonl, 150, as_of);
    assert!(expected.iter().filter(|r| !r.is_null()).count() > 100, "most people have credit");
    assert_eq!(reports(&from_metro2, 150, as_of), expected);

    // What the registry holds, exported as Metro 2 and ingested elsewhere, gives them again.
    let Some(again) = super::open_on(backend, &dir.path().join("registry-again")) else { return };
    for file in &jsonl_manifest.files {
        let furnisher = FurnisherId::parse(&file.furnisher).unwrap();
        let month = YearMonth::parse(&file.month).unwrap();
        let mut exported = Vec::new();
        // A month's file may also correct last month's records: the export holds the month's.
        let summary = crate::export_to(&from_jsonl, &furnisher, month.day(1), ExportFormat::Metro2, &mut exported).unwrap();
        assert_eq!(summary.amounts_truncated, 0);
        let validated = metro2::validate(&exported[..], metro2::Mode::Strict, |p| panic!("{p}")).unwrap();
        assert_eq!(validated.data_records, summary.records);
        let outcome = again.ingest(&furnisher, None, &mut &exported[..], &IngestOptions::default(), &NoProgress).unwrap();
        assert!(matches!(outcome, IngestOutcome::Applied(ref s) if s.rejected_count == 0), "{outcome:?}");
    }
    assert_eq!(reports(&again, 150, as_of), expected);
}

fn what_metro2_cannot_say_fails_the_export_by_name(backend: super::Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = super::open_on(backend, dir.path()) else { return };
    let bytes = std::fs::read(super::examples().join("spec-example.jsonl")).unwrap();
    let furnisher = FurnisherId::parse("payplat").unwrap();
    registry.ingest(&furnisher, None, &mut &bytes[..], &IngestOptions::default(), &NoProgress).unwrap();
    let mut out = Vec::new();
    let error = crate::export_to(&registry, &furnisher, "2021-06-30".parse().unwrap(), ExportFormat::Metro2, &mut out).unwrap_err();
    let ServiceError::NotExpressible(message) = error else { panic!("{error:?}") };
    assert!(message.starts_with("2 of 2 records cannot be written as Metro 2"), "{message}");
    assert!(message.contains("HB-000123") && message.contains("cn_rid"), "{message}");
    // As JSON Lines they can: the same records, re-ingestible.
    let mut out = Vec::new();
    let summary = crate::export_to(&registry, &furnisher, "2021-06-30".parse().unwrap(), ExportFormat::JsonLines, &mut out).unwrap();
    assert_eq!(summary.records, 2);
    let Some(elsewhere) = super::open_on(backend, &dir.path().join("elsewhere")) else { return };
    let outcome = elsewhere.ingest(&furnisher, None, &mut &out[..], &IngestOptions::default(), &NoProgress).unwrap();
    assert!(matches!(outcome, IngestOutcome::Applied(ref s) if s.accepted_count == 2), "{outcome:?}");
    // A month with nothing in it is not found.
    let error =
        crate::export_to(&registry, &furnisher, "2021-07-01".parse().unwrap(), ExportFormat::JsonLines, &mut Vec::new()).unwrap_err();
    assert!(matches!(error, ServiceError::NotFound(_)), "{error:?}");
}
