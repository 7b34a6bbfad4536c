//! The Metro 2 mapping: furnishing records written as Metro 2 and read back are the same
//! records; codes map as docs/metro2.md says; problems name Metro 2 fields.

use serde_json::{Value, json};

use metro2::layout::base;
use metro2::{SegmentBuf, SegmentKind};

use super::map::{payment_history_of, term_months};
use super::*;
use crate::furnishing::json::Json;
use crate::furnishing::{Draft, Format, validate_record};
use crate::model::{AccountRecord, Product, Role, Status};

fn rules() -> Rules {
    Rules { today: "2024-12-31".parse().unwrap() }
}

fn primary() -> Value {
    json!({"role": "primary", "id_type": "ssn", "id": "123456789", "family_name": "DOE", "given_name": "JANE Q",
           "birth_date": "1980-02-29", "phone": "5551234567",
           "address": {"line1": "1 MAIN ST", "line2": "APT 2", "city": "SPRINGFIELD", "region": "IL", "postal_code": "62701", "country": "US"}})
}

fn card() -> Value {
    json!({"account": "CARD-1", "as_of": "2024-10-31", "product": "credit_card", "opened": "2019-03-14",
           "currency": "USD", "credit_limit": 500000, "scheduled_payment": 2500, "actual_payment": 10000,
           "balance": 123400, "past_due": 0, "status": "current", "payment_history": "0000000",
           "last_payment": "2024-10-15", "special_comment": "AU", "subjects": [primary()]})
}

fn record(value: &Value) -> AccountRecord {
    let text = value.to_string();
    validate_record(&Draft::from_json(&Json::parse(&text).unwrap()), 1, &rules()).unwrap_or_else(|e| panic!("{e:?}"))
}

fn header() -> SegmentBuf {
    use metro2::layout::header::*;
    let mut header = SegmentBuf::new(SegmentKind::Header, metro2::Encoding::Character);
    header.set_date(ACTIVITY_DATE, metro2::Date::new(2024, 10, 31)).unwrap();
    header.set_date(DATE_CREATED, metro2::Date::new(2024, 11, 1)).unwrap();
    header.set_text(REPORTER_NAME, "EXAMPLE BANK").unwrap();
    header.set_text(REPORTER_ADDRESS, "1 BANK PLAZA").unwrap();
    header
}

/// A Metro 2 file of `header` and these records' segments.
fn file(header: &SegmentBuf, records: &[(SegmentBuf, Vec<SegmentBuf>)]) -> Vec<u8> {
    let framing = metro2::Framing { encoding: metro2::Encoding::Character, blocked: false };
    let mut writer = metro2::Writer::new(Vec::new(), framing, true, header).unwrap();
    for (base_segment, appended) in records {
        writer.record(base_segment, appended).unwrap();
    }
    writer.finish().unwrap()
}

/// Writes records as a Metro 2 file and reads it back.
fn round_trip(records: &[AccountRecord]) -> Vec<Entry> {
    let mut segments = Vec::new();
    for record in records {
        let exported = export_record(record, "EXAMPLEBANK01").unwrap();
        assert_eq!(exported.amounts_truncated, 0);
        segments.push((exported.base, exported.appended));
    }
    read(&file(&header(), &segments), Mode::Strict)
}

fn read(bytes: &[u8], mode: Mode) -> Vec<Entry> {
    let options = Metro2Options { mode, ..Metro2Options::default() };
    let mut reader = Metro2Reader::new(bytes, rules(), options);
    let mut entries = Vec::new();
    while let Some(entry) = reader.next_entry().unwrap() {
        entries.push(entry);
    }
    entries
}

fn accepted(entry: &Entry) -> &AccountRecord {
    match entry {
        Entry::Accepted { record, .. } => record,
        Entry::Rejected { errors, .. } => panic!("rejected: {errors:?}"),
    }
}

fn rejected(entry: &Entry) -> Vec<(String, &'static str)> {
    match entry {
        Entry::Rejected { errors, .. } => errors.iter().map(|e| (e.field.clone(), e.code.as_str())).collect(),
        Entry::Accepted { .. } => panic!("accepted"),
    }
}

