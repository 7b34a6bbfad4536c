//! Every rule, broken on purpose: a valid file is built, one thing is changed, and the problem
//! must name that rule at the right record and field. A last test checks no rule went untried.

use std::collections::BTreeSet;
use std::sync::Mutex;

use metro2::layout::{associated, base, header};
use metro2::{Date, Encoding, Framing, Mode, Problem, Rule, SegmentBuf, SegmentKind, Writer};

/// Rules seen by the tests in this file, for the last one.
static SEEN: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

fn date(year: u16, month: u8, day: u8) -> Option<Date> {
    Date::new(year, month, day)
}

const CHARACTER: Framing = Framing { encoding: Encoding::Character, blocked: false };

fn header_segment(encoding: Encoding) -> SegmentBuf {
    let mut h = SegmentBuf::new(SegmentKind::Header, encoding);
    h.set_date(header::ACTIVITY_DATE, date(2024, 10, 31)).unwrap();
    h.set_date(header::DATE_CREATED, date(2024, 11, 1)).unwrap();
    h.set_text(header::REPORTER_NAME, "EXAMPLE BANK").unwrap();
    h.set_text(header::REPORTER_ADDRESS, "1 BANK PLAZA, SPRINGFIELD IL").unwrap();
    h
}

/// A current credit card account with nothing wrong.
fn base_segment(encoding: Encoding) -> SegmentBuf {
    use base::*;
    let mut b = SegmentBuf::new(SegmentKind::Base, encoding);
    b.set_timestamp(TIME_STAMP, date(2024, 10, 31).map(|d| (d, 120_000))).unwrap();
    b.set_text(IDENTIFICATION_NUMBER, "FURNISHER01").unwrap();
    b.set_text(CONSUMER_ACCOUNT_NUMBER, "ACCT0001").unwrap();
    b.set_text(PORTFOLIO_TYPE, "R").unwrap();
    b.set_text(ACCOUNT_TYPE, "18").unwrap();
    b.set_date(DATE_OPENED, date(2020, 1, 15)).unwrap();
    b.set_number(CREDIT_LIMIT, 5000).unwrap();
    b.set_number(HIGHEST_CREDIT, 1200).unwrap();
    b.set_text(TERMS_DURATION, "REV").unwrap();
    b.set_text(TERMS_FREQUENCY, "M").unwrap();
    b.set_number(SCHEDULED_MONTHLY_PAYMENT, 25).unwrap();
    b.set_number(ACTUAL_PAYMENT, 25).unwrap();
    b.set_text(ACCOUNT_STATUS, "11").unwrap();
    b.set_text(PAYMENT_HISTORY_PROFILE, "000000000000BBBBBBBBBBBB").unwrap();
    b.set_number(CURRENT_BALANCE, 1000).unwrap();
    b.set_date(DATE_OF_ACCOUNT_INFORMATION, date(2024, 10, 31)).unwrap();
    b.set_date(DATE_OF_LAST_PAYMENT, date(2024, 10, 15)).unwrap();
    b.set_text(SURNAME, "DOE").unwrap();
    b.set_text(FIRST_NAME, "JANE").unwrap();
    b.set_number(SOCIAL_SECURITY_NUMBER, 123_456_789).unwrap();
    b.set_date(DATE_OF_BIRTH, date(1980, 1, 1)).unwrap();
    b.set_text(ECOA_CODE, "1").unwrap();
    b.set_text(COUNTRY_CODE, "US").unwrap();
    b.set_text(FIRST_LINE_OF_ADDRESS, "1 MAIN ST").unwrap();
    b.set_text(CITY, "SPRINGFIELD").unwrap();
    b.set_text(STATE, "IL").unwrap();
    b.set_text(POSTAL_CODE, "62701").unwrap();
    b
}

fn j1_segment() -> SegmentBuf {
    use associated::*;
    let mut j = SegmentBuf::new(SegmentKind::J1, Encoding::Character);
    j.set_text(SURNAME, "DOE").unwrap();
    j.set_text(FIRST_NAME, "JOHN").unwrap();
    j.set_number(SOCIAL_SECURITY_NUMBER, 987_654_321).unwrap();
    j.set_text(ECOA_CODE, "2").unwrap();
    j
}

fn file(framing: Framing, records: &[(SegmentBuf, Vec<SegmentBuf>)]) -> Vec<u8> {
    let mut writer = Writer::new(Vec::new(), framing, true, &header_segment(framing.encoding)).unwrap();
    for (base, appended) in records {
        writer.record(base, appended).unwrap();
    }
    writer.finish().unwrap()
}

fn problems(bytes: &[u8], mode: Mode) -> Vec<Problem> {
    let mut found = Vec::new();
    metro2::validate(bytes, mode, |p| found.push(p.clone())).unwrap();
    let mut seen = SEEN.lock().unwrap();
    seen.extend(found.iter().map(|p| p.rule.code()));
    found
}

