//! The record evaluators: each looks at one record, the account's record before it and what the
//! registry knows, and says what is implausible (a message with no personal data), or nothing.
//! Their metadata (what, why, the harm, the innocent explanation) is in `catalogue.rs`.

use super::InSequence;
use crate::model::{AccountFacts, Dispute, Product, Rating, Status};
use crate::report::YearMonth;

type Verdict = Option<String>;

/// Statuses that say the account is closed, the debt settled or moved.
fn closes(status: Status) -> bool {
    status.requires_zero_balance()
}

/// Derogatory statuses that are not yet settled (`collection`, `charged_off`, foreclosure …).
fn unsettled_derogatory(status: Status) -> bool {
    status.is_derogatory() && !status.requires_zero_balance()
}

/// A delinquent or derogatory status: one that carries a date of first delinquency.
fn adverse(status: Status) -> bool {
    status.is_delinquent() || status.is_derogatory()
}

/// How many 30-day buckets late an open status is: `current` 0, `dpd30` 1 … `dpd180` 6.
fn bucket(status: Status) -> Option<u32> {
    Some(match status {
        Status::Current => 0,
        Status::Dpd30 => 1,
        Status::Dpd60 => 2,
        Status::Dpd90 => 3,
        Status::Dpd120 => 4,
        Status::Dpd150 => 5,
        Status::Dpd180 => 6,
        _ => return None,
    })
}

/// Months from `previous`'s month to `current`'s (0 in the same month).
fn months_between(previous: &AccountFacts, current: &AccountFacts) -> i32 {
    YearMonth::of(current.as_of).months_since(YearMonth::of(previous.as_of))
}

fn history_shows_delinquency(history: &str) -> bool {
    history.bytes().filter_map(Rating::from_char).any(|r| r.lateness() != crate::model::Lateness::None)
}

// ---- status -----------------------------------------------------------------------------

pub fn collection_without_past_due(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    (matches!(c.status, Status::Collection | Status::ChargedOff) && c.past_due.0 == 0 && c.balance.0 > 0)
        .then(|| format!("status {} with a balance but nothing past due", c.status))
}

pub fn surrender_without_past_due(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    (matches!(c.status, Status::VoluntarySurrender | Status::Repossession)
        && matches!(c.product, Product::AutoLoan | Product::InstallmentLoan)
        && c.past_due.0 == 0)
        .then(|| format!("status {} on a {} with nothing past due", c.status, c.product))
}

pub fn derogatory_without_balance(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    (unsettled_derogatory(c.status) && c.balance.0 == 0 && c.closed.is_none())
        .then(|| format!("status {} with a balance of 0 and no closed date", c.status))
}

pub fn paid_off_reported_current(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    (c.product.is_amortising() && c.status == Status::Current && c.balance.0 == 0 && c.closed.is_none())
        .then(|| format!("a {} reported current with a balance of 0: paid off but not reported paid", c.product))
}

pub fn closing_status_without_closed_date(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    (closes(c.status) && c.closed.is_none()).then(|| format!("status {} but no closed date", c.status))
}

pub fn property_disposition_without_closed_date(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    (matches!(c.status, Status::Foreclosure | Status::DeedInLieu) && c.balance.0 == 0 && c.closed.is_none())
        .then(|| format!("status {} with nothing owed ends the account, but there is no closed date", c.status))
}

pub fn current_with_first_delinquency(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    (c.status == Status::Current && c.first_delinquency.is_some())
        .then(|| "status current with a date of first delinquency: the date belongs to delinquent accounts".to_owned())
}

pub fn clean_history_with_first_delinquency(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    (matches!(c.status, Status::Paid | Status::Transferred)
        && c.first_delinquency.is_some()
        && !c.payment_history.is_empty()
        && !history_shows_delinquency(&c.payment_history))
    .then(|| format!("status {} with a date of first delinquency, but the payment history shows no late month", c.status))
}

