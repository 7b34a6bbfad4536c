//! Compact column encodings shared by the SQL backends: a stored row is written once a month
//! per account for years, so every byte counts (they are written to the log, then the table,
//! then read back for reports). Each encoding stays readable in a SQL shell.

use std::borrow::Cow;
use std::ops::ControlFlow;

use registry_core::model::{AccountFacts, AmountMinor, Currency, Date, Dispute, FundingShare, Role};
use registry_core::report::{AccountHistory, StoredRecord, SubjectKey, SubjectLink};

use registry_core::furnishing::RecordError;

use crate::{StoreError, StoreResult, Visit};

/// `a, b, c` as `r.a, r.b, r.c`: a column list for a query that joins several tables.
pub fn qualified(columns: &str, alias: &str) -> String {
    columns.split(", ").map(|c| format!("{alias}.{c}")).collect::<Vec<_>>().join(", ")
}

/// A date as the integer YYYYMMDD: 4 bytes instead of 10, and still sorts and reads as a date.
pub fn date_number(date: Date) -> i64 {
    use chrono::Datelike;
    i64::from(date.year()) * 10_000 + i64::from(date.month()) * 100 + i64::from(date.day())
}

pub fn date_from_number(number: i64) -> Option<Date> {
    let year = i32::try_from(number / 10_000).ok()?;
    Date::from_ymd_opt(year, ((number / 100) % 100) as u32, (number % 100) as u32)
}

/// One subject on a stored record: who, in which role, reported as which identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredLink {
    pub subject: i64,
    pub role: Role,
    pub identity: i64,
}

/// One letter per role, after the Metro 2 ECOA codes' initials.
pub(crate) fn role_letter(role: Role) -> char {
    match role {
        Role::Primary => 'P',
        Role::Joint => 'J',
        Role::Cosigner => 'C',
        Role::AuthorizedUser => 'A',
        Role::Terminated => 'T',
        Role::Deceased => 'X',
    }
}

fn letter_role(letter: &str) -> Option<Role> {
    Some(match letter {
        "P" => Role::Primary,
        "J" => Role::Joint,
        "C" => Role::Cosigner,
        "A" => Role::AuthorizedUser,
        "T" => Role::Terminated,
        "X" => Role::Deceased,
        _ => return None,
    })
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("bad {what} {value:?}"))
}

/// `subject:role:identity;…`, e.g. `17:P:31;18:J:32`.
pub fn encode_links(links: &[StoredLink]) -> String {
    let parts: Vec<String> = links.iter().map(|l| format!("{}:{}:{}", l.subject, role_letter(l.role), l.identity)).collect();
    parts.join(";")
}

pub fn decode_links(text: &str) -> StoreResult<Vec<SubjectLink>> {
    text.split(';')
        .map(|part| {
            let mut fields = part.split(':');
            let (Some(subject), Some(role), Some(identity), None) = (fields.next(), fields.next(), fields.next(), fields.next()) else {
                return Err(corrupt("subjects", text));
            };
            Ok(SubjectLink {
                subject: subject.parse().map_err(|_| corrupt("subjects", text))?,
                role: letter_role(role).ok_or_else(|| corrupt("subjects", text))?,
                identity: identity.parse().map_err(|_| corrupt("subjects", text))?,
            })
        })
        .collect()
}

/// `institution:share_bp;…` (institution ids never hold ':' or ';').
pub fn encode_funding(shares: &[FundingShare]) -> String {
    let parts: Vec<String> = shares.iter().map(|s| format!("{}:{}", s.institution, s.share_bp)).collect();
    parts.join(";")
}

pub fn decode_funding(text: &str) -> StoreResult<Vec<FundingShare>> {
    text.split(';')
        .map(|part| {
            let (institution, share) = part.split_once(':').ok_or_else(|| corrupt("funding", text))?;
            Ok(FundingShare { institution: institution.to_owned(), share_bp: share.parse().map_err(|_| corrupt("funding", text))? })
        })
        .collect()
}

/// A stored rejection, from its columns (`line, field, code, message`).
pub fn rejection(line: i64, field: String, code: &str, message: String) -> StoreResult<RecordError> {
    let code = code.parse().map_err(|()| StoreError::Corrupt(format!("unknown rejection code {code:?}")))?;
    Ok(RecordError { line: line as u64, field, code, message })
}

