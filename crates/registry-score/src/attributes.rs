//! The bureau attribute catalogue: what a scorecard trained on the registry reads about a
//! subject. Every attribute is a function of the subject's report as of a date, so it sees only
//! records with `as_of` on or before that date (the report's rule), and history can be replayed:
//! the attributes of 2024-06-30 are the same whatever arrived later. Corrections replace what
//! they correct and a `delete` removes its account at every date, as in the report.
//!
//! Amounts are summed across currencies at face value in major units (yuan, dollars): a
//! registry serves one market, whose currency nearly every account carries.

use registry_core::model::{Currency, Lateness, Product, Rating, StatusClass};
use registry_core::report::{AccountView, Report, YearMonth, count_recent_applications};

use crate::boost::Monotone;

/// One attribute of the catalogue.
#[derive(Clone, Copy, Debug)]
pub struct Attribute {
    pub name: &'static str,
    /// Stable reason code, printed with the reason.
    pub code: &'static str,
    pub description: &'static str,
    /// The key factor, in plain words, that a subject reads when this attribute costs them
    /// points (a factor, as adverse-action notices state them, not a verdict: it is named
    /// because the subject's value scores below the attribute's best).
    pub reason: &'static str,
    /// Fixed by the attribute's meaning; `Free` lets the data decide.
    pub monotone: Monotone,
}

const fn attribute(
    name: &'static str,
    code: &'static str,
    monotone: Monotone,
    description: &'static str,
    reason: &'static str,
) -> Attribute {
    Attribute { name, code, description, reason, monotone }
}

use Monotone::{Decreasing, Free, Increasing};