pub fn late_history_without_first_delinquency(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    (matches!(c.status, Status::Paid | Status::Transferred)
        && c.first_delinquency.is_none()
        && history_shows_delinquency(c.payment_history.get(..1).unwrap_or("")))
    .then(|| format!("status {}, closed while its last month was late, but there is no date of first delinquency", c.status))
}

// ---- balance ----------------------------------------------------------------------------

pub fn balance_above_original_amount(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    let original = c.original_amount?;
    (c.product.is_amortising() && c.balance > original)
        .then(|| format!("balance {} is above the original amount {}", c.balance.0, original.0))
}

pub fn balance_far_above_limit(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    let limit = c.credit_limit?;
    (c.product.is_revolving() && limit.0 > 0 && u128::from(c.balance.0) * 2 > u128::from(limit.0) * 3)
        .then(|| format!("balance {} is more than 150% of the credit limit {}", c.balance.0, limit.0))
}

pub fn closed_with_balance(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    (c.closed.is_some()
        && c.balance.0 > 0
        && (c.product.is_amortising() || c.product == Product::RevolvingLine)
        && c.status != Status::ChargedOff)
        .then(|| format!("closed, status {}, but a balance of {} remains", c.status, c.balance.0))
}

pub fn scheduled_payment_above_original_amount(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    let (payment, original) = (c.scheduled_payment?, c.original_amount?);
    (c.product.is_amortising() && payment > original)
        .then(|| format!("scheduled payment {} is above the original amount {}", payment.0, original.0))
}

pub fn payment_above_balance_owed(r: &InSequence<'_>) -> Verdict {
    let (c, p) = (r.current, r.previous?);
    let paid = c.actual_payment?;
    (c.product.is_amortising() && months_between(p, c) == 1 && paid.0 > p.balance.0.saturating_mul(2) && paid.0 > 100_000)
        .then(|| format!("a payment of {} is more than twice the {} owed the month before", paid.0, p.balance.0))
}

// ---- dates ------------------------------------------------------------------------------

pub fn first_delinquency_before_opened(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    let first = c.first_delinquency?;
    (first < c.opened).then(|| format!("first delinquency {first} is before the account was opened ({})", c.opened))
}

pub fn last_payment_before_opened(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    let paid = c.last_payment?;
    (paid < c.opened).then(|| format!("last payment {paid} is before the account was opened ({})", c.opened))
}

pub fn last_payment_after_as_of(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    let paid = c.last_payment?;
    (paid > c.as_of).then(|| format!("last payment {paid} is after the record's date {}", c.as_of))
}

/// Negative information older than this many months is obsolete (the US rule: seven years
/// from the first delinquency; other jurisdictions keep it shorter).
const OBSOLETE_AFTER_MONTHS: i32 = 84;

pub fn obsolete_negative_information(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    let first = c.first_delinquency?;
    (adverse(c.status) && YearMonth::of(c.as_of).months_since(YearMonth::of(first)) > OBSOLETE_AFTER_MONTHS)
        .then(|| format!("status {} reported more than seven years after the first delinquency ({first})", c.status))
}

pub fn payment_without_date(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    let paid = c.actual_payment?;
    (paid.0 > 0 && c.last_payment.is_none()).then(|| format!("a payment of {} this cycle but no date of last payment", paid.0))
}

pub fn closed_before_first_delinquency(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    let (closed, first) = (c.closed?, c.first_delinquency?);
    (closed < first && !matches!(c.status, Status::Paid | Status::Transferred))
        .then(|| format!("closed {closed}, before its first delinquency {first}"))
}

// ---- progression ------------------------------------------------------------------------

pub fn re_aged_first_delinquency(r: &InSequence<'_>) -> Verdict {
    let (c, p) = (r.current, r.previous?);
    let (now, before) = (c.first_delinquency?, p.first_delinquency?);
    (adverse(c.status) && adverse(p.status) && now > before)
        .then(|| format!("first delinquency moved later, from {before} to {now}, while the account stayed {}", c.status))
}