/// A record of every status, in every product Metro 2 can express, with associated consumers
/// of every kind: written and read back, each is the record it was (plus the identification
/// number the file carried).
#[test]
fn records_survive_metro2_and_back() {
    let mut originals = Vec::new();
    for (i, status) in Status::ALL.iter().enumerate() {
        let mut value = card();
        value["account"] = json!(format!("ACCT-{i}"));
        value["status"] = json!(status.as_str());
        if status.requires_zero_balance() {
            value["balance"] = json!(0);
            value["closed"] = json!("2024-10-20");
        }
        if status.is_delinquent() || status.is_derogatory() {
            value["first_delinquency"] = json!("2024-06-05");
            value["past_due"] = json!(if status.requires_zero_balance() { 0 } else { 50000 });
        }
        originals.push(record(&value));
    }
    let loan = json!({"account": "LOAN-1", "as_of": "2024-10-31", "product": "installment_loan", "opened": "2024-01-05",
        "currency": "USD", "original_amount": 1200000, "term_months": 36, "scheduled_payment": 40000,
        "balance": 900000, "past_due": 0, "status": "current", "dispute": "disputed",
        "subjects": [
            {"role": "joint", "id_type": "ssn", "id": "234567890", "family_name": "DOE", "given_name": "JOHN"},
            primary(),
            {"role": "cosigner", "id_type": "ssn", "id": "345678901", "family_name": "ROE", "given_name": "RICHARD",
             "birth_date": "1950-01-01", "address": {"line1": "9 ELM ST", "city": "DALLAS", "region": "TX", "postal_code": "75201", "country": "US"}},
            {"role": "authorized_user", "id_type": "ssn", "id": "456789012", "family_name": "DOE", "given_name": "JUNIOR"}]});
    originals.push(record(&loan));
    for (product, fields) in [
        ("revolving_line", json!({"credit_limit": 100000})),
        ("auto_loan", json!({"original_amount": 2000000, "term_months": 60})),
        ("student_loan", json!({"original_amount": 2000000, "term_months": 120})),
        ("mortgage", json!({"original_amount": 30000000, "term_months": 360})),
        ("other", json!({})),
    ] {
        let mut value = card();
        value["account"] = json!(format!("P-{product}"));
        value["product"] = json!(product);
        value.as_object_mut().unwrap().remove("credit_limit");
        for (k, v) in fields.as_object().unwrap() {
            value[k] = v.clone();
        }
        originals.push(record(&value));
    }

    let entries = round_trip(&originals);
    assert_eq!(entries.len(), originals.len());
    for (entry, original) in entries.iter().zip(&originals) {
        let read = accepted(entry);
        let mut expected = original.clone();
        expected.facts.reporter_id = Some("EXAMPLEBANK01".into());
        // The primary is written in the base segment, so it comes back first.
        expected.subjects.sort_by_key(|s| s.role != Role::Primary);
        assert_eq!(read.facts, expected.facts, "{}", original.facts.account);
        assert_eq!(read.subjects, expected.subjects, "{}", original.facts.account);
    }
}

#[test]
fn what_metro2_cannot_express_is_named() {
    let mut value = card();
    value["product"] = json!("microloan");
    value["original_amount"] = json!(1000);
    value["term_months"] = json!(6);
    let error = export_record(&record(&value), "X").err().unwrap();
    assert!(error.reason.contains("product microloan has no Metro 2 account type"), "{error}");

    let mut value = card();
    value["subjects"][0]["id_type"] = json!("cn_rid");
    value["subjects"][0]["id"] = json!("11010519491231002X");
    value["subjects"][0]["birth_date"] = json!("1949-12-31");
    let error = export_record(&record(&value), "X").err().unwrap();
    assert!(error.reason.contains("social security number"), "{error}");

    let mut value = card();
    value["subjects"][0]["phone"] = json!("+8613912345678");
    assert!(export_record(&record(&value), "X").err().unwrap().reason.contains("telephone"));

    let mut value = card();
    value["subjects"][0]["address"].as_object_mut().unwrap().remove("postal_code");
    assert!(export_record(&record(&value), "X").err().unwrap().reason.contains("postal code"));

    let mut value = card();
    value["balance"] = json!(123456);
    assert_eq!(export_record(&record(&value), "X").unwrap().amounts_truncated, 1, "cents are dropped, and counted");
}

