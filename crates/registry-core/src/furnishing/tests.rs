//! One test per rule of the furnishing spec: each mutates a valid record and checks exactly
//! which (field, code) pairs come back.

use serde_json::{Value, json};

use super::validate::RECORD_ERRORS_MAX;
use super::*;
use crate::model::{Date, Status};

fn today() -> Date {
    "2022-06-30".parse().unwrap()
}

fn rules() -> Rules {
    Rules { today: today() }
}

fn primary() -> Value {
    json!({"role": "primary", "id_type": "cn_rid", "id": "11010519491231002X",
           "family_name": "Wang", "given_name": "Fang", "birth_date": "1949-12-31"})
}

fn revolving() -> Value {
    json!({"account": "HB-000123", "as_of": "2021-06-30", "product": "revolving_line",
           "opened": "2018-03-14", "currency": "CNY", "credit_limit": 800000, "balance": 231050,
           "past_due": 0, "status": "current", "payment_history": "000000000000000000000000",
           "subjects": [primary()]})
}

fn microloan() -> Value {
    json!({"account": "JB-778", "as_of": "2021-06-30", "product": "microloan",
           "opened": "2021-01-05", "currency": "CNY", "original_amount": 500000, "term_months": 12,
           "scheduled_payment": 44500, "balance": 312000, "past_due": 89000, "status": "dpd60",
           "first_delinquency": "2021-04-05", "payment_history": "10000",
           "subjects": [primary()],
           "funding": [{"institution": "jiebei", "share_bp": 3000}, {"institution": "bank-harbor", "share_bp": 7000}]})
}

fn with(mut record: Value, edits: &[(&str, Value)]) -> Value {
    for (path, value) in edits {
        let mut target = &mut record;
        let parts: Vec<&str> = path.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            target = match part.parse::<usize>() {
                Ok(i) => &mut target[i],
                Err(_) => &mut target[*part],
            };
        }
        let last = parts[parts.len() - 1];
        if value == &json!("<remove>") {
            target.as_object_mut().unwrap().remove(last);
        } else {
            target[last] = value.clone();
        }
    }
    record
}

/// Validates one line and returns its (field, code) pairs; empty when accepted.
fn errors_of(line: &str) -> Vec<(String, &'static str)> {
    let value = json::Json::parse(line).expect("test lines are JSON");
    match validate_record(&Draft::from_json(&value), 7, &rules()) {
        Ok(_) => vec![],
        Err(errors) => {
            assert!(errors.iter().all(|e| e.line == 7 && !e.message.is_empty()));
            errors.into_iter().map(|e| (e.field, e.code.as_str())).collect()
        }
    }
}

#[track_caller]
fn check(record: Value, expected: &[(&str, &str)]) {
    let got = errors_of(&record.to_string());
    let expected: Vec<(String, &str)> = expected.iter().map(|(f, c)| (f.to_string(), *c)).collect();
    assert_eq!(got, expected, "record: {record}");
}

#[test]
fn the_spec_examples_are_valid() {
    check(revolving(), &[]);
    check(microloan(), &[]);
}

#[test]
fn accepted_record_carries_every_field() {
    let value_text = microloan().to_string();
    let value = json::Json::parse(&value_text).unwrap();
    let record = validate_record(&Draft::from_json(&value), 1, &rules()).unwrap();
    assert_eq!(record.facts.account, "JB-778");
    assert_eq!(record.facts.status, Status::Dpd60);
    assert_eq!(record.facts.past_due.0, 89000);
    assert_eq!(record.facts.funding.len(), 2);
    assert_eq!(record.subjects[0].id.id.0, "11010519491231002X");
    // Serialising gives back the furnishing format, field for field.
    let round_trip: Value = serde_json::to_value(&record).unwrap();
    assert_eq!(round_trip, microloan());
}

#[test]
fn structure_rules() {
    check(with(revolving(), &[("balanse", json!(1))]), &[("balanse", "unknown_field")]);
    // Inside a subject the stray key is not repeated (it may be a name); the object is named.
    check(with(revolving(), &[("subjects.0.nickname", json!("x"))]), &[("subjects[0]", "unknown_field")]);
    let duplicated = revolving().to_string().replacen("\"balance\":231050", "\"balance\":231050,\"balance\":1", 1);
    assert_eq!(errors_of(&duplicated), vec![("balance".to_string(), "duplicate_field")]);
    for field in ["account", "as_of", "product", "opened", "currency", "balance", "past_due", "status", "subjects"] {
        check(with(revolving(), &[(field, json!("<remove>"))]), &[(field, "missing_field")]);
    }
    // Null counts as absent.
    check(with(revolving(), &[("balance", Value::Null)]), &[("balance", "missing_field")]);
    check(with(revolving(), &[("closed", Value::Null), ("first_delinquency", Value::Null)]), &[]);
    assert_eq!(errors_of("[1,2]"), vec![(String::new(), "not_an_object")]);
    assert_eq!(errors_of("\"text\""), vec![(String::new(), "not_an_object")]);
}