pub fn cured_keeping_first_delinquency(r: &InSequence<'_>) -> Verdict {
    let (c, p) = (r.current, r.previous?);
    (c.status == Status::Current && adverse(p.status) && c.first_delinquency.is_some() && c.first_delinquency == p.first_delinquency)
        .then(|| format!("brought current from {} but keeps its first delinquency", p.status))
}

pub fn skipped_delinquency_bucket(r: &InSequence<'_>) -> Verdict {
    let (c, p) = (r.current, r.previous?);
    let (now, before) = (bucket(c.status)?, bucket(p.status)?);
    let months = u32::try_from(months_between(p, c)).ok()?.max(1);
    (now > before + months).then(|| format!("from {} to {} in {months} month(s): lateness ages one bucket a month", p.status, c.status))
}

pub fn charge_off_revived(r: &InSequence<'_>) -> Verdict {
    let (c, p) = (r.current, r.previous?);
    (p.status == Status::ChargedOff && c.status.is_open()).then(|| format!("charged off, then reported {}", c.status))
}

pub fn paid_account_reopened(r: &InSequence<'_>) -> Verdict {
    let (c, p) = (r.current, r.previous?);
    (closes(p.status) && p.status != Status::Transferred && c.status.is_open()).then(|| format!("{}, then reported {}", p.status, c.status))
}

pub fn property_disposition_then_charge_off(r: &InSequence<'_>) -> Verdict {
    let (c, p) = (r.current, r.previous?);
    (matches!(p.status, Status::Foreclosure | Status::DeedInLieu) && c.status == Status::ChargedOff)
        .then(|| format!("{}, then charged off", p.status))
}

pub fn deleted_account_reappears(r: &InSequence<'_>) -> Verdict {
    let (c, p) = (r.current, r.previous?);
    (p.status == Status::Delete && c.status != Status::Delete).then(|| format!("deleted on {}, then reported again", p.as_of))
}

pub fn opened_date_changed(r: &InSequence<'_>) -> Verdict {
    let (c, p) = (r.current, r.previous?);
    (c.status != Status::Delete && p.status != Status::Delete && c.opened != p.opened)
        .then(|| format!("opened {} in this record, {} in the one before", c.opened, p.opened))
}

pub fn original_amount_changed(r: &InSequence<'_>) -> Verdict {
    let (c, p) = (r.current, r.previous?);
    let (now, before) = (c.original_amount?, p.original_amount?);
    (c.product.is_amortising() && now != before)
        .then(|| format!("original amount {} in this record, {} in the one before", now.0, before.0))
}

pub fn product_changed(r: &InSequence<'_>) -> Verdict {
    let (c, p) = (r.current, r.previous?);
    (c.status != Status::Delete && p.status != Status::Delete && c.product != p.product)
        .then(|| format!("product {} in this record, {} in the one before", c.product, p.product))
}

pub fn currency_changed(r: &InSequence<'_>) -> Verdict {
    let (c, p) = (r.current, r.previous?);
    (c.currency != p.currency).then(|| format!("currency {} in this record, {} in the one before", c.currency, p.currency))
}

pub fn closed_date_changed(r: &InSequence<'_>) -> Verdict {
    let (c, p) = (r.current, r.previous?);
    let (now, before) = (c.closed?, p.closed?);
    (now != before).then(|| format!("closed {now} in this record, {before} in the one before"))
}

pub fn closed_date_withdrawn(r: &InSequence<'_>) -> Verdict {
    let (c, p) = (r.current, r.previous?);
    (p.closed.is_some() && c.closed.is_none() && c.status != Status::Delete)
        .then(|| format!("closed {} in the record before, not closed in this one", p.closed.unwrap_or(p.as_of)))
}

