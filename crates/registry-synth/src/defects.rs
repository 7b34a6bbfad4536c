//! Data-quality defects planted in the Chinese market: records that pass validation but that an
//! evaluator (`registry_core::quality`) should flag, one kind per evaluator, each listed in the
//! manifest (`planted`) so that a test can measure how many each evaluator finds, and how many
//! clean accounts it flags.
//!
//! A defect is planted on a record about to be written, chosen with its own random stream, so
//! the market around it is the one the seed makes. Most change the record itself; some leave
//! the defect on the account's next record (a skipped month, a dropped dispute code, a deleted
//! account that comes back), and some add a record next month (a paid account reopened, a cycle
//! sent twice).

use std::collections::{BTreeMap, HashMap};

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use registry_core::model::{AccountFacts, AccountRecord, AmountMinor, Currency, Date, Dispute, FundingShare, Product, Status};
use registry_core::report::YearMonth;
use serde::{Deserialize, Serialize};

/// A planted defect: the evaluator that should flag it, and the record it is on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Planted {
    pub evaluator: String,
    pub furnisher: String,
    pub account: String,
    pub as_of: Date,
}

/// What planting does to the record about to be written.
pub(crate) enum Plant {
    /// The record itself now carries the defect.
    Here,
    /// The record carries the start of it; the account's next written record shows it.
    OnNext,
    /// The record is not written; the account's next written record shows the gap.
    Skip,
    /// The record is written as it is, and this one too, in next month's file.
    Extra(Box<AccountRecord>),
}

/// A funder no registry knows.
const UNKNOWN_FUNDER: &str = "trust-west";

fn days(date: Date, n: i64) -> Date {
    date + chrono::Duration::days(n)
}

fn open_with_balance(c: &AccountFacts) -> bool {
    c.status.is_open() && c.closed.is_none() && c.balance.0 > 0
}

/// The delinquency start of a derogatory record planted on `c`: at least a month before it,
/// and not before the account was opened.
fn first_delinquency_for(c: &AccountFacts) -> Date {
    days(c.as_of, -120).max(c.opened).min(c.as_of)
}

fn one_month_before(p: Option<&AccountFacts>, c: &AccountFacts) -> bool {
    p.is_some_and(|p| YearMonth::of(c.as_of).months_since(YearMonth::of(p.as_of)) == 1)
}