/// Every attribute, in the order `compute` returns them.
pub const CATALOGUE: [Attribute; 37] = [
    attribute(
        "accounts_total",
        "A01",
        Free,
        "accounts of the subject, any status, not deleted (report summary)",
        "Number of accounts on file",
    ),
    attribute("accounts_open", "A02", Free, "open accounts (report summary)", "Number of open accounts"),
    attribute(
        "lenders_open",
        "A03",
        Free,
        "distinct furnishers with an open account (report summary)",
        "Number of lenders with open credit",
    ),
    attribute("balance_open", "A04", Free, "balance owed on open accounts, major units (report summary)", "Amount owed on open accounts"),
    attribute(
        "revolving_limit",
        "A05",
        Free,
        "credit limit of open revolving accounts, major units (report summary)",
        "Total limit of revolving accounts",
    ),
    attribute(
        "revolving_utilization",
        "A06",
        Increasing,
        "revolving balance ÷ revolving limit, open accounts; missing without a limit (report summary)",
        "Revolving balances against their limits",
    ),
    attribute(
        "max_revolving_utilization",
        "A07",
        Increasing,
        "highest balance ÷ limit of one open revolving account; missing without one",
        "Balance against limit on the most-used revolving account",
    ),
    attribute("revolving_accounts_open", "A08", Free, "open credit cards and revolving lines", "The number of open revolving accounts"),
    attribute(
        "past_due_total",
        "A09",
        Increasing,
        "amount past due on every account's latest record, major units (report summary)",
        "Amount past due",
    ),
    attribute(
        "late_30_59_24m",
        "A10",
        Increasing,
        "account-months rated 30–59 days late in the last 24 months (report summary)",
        "Payments 30 days late in the last two years",
    ),
    attribute(
        "late_60_89_24m",
        "A11",
        Increasing,
        "account-months rated 60–89 days late in the last 24 months (report summary)",
        "Payments 60 days late in the last two years",
    ),
    attribute(
        "late_90_plus_24m",
        "A12",
        Increasing,
        "account-months rated 90+ days late or worse in the last 24 months (report summary)",
        "Payments 90 days or more late in the last two years",
    ),
    attribute(
        "derogatory_accounts",
        "A13",
        Increasing,
        "accounts whose latest status is derogatory: charged off, collection, foreclosure … (report summary)",
        "Accounts charged off, in collection or repossessed",
    ),
    attribute(
        "delinquent_accounts_now",
        "A14",
        Increasing,
        "open accounts whose latest status is 30+ days past due",
        "Accounts past due now",
    ),
    attribute(
        "accounts_late_24m",
        "A15",
        Increasing,
        "accounts with a month rated 30+ days late in the last 24 months",
        "Number of accounts paid late in the last two years",
    ),
    attribute(
        "worst_lateness_24m",
        "A16",
        Increasing,
        "worst month in the last 24 months: 0 none, 1 thirty, 2 sixty, 3 ninety days late or worse",
        "Worst late payment in the last two years",
    ),
    attribute(
        "months_since_late_30",
        "A17",
        Decreasing,
        "months since the latest month rated 30+ days late (0: the report's month); missing if none in 24 months",
        "Time since the last late payment",
    ),
    attribute(
        "months_since_late_60",
        "A18",
        Decreasing,
        "months since the latest month rated 60+ days late; missing if none in 24 months",
        "Time since the last payment 60 days or more late",
    ),
    attribute(
        "months_since_late_90",
        "A19",
        Decreasing,
        "months since the latest month rated 90+ days late or worse; missing if none in 24 months",
        "Time since the last payment 90 days or more late",
    ),
    attribute(
        "on_time_share_24m",
        "A20",
        Decreasing,
        "share of rated account-months in the last 24 months without lateness; missing if none rated",
        "Share of payments on time in the last two years",
    ),
    attribute(
        "oldest_account_months",
        "A21",
        Decreasing,
        "months since the oldest account was opened; missing without accounts",
        "Length of the credit history",
    ),
    attribute(
        "newest_account_months",
        "A22",
        Decreasing,
        "months since the most recent account was opened; missing without accounts",
        "Time since the newest account was opened",
    ),
    attribute(
        "average_account_months",
        "A23",
        Decreasing,
        "average months since the accounts were opened; missing without accounts",
        "Average age of the accounts",
    ),
    attribute(
        "accounts_opened_6m",
        "A24",
        Increasing,
        "accounts opened in the 6 months up to the date",
        "Accounts opened in the last 6 months",
    ),
    attribute(
        "accounts_opened_12m",
        "A25",
        Increasing,
        "accounts opened in the 12 months up to the date",
        "Accounts opened in the last 12 months",
    ),
    attribute(
        "inquiries_6m",
        "A26",
        Increasing,
        "credit-application inquiries in the 6 months up to the date (report summary)",
        "Applications for credit in the last 6 months",
    ),
    attribute(
        "inquiries_12m",
        "A27",
        Increasing,
        "credit-application inquiries in the 12 months up to the date",
        "Applications for credit in the last 12 months",
    ),
    attribute(
        "installment_balance_to_original",
        "A28",
        Free,
        "balance ÷ original amount over open instalment loans and mortgages; missing without one",
        "Instalment loan balances against the amounts borrowed",
    ),
    attribute(
        "installment_accounts_open",
        "A29",
        Free,
        "open instalment loans (instalment, auto, student, microloan, pay-later)",
        "Number of open instalment loans",
    ),
    attribute("mortgage_accounts_open", "A30", Free, "open mortgages", "Number of open mortgages"),
    attribute("microloan_accounts_open", "A31", Free, "open microloans", "Number of open microloans"),
    attribute("microloan_balance", "A32", Free, "balance of open microloans, major units", "Amount owed on microloans"),
    attribute("bnpl_accounts_open", "A33", Free, "open pay-later accounts", "Number of open pay-later accounts"),
    attribute("bnpl_balance", "A34", Free, "balance of open pay-later accounts, major units", "Amount owed on pay-later accounts"),
    attribute(
        "co_lent_share",
        "A35",
        Free,
        "share of the open balance funded by institutions other than the furnisher (co-lending); missing without a balance",
        "Share of the debt that is co-lent",
    ),
    attribute(
        "scheduled_payment_total",
        "A36",
        Free,
        "scheduled monthly payments of open accounts, major units",
        "Monthly payment obligations",
    ),
    attribute("accounts_paid", "A37", Free, "accounts closed paid as agreed", "Number of accounts paid as agreed"),
];

