//! Each evaluator on a record made to hit it, and on the same record a step away from hitting.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::*;
use crate::model::AccountFacts;

/// A clean instalment loan's record, current, with `changes` laid over it.
fn facts(changes: &Value) -> AccountFacts {
    let mut base = json!({
        "account": "A1", "as_of": "2024-06-30", "product": "installment_loan", "opened": "2023-01-10",
        "currency": "CNY", "original_amount": 1_200_000, "term_months": 24, "scheduled_payment": 55_000,
        "balance": 600_000, "past_due": 0, "status": "current", "payment_history": "000000"
    });
    for (key, value) in changes.as_object().unwrap() {
        if value.is_null() {
            base.as_object_mut().unwrap().remove(key);
        } else {
            base[key] = value.clone();
        }
    }
    serde_json::from_value(base).unwrap()
}

fn hits(previous: Option<&Value>, current: &Value, open_dispute_since: Option<&str>, context: &Context) -> BTreeSet<String> {
    let (previous, current) = (previous.map(facts), facts(current));
    let same_month =
        previous.as_ref().filter(|p| crate::report::YearMonth::of(p.as_of) == crate::report::YearMonth::of(current.as_of)).map(|p| p.as_of);
    let record = InSequence {
        furnisher: "bank",
        current: &current,
        previous: previous.as_ref(),
        same_month,
        open_dispute_since: open_dispute_since.map(|d| d.parse().unwrap()),
        context,
    };
    evaluate(&record).into_iter().map(|f| f.evaluator).collect()
}

