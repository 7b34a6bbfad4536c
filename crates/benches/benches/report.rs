//! Report build time for a subject with 10 accounts × 24 monthly records: the pure summary
//! and grid computation, and the whole path from the embedded store (read, unseal, build).

use std::hint::black_box;
use std::sync::Arc;

use chrono::{Datelike, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use registry_core::furnishing::{Entry, FurnishingReader, LINE_BYTES_MAX_DEFAULT, Rules};
use registry_core::model::{FurnisherId, IdType};
use registry_core::report::{AccountHistory, Audience, StoredRecord, SubjectFile, SubjectKey, SubjectLink, YearMonth, build_report};
use registry_service::clock::FixedClock;
use registry_service::{IngestOptions, NoProgress, Registry, RegistrySettings};

const ID: &str = "11010519491231002X";

/// Ten accounts of one subject, each with a record for each of 24 months.
fn history_file() -> String {
    let mut lines = String::new();
    let first = YearMonth::parse("2024-11").unwrap();
    for account in 0..10 {
        for month in 0..24 {
            let as_of = first.plus(month).last_day();
            let (product, terms) = if account % 2 == 0 {
                ("credit_card", r#""credit_limit":800000"#.to_string())
            } else {
                ("installment_loan", r#""original_amount":500000,"term_months":36"#.to_string())
            };
            let status = if month % 7 == 3 {
                r#""status":"dpd30","past_due":1000,"first_delinquency":"2024-01-01""#
            } else {
                r#""status":"current","past_due":0"#
            };
            lines.push_str(&format!(
                r#"{{"account":"A{account}","as_of":"{as_of}","product":"{product}","opened":"2020-01-0{}","currency":"CNY",{terms},"balance":{},{status},"payment_history":"000000000000000000000000","subjects":[{{"role":"primary","id_type":"cn_rid","id":"{ID}","family_name":"Wang","given_name":"Fang","birth_date":"1949-12-31"}}]}}"#,
                1 + account % 9,
                200_000 + month * 100,
            ));
            lines.push('\n');
            let _ = as_of.day();
        }
    }
    lines
}

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