/// A stored record's columns as the database returns them, before they are checked and turned
/// into facts: one place for the decoding, whichever backend read them. The coded columns may
/// borrow the database's row (SQLite): parsed in place, they cost no allocation per record,
/// which is a measured share of batch scoring's whole-registry reads.
#[derive(Clone, Debug)]
pub struct RecordColumns<'r> {
    pub account: String,
    pub as_of: i64,
    pub product: Cow<'r, str>,
    pub opened: i64,
    pub closed: Option<i64>,
    pub currency: Cow<'r, str>,
    pub credit_limit: Option<i64>,
    pub original_amount: Option<i64>,
    pub term_months: Option<i64>,
    pub scheduled_payment: Option<i64>,
    pub actual_payment: Option<i64>,
    pub balance: i64,
    pub past_due: i64,
    pub status: Cow<'r, str>,
    pub payment_history: String,
    pub first_delinquency: Option<i64>,
    pub last_payment: Option<i64>,
    pub special_comment: Option<String>,
    pub dispute: Cow<'r, str>,
    pub subjects: Cow<'r, str>,
    pub funding: Option<Cow<'r, str>>,
    pub reporter_id: Option<String>,
}

/// Empties what a whole-registry scan does not read (`Store::for_each_subject_accounts`): the
/// fields no report summary, payment grid or score attribute uses. Reading 15 of the 24 record
/// columns made batch scoring 12 % faster (BENCHMARKS.md). SQLite does not read them
/// (`SCAN_COLUMNS`); PostgreSQL reads them and empties them here; the store suite checks that
/// both hand over the same records.
pub fn blank_unscanned(facts: &mut AccountFacts) {
    facts.term_months = None;
    facts.actual_payment = None;
    facts.first_delinquency = None;
    facts.last_payment = None;
    facts.special_comment = None;
    facts.dispute = Dispute::None;
    facts.reporter_id = None;
}

impl RecordColumns<'_> {
    /// The same columns, owning their text (to travel beyond the row, as a dump does).
    pub fn into_owned(self) -> RecordColumns<'static> {
        let own = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        RecordColumns {
            product: own(self.product),
            currency: own(self.currency),
            status: own(self.status),
            dispute: own(self.dispute),
            subjects: own(self.subjects),
            funding: self.funding.map(own),
            account: self.account,
            as_of: self.as_of,
            opened: self.opened,
            closed: self.closed,
            credit_limit: self.credit_limit,
            original_amount: self.original_amount,
            term_months: self.term_months,
            scheduled_payment: self.scheduled_payment,
            actual_payment: self.actual_payment,
            balance: self.balance,
            past_due: self.past_due,
            payment_history: self.payment_history,
            first_delinquency: self.first_delinquency,
            last_payment: self.last_payment,
            special_comment: self.special_comment,
            reporter_id: self.reporter_id,
        }
    }

    pub fn into_facts(self) -> StoreResult<(AccountFacts, Vec<SubjectLink>)> {
        let links = decode_links(&self.subjects)?;
        Ok((self.into_facts_alone()?, links))
    }

    /// The record's facts without its subjects (the evaluators' look-ups need no people).
    pub fn into_facts_alone(self) -> StoreResult<AccountFacts> {
        let date = |n: i64| date_from_number(n).ok_or_else(|| StoreError::Corrupt(format!("bad date {n}")));
        let opt_date = |n: Option<i64>| n.map(date).transpose();
        let amount = |n: Option<i64>| n.map(|v| AmountMinor(v as u64));
        let funding = match &self.funding {
            Some(encoded) => decode_funding(encoded)?,
            None => Vec::new(),
        };
        let facts = AccountFacts {
            as_of: date(self.as_of)?,
            product: self.product.parse().map_err(|()| corrupt("product", &self.product))?,
            opened: date(self.opened)?,
            closed: opt_date(self.closed)?,
            currency: Currency::from_code(&self.currency).ok_or_else(|| corrupt("currency", &self.currency))?,
            credit_limit: amount(self.credit_limit),
            original_amount: amount(self.original_amount),
            term_months: self.term_months.map(|v| v as u16),
            scheduled_payment: amount(self.scheduled_payment),
            actual_payment: amount(self.actual_payment),
            balance: AmountMinor(self.balance as u64),
            past_due: AmountMinor(self.past_due as u64),
            status: self.status.parse().map_err(|()| corrupt("status", &self.status))?,
            first_delinquency: opt_date(self.first_delinquency)?,
            last_payment: opt_date(self.last_payment)?,
            dispute: self.dispute.parse().map_err(|()| corrupt("dispute", &self.dispute))?,
            payment_history: self.payment_history,
            special_comment: self.special_comment,
            funding,
            reporter_id: self.reporter_id,
            account: self.account,
        };
        Ok(facts)
    }
}

