//! Attributes of a constructed subject, computed by hand.

use registry_core::model::{AccountFacts, Date, IdType, NationalId, Pii, Role};
use registry_core::report::{AccountHistory, Audience, Inquiry, StoredRecord, SubjectFile, SubjectKey, SubjectLink, build_report};
use serde_json::json;

use super::*;

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

/// One record of `account`; `extra` adds or overrides fields.
fn record(account: &str, product: &str, as_of: &str, status: &str, balance: u64, extra: serde_json::Value) -> StoredRecord {
    let mut facts = json!({
        "account": account, "as_of": as_of, "product": product, "opened": "2022-01-15",
        "currency": "CNY", "balance": balance, "past_due": 0, "status": status,
    });
    for (key, value) in extra.as_object().unwrap() {
        facts[key] = value.clone();
    }
    let facts: AccountFacts = serde_json::from_value(facts).unwrap();
    StoredRecord { facts, subjects: vec![SubjectLink { subject: 1, role: Role::Primary, identity: 1 }] }
}

fn month_ends(from: u32, to: u32, year: i32) -> Vec<String> {
    (from..=to).map(|m| registry_core::report::YearMonth::new(year, m).unwrap().last_day().to_string()).collect()
}

/// A card with a 30- and a 60-day late month in mid-2024, a co-funded instalment loan, a
/// microloan opened in October, and three inquiries.
fn subject() -> SubjectFile {
    let mut card = Vec::new();
    for date in month_ends(1, 12, 2024) {
        let status = match &date[..7] {
            "2024-06" => "dpd30",
            "2024-07" => "dpd60",
            _ => "current",
        };
        let past_due = if status == "current" { 0 } else { 20_000 };
        card.push(record(
            "C1",
            "credit_card",
            &date,
            status,
            500_000,
            json!({"credit_limit": 1_000_000, "past_due": past_due, "scheduled_payment": 50_000}),
        ));
    }
    let loan: Vec<StoredRecord> = month_ends(2, 12, 2024)
        .iter()
        .map(|date| {
            record(
                "L1",
                "installment_loan",
                date,
                "current",
                600_000,
                json!({
                    "opened": "2024-02-20", "original_amount": 1_200_000, "term_months": 24, "scheduled_payment": 55_000,
                    "funding": [{"institution": "bank-a", "share_bp": 3000}, {"institution": "bank-b", "share_bp": 7000}],
                }),
            )
        })
        .collect();
    let micro: Vec<StoredRecord> = month_ends(10, 12, 2024)
        .iter()
        .map(|date| {
            record(
                "M1",
                "microloan",
                date,
                "current",
                100_000,
                json!({"opened": "2024-10-05", "original_amount": 150_000, "term_months": 6}),
            )
        })
        .collect();
    let inquiry = |date: &str, purpose: &str| Inquiry { date: d(date), lender: "bank-c".into(), purpose: purpose.into() };
    SubjectFile {
        subject: SubjectKey(1),
        identifier: NationalId { id_type: IdType::CnRid, id: Pii("x".into()) },
        identities: vec![],
        accounts: vec![
            AccountHistory { furnisher: "bank-c".into(), records: card },
            AccountHistory { furnisher: "bank-a".into(), records: loan },
            AccountHistory { furnisher: "lender-m".into(), records: micro },
        ],
        inquiries: vec![
            inquiry("2024-03-10", "credit_application"),
            inquiry("2024-09-10", "credit_application"),
            inquiry("2024-11-10", "account_review"),
        ],
        registry_alerts: vec![],
    }
}

fn attributes_of(file: &SubjectFile, as_of: &str) -> Vec<Option<f64>> {
    compute(&build_report(file, d(as_of), Audience::Masked))
}

fn value(values: &[Option<f64>], name: &str) -> Option<f64> {
    values[CATALOGUE.iter().position(|a| a.name == name).unwrap_or_else(|| panic!("no attribute {name}"))]
}

#[test]
fn the_catalogue_is_complete_and_unambiguous() {
    assert!(CATALOGUE.len() >= 30);
    let mut names: Vec<&str> = CATALOGUE.iter().map(|a| a.name).collect();
    let mut codes: Vec<&str> = CATALOGUE.iter().map(|a| a.code).collect();
    names.sort_unstable();
    names.dedup();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(names.len(), CATALOGUE.len());
    assert_eq!(codes.len(), CATALOGUE.len());
    assert_eq!(attributes_of(&subject(), "2024-12-31").len(), CATALOGUE.len());
}