#[test]
fn codes_map_as_documented() {
    assert_eq!(status_of(b"13", b"L"), Some(Status::PaidWasChargedOff));
    assert_eq!(status_of(b"13", b"G"), Some(Status::PaidWasCollection));
    assert_eq!(status_of(b"13", b"1"), Some(Status::Paid));
    assert_eq!(status_of(b"DF", b" "), Some(Status::Delete));
    assert_eq!(product_of(b"0G", b"R"), Product::CreditCard);
    assert_eq!(product_of(b"89", b"C"), Product::RevolvingLine);
    assert_eq!(product_of(b"3A", b"I"), Product::AutoLoan);
    assert_eq!(product_of(b"6D", b"M"), Product::Mortgage);
    assert_eq!(product_of(b"48", b"O"), Product::Other);
    assert_eq!(product_of(b"95", b"I"), Product::InstallmentLoan, "an unlisted type goes by its portfolio");
    assert_eq!(term_months(52, b"W"), 12);
    assert_eq!(term_months(27, b"B"), 13);
    assert_eq!(term_months(8, b"Q"), 24);
    assert_eq!(term_months(36, b"M"), 36);
    assert_eq!(term_months(36, b" "), 36);
    assert_eq!(payment_history_of(b"0 1Z0BBBBBBBBBBBBBBBBBBB"), "0D1D0");
    assert_eq!(payment_history_of(b"BBBBBBBBBBBBBBBBBBBBBBBB"), "");
    assert_eq!(payment_history_of(b"00B0BBBBBBBBBBBBBBBBBBBB"), "00B0");
    for status in Status::ALL {
        let (code, rating) = status_code(*status);
        assert_eq!(status_of(code.as_bytes(), rating.as_bytes()), Some(*status));
    }
    for product in Product::ALL {
        if let Some((code, portfolio)) = account_type(*product) {
            assert_eq!(product_of(code.as_bytes(), portfolio.as_bytes()), *product);
        }
    }
}

/// Exports a valid record, lets `edit` break its base segment, and reads it back.
fn broken_entry(edit: impl FnOnce(&mut SegmentBuf)) -> Entry {
    let exported = export_record(&record(&card()), "EXAMPLEBANK01").unwrap();
    let mut base_segment = exported.base;
    edit(&mut base_segment);
    read(&file(&header(), &[(base_segment, vec![])]), Mode::Strict).remove(0)
}

fn broken(edit: impl FnOnce(&mut SegmentBuf)) -> Vec<(String, &'static str)> {
    rejected(&broken_entry(edit))
}

#[test]
fn rejections_name_metro2_fields() {
    let field = |f: &str, code: &'static str| (f.to_string(), code);
    // The format's own rules.
    assert_eq!(broken(|b| drop(b.set_text(base::ACCOUNT_TYPE, "14"))), [field("base.account_type", "invalid_value")]);
    // The registry's rules on a valid Metro 2 record.
    assert_eq!(
        broken(|b| drop(b.set_number(base::SOCIAL_SECURITY_NUMBER, 0))),
        [field("base.social_security_number", "invalid_identifier")]
    );
    assert_eq!(broken(|b| drop(b.set_date(base::DATE_OF_BIRTH, None))), [field("base.date_of_birth", "birth_date_required")]);
    assert_eq!(
        broken(|b| drop(b.set_text(base::ECOA_CODE, "W"))),
        [field("base.ecoa_code", "invalid_value"), field("base.ecoa_code", "subject_count")]
    );
    let later = metro2::Date::new(2025, 6, 30);
    assert_eq!(
        broken(|b| drop(b.set_date(base::DATE_OF_ACCOUNT_INFORMATION, later))),
        [field("base.date_of_account_information", "date_in_future")]
    );
}