#[test]
fn types_and_values() {
    check(with(revolving(), &[("balance", json!("231050"))]), &[("balance", "wrong_type")]);
    check(with(revolving(), &[("balance", json!(2310.5))]), &[("balance", "wrong_type")]);
    check(with(revolving(), &[("balance", json!(-1))]), &[("balance", "out_of_range")]);
    check(with(revolving(), &[("credit_limit", json!(1_000_000_000_000_001u64))]), &[("credit_limit", "out_of_range")]);
    let huge = revolving().to_string().replace("\"credit_limit\":800000", "\"credit_limit\":100000000000000000000000");
    assert_eq!(errors_of(&huge), vec![("credit_limit".to_string(), "out_of_range")]);
    check(with(revolving(), &[("product", json!("payday"))]), &[("product", "invalid_value")]);
    check(with(revolving(), &[("status", json!("late"))]), &[("status", "invalid_value")]);
    check(with(revolving(), &[("dispute", json!("maybe"))]), &[("dispute", "invalid_value")]);
    check(with(revolving(), &[("dispute", json!("disputed"))]), &[]);
    check(with(revolving(), &[("account", json!(""))]), &[("account", "invalid_length")]);
    check(with(revolving(), &[("account", json!("x".repeat(31)))]), &[("account", "invalid_length")]);
    check(with(revolving(), &[("account", json!("AB\u{0007}C"))]), &[("account", "control_character")]);
    check(with(revolving(), &[("currency", json!("XYZ"))]), &[("currency", "invalid_currency")]);
    check(with(revolving(), &[("currency", json!("cny"))]), &[("currency", "invalid_currency")]);
    check(with(microloan(), &[("term_months", json!(0))]), &[("term_months", "out_of_range")]);
    check(with(microloan(), &[("term_months", json!(601))]), &[("term_months", "out_of_range")]);
    check(with(revolving(), &[("special_comment", json!("AU"))]), &[]);
    check(with(revolving(), &[("special_comment", json!("A"))]), &[("special_comment", "invalid_length")]);
    check(with(revolving(), &[("payment_history", json!("00X0"))]), &[("payment_history", "invalid_payment_history")]);
    check(with(revolving(), &[("payment_history", json!("0".repeat(25)))]), &[("payment_history", "invalid_length")]);
    check(with(revolving(), &[("payment_history", json!("0123456BDEGHJKL"))]), &[]);
}

#[test]
fn dates() {
    check(with(revolving(), &[("as_of", json!("2021-02-30"))]), &[("as_of", "invalid_date")]);
    check(with(revolving(), &[("as_of", json!("2021-6-30"))]), &[("as_of", "invalid_date")]);
    check(with(revolving(), &[("as_of", json!("2022-07-01"))]), &[("as_of", "date_in_future")]);
    check(with(revolving(), &[("as_of", json!("2022-06-30"))]), &[]);
    check(with(revolving(), &[("opened", json!("2021-07-01"))]), &[("opened", "date_order")]);
    check(
        with(revolving(), &[("status", json!("paid")), ("balance", json!(0)), ("closed", json!("2018-03-13"))]),
        &[("closed", "date_order")],
    );
    check(
        with(revolving(), &[("status", json!("paid")), ("balance", json!(0)), ("closed", json!("2021-07-01"))]),
        &[("closed", "date_order")],
    );
    check(with(microloan(), &[("first_delinquency", json!("2021-07-05"))]), &[("first_delinquency", "date_order")]);
    check(with(revolving(), &[("last_payment", json!("2021-13-01"))]), &[("last_payment", "invalid_date")]);
}