/// The catalogue's attribute names, in order.
pub fn names() -> Vec<String> {
    CATALOGUE.iter().map(|a| a.name.to_owned()).collect()
}

/// The catalogue entry of `name`, if it is one.
pub fn find(name: &str) -> Option<&'static Attribute> {
    CATALOGUE.iter().find(|a| a.name == name)
}

/// Major units of an amount in minor units of `currency`.
fn major(currency: Currency, minor: u128) -> f64 {
    minor as f64 / 10f64.powi(i32::from(currency.exponent().unwrap_or(0)))
}

fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator > 0.0).then(|| numerator / denominator)
}

fn count(n: usize) -> Option<f64> {
    Some(n as f64)
}

/// Every attribute of the catalogue for the subject of `report`, as of the report's date, in
/// catalogue order; `None` where an attribute has no value (its own bin in every scorecard).
pub fn compute(report: &Report) -> Vec<Option<f64>> {
    let as_of = report.as_of;
    let summary = &report.summary;
    let months_ago = |date| f64::from(registry_core::model::months_between(date, as_of).max(0));
    let sum_major =
        |map: &std::collections::BTreeMap<Currency, u128>| map.iter().map(|(currency, minor)| major(*currency, *minor)).sum::<f64>();

    let open: Vec<&AccountView> = report.accounts.iter().filter(|a| a.open).collect();
    let mut max_utilization: Option<f64> = None;
    let (mut instalment_balance, mut instalment_original) = (0.0, 0.0);
    let (mut microloan_balance, mut bnpl_balance, mut co_lent, mut scheduled) = (0.0, 0.0, 0.0, 0.0);
    let mut open_balance = 0.0;
    for account in &open {
        let balance = major(account.currency, account.balance.0.into());
        open_balance += balance;
        if account.product.is_revolving() {
            if let Some(limit) = account.credit_limit.filter(|l| l.0 > 0) {
                let utilization = account.balance.0 as f64 / limit.0 as f64;
                max_utilization = Some(max_utilization.map_or(utilization, |m: f64| m.max(utilization)));
            }
        } else if account.product.is_amortising()
            && let Some(original) = account.original_amount
        {
            instalment_balance += balance;
            instalment_original += major(account.currency, original.0.into());
        }
        match account.product {
            Product::Microloan => microloan_balance += balance,
            Product::Bnpl => bnpl_balance += balance,
            _ => {}
        }
        let others_bp: u32 = account.funding.iter().filter(|f| f.institution != account.furnisher).map(|f| u32::from(f.share_bp)).sum();
        co_lent += balance * f64::from(others_bp.min(10_000)) / 10_000.0;
        scheduled += account.scheduled_payment.map_or(0.0, |p| major(account.currency, p.0.into()));
    }

    // The payment grids: the 24 months ending with the report's month, oldest first.
    let mut latest_late = [None::<YearMonth>; 3]; // the latest 30+, 60+, 90+ month
    let (mut rated, mut on_time, mut accounts_late, mut worst) = (0usize, 0usize, 0usize, 0u8);
    for account in &report.accounts {
        let mut late_here = false;
        for month in &account.payment_grid {
            let Some(rating) = month.rating else { continue };
            if matches!(rating, Rating::NoHistoryBefore | Rating::NoHistory) {
                continue;
            }
            rated += 1;
            let level = match rating.lateness() {
                Lateness::None => 0u8,
                Lateness::Days30 => 1,
                Lateness::Days60 => 2,
                Lateness::Days90Plus => 3,
            };
            if level == 0 {
                on_time += 1;
                continue;
            }
            late_here = true;
            worst = worst.max(level);
            for slot in latest_late.iter_mut().take(usize::from(level)) {
                *slot = Some(slot.map_or(month.month, |s| s.max(month.month)));
            }
        }
        accounts_late += usize::from(late_here);
    }
    let months_since = |slot: Option<YearMonth>| slot.map(|month| f64::from(YearMonth::of(as_of).months_since(month)));

    let ages: Vec<f64> = report.accounts.iter().map(|a| months_ago(a.opened)).collect();
    let opened_within = |months: u32| {
        let since = as_of.checked_sub_months(chrono::Months::new(months)).unwrap_or(as_of);
        report.accounts.iter().filter(|a| a.opened > since && a.opened <= as_of).count()
    };
    let open_of = |products: &[Product]| open.iter().filter(|a| products.contains(&a.product)).count();

    vec![
        Some(summary.accounts_total as f64),
        Some(summary.accounts_open as f64),
        Some(summary.lenders_open as f64),
        Some(sum_major(&summary.balance_open)),
        Some(sum_major(&summary.revolving_limit)),
        summary.revolving_utilization.values().flatten().copied().reduce(f64::max),
        max_utilization,
        count(open.iter().filter(|a| a.product.is_revolving()).count()),
        Some(sum_major(&summary.past_due_total)),
        Some(summary.late_30_59_24m as f64),
        Some(summary.late_60_89_24m as f64),
        Some(summary.late_90_plus_24m as f64),
        Some(summary.derogatory_accounts as f64),
        count(open.iter().filter(|a| a.status.is_delinquent()).count()),
        count(accounts_late),
        Some(f64::from(worst)),
        months_since(latest_late[0]),
        months_since(latest_late[1]),
        months_since(latest_late[2]),
        ratio(on_time as f64, rated as f64),
        ages.iter().copied().reduce(f64::max),
        ages.iter().copied().reduce(f64::min),
        ratio(ages.iter().sum(), ages.len() as f64),
        count(opened_within(6)),
        count(opened_within(12)),
        Some(summary.inquiries_6m as f64),
        Some(count_recent_applications(&report.inquiries, as_of, 12) as f64),
        ratio(instalment_balance, instalment_original),
        count(open.iter().filter(|a| a.product.is_amortising() && a.product != Product::Mortgage).count()),
        count(open_of(&[Product::Mortgage])),
        count(open_of(&[Product::Microloan])),
        Some(microloan_balance),
        count(open_of(&[Product::Bnpl])),
        Some(bnpl_balance),
        ratio(co_lent, open_balance),
        Some(scheduled),
        count(report.accounts.iter().filter(|a| a.status.class() == StatusClass::ClosedGood).count()),
    ]
}