#[test]
fn messages_keep_personal_values_out() {
    let entry = broken_entry(|b| {
        b.set_raw(base::SOCIAL_SECURITY_NUMBER, b"12345678X").unwrap();
        b.set_text(base::ACCOUNT_TYPE, "14").unwrap();
    });
    let Entry::Rejected { errors, line } = &entry else { panic!("accepted") };
    assert_eq!(*line, 2, "a data record's line is its record number; the header is record 1");
    let by_field = |f: &str| errors.iter().find(|e| e.field == f).unwrap().message.clone();
    assert!(by_field("base.account_type").contains("found \"14\""));
    let ssn = by_field("base.social_security_number");
    assert!(!ssn.contains("12345678X") && ssn.contains("not_numeric"), "{ssn}");
}

#[test]
fn broken_files_are_rejected_whole_with_a_code() {
    let rejection = |bytes: &[u8]| {
        let mut reader = Metro2Reader::new(bytes, rules(), Metro2Options::default());
        loop {
            match reader.next_entry() {
                Ok(Some(_)) => {}
                Ok(None) => panic!("accepted"),
                Err(ReadError::Rejected(rejection)) => return rejection,
                Err(e) => panic!("{e}"),
            }
        }
    };
    assert_eq!(rejection(b"0006HEADER").code, FileErrorCode::InvalidFraming);
    assert_eq!(rejection(b"").code, FileErrorCode::EmptySubmission);
    let exported = export_record(&record(&card()), "EXAMPLEBANK01").unwrap();
    let valid = file(&header(), &[(exported.base.clone(), vec![])]);
    assert_eq!(rejection(&valid[..valid.len() - 427]).code, FileErrorCode::TrailerMissing);
    let mut trailer_wrong = valid.clone();
    let trailer = valid.len() - 427;
    trailer_wrong[trailer + 11..trailer + 20].copy_from_slice(b"000000009");
    assert_eq!(rejection(&trailer_wrong).code, FileErrorCode::TrailerMismatch);

    let mut undated = SegmentBuf::new(SegmentKind::Header, metro2::Encoding::Character);
    undated.set_text(metro2::layout::header::REPORTER_NAME, "EXAMPLE BANK").unwrap();
    let header_rejected = rejection(&file(&undated, &[(exported.base, vec![])]));
    assert_eq!(header_rejected.code, FileErrorCode::InvalidHeader);
    assert!(header_rejected.message.contains("activity_date"), "{}", header_rejected.message);
}

#[test]
fn formats_are_told_apart_by_content() {
    assert_eq!(Format::detect(b"{\"account\":1}"), Format::JsonLines);
    assert_eq!(Format::detect(b"\xEF\xBB\xBF\r\n  {"), Format::JsonLines);
    assert_eq!(Format::detect(b"0426HEADER"), Format::Metro2);
    assert_eq!(Format::detect(b"\n04300426HEADER"), Format::Metro2);
    assert_eq!(Format::detect(b"1xxxHEADER"), Format::JsonLines, "no descriptor word: read as JSON Lines, which says what is wrong");
    assert_eq!(Format::detect(&[0x01, 0x72, 0, 0, 0x01, 0x6e, 0, 0]), Format::Metro2);
    assert_eq!(Format::detect(b""), Format::JsonLines);
}

/// docs/furnishing-errors.md lists every code a rejection can carry.
#[test]
fn every_error_code_is_documented() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/furnishing-errors.md");
    let docs = std::fs::read_to_string(path).unwrap();
    let codes = RecordErrorCode::ALL.iter().map(|c| c.as_str()).chain(FileErrorCode::ALL.iter().map(|c| c.as_str()));
    let missing: Vec<&str> = codes.filter(|code| !docs.contains(&format!("| `{code}` |"))).collect();
    assert!(missing.is_empty(), "codes missing from docs/furnishing-errors.md: {missing:?}");
}