#[test]
fn cross_field_rules() {
    check(with(microloan(), &[("past_due", json!(312001))]), &[("past_due", "past_due_exceeds_balance")]);
    // A record breaking two rules through one field gets both.
    check(
        with(revolving(), &[("past_due", json!(231051))]),
        &[("past_due", "past_due_exceeds_balance"), ("past_due", "past_due_not_zero")],
    );
    check(with(revolving(), &[("status", json!("paid"))]), &[("balance", "balance_not_zero")]);
    check(
        with(microloan(), &[("status", json!("paid_was_charged_off")), ("balance", json!(0))]),
        &[("past_due", "past_due_exceeds_balance"), ("past_due", "balance_not_zero")],
    );
    check(with(revolving(), &[("status", json!("transferred")), ("balance", json!(0))]), &[]);
    check(with(revolving(), &[("past_due", json!(100))]), &[("past_due", "past_due_not_zero")]);
    check(with(microloan(), &[("first_delinquency", json!("<remove>"))]), &[("first_delinquency", "first_delinquency_required")]);
    check(
        with(microloan(), &[("status", json!("charged_off")), ("first_delinquency", json!("<remove>"))]),
        &[("first_delinquency", "first_delinquency_required")],
    );
    check(with(microloan(), &[("past_due", json!(0))]), &[("past_due", "past_due_required")]);
    check(with(revolving(), &[("credit_limit", json!("<remove>"))]), &[("credit_limit", "credit_limit_required")]);
    check(with(microloan(), &[("original_amount", json!("<remove>"))]), &[("original_amount", "original_amount_required")]);
    check(with(microloan(), &[("term_months", json!("<remove>"))]), &[("term_months", "term_months_required")]);
    check(
        with(revolving(), &[("product", json!("mortgage"))]),
        &[("original_amount", "original_amount_required"), ("term_months", "term_months_required")],
    );
    check(with(revolving(), &[("product", json!("other")), ("credit_limit", json!("<remove>"))]), &[]);
    check(with(revolving(), &[("closed", json!("2021-06-01"))]), &[("closed", "closed_with_open_status")]);
    check(with(microloan(), &[("closed", json!("2021-06-01"))]), &[("closed", "closed_with_open_status")]);
}

#[test]
fn funding_rules() {
    check(with(microloan(), &[("funding.1.share_bp", json!(6999))]), &[("funding", "funding_total")]);
    check(with(microloan(), &[("funding", json!([]))]), &[("funding", "funding_total")]);
    check(with(microloan(), &[("funding.1.institution", json!("jiebei"))]), &[("funding[1].institution", "duplicate_funder")]);
    check(with(microloan(), &[("funding.1.share_bp", json!(0))]), &[("funding[1].share_bp", "out_of_range")]);
    check(with(microloan(), &[("funding.1.institution", json!("bank harbor"))]), &[("funding[1].institution", "invalid_institution")]);
    check(with(microloan(), &[("funding.1.bank", json!("x"))]), &[("funding[1].bank", "unknown_field")]);
    check(with(microloan(), &[("funding", json!({"jiebei": 10000}))]), &[("funding", "wrong_type")]);
    check(with(microloan(), &[("funding", json!([{"institution": "jiebei", "share_bp": 10000}]))]), &[]);
}

#[test]
fn subject_rules() {
    check(with(revolving(), &[("subjects", json!([]))]), &[("subjects", "subject_count")]);
    let six: Vec<Value> = (0..6).map(|_| primary()).collect();
    let errors = errors_of(&with(revolving(), &[("subjects", json!(six))]).to_string());
    assert!(errors.contains(&("subjects".to_string(), "subject_count")));
    check(with(revolving(), &[("subjects.0.role", json!("joint"))]), &[("subjects", "primary_count")]);
    let joint = json!({"role": "primary", "id_type": "ssn", "id": "123456789", "family_name": "Doe", "given_name": "Jo", "birth_date": "1980-01-01"});
    check(with(revolving(), &[("subjects", json!([primary(), joint.clone()]))]), &[("subjects", "primary_count")]);
    let joint = with(joint, &[("role", json!("joint")), ("birth_date", json!("<remove>"))]);
    check(with(revolving(), &[("subjects", json!([primary(), joint]))]), &[]);
    check(
        with(revolving(), &[("subjects", json!([primary(), primary()]))]),
        &[("subjects[1].id", "invalid_value"), ("subjects", "primary_count")],
    );
    // A broken subject does not hide a second primary.
    let broken_primary = with(primary(), &[("id", json!("123")), ("id_type", json!("ssn"))]);
    check(
        with(revolving(), &[("subjects", json!([primary(), broken_primary]))]),
        &[("subjects[1].id", "invalid_identifier"), ("subjects", "primary_count")],
    );
    check(with(revolving(), &[("subjects.0.role", json!("business"))]), &[("subjects[0].role", "invalid_value")]);
    check(with(revolving(), &[("subjects.0.id_type", json!("passport"))]), &[("subjects[0].id_type", "invalid_value")]);
    check(with(revolving(), &[("subjects.0.birth_date", json!("<remove>"))]), &[("subjects[0].birth_date", "birth_date_required")]);
    check(with(revolving(), &[("subjects.0.family_name", json!(""))]), &[("subjects[0].family_name", "invalid_length")]);
    check(with(revolving(), &[("subjects.0.given_name", json!("g".repeat(51)))]), &[("subjects[0].given_name", "invalid_length")]);
    check(with(revolving(), &[("subjects.0.phone", json!("+8613800138000"))]), &[]);
    check(with(revolving(), &[("subjects.0.phone", json!("138-0013"))]), &[("subjects[0].phone", "invalid_phone")]);
    check(with(revolving(), &[("subjects", json!(primary()))]), &[("subjects", "wrong_type")]);
    check(with(revolving(), &[("subjects", json!(["x"]))]), &[("subjects[0]", "wrong_type")]);
}

