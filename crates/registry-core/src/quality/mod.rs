//! Data quality (`shared/spec/data-quality.md`): evaluators, published plausibility checks over
//! accepted data. Validation rejects a record that is wrong on its own; an evaluator flags one
//! that passes validation but is implausible beside the account's previous record, the
//! registry's own knowledge (open disputes, known institutions) or what other furnishers report.
//! A hit flags a record for review; it rejects nothing and changes nothing stored.
//!
//! `catalogue::CATALOGUE` is the one table of evaluators; each is a small pure function
//! (`records.rs`, `identity.rs`). Adding an evaluator is adding a row. Pure: the caller passes
//! the records and what the registry knows.

pub mod catalogue;
pub mod identity;
pub mod records;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use serde::Serialize;

use crate::model::{AccountFacts, Date};

pub use catalogue::{CATALOGUE, Evaluator, evaluator};
pub use identity::ReportedName;

code_list! {
    /// What an evaluator looks at.
    Category {
        Status = "status",
        Balance = "balance",
        Dates = "dates",
        /// Across an account's months.
        Progression = "progression",
        /// Across furnishers.
        Identity = "identity",
        CoLending = "co_lending",
        Disputes = "disputes",
        Delivery = "delivery",
    }
}

code_list! {
    /// How much a hit matters.
    Severity {
        /// Harms people if it stands: re-aging, data that should be gone coming back, false
        /// delinquency.
        High = "high",
        /// Worth a look; often explained.
        Review = "review",
    }
}

/// What the registry knows beyond an account's own records, for the evaluators that compare
/// with it.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// Institutions known to the registry (its furnishers and the supervisory institutions
    /// file); empty when unknown, and then no funder is judged unknown.
    pub known_institutions: BTreeSet<String>,
}

/// One record in its account's sequence: what a record evaluator judges.
#[derive(Clone, Copy, Debug)]
pub struct InSequence<'a> {
    /// The furnisher of the account.
    pub furnisher: &'a str,
    pub current: &'a AccountFacts,
    /// The account's latest record dated before `current`, if any.
    pub previous: Option<&'a AccountFacts>,
    /// The date of another record of the account in `current`'s month (before or after it),
    /// if there is one.
    pub same_month: Option<Date>,
    /// The day a consumer's dispute about the account, still open, was opened (the registry's
    /// own dispute records), if there is one.
    pub open_dispute_since: Option<Date>,
    pub context: &'a Context,
}

/// A hit: the evaluator and a message that repeats no personal data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    pub evaluator: String,
    pub severity: Severity,
    pub furnisher: String,
    pub account: String,
    pub as_of: Date,
    pub message: String,
}

/// Every record evaluator's hit on `record`.
pub fn evaluate(record: &InSequence<'_>) -> Vec<Finding> {
    CATALOGUE
        .iter()
        .filter_map(|evaluator| match evaluator.check {
            catalogue::Check::Record(check) => check(record).map(|message| Finding {
                evaluator: evaluator.id.to_owned(),
                severity: evaluator.severity,
                furnisher: record.furnisher.to_owned(),
                account: record.current.account.clone(),
                as_of: record.current.as_of,
                message,
            }),
            catalogue::Check::Identity(_) => None,
        })
        .collect()
}

/// Every identity evaluator's hits on one subject's identities as each furnisher reported them
/// (a finding names the account whose report stands apart, never the person).
pub fn evaluate_identities(reported: &[ReportedName]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for evaluator in CATALOGUE {
        if let catalogue::Check::Identity(check) = evaluator.check {
            for (at, message) in check(reported) {
                let name = &reported[at];
                findings.push(Finding {
                    evaluator: evaluator.id.to_owned(),
                    severity: evaluator.severity,
                    furnisher: name.furnisher.clone(),
                    account: name.account.clone(),
                    as_of: name.as_of,
                    message,
                });
            }
        }
    }
    findings
}

/// Evaluates every record of an account (its current records, in any order) against the one
/// before it: the whole-store pass.
pub fn evaluate_account(
    furnisher: &str,
    records: &mut [&AccountFacts],
    open_dispute_since: Option<Date>,
    context: &Context,
) -> Vec<Finding> {
    records.sort_by_key(|r| r.as_of);
    let mut findings = Vec::new();
    let month = |r: &AccountFacts| crate::report::YearMonth::of(r.as_of);
    for (i, current) in records.iter().enumerate() {
        let previous = i.checked_sub(1).map(|p| records[p]);
        let next = records.get(i + 1).copied();
        let same_month = previous.into_iter().chain(next).find(|other| month(other) == month(current)).map(|other| other.as_of);
        findings.extend(evaluate(&InSequence { furnisher, current, previous, same_month, open_dispute_since, context }));
    }
    findings
}
