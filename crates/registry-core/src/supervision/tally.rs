//! The integer counts and sums every measure is made from, per group. A scan adds accounts and
//! borrowers to a tally (each thread its own, merged at the end); PostgreSQL fills one from its
//! `GROUP BY` rows. Either way `document::finish` makes the document from it.

use std::collections::BTreeMap;

use super::snapshot::{AccountSnapshot, BorrowerView, account_snapshot, owner};
use super::{Bucket, LendersBucket, Policy, funding_part};
use crate::model::{Currency, Product};
use crate::report::{AccountHistory, YearMonth};

/// Amount sums per currency. Sums are `u128`: a market's total can pass what one amount may be.
pub type Amounts = BTreeMap<Currency, u128>;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Per `(furnisher, product, currency)` with an account in the snapshot.
    pub market: BTreeMap<(String, Product, Currency), MarketSums>,
    /// Per `(furnisher, product)` with an account in the snapshot.
    pub risk: BTreeMap<(String, Product), RiskSums>,
    /// Per `(furnisher, product, opening month)` within the 24 months ending with `M`.
    pub vintages: BTreeMap<(String, Product, YearMonth), VintageSums>,
    /// Per furnisher with an account not deleted and a record on or before the month's end.
    pub furnishers: BTreeMap<String, FurnisherSums>,
    /// Per furnisher with an open co-lent loan (one that lists `funding`).
    pub co_lending: BTreeMap<String, CoLendingSums>,
    /// Funders' parts per `(institution, furnisher whose loans it funds, currency)`.
    pub funded: BTreeMap<(String, String, Currency), u128>,
    pub borrowers: BorrowerSums,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MarketSums {
    pub accounts_open: u64,
    pub balance_open: u128,
    pub past_due: u128,
    pub originations: u64,
    pub originated_amount: u128,
    pub balance_30_plus: u128,
    pub balance_90_plus: u128,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RiskSums {
    pub open_accounts: u64,
    pub open_30_plus: u64,
    pub open_90_plus: u64,
    /// Accounts in the snapshots of both `M − 1` and `M`, by `(bucket then, bucket now)`.
    pub roll: BTreeMap<(Bucket, Bucket), u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VintageSums {
    pub accounts: u64,
    /// Accounts by the month of their first `90+` or derogatory record (the opening month where
    /// that record is older).
    pub first_serious: BTreeMap<YearMonth, u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FurnisherSums {
    pub accounts_in_snapshot: u64,
    pub stale_accounts: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoLendingSums {
    pub loans: u64,
    pub balance: Amounts,
    pub own_balance: Amounts,
    pub partner_balance: Amounts,
    pub loans_below_min_own_share: u64,
    pub balance_below_min_own_share: Amounts,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BorrowerSums {
    pub subjects: u64,
    /// Subjects per bucket of open lenders, and how many of them are delinquent.
    pub by_lenders_open: BTreeMap<LendersBucket, LendersSums>,
    pub stacking_subjects: u64,
    /// Subjects over the microloan cap, per currency (only currencies over which someone is).
    pub over_microloan_cap: BTreeMap<Currency, u64>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LendersSums {
    pub subjects: u64,
    pub delinquent: u64,
}

impl Tally {
    /// Counts one subject of a scan that visits every subject with every account linked to it
    /// (`Store::for_each_subject_accounts`): the subject as a borrower of `month`, and each
    /// account it owns (`snapshot::owner`), so that a joint account is counted once.
    pub fn add_subject(&mut self, subject: i64, accounts: &[AccountHistory], month: YearMonth, policy: &Policy) {
        if let Some(borrower) = BorrowerView::of(subject, accounts, month) {
            self.add_borrower(&borrower, &policy.microloan_cap_minor);
        }
        for history in accounts {
            if owner(&history.records) != Some(subject) {
                continue;
            }
            if let Some(account) = account_snapshot(&history.records, month) {
                self.add_account(&history.furnisher, &account, month, policy.min_own_share_bp);
            }
        }
    }

    /// Counts an account of `furnisher` as of `month` (once per account: see
    /// `snapshot::owner`). `min_own_share_bp` is the policy's.
    pub fn add_account(&mut self, furnisher: &str, account: &AccountSnapshot<'_>, month: YearMonth, min_own_share_bp: u32) {
        let facts = account.latest;
        let counts = self.furnishers.entry(furnisher.to_owned()).or_default();
        if account.in_snapshot {
            counts.accounts_in_snapshot += 1;
        } else {
            counts.stale_accounts += 1;
        }
        let opened = account.opened_month();
        if opened >= month.window_24() && opened <= month {
            let vintage = self.vintages.entry((furnisher.to_owned(), facts.product, opened)).or_default();
            vintage.accounts += 1;
            if let Some(date) = account.first_serious {
                *vintage.first_serious.entry(YearMonth::of(date).max(opened)).or_default() += 1;
            }
        }
        if !account.in_snapshot {
            return;
        }

        let balance = u128::from(facts.balance.0);
        let market = self.market.entry((furnisher.to_owned(), facts.product, facts.currency)).or_default();
        market.past_due += u128::from(facts.past_due.0);
        if YearMonth::of(facts.opened) == month {
            market.originations += 1;
            market.originated_amount += u128::from(facts.original_amount.or(facts.credit_limit).map_or(0, |amount| amount.0));
        }
        let risk = self.risk.entry((furnisher.to_owned(), facts.product)).or_default();
        if let Some(previous) = account.previous {
            *risk.roll.entry((previous, account.bucket)).or_default() += 1;
        }
        if !account.is_open() {
            return;
        }
        market.accounts_open += 1;
        market.balance_open += balance;
        risk.open_accounts += 1;
        if account.bucket.is_30_plus() {
            market.balance_30_plus += balance;
            risk.open_30_plus += 1;
        }
        if account.bucket == Bucket::Dpd90Plus {
            market.balance_90_plus += balance;
            risk.open_90_plus += 1;
        }

        if facts.funding.is_empty() {
            return;
        }
        let co = self.co_lending.entry(furnisher.to_owned()).or_default();
        co.loans += 1;
        *co.balance.entry(facts.currency).or_default() += balance;
        let mut own_share_bp = 0;
        for share in &facts.funding {
            let part = funding_part(facts.balance, share.share_bp);
            *self.funded.entry((share.institution.clone(), furnisher.to_owned(), facts.currency)).or_default() += part;
            if share.institution == furnisher {
                own_share_bp = share.share_bp;
                *co.own_balance.entry(facts.currency).or_default() += part;
            } else {
                *co.partner_balance.entry(facts.currency).or_default() += part;
            }
        }
        if u32::from(own_share_bp) < min_own_share_bp {
            co.loans_below_min_own_share += 1;
            *co.balance_below_min_own_share.entry(facts.currency).or_default() += balance;
        }
    }

    /// Counts a borrower of the month; `caps` is the policy's microloan cap per currency.
    pub fn add_borrower(&mut self, borrower: &BorrowerView, caps: &BTreeMap<Currency, u64>) {
        let sums = &mut self.borrowers;
        sums.subjects += 1;
        let bucket = sums.by_lenders_open.entry(borrower.lenders_bucket()).or_default();
        bucket.subjects += 1;
        bucket.delinquent += u64::from(borrower.delinquent);
        sums.stacking_subjects += u64::from(borrower.is_stacking());
        for (currency, _) in borrower.over_cap(caps) {
            *sums.over_microloan_cap.entry(currency).or_default() += 1;
        }
    }

    /// Adds another tally of the same month (another thread's share of the subjects).
    pub fn merge(&mut self, other: Tally) {
        for (key, sums) in other.market {
            let into = self.market.entry(key).or_default();
            into.accounts_open += sums.accounts_open;
            into.balance_open += sums.balance_open;
            into.past_due += sums.past_due;
            into.originations += sums.originations;
            into.originated_amount += sums.originated_amount;
            into.balance_30_plus += sums.balance_30_plus;
            into.balance_90_plus += sums.balance_90_plus;
        }
        for (key, sums) in other.risk {
            let into = self.risk.entry(key).or_default();
            into.open_accounts += sums.open_accounts;
            into.open_30_plus += sums.open_30_plus;
            into.open_90_plus += sums.open_90_plus;
            add_counts(&mut into.roll, sums.roll);
        }
        for (key, sums) in other.vintages {
            let into = self.vintages.entry(key).or_default();
            into.accounts += sums.accounts;
            add_counts(&mut into.first_serious, sums.first_serious);
        }
        for (key, sums) in other.furnishers {
            let into = self.furnishers.entry(key).or_default();
            into.accounts_in_snapshot += sums.accounts_in_snapshot;
            into.stale_accounts += sums.stale_accounts;
        }
        for (key, sums) in other.co_lending {
            let into = self.co_lending.entry(key).or_default();
            into.loans += sums.loans;
            into.loans_below_min_own_share += sums.loans_below_min_own_share;
            add_counts(&mut into.balance, sums.balance);
            add_counts(&mut into.own_balance, sums.own_balance);
            add_counts(&mut into.partner_balance, sums.partner_balance);
            add_counts(&mut into.balance_below_min_own_share, sums.balance_below_min_own_share);
        }
        add_counts(&mut self.funded, other.funded);
        let (into, from) = (&mut self.borrowers, other.borrowers);
        into.subjects += from.subjects;
        into.stacking_subjects += from.stacking_subjects;
        for (bucket, sums) in from.by_lenders_open {
            let bucket = into.by_lenders_open.entry(bucket).or_default();
            bucket.subjects += sums.subjects;
            bucket.delinquent += sums.delinquent;
        }
        add_counts(&mut into.over_microloan_cap, from.over_microloan_cap);
    }
}

fn add_counts<K: Ord, N: std::ops::AddAssign + Default>(into: &mut BTreeMap<K, N>, from: BTreeMap<K, N>) {
    for (key, n) in from {
        *into.entry(key).or_default() += n;
    }
}