#[test]
fn identifier_rules() {
    check(with(revolving(), &[("subjects.0.id", json!("110105194912310021"))]), &[("subjects[0].id", "identifier_checksum")]);
    check(with(revolving(), &[("subjects.0.id", json!("11010519491231002"))]), &[("subjects[0].id", "invalid_identifier")]);
    check(
        with(revolving(), &[("subjects.0.birth_date", json!("1949-12-30"))]),
        &[("subjects[0].birth_date", "identifier_birth_date_mismatch")],
    );
    let ssn = |id: &str| with(revolving(), &[("subjects.0.id_type", json!("ssn")), ("subjects.0.id", json!(id))]);
    check(ssn("123456789"), &[]);
    check(ssn("666123456"), &[("subjects[0].id", "invalid_identifier")]);
    check(ssn("123004567"), &[("subjects[0].id", "invalid_identifier")]);
    let bsn = |id: &str| with(revolving(), &[("subjects.0.id_type", json!("nl_bsn")), ("subjects.0.id", json!(id))]);
    check(bsn("111222333"), &[]);
    check(bsn("111222334"), &[("subjects[0].id", "identifier_checksum")]);
    let other = |id: &str| with(revolving(), &[("subjects.0.id_type", json!("other")), ("subjects.0.id", json!(id))]);
    check(other("E1234567"), &[]);
    check(other("E-1234567"), &[("subjects[0].id", "invalid_identifier")]);
}

#[test]
fn age_rules() {
    let aged = |birth: &str| {
        with(
            revolving(),
            &[("subjects.0.id_type", json!("other")), ("subjects.0.id", json!("P1")), ("subjects.0.birth_date", json!(birth))],
        )
    };
    check(aged("2007-06-30"), &[]);
    check(aged("2007-07-01"), &[("subjects[0].birth_date", "age_out_of_range")]);
    check(aged("1901-06-30"), &[]);
    check(aged("1900-06-29"), &[("subjects[0].birth_date", "age_out_of_range")]);
}

#[test]
fn address_rules() {
    let address = json!({"line1": "1 Chang'an Ave", "city": "Beijing", "country": "CN"});
    check(with(revolving(), &[("subjects.0.address", address.clone())]), &[]);
    check(
        with(revolving(), &[("subjects.0.address", with(address.clone(), &[("country", json!("XX"))]))]),
        &[("subjects[0].address.country", "invalid_country")],
    );
    check(
        with(revolving(), &[("subjects.0.address", with(address.clone(), &[("country", json!("cn"))]))]),
        &[("subjects[0].address.country", "invalid_country")],
    );
    check(
        with(revolving(), &[("subjects.0.address", with(address.clone(), &[("city", json!("<remove>"))]))]),
        &[("subjects[0].address.city", "missing_field")],
    );
    check(with(revolving(), &[("subjects.0.address", with(address, &[("floor", json!(3))]))]), &[("subjects[0].address", "unknown_field")]);
}

