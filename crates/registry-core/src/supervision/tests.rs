//! The measures computed by hand: the spec's worked example, read from
//! `shared/spec/examples/supervision`, and small markets where each number can be checked on
//! paper.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::*;
use crate::furnishing::{Entry, FurnishingReader, LINE_BYTES_MAX_DEFAULT, Rules};
use crate::model::Date;
use crate::report::{AccountHistory, StoredRecord, SubjectLink, YearMonth};

fn example_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/examples/supervision")
}

fn month(text: &str) -> YearMonth {
    YearMonth::parse(text).unwrap()
}

/// A market held the way a store holds it: one subject per identifier (keys in order of first
/// appearance), an account's records by date, a later record of the same date replacing the
/// earlier one (a correction), every subject linked to the accounts it was ever on.
#[derive(Default)]
struct Market {
    subjects: BTreeMap<String, i64>,
    accounts: BTreeMap<(String, String), BTreeMap<Date, StoredRecord>>,
}

impl Market {
    fn furnish(&mut self, furnisher: &str, lines: &str) {
        let mut reader = FurnishingReader::new(lines.as_bytes(), Rules { today: "2030-01-01".parse().unwrap() }, LINE_BYTES_MAX_DEFAULT);
        while let Some(entry) = reader.next_entry().unwrap() {
            let Entry::Accepted { record, .. } = entry else { panic!("a fixture record is rejected: {entry:?}") };
            let mut links = Vec::new();
            for subject in &record.subjects {
                let next = self.subjects.len() as i64 + 1;
                let key = *self.subjects.entry(subject.id.id.0.clone()).or_insert(next);
                links.push(SubjectLink { subject: key, role: subject.role, identity: 0 });
            }
            self.accounts
                .entry((furnisher.to_owned(), record.facts.account.clone()))
                .or_default()
                .insert(record.facts.as_of, StoredRecord { facts: record.facts, subjects: links });
        }
    }

    /// Every subject with the accounts linked to it, as the store's scan gives them.
    fn scan(&self) -> Vec<(i64, Vec<AccountHistory>)> {
        let mut out = Vec::new();
        for &subject in self.subjects.values() {
            let accounts: Vec<AccountHistory> = self
                .accounts
                .iter()
                .filter(|(_, records)| records.values().any(|r| r.subjects.iter().any(|l| l.subject == subject)))
                .map(|((furnisher, _), records)| AccountHistory {
                    furnisher: furnisher.clone(),
                    records: records.values().cloned().collect(),
                })
                .collect();
            out.push((subject, accounts));
        }
        out
    }

    fn tally(&self, month: YearMonth, policy: &Policy) -> Tally {
        // Two halves merged, as two threads would.
        let scanned = self.scan();
        let (first, second) = scanned.split_at(scanned.len() / 2);
        let mut tally = Tally::default();
        for part in [first, second] {
            let mut own = Tally::default();
            for (subject, accounts) in part {
                own.add_subject(*subject, accounts, month, policy);
            }
            tally.merge(own);
        }
        tally
    }

    fn document(&self, month_text: &str, policy: &Policy, institutions: &Institutions) -> Value {
        let month = month(month_text);
        serde_json::to_value(finish(&self.tally(month, policy), month, &[], policy, institutions)).unwrap()
    }
}

#[test]
fn the_spec_example_gives_its_expected_document() {
    let order = std::fs::read_to_string(example_dir().join("order.txt")).expect("shared/spec/examples/supervision beside the repository");
    let mut market = Market::default();
    for line in order.lines().filter(|line| !line.trim().is_empty()) {
        let (furnisher, file) = line.split_once(' ').unwrap();
        market.furnish(furnisher, &std::fs::read_to_string(example_dir().join(file)).unwrap());
    }
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(example_dir().join("2021-07.expected.json")).unwrap()).unwrap();
    assert_eq!(market.document("2021-07", &Policy::default(), &Institutions::default()), expected);
}

fn record(account: &str, as_of: &str, product: &str, opened: &str, balance: u64, status: &str, subjects: &[(&str, &str)]) -> Value {
    let subjects: Vec<Value> = subjects
        .iter()
        .map(|(id, role)| {
            let birth_date = format!("{}-{}-{}", &id[6..10], &id[10..12], &id[12..14]);
            json!({"role": role, "id_type": "cn_rid", "id": id, "family_name": "X", "given_name": "Y", "birth_date": birth_date})
        })
        .collect();
    let mut record = json!({"account": account, "as_of": as_of, "product": product, "opened": opened, "currency": "CNY",
        "original_amount": 100_000, "term_months": 12, "balance": balance, "past_due": 0, "status": status, "subjects": subjects});
    if status.starts_with("dpd") {
        record["past_due"] = json!(1000);
        record["first_delinquency"] = json!(opened);
    }
    record
}