/// (evaluator, record before, record that hits, a record a step away that does not)
type Case = (&'static str, Option<Value>, Value, Value);

fn cases() -> Vec<Case> {
    let late = json!({"status": "dpd60", "past_due": 50_000, "first_delinquency": "2024-04-01", "payment_history": "100000"});
    let month_before = |v: Value| {
        let mut v = v;
        v["as_of"] = json!("2024-05-31");
        Some(v)
    };
    vec![
        (
            "STATUS-APD-1",
            None,
            json!({"status": "charged_off", "first_delinquency": "2024-01-01"}),
            json!({"status": "charged_off", "first_delinquency": "2024-01-01", "past_due": 600_000}),
        ),
        (
            "STATUS-APD-2",
            None,
            json!({"status": "repossession", "product": "auto_loan", "first_delinquency": "2024-01-01"}),
            json!({"status": "repossession", "product": "auto_loan", "first_delinquency": "2024-01-01", "past_due": 1}),
        ),
        (
            "STATUS-BAL-1",
            None,
            json!({"status": "collection", "balance": 0, "past_due": 0, "first_delinquency": "2024-01-01"}),
            json!({"status": "collection", "balance": 0, "past_due": 0, "first_delinquency": "2024-01-01", "closed": "2024-06-01"}),
        ),
        ("STATUS-BAL-2", None, json!({"balance": 0}), json!({"balance": 0, "product": "credit_card", "credit_limit": 5000})),
        ("STATUS-CLOSED-1", None, json!({"status": "paid", "balance": 0}), json!({"status": "paid", "balance": 0, "closed": "2024-06-15"})),
        (
            "STATUS-CLOSED-2",
            None,
            json!({"status": "foreclosure", "product": "mortgage", "first_delinquency": "2023-06-01", "balance": 0}),
            json!({"status": "foreclosure", "product": "mortgage", "first_delinquency": "2023-06-01", "balance": 1}),
        ),
        ("STATUS-DOFD-1", None, json!({"first_delinquency": "2024-01-01"}), json!({})),
        (
            "STATUS-DOFD-2",
            None,
            json!({"status": "paid", "balance": 0, "closed": "2024-06-10", "first_delinquency": "2023-05-01"}),
            json!({"status": "paid", "balance": 0, "closed": "2024-06-10", "first_delinquency": "2023-05-01", "payment_history": "000100"}),
        ),
        (
            "STATUS-DOFD-3",
            None,
            json!({"status": "paid", "balance": 0, "closed": "2024-06-10", "payment_history": "210000"}),
            json!({"status": "paid", "balance": 0, "closed": "2024-06-10", "payment_history": "021000"}),
        ),
        ("BAL-ORIG-1", None, json!({"balance": 1_200_001}), json!({"balance": 1_200_000})),
        (
            "BAL-LIMIT-1",
            None,
            json!({"product": "credit_card", "credit_limit": 100_000, "balance": 150_001}),
            json!({"product": "credit_card", "credit_limit": 100_000, "balance": 150_000}),
        ),
        (
            "BAL-CLOSED-1",
            None,
            json!({"status": "collection", "closed": "2024-05-01", "first_delinquency": "2024-01-01", "past_due": 1000}),
            json!({"status": "collection", "closed": "2024-05-01", "first_delinquency": "2024-01-01", "past_due": 1000, "product": "credit_card", "credit_limit": 1}),
        ),
        ("BAL-PAYMENT-1", None, json!({"scheduled_payment": 1_200_001}), json!({"scheduled_payment": 1_200_000})),
        (
            "BAL-PAYMENT-2",
            month_before(json!({"balance": 100_000})),
            json!({"actual_payment": 200_001, "last_payment": "2024-06-20"}),
            json!({"actual_payment": 200_000, "last_payment": "2024-06-20"}),
        ),
        (
            "DATES-DOFD-1",
            None,
            json!({"status": "dpd30", "past_due": 1, "first_delinquency": "2023-01-09"}),
            json!({"status": "dpd30", "past_due": 1, "first_delinquency": "2023-01-10"}),
        ),
        ("DATES-PAY-1", None, json!({"last_payment": "2023-01-09"}), json!({"last_payment": "2023-01-10"})),
        ("DATES-PAY-2", None, json!({"last_payment": "2024-07-01"}), json!({"last_payment": "2024-06-30"})),
        (
            "DATES-OBSOLETE-1",
            None,
            json!({"status": "charged_off", "past_due": 1, "first_delinquency": "2017-05-31", "opened": "2016-01-01"}),
            json!({"status": "charged_off", "past_due": 1, "first_delinquency": "2017-06-01", "opened": "2016-01-01"}),
        ),
        ("DATES-PAY-3", None, json!({"actual_payment": 55_000}), json!({"actual_payment": 55_000, "last_payment": "2024-06-05"})),
        (
            "DATES-CLOSED-1",
            None,
            json!({"status": "collection", "past_due": 1, "closed": "2024-01-31", "first_delinquency": "2024-02-01"}),
            json!({"status": "collection", "past_due": 1, "closed": "2024-02-01", "first_delinquency": "2024-02-01"}),
        ),
        (
            "PROG-DOFD-1",
            month_before(late.clone()),
            json!({"status": "dpd90", "past_due": 80_000, "first_delinquency": "2024-05-01", "payment_history": "210000"}),
            json!({"status": "dpd90", "past_due": 80_000, "first_delinquency": "2024-04-01", "payment_history": "210000"}),
        ),
        (
            "PROG-DOFD-2",
            month_before(late.clone()),
            json!({"first_delinquency": "2024-04-01", "payment_history": "210000"}),
            json!({"payment_history": "210000"}),
        ),
        (
            "PROG-STATUS-1",
            month_before(json!({})),
            json!({"status": "dpd60", "past_due": 1, "first_delinquency": "2024-05-01"}),
            json!({"status": "dpd30", "past_due": 1, "first_delinquency": "2024-05-01"}),
        ),
        (
            "PROG-STATUS-2",
            month_before(json!({"status": "charged_off", "first_delinquency": "2023-06-01", "past_due": 1})),
            json!({"status": "current"}),
            json!({"status": "paid_was_charged_off", "balance": 0, "closed": "2024-06-10", "first_delinquency": "2023-06-01"}),
        ),
        (
            "PROG-STATUS-3",
            month_before(json!({"status": "paid", "balance": 0, "closed": "2024-05-20"})),
            json!({"status": "current", "closed": null}),
            json!({"status": "paid", "balance": 0, "closed": "2024-05-20"}),
        ),
        (
            "PROG-STATUS-4",
            month_before(
                json!({"status": "foreclosure", "product": "mortgage", "first_delinquency": "2023-06-01", "closed": "2024-05-01"}),
            ),
            json!({"status": "charged_off", "product": "mortgage", "first_delinquency": "2023-06-01", "closed": "2024-05-01", "past_due": 1}),
            json!({"status": "foreclosure", "product": "mortgage", "first_delinquency": "2023-06-01", "closed": "2024-05-01"}),
        ),
        ("PROG-DELETE-1", month_before(json!({"status": "delete"})), json!({}), json!({"status": "delete"})),
        ("PROG-OPENED-1", month_before(json!({})), json!({"opened": "2023-01-11"}), json!({})),
        ("PROG-ORIG-1", month_before(json!({})), json!({"original_amount": 1_300_000}), json!({})),
        ("PROG-PRODUCT-1", month_before(json!({})), json!({"product": "auto_loan"}), json!({})),
        ("PROG-CURRENCY-1", month_before(json!({})), json!({"currency": "USD"}), json!({})),
        (
            "PROG-CLOSED-1",
            month_before(json!({"status": "paid", "balance": 0, "closed": "2024-05-20"})),
            json!({"status": "paid", "balance": 0, "closed": "2024-05-21"}),
            json!({"status": "paid", "balance": 0, "closed": "2024-05-20"}),
        ),
        (
            "PROG-CLOSED-2",
            month_before(json!({"status": "transferred", "balance": 0, "closed": "2024-05-20"})),
            json!({"status": "transferred", "balance": 0}),
            json!({"status": "transferred", "balance": 0, "closed": "2024-05-20"}),
        ),
        ("PROG-BAL-1", month_before(json!({"balance": 600_000})), json!({"balance": 660_001}), json!({"balance": 660_000})),
        (
            "PROG-PHP-1",
            month_before(late.clone()),
            json!({"status": "dpd90", "past_due": 1, "first_delinquency": "2024-04-01", "payment_history": "100000"}),
            json!({"status": "dpd90", "past_due": 1, "first_delinquency": "2024-04-01", "payment_history": "210000"}),
        ),
        ("DISPUTE-1", month_before(json!({"dispute": "disputed"})), json!({"dispute": "none"}), json!({"dispute": "resolved"})),
        (
            "COLEND-1",
            month_before(json!({"funding": [{"institution": "bank", "share_bp": 3000}, {"institution": "bank-b", "share_bp": 7000}]})),
            json!({"funding": [{"institution": "bank", "share_bp": 3500}, {"institution": "bank-b", "share_bp": 6500}]}),
            json!({"funding": [{"institution": "bank-b", "share_bp": 7000}, {"institution": "bank", "share_bp": 3000}]}),
        ),
        (
            "COLEND-3",
            None,
            json!({"funding": [{"institution": "bank-b", "share_bp": 10000}]}),
            json!({"funding": [{"institution": "bank", "share_bp": 10000}]}),
        ),
        (
            "COLEND-4",
            None,
            json!({"product": "credit_card", "credit_limit": 1_000_000, "funding": [{"institution": "bank", "share_bp": 10000}]}),
            json!({"product": "credit_card", "credit_limit": 1_000_000}),
        ),
        ("DELIV-GAP-1", Some(json!({"as_of": "2024-04-30"})), json!({}), json!({"as_of": "2024-05-31"})),
        ("DELIV-TWICE-1", Some(json!({"as_of": "2024-06-01"})), json!({}), json!({"as_of": "2024-07-01"})),
    ]
}

#[test]
fn every_record_evaluator_hits_its_case_and_not_the_case_beside_it() {
    let context = Context::default();
    let mut covered = BTreeSet::new();
    for (id, previous, hit, miss) in cases() {
        assert!(evaluator(id).is_some(), "{id} is in the catalogue");
        assert!(hits(previous.as_ref(), &hit, None, &context).contains(id), "{id} hits {hit}");
        assert!(!hits(previous.as_ref(), &miss, None, &context).contains(id), "{id} does not hit {miss}");
        covered.insert(id);
    }
    // The two that need the registry's own knowledge.
    let known = Context { known_institutions: BTreeSet::from(["bank-b".to_owned()]) };
    let funded = |funder: &str| json!({"funding": [{"institution": "bank", "share_bp": 3000}, {"institution": funder, "share_bp": 7000}]});
    assert!(hits(None, &funded("trust-x"), None, &known).contains("COLEND-2"));
    assert!(!hits(None, &funded("bank-b"), None, &known).contains("COLEND-2"));
    assert!(!hits(None, &funded("trust-x"), None, &context).contains("COLEND-2"), "no list, no judgement");
    assert!(hits(None, &json!({}), Some("2024-05-01"), &context).contains("DISPUTE-2"));
    assert!(!hits(None, &json!({}), Some("2024-06-01"), &context).contains("DISPUTE-2"), "within its first 30 days");
    assert!(!hits(None, &json!({"dispute": "disputed"}), Some("2024-05-01"), &context).contains("DISPUTE-2"));
    covered.extend(["COLEND-2", "DISPUTE-2", "IDENT-NAME-1"]);
    let all: BTreeSet<&str> = CATALOGUE.iter().map(|e| e.id).collect();
    assert_eq!(covered, all, "every evaluator has its case");
}

#[test]
fn a_clean_record_and_its_clean_predecessor_hit_nothing() {
    let previous = json!({"as_of": "2024-05-31", "balance": 655_000, "payment_history": "00000"});
    assert_eq!(
        hits(Some(&previous), &json!({"actual_payment": 55_000, "last_payment": "2024-06-05"}), None, &Context::default()),
        BTreeSet::new()
    );
}

#[test]
fn the_catalogue_is_published_whole() {
    assert!(CATALOGUE.len() >= 40);
    let ids: BTreeSet<&str> = CATALOGUE.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), CATALOGUE.len(), "ids are unique");
    for e in CATALOGUE {
        for text in [e.description, e.rationale, e.potential_harm, e.alternate_explanation, e.source] {
            assert!(text.len() > 10, "{}: every field says something", e.id);
        }
        assert!(!e.fields.is_empty(), "{}", e.id);
    }
}

