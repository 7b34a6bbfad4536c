//! Report build time for a subject with 10 accounts × 24 monthly records: the pure summary
//! and grid computation, and the whole path from the embedded store (read, unseal, build).

use std::hint::black_box;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use registry_core::furnishing::{Entry, FurnishingReader, LINE_BYTES_MAX_DEFAULT, Rules};
use registry_core::model::{FurnisherId, IdType};
use registry_core::report::{AccountHistory, Audience, StoredRecord, SubjectFile, SubjectKey, SubjectLink, build_report};
use registry_service::clock::FixedClock;
use registry_service::{IngestOptions, NoProgress, Registry, RegistrySettings};

mod common;

use common::{ID, history_file};

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let clock = FixedClock(Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap());
    let registry = Registry::open(RegistrySettings::new(dir.path()), Arc::new(clock)).unwrap();
    let file = history_file();
    let furnisher = FurnisherId::parse("bank").unwrap();
    registry.ingest(&furnisher, None, &mut file.as_bytes(), &IngestOptions::default(), &NoProgress).unwrap();
    let subject = registry.find_subject(IdType::CnRid, ID).unwrap().unwrap();
    let day: registry_core::model::Date = "2026-11-01".parse().unwrap();
    let as_of = Some(day);
    let report = registry.report_unlogged(subject, as_of, Audience::Masked).unwrap().unwrap();
    assert_eq!(report.accounts.len(), 10);

    // The same subject file in memory, as the store hands it over: the pure computation alone.
    let mut reader = FurnishingReader::new(file.as_bytes(), Rules { today: "2026-11-21".parse().unwrap() }, LINE_BYTES_MAX_DEFAULT);
    let mut accounts: Vec<AccountHistory> = Vec::new();
    let mut identifier = None;
    while let Some(Entry::Accepted { record, .. }) = reader.next_entry().unwrap() {
        identifier.get_or_insert_with(|| record.subjects[0].id.clone());
        let links = vec![SubjectLink { subject: 1, role: record.subjects[0].role, identity: 1 }];
        let stored = StoredRecord { facts: record.facts, subjects: links };
        match accounts.iter_mut().find(|a| a.records[0].facts.account == stored.facts.account) {
            Some(history) => history.records.push(stored),
            None => accounts.push(AccountHistory { furnisher: "bank".into(), records: vec![stored] }),
        }
    }
    let subject_file = SubjectFile {
        subject: SubjectKey(1),
        identifier: identifier.unwrap(),
        identities: vec![],
        accounts,
        inquiries: vec![],
        registry_alerts: vec![],
    };
    assert_eq!(build_report(&subject_file, day, Audience::Masked).accounts.len(), 10);

    let mut group = c.benchmark_group("report_10_accounts_24_months");
    group.bench_function("build_only", |b| b.iter(|| build_report(black_box(&subject_file), day, Audience::Masked)));
    group.bench_function("from_store", |b| b.iter(|| registry.report_unlogged(black_box(subject), as_of, Audience::Masked).unwrap()));
    group.bench_function("find_subject_and_report", |b| {
        b.iter(|| {
            let subject = registry.find_subject(IdType::CnRid, black_box(ID)).unwrap().unwrap();
            registry.report_unlogged(subject, as_of, Audience::Masked).unwrap()
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