#[test]
fn delete_checks_only_its_fields() {
    let delete = json!({"account": "XX-D", "as_of": "2022-02-28", "product": "credit_card",
        "opened": "2020-05-01", "currency": "CNY", "balance": 0, "past_due": 0, "status": "delete",
        "subjects": [primary()]});
    check(delete.clone(), &[]);
    // Fields outside the checked set are neither required nor checked …
    check(with(delete.clone(), &[("closed", json!("garbage")), ("funding", json!(5))]), &[]);
    // … but the checked ones still are, and unknown fields are still refused.
    check(with(delete.clone(), &[("opened", json!("2023-01-01"))]), &[("opened", "date_order")]);
    check(with(delete.clone(), &[("subjects.0.id", json!("110105194912310021"))]), &[("subjects[0].id", "identifier_checksum")]);
    check(with(delete, &[("colour", json!("red"))]), &[("colour", "unknown_field")]);
}

#[test]
fn every_broken_rule_is_listed() {
    let broken = with(
        microloan(),
        &[("balance", json!("lots")), ("currency", json!("ABC")), ("subjects.0.id", json!("110105194912310021")), ("extra", json!(1))],
    );
    let codes: Vec<&str> = errors_of(&broken.to_string()).into_iter().map(|(_, c)| c).collect();
    for code in ["unknown_field", "invalid_currency", "wrong_type", "identifier_checksum"] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
}

#[test]
fn misspelt_fields_get_a_suggestion() {
    let errors = validate_record(
        &Draft::from_json(&json::Json::parse(&with(revolving(), &[("balanse", json!(1))]).to_string()).unwrap()),
        1,
        &rules(),
    )
    .unwrap_err();
    assert!(errors[0].message.contains("did you mean `balance`"), "{}", errors[0].message);
    let errors =
        validate_record(&Draft::from_json(&json::Json::parse(&with(revolving(), &[("zzz", json!(1))]).to_string()).unwrap()), 1, &rules())
            .unwrap_err();
    assert!(errors[0].message.contains("the fields here are account, as_of"), "{}", errors[0].message);
}

#[test]
fn a_line_of_garbage_lists_a_bounded_number_of_errors() {
    let mut record = revolving();
    for i in 0..500 {
        record[format!("junk{i}")] = json!(i);
    }
    let got = errors_of(&record.to_string());
    assert_eq!(got.len(), RECORD_ERRORS_MAX + 1);
    assert_eq!(got.last().unwrap().1, "too_many_errors");
}

#[test]
fn funding_total_is_judged_beside_other_funding_errors() {
    check(
        with(microloan(), &[("funding.1.institution", json!("bank harbor")), ("funding.1.share_bp", json!(6000))]),
        &[("funding[1].institution", "invalid_institution"), ("funding", "funding_total")],
    );
}

#[test]
fn messages_never_echo_personal_values() {
    let secret = "11010519491231002X Wang Fang";
    let broken = with(
        revolving(),
        &[
            ("subjects.0.role", json!(secret)),
            ("subjects.0.id_type", json!(secret)),
            ("subjects.0.address", json!({"line1": "x", "city": "y", "country": "CN", secret: 1})),
        ],
    );
    let mut record = broken;
    record["subjects"][0][secret] = json!("x");
    let value_text = record.to_string();
    let errors = validate_record(&Draft::from_json(&json::Json::parse(&value_text).unwrap()), 1, &rules()).unwrap_err();
    assert!(errors.len() >= 4, "{errors:?}");
    for e in &errors {
        assert!(!e.message.contains("Wang") && !e.field.contains("Wang"), "{e:?}");
    }
    let young = with(
        revolving(),
        &[("subjects.0.id_type", json!("other")), ("subjects.0.id", json!("P1")), ("subjects.0.birth_date", json!("2015-06-30"))],
    );
    let errors = validate_record(&Draft::from_json(&json::Json::parse(&young.to_string()).unwrap()), 1, &rules()).unwrap_err();
    assert!(!errors[0].message.contains('6'), "no age given away: {}", errors[0].message);
}

#[test]
fn messages_never_echo_identifiers() {
    let broken = with(revolving(), &[("subjects.0.id", json!("110105194912310021")), ("subjects.0.birth_date", json!("1949-02-30"))]);
    let value_text = broken.to_string();
    let value = json::Json::parse(&value_text).unwrap();
    let errors = validate_record(&Draft::from_json(&value), 1, &rules()).unwrap_err();
    for e in errors {
        assert!(!e.message.contains("110105194912310021") && !e.message.contains("1949-02-30"), "{}", e.message);
    }
}

// Whole-file behaviour.