pub fn installment_balance_grows_while_current(r: &InSequence<'_>) -> Verdict {
    let (c, p) = (r.current, r.previous?);
    (c.product.is_amortising()
        && c.status == Status::Current
        && p.status == Status::Current
        && months_between(p, c) == 1
        && u128::from(c.balance.0) * 10 > u128::from(p.balance.0) * 11
        && c.balance.0 > p.balance.0 + 10_000)
        .then(|| format!("a {} in good standing went from {} to {} owed in a month", c.product, p.balance.0, c.balance.0))
}

pub fn history_contradicts_last_status(r: &InSequence<'_>) -> Verdict {
    let (c, p) = (r.current, r.previous?);
    if months_between(p, c) != 1 {
        return None;
    }
    let expected = p.status.rating()?;
    let reported = Rating::from_char(*c.payment_history.as_bytes().first()?)?;
    (reported.lateness() != expected.lateness())
        .then(|| format!("last month was reported {}, but this record's payment history rates it {}", p.status, reported.as_char()))
}

// ---- disputes ---------------------------------------------------------------------------

pub fn dispute_flag_dropped(r: &InSequence<'_>) -> Verdict {
    let (c, p) = (r.current, r.previous?);
    (p.dispute == Dispute::Disputed && c.dispute == Dispute::None && c.status != Status::Delete)
        .then(|| "reported disputed, then without any dispute code: the dispute was neither resolved nor kept".to_owned())
}

pub fn open_dispute_not_flagged(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    let since = r.open_dispute_since?;
    // The furnisher has a cycle to learn of the dispute.
    let due = since + chrono::Days::new(30);
    (c.dispute == Dispute::None && c.as_of > due && c.status != Status::Delete)
        .then(|| format!("a consumer's dispute open since {since} is not flagged (dispute none)"))
}

// ---- co-lending -------------------------------------------------------------------------

fn shares(facts: &AccountFacts) -> Vec<(&str, u16)> {
    let mut shares: Vec<(&str, u16)> = facts.funding.iter().map(|s| (s.institution.as_str(), s.share_bp)).collect();
    shares.sort_unstable();
    shares
}

pub fn funding_changed_during_loan(r: &InSequence<'_>) -> Verdict {
    let (c, p) = (r.current, r.previous?);
    (!c.funding.is_empty() && !p.funding.is_empty() && shares(c) != shares(p))
        .then(|| "the loan's funders or their shares changed from the record before".to_owned())
}

pub fn unknown_funder(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    let known = &r.context.known_institutions;
    if known.is_empty() {
        return None;
    }
    let unknown: Vec<&str> =
        c.funding.iter().map(|s| s.institution.as_str()).filter(|i| *i != r.furnisher && !known.contains(*i)).collect();
    (!unknown.is_empty()).then(|| format!("funded by {}, not an institution the registry knows", unknown.join(", ")))
}

pub fn furnisher_not_among_funders(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    (!c.funding.is_empty() && c.funding.iter().all(|s| s.institution != r.furnisher))
        .then(|| "the funding lists other institutions only: the furnisher funds none of its own loan".to_owned())
}

pub fn funding_on_revolving_product(r: &InSequence<'_>) -> Verdict {
    let c = r.current;
    (!c.funding.is_empty() && c.product.is_revolving()).then(|| format!("co-lending funding on a {}", c.product))
}

// ---- delivery ---------------------------------------------------------------------------

pub fn month_skipped(r: &InSequence<'_>) -> Verdict {
    let (c, p) = (r.current, r.previous?);
    let months = months_between(p, c);
    (months > 1 && p.status.is_open() && p.closed.is_none())
        .then(|| format!("open at {}, next reported {months} months later: the months between are missing", p.as_of))
}

pub fn cycle_sent_twice(r: &InSequence<'_>) -> Verdict {
    let (c, other) = (r.current, r.same_month?);
    (c.status != Status::Delete).then(|| format!("a second record in the same month (also {other})"))
}