fn located(problems: &[Problem]) -> Vec<(u64, &str, &str)> {
    problems.iter().map(|p| (p.record, p.field.unwrap_or("-"), p.rule.code())).collect()
}

/// The problems of a file whose one data record is `base` (with `appended`).
fn record_problems(base: SegmentBuf, appended: Vec<SegmentBuf>) -> Vec<(u64, String, String)> {
    let bytes = file(CHARACTER, &[(base, appended)]);
    located(&problems(&bytes, Mode::Strict)).into_iter().map(|(r, f, c)| (r, f.to_string(), c.to_string())).collect()
}

fn expect(base: SegmentBuf, appended: Vec<SegmentBuf>, expected: &[(&str, &str)]) {
    let found = record_problems(base, appended);
    let expected: Vec<_> = expected.iter().map(|(f, c)| (2, f.to_string(), c.to_string())).collect();
    assert_eq!(found, expected);
}

#[test]
fn a_valid_file_has_no_problems_in_either_encoding_or_framing() {
    for framing in [
        CHARACTER,
        Framing { encoding: Encoding::Character, blocked: true },
        Framing { encoding: Encoding::Packed, blocked: false },
        Framing { encoding: Encoding::Packed, blocked: true },
    ] {
        let records = [(base_segment(framing.encoding), vec![]), (base_segment(framing.encoding), vec![])];
        let bytes = file(framing, &records);
        assert_eq!(problems(&bytes, Mode::Strict), [], "{framing:?}");
    }
    assert_eq!(record_problems(base_segment(Encoding::Character), vec![j1_segment()]), []);
}

#[test]
fn field_types() {
    let mut b = base_segment(Encoding::Character);
    b.set_raw(base::CREDIT_LIMIT, b"00000500X").unwrap();
    b.set_raw(base::DATE_OPENED, b"02302020").unwrap();
    b.set_raw(base::TIME_STAMP, b"10312024250000").unwrap();
    b.set_raw(base::SURNAME, b"D\x01E                      ").unwrap();
    expect(
        b,
        vec![],
        &[("time_stamp", "not_a_date"), ("date_opened", "not_a_date"), ("credit_limit", "not_numeric"), ("surname", "not_printable")],
    );

    let mut b = base_segment(Encoding::Character);
    b.set_text(base::CONSUMER_ACCOUNT_NUMBER, "").unwrap();
    b.set_date(base::DATE_OF_ACCOUNT_INFORMATION, None).unwrap();
    expect(b, vec![], &[("consumer_account_number", "missing_value"), ("date_of_account_information", "missing_value")]);
}

#[test]
fn code_lists() {
    use base::*;
    let cases: [(usize, &str, &str); 9] = [
        (PORTFOLIO_TYPE, "X", "portfolio_type"),
        (ACCOUNT_TYPE, "14", "account_type"),
        (TERMS_FREQUENCY, "X", "terms_frequency"),
        (SPECIAL_COMMENT, "ZZ", "special_comment"),
        (COMPLIANCE_CONDITION_CODE, "XZ", "compliance_condition_code"),
        (ECOA_CODE, "4", "ecoa_code"),
        (INTEREST_TYPE_INDICATOR, "X", "interest_type_indicator"),
        (GENERATION_CODE, "1", "generation_code"),
        (RESIDENCE_CODE, "X", "residence_code"),
    ];
    for (index, code, name) in cases {
        let mut b = base_segment(Encoding::Character);
        b.set_text(index, code).unwrap();
        expect(b, vec![], &[(name, "unknown_code")]);
    }
    let mut b = base_segment(Encoding::Character);
    b.set_text(ACCOUNT_STATUS, "12").unwrap();
    expect(b, vec![], &[("account_status", "unknown_code")]);
    let mut b = base_segment(Encoding::Character);
    b.set_text(PAYMENT_HISTORY_PROFILE, "00000000000XBBBBBBBBBBBB").unwrap();
    let found = record_problems(b, vec![]);
    assert_eq!(found, [(2, "payment_history_profile".into(), "unknown_code".into())]);
    let mut b = base_segment(Encoding::Character);
    b.set_text(TERMS_DURATION, "AB").unwrap();
    expect(b, vec![], &[("terms_duration", "invalid_value")]);

    let mut j = j1_segment();
    j.set_text(associated::ECOA_CODE, "Q").unwrap();
    expect(base_segment(Encoding::Character), vec![j], &[("ecoa_code", "unknown_code")]);
    let mut k1 = SegmentBuf::new(SegmentKind::K1, Encoding::Character);
    k1.set_text(1, "ORIGINAL BANK").unwrap();
    k1.set_number(2, 16).unwrap();
    expect(base_segment(Encoding::Character), vec![k1], &[("creditor_classification", "unknown_code")]);
}