/// Whether the subject went 90+ days past due (or worse) on any account in the months after
/// `observed`'s month up to the report's month: the development sample's label, read from the
/// report at the end of the outcome window. `None` when the horizon reaches past the 24 months a
/// report's grid covers.
pub fn went_bad_after(outcome: &Report, observed: registry_core::model::Date) -> Option<bool> {
    let months = registry_core::model::months_between(observed, outcome.as_of);
    if !(1..=24).contains(&months) {
        return None;
    }
    let first = YearMonth::of(observed).plus(1);
    Some(outcome.accounts.iter().any(|account| {
        account.payment_grid.iter().any(|m| m.month >= first && m.rating.is_some_and(|r| r.lateness() == Lateness::Days90Plus))
            || (account.as_of > observed && account.status.is_derogatory())
    }))
}

/// Whether the subject is already in default at `report`'s date (an open account 90+ days past
/// due, or a derogatory account still owing): such subjects are left out of a development sample, whose
/// question is who will go bad.
pub fn already_bad(report: &Report) -> bool {
    report.accounts.iter().any(|a| {
        (a.status.is_derogatory() && a.balance.0 > 0)
            || (a.open && a.payment_grid.last().and_then(|m| m.rating).is_some_and(|r| r.lateness() == Lateness::Days90Plus))
    })
}

#[cfg(test)]
mod tests;