fn read_all(input: &[u8]) -> Result<Vec<Entry>, ReadError> {
    read_all_with_limit(input, LINE_BYTES_MAX_DEFAULT)
}

fn read_all_with_limit(input: &[u8], limit: usize) -> Result<Vec<Entry>, ReadError> {
    let mut reader = FurnishingReader::new(input, rules(), limit);
    let mut entries = Vec::new();
    while let Some(entry) = reader.next_entry()? {
        entries.push(entry);
    }
    Ok(entries)
}

fn file_error(input: &[u8]) -> FileErrorCode {
    match read_all(input) {
        Err(ReadError::Rejected(rejection)) => rejection.code,
        other => panic!("expected a whole-file rejection, got {other:?}"),
    }
}

fn lines(records: &[Value]) -> String {
    records.iter().fold(String::new(), |text, r| text + &r.to_string() + "\n")
}

#[test]
fn a_file_of_records_with_a_trailer() {
    let text = format!("{}{{\"trailer\":{{\"records\":2}}}}\n", lines(&[revolving(), microloan()]));
    let entries = read_all(text.as_bytes()).unwrap();
    assert_eq!(entries.len(), 2);
    assert!(matches!(entries[1], Entry::Accepted { line: 2, .. }));
}

#[test]
fn bom_crlf_and_blank_lines_are_tolerated() {
    let text = format!("\u{feff}{}\r\n\r\n   \n{}\r\n", revolving(), microloan());
    let entries = read_all(text.as_bytes()).unwrap();
    assert_eq!(entries.len(), 2);
    assert!(matches!(entries[1], Entry::Accepted { line: 4, .. }));
}

#[test]
fn whole_file_rejections() {
    let two = lines(&[revolving(), microloan()]);
    assert_eq!(file_error(format!("{two}{{\"trailer\":{{\"records\":3}}}}").as_bytes()), FileErrorCode::TrailerMismatch);
    assert_eq!(file_error(format!("{{\"trailer\":{{\"records\":2}}}}\n{two}").as_bytes()), FileErrorCode::TrailerNotLast);
    assert_eq!(file_error(format!("{two}{{\"trailer\":{{\"records\":\"2\"}}}}").as_bytes()), FileErrorCode::TrailerInvalid);
    assert_eq!(file_error(format!("{two}{{\"trailer\":{{\"records\":2}},\"x\":1}}").as_bytes()), FileErrorCode::TrailerInvalid);
    assert_eq!(file_error(format!("{two}{{\"account\":").as_bytes()), FileErrorCode::InvalidJson);
    assert_eq!(file_error(b""), FileErrorCode::EmptySubmission);
    assert_eq!(file_error(b"\n\n  \n"), FileErrorCode::EmptySubmission);
    assert_eq!(file_error(b"{\"trailer\":{\"records\":0}}\n"), FileErrorCode::EmptySubmission);
    assert_eq!(file_error(format!("{two}\u{0}\u{1}\u{2}binary").as_bytes()), FileErrorCode::InvalidJson);
    // Binary garbage without line breaks is one over-long line: still refused as not UTF-8.
    let binary: Vec<u8> = (0..3_000_000u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8 | 0x80).collect();
    assert_eq!(file_error(&binary), FileErrorCode::NotUtf8);
    let mut garbage = two.into_bytes();
    garbage.extend_from_slice(&[0xff, 0xfe, 0x00, 0x9c, b'\n']);
    assert_eq!(file_error(&garbage), FileErrorCode::NotUtf8);
}

#[test]
fn a_trailer_counts_rejected_records_too() {
    let text = format!("{}[1]\n{{\"trailer\":{{\"records\":2}}}}\n", lines(&[revolving()]));
    let entries = read_all(text.as_bytes()).unwrap();
    assert!(matches!(&entries[1], Entry::Rejected { line: 2, errors } if errors[0].code == RecordErrorCode::NotAnObject));
}

#[test]
fn an_overlong_line_is_a_rejected_record_and_reading_goes_on() {
    let long = with(revolving(), &[("special_comment", json!("x".repeat(700)))]);
    let text = lines(&[revolving(), long, microloan()]);
    let entries = read_all_with_limit(text.as_bytes(), 600).unwrap();
    assert_eq!(entries.len(), 3);
    assert!(matches!(&entries[1], Entry::Rejected { line: 2, errors } if errors[0].code == RecordErrorCode::LineTooLong));
    assert!(matches!(entries[2], Entry::Accepted { line: 3, .. }));
}