fn lines(records: &[Value]) -> String {
    records.iter().map(|r| r.to_string() + "\n").collect()
}

const P1: &str = "110105198001011238";
const P2: &str = "110105198502024563";
const P3: &str = "11010519491231002X";

#[test]
fn a_deleted_account_is_gone_at_every_date_and_a_stale_one_only_counts_as_stale() {
    let mut market = Market::default();
    market.furnish(
        "bank",
        &lines(&[
            record("D", "2021-06-30", "installment_loan", "2021-01-01", 5000, "current", &[(P1, "primary")]),
            // Deleted after the reference month: gone from July's snapshot all the same.
            record("D", "2021-09-30", "installment_loan", "2021-01-01", 0, "delete", &[(P1, "primary")]),
            // Latest record in April: stale in July (May to July is the window).
            record("S", "2021-04-30", "installment_loan", "2021-01-01", 7000, "current", &[(P1, "primary")]),
            record("K", "2021-07-31", "installment_loan", "2021-01-01", 9000, "current", &[(P1, "primary")]),
        ]),
    );
    let document = market.document("2021-07", &Policy::default(), &Institutions::default());
    assert_eq!(document["credit_risk"]["furnishers"], json!([{"furnisher": "bank", "accounts_in_snapshot": 1, "stale_accounts": 1}]));
    assert_eq!(document["market"]["rows"][0]["balance_open"], 9000);
    // The stale account still belongs to its vintage (January 2021, 7 months on book).
    let vintages = &document["credit_risk"]["rows"][0]["vintages"];
    assert_eq!(vintages, &json!([{"opened": "2021-01", "accounts": 2, "ever_90_plus": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]}]));
    // In June both were in the snapshot (April is within April to June); D is deleted.
    let june = market.document("2021-06", &Policy::default(), &Institutions::default());
    assert_eq!(june["credit_risk"]["furnishers"][0]["accounts_in_snapshot"], 1, "S only: K opens its history in July, D is deleted");
}

#[test]
fn two_currencies_stay_apart_and_an_empty_product_has_no_index() {
    let mut market = Market::default();
    let mut usd = record("U", "2021-07-31", "credit_card", "2020-01-01", 3000, "current", &[(P1, "primary")]);
    usd["currency"] = json!("USD");
    usd["credit_limit"] = json!(10_000);
    let mut cny = record("C", "2021-07-31", "credit_card", "2020-01-01", 1000, "current", &[(P1, "primary")]);
    cny["credit_limit"] = json!(10_000);
    // Paid off: in the snapshot, not open, so its product's open balance is 0.
    let paid = record("M", "2021-07-31", "mortgage", "2001-01-01", 0, "paid", &[(P2, "primary")]);
    market.furnish("bank-a", &lines(&[usd, cny.clone()]));
    let mut other = cny.clone();
    other["account"] = json!("C2");
    other["balance"] = json!(3000);
    market.furnish("bank-b", &lines(&[other, paid]));
    let document = market.document("2021-07", &Policy::default(), &Institutions::default());
    let products = &document["market"]["products"];
    assert_eq!(
        products,
        &json!([
            // 1000 and 3000: shares 0.25 and 0.75, HHI 625 + 5625.
            {"product": "credit_card", "currency": "CNY", "balance_open": 4000, "hhi": 6250, "top_share": 0.75,
             "shares": {"bank-a": 0.25, "bank-b": 0.75}},
            {"product": "credit_card", "currency": "USD", "balance_open": 3000, "hhi": 10000, "top_share": 1.0, "shares": {"bank-a": 1.0}},
            {"product": "mortgage", "currency": "CNY", "balance_open": 0, "hhi": null, "top_share": null, "shares": {}},
        ])
    );
}

#[test]
fn a_joint_account_counts_once_and_not_for_its_terminated_subject() {
    let mut market = Market::default();
    market.furnish(
        "bank",
        &lines(&[
            record("J", "2021-07-31", "auto_loan", "2021-07-05", 20_000, "dpd30", &[(P1, "primary"), (P2, "joint"), (P3, "terminated")]),
            record("L", "2021-07-31", "microloan", "2021-07-20", 1000, "current", &[(P3, "primary")]),
        ]),
    );
    market.furnish("platform", &lines(&[record("Q", "2021-07-31", "microloan", "2021-07-28", 1000, "current", &[(P1, "primary")])]));
    let document = market.document("2021-07", &Policy::default(), &Institutions::default());
    let auto = &document["market"]["rows"][0];
    assert_eq!(
        (auto["product"].as_str(), auto["accounts_open"].as_u64(), auto["balance_30_plus"].as_u64()),
        (Some("auto_loan"), Some(1), Some(20_000))
    );
    // P1: bank and platform, delinquent (J is 30 days late), opened at both within 30 days:
    // stacking. P2: bank only, delinquent. P3: terminated on J, so bank through L only.
    assert_eq!(document["borrowers"]["subjects"], 3);
    assert_eq!(document["borrowers"]["by_lenders_open"], json!({"1": 2, "2": 1}));
    assert_eq!(document["borrowers"]["delinquent_share_by_lenders_open"], json!({"1": 0.5, "2": 1.0}));
    assert_eq!(document["borrowers"]["stacking_subjects"], 1);
}