fn reported(furnisher: &str, family: &str) -> ReportedName {
    ReportedName {
        furnisher: furnisher.into(),
        account: format!("{furnisher}-1"),
        as_of: "2024-06-30".parse().unwrap(),
        family_name: family.into(),
    }
}

#[test]
fn a_family_name_unlike_the_others_is_found_and_spellings_are_not() {
    let names = [reported("a", "Wang"), reported("b", "Wong"), reported("c", "WANG"), reported("d", "Zhao")];
    let findings = evaluate_identities(&names);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!((findings[0].furnisher.as_str(), findings[0].account.as_str()), ("d", "d-1"));
    assert!(!findings[0].message.contains("Zhao") && !findings[0].message.contains("Wang"), "no names in messages");
    // Two furnishers cannot say which is right; near spellings are one name.
    assert!(evaluate_identities(&[reported("a", "Wang"), reported("b", "Zhao")]).is_empty());
    assert!(evaluate_identities(&[reported("a", "SMITH"), reported("b", "SMYTH"), reported("c", "Smith")]).is_empty());
    assert!(evaluate_identities(&[reported("a", "JONES"), reported("b", "JONES-HALL"), reported("c", "Jones")]).is_empty());
    assert!(evaluate_identities(&[reported("a", "Lü"), reported("b", "Lv"), reported("c", "Lu")]).is_empty());
}