#[test]
fn cross_field_rules() {
    use base::*;
    let c = Encoding::Character;

    // Paid in full (13) needs a rating, and no balance.
    let mut b = base_segment(c);
    b.set_text(ACCOUNT_STATUS, "13").unwrap();
    expect(b, vec![], &[("payment_rating", "payment_rating_required"), ("current_balance", "balance_on_paid_account")]);

    let mut b = base_segment(c);
    b.set_text(PAYMENT_RATING, "1").unwrap();
    expect(b, vec![], &[("payment_rating", "payment_rating_not_allowed")]);

    let mut b = base_segment(c);
    b.set_text(IDENTIFICATION_NUMBER, "0000000").unwrap();
    expect(b, vec![], &[("identification_number", "invalid_identification_number")]);

    let mut b = base_segment(c);
    b.set_number(SOCIAL_SECURITY_NUMBER, 0).unwrap();
    b.set_date(DATE_OF_BIRTH, None).unwrap();
    expect(b, vec![], &[("social_security_number", "missing_consumer_identifiers")]);
    // ECOA 2 (joint) may go without.
    let mut j = j1_segment();
    j.set_number(associated::SOCIAL_SECURITY_NUMBER, 0).unwrap();
    expect(base_segment(c), vec![j], &[]);

    // Current (11) with an amount past due, above the balance too.
    let mut b = base_segment(c);
    b.set_number(AMOUNT_PAST_DUE, 1500).unwrap();
    expect(b, vec![], &[("amount_past_due", "past_due_above_balance"), ("amount_past_due", "past_due_on_current_account")]);

    // 30 days past due (71) with nothing past due, and no date of first delinquency.
    let mut b = base_segment(c);
    b.set_text(ACCOUNT_STATUS, "71").unwrap();
    expect(
        b,
        vec![],
        &[("amount_past_due", "no_past_due_on_delinquent_account"), ("date_of_first_delinquency", "missing_first_delinquency")],
    );

    let mut b = base_segment(c);
    b.set_date(DATE_OPENED, date(2025, 1, 1)).unwrap();
    b.set_date(DATE_CLOSED, date(2024, 12, 1)).unwrap();
    expect(b, vec![], &[("date_opened", "date_order"), ("date_closed", "date_order"), ("date_closed", "date_order")]);
}

#[test]
fn a_record_lists_at_most_a_hundred_problems() {
    let mut b = base_segment(Encoding::Character);
    b.set_text(base::SURNAME, "").unwrap();
    let mut appended = Vec::new();
    for _ in 0..40 {
        // An empty J1: surname, first name and ECOA missing, no identifiers: 4 problems each.
        appended.push(SegmentBuf::new(SegmentKind::J1, Encoding::Character));
    }
    let found = record_problems(b, appended);
    assert_eq!(found.len(), metro2::validate::RECORD_PROBLEMS_MAX + 1);
    assert_eq!(found.last().unwrap().2, "too_many_problems");
    assert_eq!(found[0].1, "surname", "the listed problems come in file order");
}

#[test]
fn the_trailer_is_reconciled() {
    let mut bytes = file(CHARACTER, &[(base_segment(Encoding::Character), vec![j1_segment()])]);
    // The trailer is the last record: 426 bytes and a line feed. Its total of base records is
    // at 12-20 (1-based), its J1 total at 39-47.
    let trailer = bytes.len() - 427;
    bytes[trailer + 11..trailer + 20].copy_from_slice(b"000000002");
    bytes[trailer + 38..trailer + 47].copy_from_slice(b"000000000");
    let found = problems(&bytes, Mode::Strict);
    assert_eq!(located(&found), [(3, "total_base_records", "trailer_mismatch"), (3, "total_j1_segments", "trailer_mismatch")]);
    assert!(found[0].message.contains("says 2; the file has 1"), "{}", found[0].message);
    // Lenient reading ignores the trailer, as the CFPB's does.
    assert_eq!(problems(&bytes, Mode::Lenient), []);
}

