//! The supervisor's view of the whole market (`shared/spec/supervision.md`): the snapshot of a
//! month, and the four sections computed from it (`market`, `co_lending`, `borrowers`,
//! `credit_risk`).
//!
//! Computed in two steps, so that every backend gives the same numbers to the unit: a store
//! reduces its records to a `Tally` (integer counts and sums per group: an embedded store by
//! scanning each subject's accounts through `snapshot` and `Tally::add_*`, PostgreSQL by
//! aggregating in SQL), and `document::finish` turns a tally into the document (shares, the
//! Herfindahl–Hirschman index, rates, vintages, breaches of the policy). Pure: the caller
//! passes the month, the policy and the institutions' supervisory figures.

pub mod document;
pub mod snapshot;
pub mod tally;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{AmountMinor, Currency, Status};

pub use document::{Document, finish};
pub use snapshot::{AccountSnapshot, BorrowerView, account_snapshot};
pub use tally::Tally;

code_list! {
    /// An account's delinquency bucket in a snapshot, from its status.
    Bucket {
        Current = "current",
        Dpd30 = "30",
        Dpd60 = "60",
        Dpd90Plus = "90+",
        Derogatory = "derogatory",
        Closed = "closed",
    }
}

impl Bucket {
    /// The bucket of a record's status; `None` for `delete`, which removes the account.
    pub fn of(status: Status) -> Option<Bucket> {
        use Status::*;
        Some(match status {
            Current => Bucket::Current,
            Dpd30 => Bucket::Dpd30,
            Dpd60 => Bucket::Dpd60,
            Dpd90 | Dpd120 | Dpd150 | Dpd180 => Bucket::Dpd90Plus,
            Collection | ChargedOff | Foreclosure | VoluntarySurrender | Repossession | GovernmentClaim | DeedInLieu => Bucket::Derogatory,
            Paid | PaidWasSurrender | PaidWasCollection | PaidWasRepossession | PaidWasChargedOff | PaidWasForeclosure | Transferred => {
                Bucket::Closed
            }
            Delete => return None,
        })
    }

    /// Buckets `30`, `60` and `90+`: what `balance_30_plus` and `rate_30_plus` count.
    pub fn is_30_plus(self) -> bool {
        matches!(self, Bucket::Dpd30 | Bucket::Dpd60 | Bucket::Dpd90Plus)
    }

    /// `90+` or `derogatory`: what a vintage's `ever_90_plus` counts.
    pub fn is_seriously_delinquent(self) -> bool {
        matches!(self, Bucket::Dpd90Plus | Bucket::Derogatory)
    }
}

code_list! {
    /// A section of the supervision document.
    Section {
        Market = "market",
        CoLending = "co_lending",
        Borrowers = "borrowers",
        CreditRisk = "credit_risk",
    }
}

code_list! {
    /// The supervisor's drill-down lists: people, so each one listed is an audited read.
    BorrowerList {
        /// Subjects whose open microloans exceed the cap in a currency.
        OverMicroloanCap = "over_microloan_cap",
        /// Subjects with accounts opened at two or more lenders within the month's last 30 days.
        Stacking = "stacking",
    }
}

impl BorrowerList {
    /// Whether `borrower` is on this list under `policy`.
    pub fn includes(self, borrower: &BorrowerView, policy: &Policy) -> bool {
        match self {
            BorrowerList::OverMicroloanCap => borrower.over_cap(&policy.microloan_cap_minor).next().is_some(),
            BorrowerList::Stacking => borrower.is_stacking(),
        }
    }
}

code_list! {
    /// How many distinct lenders a borrower has open accounts with (`by_lenders_open`).
    LendersBucket {
        One = "1",
        Two = "2",
        Three = "3",
        Four = "4",
        FiveToNine = "5-9",
        TenOrMore = "10+",
    }
}

impl LendersBucket {
    /// The bucket of `lenders` (at least 1).
    pub fn of(lenders: usize) -> LendersBucket {
        match lenders {
            0 | 1 => LendersBucket::One,
            2 => LendersBucket::Two,
            3 => LendersBucket::Three,
            4 => LendersBucket::Four,
            5..=9 => LendersBucket::FiveToNine,
            _ => LendersBucket::TenOrMore,
        }
    }
}

/// The policy numbers the measures are judged by (configuration).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The least share of each co-lent loan its furnisher must fund itself, in basis points
    /// (the 2021 rule: 30 %).
    #[serde(default = "default_min_own_share_bp")]
    pub min_own_share_bp: u32,
    /// The most a borrower may owe on online microloans, in minor units per currency (the 2020
    /// draft rule: 300,000 yuan).
    #[serde(default = "default_microloan_cap_minor")]
    pub microloan_cap_minor: BTreeMap<Currency, u64>,
}

fn default_min_own_share_bp() -> u32 {
    3000
}

fn default_microloan_cap_minor() -> BTreeMap<Currency, u64> {
    BTreeMap::from([(Currency::from_code("CNY").expect("CNY is a currency"), 30_000_000)])
}

impl Default for Policy {
    fn default() -> Policy {
        Policy { min_own_share_bp: default_min_own_share_bp(), microloan_cap_minor: default_microloan_cap_minor() }
    }
}

/// The supervisory figures of the institutions (from their returns, not from the registry):
/// each institution's tier-1 capital and total loans, in minor units per currency.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Institutions(pub BTreeMap<String, InstitutionFigures>);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstitutionFigures {
    #[serde(default)]
    pub tier1_capital: BTreeMap<Currency, u64>,
    #[serde(default)]
    pub total_loans: BTreeMap<Currency, u64>,
}

/// The co-lending limits of the 2021 rules that `breaches` are judged against.
pub mod limits {
    /// A bank's co-lending with one partner, at most this share of its tier-1 capital.
    pub const PARTNER_TO_TIER1: f64 = 0.25;
    /// A bank's co-lending with all partners, at most this share of its total loans.
    pub const CO_LENT_TO_TOTAL_LOANS: f64 = 0.5;
}

/// `numerator / denominator` rounded half-up to 4 decimals, computed exactly (no float drift
/// decides a rounding). `None` when the denominator is 0.
pub fn share(numerator: u128, denominator: u128) -> Option<f64> {
    if denominator == 0 {
        return None;
    }
    // Half-up on the exact rational: floor(n 10^4 / d + 1/2) = floor((2 n 10^4 + d) / 2 d).
    let exact = numerator.checked_mul(20_000).and_then(|n| n.checked_add(denominator)).zip(denominator.checked_mul(2));
    Some(match exact {
        Some((n, d)) => (n / d) as f64 / 10_000.0,
        // Sums past 10^34 minor units: no market has them, but no input may panic.
        None => (numerator as f64 / denominator as f64 * 10_000.0).round() / 10_000.0,
    })
}

/// A funder's part of a loan: `balance × share_bp / 10000`, rounded half-up to the minor unit.
pub fn funding_part(balance: AmountMinor, share_bp: u16) -> u128 {
    (u128::from(balance.0) * u128::from(share_bp) + 5_000) / 10_000
}