/// Plants the defect `evaluator` flags on record `r` (the account's record before it, as
/// written, is `p`), if this record can carry it; `None` when it cannot.
#[allow(clippy::too_many_lines)] // One arm per evaluator: a table, not a procedure.
pub(crate) fn plant(
    evaluator: &str,
    furnisher: &str,
    r: &mut AccountRecord,
    p: Option<&AccountFacts>,
    rng: &mut ChaCha8Rng,
) -> Option<Plant> {
    let c = &mut r.facts;
    let adverse = |s: Status| s.is_delinquent() || s.is_derogatory();
    match evaluator {
        "STATUS-APD-1" if open_with_balance(c) => {
            c.status = Status::Collection;
            c.past_due = AmountMinor(0);
            c.first_delinquency = Some(first_delinquency_for(c));
        }
        "STATUS-APD-2" if open_with_balance(c) && matches!(c.product, Product::AutoLoan | Product::InstallmentLoan) => {
            c.status = Status::Repossession;
            c.past_due = AmountMinor(0);
            c.first_delinquency = Some(first_delinquency_for(c));
        }
        "STATUS-BAL-1" if c.status.is_open() && c.closed.is_none() => {
            c.status = Status::Collection;
            c.balance = AmountMinor(0);
            c.past_due = AmountMinor(0);
            c.first_delinquency = Some(first_delinquency_for(c));
        }
        "STATUS-BAL-2" if c.product.is_amortising() && c.status == Status::Current && c.closed.is_none() => {
            c.balance = AmountMinor(0);
        }
        "STATUS-CLOSED-1" if c.status.is_open() && c.closed.is_none() => {
            c.status = Status::Paid;
            c.balance = AmountMinor(0);
            c.past_due = AmountMinor(0);
            c.first_delinquency = None;
        }
        "STATUS-CLOSED-2" if c.status.is_open() && c.closed.is_none() => {
            c.status = Status::Foreclosure;
            c.balance = AmountMinor(0);
            c.past_due = AmountMinor(0);
            c.first_delinquency = Some(first_delinquency_for(c));
        }
        "STATUS-DOFD-1" if c.status == Status::Current => {
            c.first_delinquency = Some(days(c.as_of, -60).max(c.opened));
        }
        "STATUS-DOFD-2" if c.status.is_open() && c.closed.is_none() && !c.payment_history.is_empty() => {
            c.status = Status::Paid;
            c.balance = AmountMinor(0);
            c.past_due = AmountMinor(0);
            c.closed = Some(c.as_of);
            c.first_delinquency = Some(days(c.as_of, -90).max(c.opened));
            c.payment_history = "0".repeat(c.payment_history.len());
        }
        "STATUS-DOFD-3" if c.status.is_open() && c.closed.is_none() && !c.payment_history.is_empty() => {
            c.status = Status::Paid;
            c.balance = AmountMinor(0);
            c.past_due = AmountMinor(0);
            c.closed = Some(c.as_of);
            c.first_delinquency = None;
            c.payment_history.replace_range(..1, "2");
        }
        "BAL-ORIG-1" if c.product.is_amortising() && c.original_amount.is_some() && c.status.is_open() => {
            c.balance = AmountMinor(c.original_amount?.0 + 10_000);
        }
        "BAL-LIMIT-1" if c.product.is_revolving() && c.credit_limit.is_some_and(|l| l.0 > 0) => {
            c.balance = AmountMinor(c.credit_limit?.0 * 2 + 100);
        }
        "BAL-CLOSED-1" if open_with_balance(c) && (c.product.is_amortising() || c.product == Product::RevolvingLine) => {
            c.status = Status::Collection;
            c.closed = Some(c.as_of);
            c.past_due = AmountMinor(c.balance.0 / 2);
            c.first_delinquency = Some(first_delinquency_for(c));
        }
        "BAL-PAYMENT-1" if c.product.is_amortising() && c.original_amount.is_some() => {
            c.scheduled_payment = Some(AmountMinor(c.original_amount?.0 + 1));
        }
        "BAL-PAYMENT-2" if c.product.is_amortising() && one_month_before(p, c) => {
            c.actual_payment = Some(AmountMinor(p?.balance.0 * 2 + 200_000));
            c.last_payment = Some(c.as_of);
        }
        "DATES-DOFD-1" if open_with_balance(c) && c.opened > Date::MIN + chrono::Duration::days(30) => {
            c.status = Status::Dpd30;
            c.past_due = AmountMinor(c.balance.0.min(c.past_due.0.max(1)));
            c.first_delinquency = Some(days(c.opened, -10));
        }
        "DATES-PAY-1" => {
            c.last_payment = Some(days(c.opened, -5));
        }
        "DATES-PAY-2" => {
            c.last_payment = Some(days(c.as_of, 3));
        }
        "DATES-OBSOLETE-1" if open_with_balance(c) => {
            c.status = Status::ChargedOff;
            c.past_due = c.balance;
            c.first_delinquency = Some(days(c.as_of, -(8 * 365)));
        }
        "DATES-PAY-3" => {
            c.actual_payment = Some(AmountMinor(c.actual_payment.map_or(10_000, |a| a.0.max(1))));
            c.last_payment = None;
        }
        "DATES-CLOSED-1" if open_with_balance(c) && c.opened <= days(c.as_of, -40) => {
            c.status = Status::Collection;
            c.past_due = AmountMinor(c.balance.0.min(c.past_due.0.max(1)));
            c.closed = Some(days(c.as_of, -40));
            c.first_delinquency = Some(days(c.as_of, -10));
        }
        "PROG-DOFD-1" if p.is_some_and(|p| adverse(p.status) && p.first_delinquency.is_some()) && adverse(c.status) => {
            let before = p?.first_delinquency?;
            c.first_delinquency = Some(days(before, 31).min(c.as_of));
            if c.first_delinquency <= Some(before) {
                return None;
            }
        }
        "PROG-DOFD-2" if p.is_some_and(|p| adverse(p.status) && p.first_delinquency.is_some()) && c.status.is_open() => {
            c.status = Status::Current;
            c.past_due = AmountMinor(0);
            c.closed = None;
            c.first_delinquency = p?.first_delinquency;
        }
        "PROG-STATUS-1" if p.is_some_and(|p| p.status == Status::Current) && one_month_before(p, c) && open_with_balance(c) => {
            c.status = Status::Dpd60;
            c.past_due = AmountMinor(c.balance.0.min(c.past_due.0.max(1)));
            c.first_delinquency = Some(days(c.as_of, -45).max(c.opened));
        }
        "PROG-STATUS-2" if p.is_some_and(|p| p.status == Status::ChargedOff) => {
            c.status = Status::Current;
            c.past_due = AmountMinor(0);
            c.closed = None;
            c.first_delinquency = None;
        }
        // Foreclosed now; charged off next month (`on_next`).
        "PROG-STATUS-4" if open_with_balance(c) => {
            c.status = Status::Foreclosure;
            c.first_delinquency = Some(first_delinquency_for(c));
            return Some(Plant::OnNext);
        }
        "PROG-DELETE-1" if c.status.is_open() => {
            c.status = Status::Delete;
            c.balance = AmountMinor(0);
            c.past_due = AmountMinor(0);
            return Some(Plant::OnNext);
        }
        "PROG-OPENED-1" if p.is_some() => {
            c.opened = days(p?.opened, -31);
        }
        "PROG-ORIG-1" if c.product.is_amortising() && p.is_some_and(|p| p.original_amount.is_some()) => {
            c.original_amount = Some(AmountMinor(p?.original_amount?.0 + 10_000));
        }
        "PROG-PRODUCT-1"
            if p.is_some()
                && matches!(c.product, Product::InstallmentLoan | Product::AutoLoan | Product::CreditCard | Product::RevolvingLine) =>
        {
            c.product = match c.product {
                Product::InstallmentLoan => Product::AutoLoan,
                Product::AutoLoan => Product::InstallmentLoan,
                Product::CreditCard => Product::RevolvingLine,
                _ => Product::CreditCard,
            };
        }
        "PROG-CURRENCY-1" if p.is_some() => {
            c.currency = Currency::from_code("USD")?;
        }
        "PROG-BAL-1"
            if c.product.is_amortising()
                && c.status == Status::Current
                && p.is_some_and(|p| p.status == Status::Current)
                && one_month_before(p, c) =>
        {
            c.balance = AmountMinor(p?.balance.0 + p?.balance.0 / 4 + 20_000);
        }
        "PROG-PHP-1" if one_month_before(p, c) && p.is_some_and(|p| p.status.rating().is_some()) && !c.payment_history.is_empty() => {
            let late = p?.status != Status::Current;
            c.payment_history.replace_range(..1, if late { "0" } else { "2" });
        }
        "DISPUTE-1" if c.dispute == Dispute::None && c.status.is_open() => {
            c.dispute = Dispute::Disputed;
            return Some(Plant::OnNext);
        }
        "COLEND-1" if !c.funding.is_empty() && p.is_some_and(|p| !p.funding.is_empty()) && c.funding.len() >= 2 => {
            let moved = c.funding[1].share_bp.min(500);
            c.funding[0].share_bp += moved;
            c.funding[1].share_bp -= moved;
            if moved == 0 {
                return None;
            }
        }
        "COLEND-2" if c.product.is_amortising() => {
            c.funding = vec![
                FundingShare { institution: furnisher.to_owned(), share_bp: 5_000 },
                FundingShare { institution: UNKNOWN_FUNDER.to_owned(), share_bp: 5_000 },
            ];
        }
        "COLEND-3" if c.product.is_amortising() => {
            let other = if furnisher == "bank-harbor" { "bank-jade" } else { "bank-harbor" };
            c.funding = vec![FundingShare { institution: other.to_owned(), share_bp: 10_000 }];
        }
        "COLEND-4" if c.product.is_revolving() => {
            c.funding = vec![FundingShare { institution: furnisher.to_owned(), share_bp: 10_000 }];
        }
        "DELIV-GAP-1" if p.is_some_and(|p| p.status.is_open() && p.closed.is_none()) && c.status.is_open() => {
            return Some(Plant::Skip);
        }
        // The rest add a record next month; the caller checks there is a next month.
        "DELIV-TWICE-1" if c.opened < days(c.as_of, -1) && c.status != Status::Delete => {
            let mut copy = r.clone();
            copy.facts.as_of = days(r.facts.as_of, -1);
            copy.facts.last_payment = copy.facts.last_payment.map(|d| d.min(copy.facts.as_of));
            copy.facts.first_delinquency = copy.facts.first_delinquency.map(|d| d.min(copy.facts.as_of));
            copy.facts.closed = copy.facts.closed.map(|d| d.min(copy.facts.as_of));
            return Some(Plant::Extra(Box::new(copy)));
        }
        "PROG-STATUS-3" if c.status == Status::Paid && c.closed.is_some() => {
            let mut next = r.clone();
            next.facts.as_of = next_cycle(r.facts.as_of);
            next.facts.status = Status::Current;
            next.facts.closed = None;
            next.facts.balance = AmountMinor(rng.random_range(1_000..100_000));
            next.facts.first_delinquency = None;
            return Some(Plant::Extra(Box::new(next)));
        }
        "PROG-CLOSED-1" if c.status == Status::Paid && c.closed.is_some_and(|d| d > c.opened) => {
            let mut next = r.clone();
            next.facts.as_of = next_cycle(r.facts.as_of);
            next.facts.closed = next.facts.closed.map(|d| days(d, -1));
            return Some(Plant::Extra(Box::new(next)));
        }
        "PROG-CLOSED-2" if c.status == Status::Paid && c.closed.is_some() => {
            let mut next = r.clone();
            next.facts.as_of = next_cycle(r.facts.as_of);
            next.facts.status = Status::Transferred;
            next.facts.closed = None;
            return Some(Plant::Extra(Box::new(next)));
        }
        _ => return None,
    }
    Some(Plant::Here)
}

