//! The snapshot of a month, account by account and borrower by borrower: what a scan of the
//! stored records feeds into a `Tally`.

use std::collections::{BTreeMap, BTreeSet};

use super::{Bucket, LendersBucket};
use crate::model::{AccountFacts, Currency, Date, Product, Role};
use crate::report::{AccountHistory, StoredRecord, SubjectLink, YearMonth};

/// Months before the reference month whose records still place an account in its snapshot
/// (the spec: `M` or one of the two months before it).
const SNAPSHOT_LOOKBACK_MONTHS: i32 = 2;

/// Days that `stacking_subjects` looks back over, the last day of the month included.
const STACKING_DAYS: i64 = 30;

/// One account as of the reference month `M`: its latest record on or before the last day of
/// `M`, and what the measures need from its other records.
#[derive(Clone, Copy, Debug)]
pub struct AccountSnapshot<'r> {
    /// The latest record on or before the last day of `M`.
    pub latest: &'r AccountFacts,
    /// Its people.
    pub subjects: &'r [SubjectLink],
    /// In the snapshot of `M`: `latest` is dated `M` or the two months before; otherwise stale.
    pub in_snapshot: bool,
    /// The account's bucket in the snapshot of `M − 1`, if it is in that snapshot.
    pub previous: Option<Bucket>,
    /// The earliest `as_of` on or before the last day of `M` whose status is `90+` or
    /// derogatory.
    pub first_serious: Option<Date>,
    /// The account's bucket in the snapshot of `M` (that of `latest`).
    pub bucket: Bucket,
}

impl AccountSnapshot<'_> {
    /// Open in the snapshot: status `current` or `dpd*` and no `closed` date (the report's rule).
    pub fn is_open(&self) -> bool {
        self.in_snapshot && self.latest.status.is_open() && self.latest.closed.is_none()
    }

    /// The month the account was opened.
    pub fn opened_month(&self) -> YearMonth {
        YearMonth::of(self.latest.opened)
    }

    /// Whether `subject` is one of the account's people in the snapshot (every role but
    /// `terminated`, as in reports).
    pub fn belongs_to(&self, subject: i64) -> bool {
        self.subjects.iter().any(|link| link.subject == subject && link.role != Role::Terminated)
    }
}

/// The snapshot of one account as of `month`, from its current records (in any order); `None`
/// when the account is deleted (a `delete` at any date removes it) or has no record on or
/// before the month's last day.
pub fn account_snapshot(records: &[StoredRecord], month: YearMonth) -> Option<AccountSnapshot<'_>> {
    let end = month.last_day();
    let previous_end = month.plus(-1).last_day();
    let mut latest: Option<&StoredRecord> = None;
    let mut previous: Option<&StoredRecord> = None;
    let mut first_serious: Option<Date> = None;
    for record in records {
        let facts = &record.facts;
        let bucket = Bucket::of(facts.status)?;
        if facts.as_of > end {
            continue;
        }
        if latest.is_none_or(|l| facts.as_of > l.facts.as_of) {
            latest = Some(record);
        }
        if facts.as_of <= previous_end && previous.is_none_or(|p| facts.as_of > p.facts.as_of) {
            previous = Some(record);
        }
        if bucket.is_seriously_delinquent() && first_serious.is_none_or(|d| facts.as_of < d) {
            first_serious = Some(facts.as_of);
        }
    }
    let latest = latest?;
    let in_window = |record: &StoredRecord, month: YearMonth| YearMonth::of(record.facts.as_of) >= month.plus(-SNAPSHOT_LOOKBACK_MONTHS);
    Some(AccountSnapshot {
        latest: &latest.facts,
        subjects: &latest.subjects,
        in_snapshot: in_window(latest, month),
        previous: previous.filter(|p| in_window(p, month.plus(-1))).and_then(|p| Bucket::of(p.facts.status)),
        first_serious,
        bucket: Bucket::of(latest.facts.status)?,
    })
}

/// The account's owner for counting: the least subject key on any of its records. A scan that
/// visits each subject's accounts meets a joint account once per person; it counts the account
/// where it meets it through its owner, so once.
pub fn owner(records: &[StoredRecord]) -> Option<i64> {
    records.iter().flat_map(|record| record.subjects.iter().map(|link| link.subject)).min()
}

/// One borrower in the snapshot: what `borrowers` counts of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BorrowerView {
    /// Distinct furnishers with an open account of theirs.
    pub lenders_open: usize,
    /// An open account of theirs in bucket `30`, `60` or `90+`.
    pub delinquent: bool,
    /// Distinct furnishers at which an account of theirs in the snapshot was opened within the
    /// last 30 days of the month.
    pub recent_openers: BTreeSet<String>,
    /// Balance of their open microloans, per currency.
    pub microloan_balance: BTreeMap<Currency, u128>,
}

impl BorrowerView {
    /// The view of subject `subject` from every account it is linked to; `None` when it has no
    /// open account in the snapshot (it is not a borrower of the month).
    pub fn of(subject: i64, accounts: &[AccountHistory], month: YearMonth) -> Option<BorrowerView> {
        let end = month.last_day();
        let recent_from = end - chrono::Days::new((STACKING_DAYS - 1) as u64);
        let mut open_lenders: BTreeSet<&str> = BTreeSet::new();
        let mut view =
            BorrowerView { lenders_open: 0, delinquent: false, recent_openers: BTreeSet::new(), microloan_balance: BTreeMap::new() };
        for history in accounts {
            let Some(snapshot) = account_snapshot(&history.records, month) else { continue };
            if !snapshot.in_snapshot || !snapshot.belongs_to(subject) {
                continue;
            }
            let facts = snapshot.latest;
            if (recent_from..=end).contains(&facts.opened) {
                view.recent_openers.insert(history.furnisher.clone());
            }
            if !snapshot.is_open() {
                continue;
            }
            open_lenders.insert(&history.furnisher);
            view.delinquent |= snapshot.bucket.is_30_plus();
            if facts.product == Product::Microloan {
                *view.microloan_balance.entry(facts.currency).or_default() += u128::from(facts.balance.0);
            }
        }
        view.lenders_open = open_lenders.len();
        (view.lenders_open > 0).then_some(view)
    }

    pub fn lenders_bucket(&self) -> LendersBucket {
        LendersBucket::of(self.lenders_open)
    }

    /// Accounts opened at two or more distinct furnishers within the last 30 days of the month.
    pub fn is_stacking(&self) -> bool {
        self.recent_openers.len() >= 2
    }

    /// The currencies in which their open microloans exceed `caps`.
    pub fn over_cap<'c>(&'c self, caps: &'c BTreeMap<Currency, u64>) -> impl Iterator<Item = (Currency, u128)> + 'c {
        caps.iter().filter_map(|(currency, cap)| {
            let owed = self.microloan_balance.get(currency).copied().unwrap_or(0);
            (owed > u128::from(*cap)).then_some((*currency, owed))
        })
    }
}