#[test]
fn co_lending_parts_round_per_loan_and_limits_are_judged_on_exact_ratios() {
    let mut market = Market::default();
    let loan = |account: &str, balance: u64, own_bp: u16| {
        let mut value = record(account, "2021-07-31", "microloan", "2021-03-01", balance, "current", &[(P1, "primary")]);
        value["funding"] = json!([{"institution": "platform", "share_bp": own_bp}, {"institution": "bank-a", "share_bp": 10_000 - own_bp}]);
        value
    };
    // 333 × 25 % = 83.25 → 83 own, 249.75 → 250 the bank's: parts round per loan.
    let (first, second) = (loan("L1", 333, 2500), loan("L2", 1000, 3000));
    market.furnish("platform", &lines(&[first, second]));
    let institutions: Institutions = serde_json::from_value(json!({
        // The bank's part of the platform's loans is 250 + 700 = 950: over 25 % of 3,800 only
        // by the exact ratio (0.25 exactly is not a breach; 950 / 3799 is).
        "bank-a": {"tier1_capital": {"CNY": 3799}, "total_loans": {"CNY": 1900}},
        "platform": {"tier1_capital": {"CNY": 10_000}},
    }))
    .unwrap();
    let document = market.document("2021-07", &Policy::default(), &institutions);
    let furnisher = &document["co_lending"]["furnishers"][0];
    assert_eq!(furnisher["own_balance"], json!({"CNY": 383}));
    assert_eq!(furnisher["partner_balance"], json!({"CNY": 950}));
    assert_eq!(
        (furnisher["loans_below_min_own_share"].as_u64(), &furnisher["balance_below_min_own_share"]),
        (Some(1), &json!({"CNY": 333}))
    );
    assert_eq!(furnisher["own_balance_to_tier1"], json!({"CNY": 0.0383}));
    let bank = &document["co_lending"]["institutions"][0];
    assert_eq!(bank["max_partner_to_tier1"], json!({"CNY": 0.2501}));
    assert_eq!(bank["co_lent_to_total_loans"], json!({"CNY": 0.5}));
    assert_eq!(
        bank["breaches"],
        json!([{"measure": "max_partner_to_tier1", "currency": "CNY", "value": 0.2501, "limit": 0.25, "partner": "platform"}]),
        "950 / 1900 is exactly one half: no breach"
    );
}

#[test]
fn roll_rates_vintages_and_the_microloan_cap() {
    let mut market = Market::default();
    market.furnish(
        "platform",
        &lines(&[
            record("A", "2021-05-31", "microloan", "2021-05-10", 20_000_000, "current", &[(P1, "primary")]),
            record("A", "2021-06-30", "microloan", "2021-05-10", 20_000_000, "dpd30", &[(P1, "primary")]),
            record("A", "2021-07-31", "microloan", "2021-05-10", 20_000_000, "dpd90", &[(P1, "primary")]),
            record("B", "2021-06-30", "microloan", "2021-05-20", 15_000_000, "current", &[(P1, "primary")]),
            record("B", "2021-07-31", "microloan", "2021-05-20", 15_000_000, "current", &[(P1, "primary")]),
        ]),
    );
    let document = market.document("2021-07", &Policy::default(), &Institutions::default());
    let row = &document["credit_risk"]["rows"][0];
    assert_eq!(row["roll"], json!({"30": {"90+": 1}, "current": {"current": 1}}));
    assert_eq!((row["rate_30_plus"].as_f64(), row["rate_90_plus"].as_f64()), (Some(0.5), Some(0.5)));
    // Both opened in May; A is 90+ from July: 0 of 2 by May and June, 1 of 2 by July.
    assert_eq!(row["vintages"], json!([{"opened": "2021-05", "accounts": 2, "ever_90_plus": [0.0, 0.0, 0.5]}]));
    // 350,000 yuan of open microloans, over the 300,000 cap.
    assert_eq!(document["borrowers"]["over_microloan_cap"], json!({"CNY": 1}));
    assert_eq!(document["market"]["rows"][0]["balance_90_plus"], 20_000_000);
}