/// Finishes a defect begun on the account's record before, on its next record `r` (`p` is the
/// record before, as written).
pub(crate) fn on_next(evaluator: &str, r: &mut AccountRecord, p: Option<&AccountFacts>) {
    let c = &mut r.facts;
    if evaluator == "PROG-STATUS-4" {
        c.status = Status::ChargedOff;
        c.balance = AmountMinor(c.balance.0.max(1_000));
        c.past_due = AmountMinor(c.past_due.0.max(1).min(c.balance.0));
        c.closed = None;
        c.first_delinquency = p.and_then(|p| p.first_delinquency).or(c.first_delinquency).or(Some(c.opened));
    }
}

/// The same cycle day next month (or that month's last day).
pub(crate) fn next_cycle(as_of: Date) -> Date {
    use chrono::Datelike;
    YearMonth::of(as_of).plus(1).day(as_of.day())
}

/// Evaluators whose defects ride on an extra record next month.
pub(crate) fn needs_next_month(evaluator: &str) -> bool {
    matches!(evaluator, "DELIV-TWICE-1" | "PROG-STATUS-3" | "PROG-CLOSED-1" | "PROG-CLOSED-2")
}

/// The record evaluators whose defects can be planted in files (the consumer's open dispute
/// that DISPUTE-2 needs is made through the API, not in a file).
pub(crate) fn plantable() -> Vec<&'static str> {
    registry_core::quality::CATALOGUE
        .iter()
        .filter(|e| matches!(e.check, registry_core::quality::catalogue::Check::Record(_)) && e.id != "DISPUTE-2")
        .map(|e| e.id)
        .collect()
}

/// How many of each kind were planted, so that each record picks the kind planted least among
/// those it can carry and every evaluator gets its share.
#[derive(Default)]
pub(crate) struct Tally {
    pub counts: BTreeMap<&'static str, u64>,
}

impl Tally {
    /// The kinds in the order to try: least planted first, ties in a random order.
    pub fn order(&self, kinds: &[&'static str], rng: &mut ChaCha8Rng) -> Vec<&'static str> {
        let mut order: Vec<(u64, u64, &'static str)> =
            kinds.iter().map(|k| (self.counts.get(k).copied().unwrap_or(0), rng.random::<u64>(), *k)).collect();
        order.sort_unstable();
        order.into_iter().map(|(_, _, k)| k).collect()
    }
}

/// Defects waiting for an account's next record: which evaluator it will show.
pub(crate) type Pending = HashMap<String, &'static str>;
