//! Report summaries computed by hand: the spec's worked examples, read straight from
//! `shared/spec/examples`, and small fixtures for each definition.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::*;
use crate::furnishing::{Entry, FurnishingReader, LINE_BYTES_MAX_DEFAULT, Rules};
use crate::model::{AccountRecord, Pii};

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/examples")
}

/// Builds a subject file the way the store would: one subject per identifier, records grouped
/// by (furnisher, account), a later record with the same key replacing the earlier one.
fn file_of(records: &[(String, AccountRecord)], id: &str) -> SubjectFile {
    let mut accounts: BTreeMap<(String, String), BTreeMap<Date, StoredRecord>> = BTreeMap::new();
    let mut identities = Vec::new();
    let mut identifier = None;
    for (furnisher, record) in records {
        let mut links = Vec::new();
        for subject in &record.subjects {
            let key = if subject.id.id.0 == id { 1 } else { 2 };
            let identity = identities.len() as i64;
            links.push(SubjectLink { subject: key, role: subject.role, identity });
            if key == 1 {
                identifier = Some(subject.id.clone());
                identities.push(ReportedBy { key: identity, furnisher: furnisher.clone(), identity: subject.reported_identity() });
            }
        }
        accounts
            .entry((furnisher.clone(), record.facts.account.clone()))
            .or_default()
            .insert(record.facts.as_of, StoredRecord { facts: record.facts.clone(), subjects: links });
    }
    SubjectFile {
        subject: SubjectKey(1),
        identifier: identifier.expect("subject appears"),
        identities,
        accounts: accounts
            .into_iter()
            .map(|((furnisher, _), records)| AccountHistory { furnisher, records: records.into_values().collect() })
            .collect(),
        inquiries: vec![],
        registry_alerts: vec![],
    }
}

fn read_records(text: &str, furnisher: &str) -> Vec<(String, AccountRecord)> {
    let mut reader = FurnishingReader::new(text.as_bytes(), Rules { today: d("2026-01-01") }, LINE_BYTES_MAX_DEFAULT);
    let mut out = Vec::new();
    while let Some(entry) = reader.next_entry().unwrap() {
        match entry {
            Entry::Accepted { record, .. } => out.push((furnisher.to_string(), record)),
            Entry::Rejected { errors, .. } => panic!("example record rejected: {errors:?}"),
        }
    }
    out
}

#[test]
fn spec_worked_examples_give_their_exact_summaries() {
    let mut checked = 0;
    for entry in std::fs::read_dir(examples_dir()).expect("shared/spec/examples beside the repository") {
        let path = entry.unwrap().path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        let Some(stem) = name.strip_suffix(".summary.json") else { continue };
        let expected: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let text = std::fs::read_to_string(examples_dir().join(format!("{stem}.jsonl"))).unwrap();
        let records = read_records(&text, expected["furnisher"].as_str().unwrap());
        let file = file_of(&records, expected["subject"]["id"].as_str().unwrap());
        let report = build_report(&file, d(expected["as_of"].as_str().unwrap()), Audience::Masked);
        assert_eq!(serde_json::to_value(&report.summary).unwrap(), expected["summary"], "{stem}");
        checked += 1;
    }
    assert!(checked >= 2, "expected the two worked examples, found {checked}");
}

fn record(value: Value) -> AccountRecord {
    let text = value.to_string();
    read_records(&text, "f").remove(0).1
}