/// Gathers a scan's rows, which arrive by subject, then account, then date, into each subject's
/// accounts and hands each subject, whole, to the scan's visitor: one place for the grouping both
/// backends' whole-registry scans do.
pub(crate) struct SubjectRows<'v> {
    visit: &'v mut dyn FnMut(SubjectKey, Vec<AccountHistory>) -> Visit,
    /// (subject, account) of the last row.
    current: Option<(i64, i64)>,
    accounts: Vec<AccountHistory>,
}

impl<'v> SubjectRows<'v> {
    pub fn new(visit: &'v mut dyn FnMut(SubjectKey, Vec<AccountHistory>) -> Visit) -> SubjectRows<'v> {
        SubjectRows { visit, current: None, accounts: Vec::new() }
    }

    /// Adds one row (`furnisher` is read only for an account's first row); a row of another
    /// subject first hands the previous one over. `Break` when the visitor wants no more.
    pub fn push(
        &mut self,
        subject: i64,
        account_key: i64,
        furnisher: impl FnOnce() -> StoreResult<String>,
        record: StoredRecord,
    ) -> StoreResult<ControlFlow<()>> {
        if let Some((previous, _)) = self.current.filter(|(s, _)| *s != subject)
            && (self.visit)(SubjectKey(previous), std::mem::take(&mut self.accounts)).map_err(StoreError::Visitor)?.is_break()
        {
            return Ok(ControlFlow::Break(()));
        }
        if self.current != Some((subject, account_key)) {
            self.accounts.push(AccountHistory { furnisher: furnisher()?, records: Vec::new() });
            self.current = Some((subject, account_key));
        }
        if let Some(history) = self.accounts.last_mut() {
            history.records.push(record);
        }
        Ok(ControlFlow::Continue(()))
    }

    /// Hands over the last subject, once the rows are done.
    pub fn finish(self) -> StoreResult<()> {
        if let Some((subject, _)) = self.current {
            // The last subject: whether the visitor wanted more no longer matters.
            let _ = (self.visit)(SubjectKey(subject), self.accounts).map_err(StoreError::Visitor)?;
        }
        Ok(())
    }
}

/// Rows ordered by subject handed to a visitor one subject at a time (the identity groups of
/// the data-quality pass, on both backends).
pub(crate) struct SubjectGroups<'v, T> {
    visit: &'v mut dyn FnMut(SubjectKey, Vec<T>) -> Visit,
    current: Option<(i64, Vec<T>)>,
}

impl<'v, T> SubjectGroups<'v, T> {
    pub fn new(visit: &'v mut dyn FnMut(SubjectKey, Vec<T>) -> Visit) -> SubjectGroups<'v, T> {
        SubjectGroups { visit, current: None }
    }

    /// Adds one row; a row of another subject first hands the previous one over. `Break` when
    /// the visitor wants no more.
    pub fn push(&mut self, subject: i64, item: T) -> StoreResult<ControlFlow<()>> {
        match &mut self.current {
            Some((key, items)) if *key == subject => items.push(item),
            _ => {
                if let Some((key, items)) = self.current.replace((subject, vec![item]))
                    && (self.visit)(SubjectKey(key), items).map_err(StoreError::Visitor)?.is_break()
                {
                    return Ok(ControlFlow::Break(()));
                }
            }
        }
        Ok(ControlFlow::Continue(()))
    }

    /// Hands over the last subject, once the rows are done.
    pub fn finish(self) -> StoreResult<()> {
        if let Some((key, items)) = self.current {
            let _last = (self.visit)(SubjectKey(key), items).map_err(StoreError::Visitor)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let date: Date = "2026-09-30".parse().unwrap();
        assert_eq!(date_number(date), 20260930);
        assert_eq!(date_from_number(20260930), Some(date));
        assert_eq!(date_from_number(20260231), None);
        let links =
            [StoredLink { subject: 17, role: Role::Primary, identity: 31 }, StoredLink { subject: 18, role: Role::Deceased, identity: 2 }];
        assert_eq!(encode_links(&links), "17:P:31;18:X:2");
        assert_eq!(
            decode_links("17:P:31;18:X:2").unwrap(),
            vec![
                SubjectLink { subject: 17, role: Role::Primary, identity: 31 },
                SubjectLink { subject: 18, role: Role::Deceased, identity: 2 }
            ]
        );
        assert!(decode_links("17:Q:31").is_err());
        assert!(decode_links("").is_err());
        let shares = vec![
            FundingShare { institution: "payplat".into(), share_bp: 3000 },
            FundingShare { institution: "bank-x".into(), share_bp: 7000 },
        ];
        assert_eq!(decode_funding(&encode_funding(&shares)).unwrap(), shares);
    }
}