#[test]
fn framing_rules() {
    let valid = file(CHARACTER, &[(base_segment(Encoding::Character), vec![])]);
    let strict = |bytes: &[u8]| problems(bytes, Mode::Strict).iter().map(|p| (p.record, p.rule.code())).collect::<Vec<_>>();

    assert_eq!(strict(b""), [(1, "empty_file")]);
    assert_eq!(strict(b"\n\r\n"), [(1, "empty_file")]);
    assert_eq!(strict(&valid[427..]), [(1, "missing_header")]);
    let mut bad = valid.clone();
    bad[427..431].copy_from_slice(b"04X6");
    assert_eq!(strict(&bad), [(2, "invalid_descriptor")]);
    assert_eq!(strict(&valid[..600]), [(2, "truncated_record")]);
    assert_eq!(strict(&valid[..854]), [(3, "missing_trailer")]);
    let mut twice = valid[..427].to_vec();
    twice.extend_from_slice(&valid);
    // The trailer's block count does not count the second header either.
    assert_eq!(strict(&twice), [(2, "misplaced_header"), (4, "trailer_mismatch")]);
    let mut after = valid.clone();
    after.extend_from_slice(b"x");
    assert_eq!(strict(&after), [(4, "data_after_trailer")]);

    // A record longer than its segments: bytes that start no segment, and a segment cut short.
    let mut unknown = valid[..427].to_vec();
    unknown.extend_from_slice(b"0436");
    unknown.extend_from_slice(&valid[431..853]);
    unknown.extend_from_slice(b"ZZ12345678\n");
    unknown.extend_from_slice(&valid[854..]);
    let found = problems(&unknown, Mode::Strict);
    assert_eq!(found[0].rule.code(), "unknown_segment");
    assert_eq!(found[0].value.as_deref(), Some("ZZ"));
    let truncated: Vec<u8> = String::from_utf8(unknown.clone()).unwrap().replacen("ZZ12345678", "J112345678", 1).into_bytes();
    assert_eq!(problems(&truncated, Mode::Strict)[0].rule.code(), "truncated_segment");

    // Blocks whose descriptor words disagree with their records.
    let blocked = file(Framing { encoding: Encoding::Character, blocked: true }, &[(base_segment(Encoding::Character), vec![])]);
    let mut bad = blocked.clone();
    bad[..4].copy_from_slice(b"0400");
    assert_eq!(strict(&bad), [(1, "block_mismatch")]);

    // Lenient reading: a line too short to be a record is reported and skipped.
    let mut short = valid.clone();
    short.splice(427..427, b"0100 too short\n".iter().copied());
    let found = problems(&short, Mode::Lenient);
    assert_eq!(located(&found), [(2, "-", "invalid_length")]);
}

/// Many batches' worth of records, some broken: several threads find what one finds, in order.
#[test]
fn parallel_validation_matches_sequential_across_batches() {
    let c = Encoding::Character;
    let mut records = Vec::new();
    for i in 0..6_000u64 {
        let mut b = base_segment(c);
        b.set_text(base::CONSUMER_ACCOUNT_NUMBER, &format!("ACCT{i}")).unwrap();
        if i % 7 == 0 {
            b.set_text(base::ACCOUNT_TYPE, "14").unwrap();
        }
        if i % 11 == 0 {
            b.set_number(base::AMOUNT_PAST_DUE, 5).unwrap();
        }
        let appended = if i % 3 == 0 { vec![j1_segment()] } else { vec![] };
        records.push((b, appended));
    }
    let mut bytes = file(CHARACTER, &records);
    // And a record that cannot be read, in the middle.
    let middle = 427 + 3000 * 427;
    bytes[middle + 426..middle + 428].copy_from_slice(b"Q9");
    for mode in [Mode::Strict, Mode::Lenient] {
        let mut sequential = Vec::new();
        let summary = metro2::validate(&bytes[..], mode, |p| sequential.push(p.clone())).unwrap();
        let mut parallel = Vec::new();
        let parallel_summary = metro2::validate_parallel(&bytes[..], mode, 2, |p| parallel.push(p.clone())).unwrap();
        assert_eq!(parallel_summary, summary);
        assert_eq!(parallel, sequential);
        assert!(summary.data_records_with_problems > 1000, "{summary:?}");
    }
}

#[test]
fn every_rule_is_tried() {
    // Runs the others first (they share `SEEN`), then compares.
    a_valid_file_has_no_problems_in_either_encoding_or_framing();
    field_types();
    code_lists();
    cross_field_rules();
    a_record_lists_at_most_a_hundred_problems();
    the_trailer_is_reconciled();
    framing_rules();
    let seen = SEEN.lock().unwrap().clone();
    let all: BTreeSet<_> = Rule::ALL.iter().map(|r| r.code()).collect();
    let untried: Vec<_> = all.difference(&seen).collect();
    assert!(untried.is_empty(), "rules no test breaks: {untried:?}");
}

/// docs/metro2.md lists every rule (it is the format's public list of codes).
#[test]
fn every_rule_is_documented() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/metro2.md");
    let docs = std::fs::read_to_string(path).unwrap();
    let missing: Vec<&str> = Rule::ALL.iter().map(|r| r.code()).filter(|code| !docs.contains(&format!("| `{code}` |"))).collect();
    assert!(missing.is_empty(), "rules missing from docs/metro2.md: {missing:?}");
}