fn card(account: &str, as_of: &str, extra: Value) -> Value {
    let mut base = json!({"account": account, "as_of": as_of, "product": "credit_card", "opened": "2019-01-01",
        "currency": "CNY", "credit_limit": 100000, "balance": 33333, "past_due": 0, "status": "current",
        "subjects": [{"role": "primary", "id_type": "ssn", "id": "123456789", "family_name": "Doe", "given_name": "Jo", "birth_date": "1980-01-01"}]});
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

fn report_of(records: Vec<(&str, Value)>, as_of: &str) -> Report {
    let records: Vec<(String, AccountRecord)> = records.into_iter().map(|(f, v)| (f.to_string(), record(v))).collect();
    build_report(&file_of(&records, "123456789"), d(as_of), Audience::Masked)
}

#[test]
fn utilization_rounds_half_up_to_four_decimals() {
    assert_eq!(utilization(33333, 100000), Some(0.3333));
    assert_eq!(utilization(33335, 100000), Some(0.3334));
    assert_eq!(utilization(1, 3), Some(0.3333));
    assert_eq!(utilization(2, 3), Some(0.6667));
    assert_eq!(utilization(150, 100), Some(1.5));
    assert_eq!(utilization(0, 0), None);
}

#[test]
fn per_currency_fields_hold_only_their_own_currencies() {
    let report = report_of(
        vec![
            ("a", card("C1", "2022-01-31", json!({}))),
            ("b", card("C2", "2022-01-31", json!({"currency": "USD", "credit_limit": 0, "balance": 0}))),
            (
                "b",
                card(
                    "L1",
                    "2022-01-31",
                    json!({"product": "auto_loan", "credit_limit": null, "original_amount": 900000, "term_months": 36, "currency": "EUR", "balance": 0, "status": "paid", "closed": "2022-01-15"}),
                ),
            ),
        ],
        "2022-02-15",
    );
    let summary = serde_json::to_value(&report.summary).unwrap();
    assert_eq!(summary["balance_open"], json!({"CNY": 33333, "USD": 0}));
    assert_eq!(summary["revolving_limit"], json!({"CNY": 100000, "USD": 0}));
    assert_eq!(summary["revolving_utilization"], json!({"CNY": 0.3333, "USD": null}));
    assert_eq!(summary["past_due_total"], json!({"CNY": 0, "EUR": 0, "USD": 0}));
    assert_eq!(summary["accounts_open"], 2);
    assert_eq!(summary["lenders_open"], 2);
    assert_eq!(summary["accounts_total"], 3);
}

#[test]
fn an_unknown_date_gives_an_empty_report_and_later_records_do_not_count() {
    let report = report_of(vec![("a", card("C1", "2022-01-31", json!({})))], "2021-12-31");
    assert_eq!(report.summary, Summary::default());
    assert!(report.accounts.is_empty());
    let summary = serde_json::to_value(&report.summary).unwrap();
    assert_eq!(summary["balance_open"], json!({}));
}

#[test]
fn the_latest_record_decides_membership_and_terminated_subjects_lose_the_account() {
    let other = json!({"role": "primary", "id_type": "ssn", "id": "387654321", "family_name": "Roe", "given_name": "Al", "birth_date": "1981-01-01"});
    let me_terminated = json!({"role": "terminated", "id_type": "ssn", "id": "123456789", "family_name": "Doe", "given_name": "Jo"});
    let report = report_of(
        vec![("a", card("C1", "2022-01-31", json!({}))), ("a", card("C1", "2022-02-28", json!({"subjects": [other, me_terminated]})))],
        "2022-03-15",
    );
    assert_eq!(report.summary.accounts_total, 0);
    // As of January the subject was still on it.
    let report = report_of(vec![("a", card("C1", "2022-01-31", json!({})))], "2022-01-31");
    assert_eq!(report.summary.accounts_total, 1);
}

#[test]
fn grid_prefers_record_statuses_then_the_newest_covering_history() {
    let report = report_of(
        vec![
            // Says months Dec, Nov, Oct were 1, 2, 3.
            ("a", card("C1", "2022-01-31", json!({"payment_history": "123"}))),
            // Newer: says Jan was 0, Dec was 0 (overrides the older profile for Dec).
            ("a", card("C1", "2022-02-28", json!({"payment_history": "00"}))),
            // A record in Dec rates Dec itself, beating both profiles.
            ("a", card("C1", "2021-12-31", json!({"status": "dpd60", "past_due": 10, "first_delinquency": "2021-11-01"}))),
        ],
        "2022-02-28",
    );
    let grid = &report.accounts[0].payment_grid;
    let tail: String = grid[grid.len() - 5..].iter().map(|m| m.rating.map_or('.', super::super::model::Rating::as_char)).collect();
    // Oct from the January profile (3), Nov from it (2), Dec from its record (2), Jan rated by its record (0), Feb (0).
    assert_eq!(tail, "32200");
    assert_eq!(grid.len(), 24);
    assert_eq!(grid[0].month.to_string(), "2020-03");
    assert_eq!(report.summary.late_60_89_24m, 2);
    assert_eq!(report.summary.late_90_plus_24m, 1);
}

#[test]
fn a_deleted_account_is_gone_at_every_date() {
    let report = report_of(
        vec![("a", card("C1", "2021-01-31", json!({}))), ("a", card("C1", "2022-01-31", json!({"status": "delete", "balance": 0})))],
        "2021-06-30",
    );
    assert_eq!(report.summary.accounts_total, 0);
}

#[test]
fn accounts_sort_newest_first_then_by_furnisher_and_account() {
    let report = report_of(
        vec![
            ("b", card("B2", "2022-01-31", json!({}))),
            ("a", card("A9", "2021-12-31", json!({}))),
            ("b", card("B1", "2022-01-31", json!({}))),
            ("a", card("Z1", "2022-01-31", json!({}))),
        ],
        "2022-02-15",
    );
    let order: Vec<&str> = report.accounts.iter().map(|a| a.account.as_str()).collect();
    assert_eq!(order, ["Z1", "B1", "B2", "A9"]);
}

#[test]
fn name_and_birth_date_disagreements_are_kept_and_flagged() {
    let variant = |family: &str, birth: &str| json!([{"role": "primary", "id_type": "other", "id": "P123", "family_name": family, "given_name": "Xiao-Ming", "birth_date": birth}]);
    let records: Vec<(String, AccountRecord)> = vec![
        ("a".into(), record(card("C1", "2022-01-31", json!({"subjects": variant("Lu", "1980-01-02")})))),
        ("b".into(), record(card("C2", "2022-01-31", json!({"subjects": variant("LU", "1980-01-02")})))),
    ];
    let report = build_report(&file_of(&records, "P123"), d("2022-02-01"), Audience::Masked);
    assert!(!report.subject.name_mismatch, "case alone is not a mismatch");
    assert_eq!(report.subject.names.len(), 2, "both spellings are kept");
    let mut records = records;
    records.push(("c".into(), record(card("C3", "2022-01-31", json!({"subjects": variant("Lv", "1980-02-01")})))));
    let report = build_report(&file_of(&records, "P123"), d("2022-02-01"), Audience::Masked);
    assert!(report.subject.name_mismatch && report.subject.birth_date_mismatch);
    let kinds: Vec<AlertKind> = report.alerts.iter().map(|a| a.kind).collect();
    assert!(kinds.contains(&AlertKind::NameMismatch) && kinds.contains(&AlertKind::BirthDateMismatch));
    assert_eq!(report.subject.identifiers[0].id, "****");
    let full = build_report(&file_of(&records, "P123"), d("2022-02-01"), Audience::Subject);
    assert_eq!(full.subject.identifiers[0].id, "P123");
}

#[test]
fn a_deleted_account_takes_its_reported_name_with_it() {
    let misreported = json!([{"role": "primary", "id_type": "ssn", "id": "123456789", "family_name": "Li", "given_name": "Jo", "birth_date": "1980-01-01"}]);
    let records =
        vec![("a", card("C1", "2022-01-31", json!({}))), ("b", card("Z", "2022-01-31", json!({"subjects": misreported.clone()})))];
    let report = report_of(records.clone(), "2022-02-15");
    assert!(report.subject.name_mismatch);
    let mut records = records;
    records.push(("b", card("Z", "2022-02-10", json!({"subjects": misreported, "status": "delete", "balance": 0}))));
    let report = report_of(records, "2022-02-15");
    assert!(!report.subject.name_mismatch, "{:?}", report.subject.names);
    assert_eq!(report.subject.names.len(), 1);
}

#[test]
fn applications_in_the_last_six_months_count() {
    let mut file = file_of(&[("a".into(), record(card("C1", "2022-01-31", json!({}))))], "123456789");
    let inquiry = |date: &str, purpose: &str| Inquiry { date: d(date), lender: "x".into(), purpose: purpose.into() };
    file.inquiries = vec![
        inquiry("2022-06-30", "credit_application"),
        inquiry("2022-01-01", "credit_application"),
        inquiry("2021-12-31", "credit_application"),
        inquiry("2021-12-30", "credit_application"),
        inquiry("2022-03-01", "account_review"),
        inquiry("2022-07-01", "credit_application"),
    ];
    let report = build_report(&file, d("2022-06-30"), Audience::Masked);
    assert_eq!(report.summary.inquiries_6m, 3);
    assert_eq!(report.inquiries.len(), 5);
}

#[test]
fn text_rendering_shows_summary_and_grid() {
    let report = report_of(vec![("bankx", card("C1", "2022-01-31", json!({"payment_history": "1"})))], "2022-01-31");
    let text = render_text(&report);
    assert!(text.contains("CNY 333.33"), "{text}");
    assert!(text.contains("bankx C1"), "{text}");
    assert!(text.contains("30-59: 1"), "{text}");
    assert!(text.contains("33.33%"), "{text}");
    assert!(!text.contains("123456789"), "identifiers are masked");
    let _ = Pii(0);
}