#[test]
fn attributes_of_a_constructed_subject() {
    let v = attributes_of(&subject(), "2024-12-31");
    let is = |name: &str, expected: Option<f64>| {
        let got = value(&v, name);
        match (got, expected) {
            (Some(g), Some(e)) => assert!((g - e).abs() < 1e-9, "{name}: {g} ≠ {e}"),
            _ => assert_eq!(got, expected, "{name}"),
        }
    };
    is("accounts_total", Some(3.0));
    is("accounts_open", Some(3.0));
    is("lenders_open", Some(3.0));
    is("balance_open", Some(5_000.0 + 6_000.0 + 1_000.0));
    is("revolving_limit", Some(10_000.0));
    is("revolving_utilization", Some(0.5));
    is("max_revolving_utilization", Some(0.5));
    is("late_30_59_24m", Some(1.0));
    is("late_60_89_24m", Some(1.0));
    is("late_90_plus_24m", Some(0.0));
    is("accounts_late_24m", Some(1.0));
    is("worst_lateness_24m", Some(2.0));
    // July is the latest 30+ and 60+ month: five months before December.
    is("months_since_late_30", Some(5.0));
    is("months_since_late_60", Some(5.0));
    is("months_since_late_90", None);
    // Rated months: card 12, loan 11, microloan 3; two of them late.
    is("on_time_share_24m", Some(24.0 / 26.0));
    is("oldest_account_months", Some(35.0));
    is("newest_account_months", Some(2.0));
    is("average_account_months", Some((35.0 + 10.0 + 2.0) / 3.0));
    is("accounts_opened_6m", Some(1.0));
    is("accounts_opened_12m", Some(2.0));
    // Credit applications on 10 September and 10 March; the account review is not one.
    is("inquiries_6m", Some(1.0));
    is("inquiries_12m", Some(2.0));
    is("installment_balance_to_original", Some((6_000.0 + 1_000.0) / (12_000.0 + 1_500.0)));
    is("installment_accounts_open", Some(2.0));
    is("mortgage_accounts_open", Some(0.0));
    is("microloan_accounts_open", Some(1.0));
    is("microloan_balance", Some(1_000.0));
    is("bnpl_accounts_open", Some(0.0));
    // bank-b funds 70 % of bank-a's loan: 4,200 of 12,000 owed.
    is("co_lent_share", Some(4_200.0 / 12_000.0));
    is("scheduled_payment_total", Some(500.0 + 550.0));
    is("delinquent_accounts_now", Some(0.0));
    is("past_due_total", Some(0.0));
    // In July the card was 60 days late now.
    let july = attributes_of(&subject(), "2024-07-31");
    assert_eq!(value(&july, "delinquent_accounts_now"), Some(1.0));
    assert_eq!(value(&july, "past_due_total"), Some(200.0));
    assert_eq!(value(&july, "months_since_late_30"), Some(0.0));
    assert_eq!(value(&july, "microloan_accounts_open"), Some(0.0), "the microloan did not exist yet");
}

#[test]
fn a_record_dated_after_the_date_changes_nothing() {
    let before = attributes_of(&subject(), "2024-12-31");
    let mut later = subject();
    // The card goes 90 days late, a new card opens, another application: all in 2025.
    later.accounts[0].records.push(record(
        "C1",
        "credit_card",
        "2025-01-31",
        "dpd90",
        900_000,
        json!({"credit_limit": 1_000_000, "past_due": 90_000}),
    ));
    later.accounts.push(AccountHistory {
        furnisher: "bank-d".into(),
        records: vec![record("C2", "credit_card", "2025-01-31", "current", 0, json!({"opened": "2025-01-02", "credit_limit": 500_000}))],
    });
    later.inquiries.push(Inquiry { date: d("2025-01-02"), lender: "bank-d".into(), purpose: "credit_application".into() });
    assert_eq!(attributes_of(&later, "2024-12-31"), before);
    let after = attributes_of(&later, "2025-01-31");
    assert_ne!(after, attributes_of(&subject(), "2025-01-31"), "the same records do count once their date has come");
    assert_eq!(value(&after, "late_90_plus_24m"), Some(1.0));
    assert_eq!(value(&after, "accounts_opened_6m"), Some(2.0));
}

#[test]
fn the_label_is_ninety_days_late_within_the_horizon() {
    let mut file = subject();
    let observed = d("2024-12-31");
    let outcome = build_report(&file, d("2025-12-31"), Audience::Masked);
    assert_eq!(went_bad_after(&outcome, observed), Some(false), "30 and 60 days late before the date do not count");
    file.accounts[0].records.push(record(
        "C1",
        "credit_card",
        "2025-05-31",
        "dpd90",
        900_000,
        json!({"credit_limit": 1_000_000, "past_due": 90_000}),
    ));
    let outcome = build_report(&file, d("2025-12-31"), Audience::Masked);
    assert_eq!(went_bad_after(&outcome, observed), Some(true));
    assert!(!already_bad(&build_report(&file, observed, Audience::Masked)));
    assert!(already_bad(&build_report(&file, d("2025-05-31"), Audience::Masked)));
    assert_eq!(went_bad_after(&build_report(&file, d("2027-12-31"), Audience::Masked), observed), None, "beyond the 24-month grid");
}
