//! The consolidated credit report (`shared/spec/report.md`): built from everything the registry
//! holds about one subject, as of a date. Pure: the caller loads the subject's file from storage
//! and passes it in; this module decides what counts and how.

mod grid;
mod render;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::identity::mask_id;
use crate::model::{
    AccountFacts, AmountMinor, Currency, Date, Dispute, FundingShare, IdType, NationalId, Product, ReportedIdentity, Role, Status,
};

pub use grid::{GridMonth, YearMonth, payment_grid};
pub use render::{money, render_text};

/// The registry's internal key of a subject (one per `(id_type, id)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubjectKey(pub i64);

impl SubjectKey {
    /// The subject's id as shown in reports and accepted by the API.
    pub fn registry_id(self) -> String {
        format!("S{:09}", self.0)
    }

    pub fn parse_registry_id(text: &str) -> Option<SubjectKey> {
        let digits = text.strip_prefix('S')?;
        if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().map(SubjectKey)
    }
}

/// One subject's relation to one stored record: who, in which role, and which of their
/// reported identities (`ReportedBy::identity`) the record carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SubjectLink {
    pub subject: i64,
    pub role: Role,
    pub identity: i64,
}

/// A stored record: the account facts and who was on the account, without their details.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecord {
    pub facts: AccountFacts,
    pub subjects: Vec<SubjectLink>,
}

/// Every current (not superseded) record of one account, in any order.
#[derive(Clone, Debug)]
pub struct AccountHistory {
    pub furnisher: String,
    pub records: Vec<StoredRecord>,
}

/// An identity as one furnisher reported it, under the key records refer to it by.
#[derive(Clone, Debug)]
pub struct ReportedBy {
    pub key: i64,
    pub furnisher: String,
    pub identity: ReportedIdentity,
}

/// A recorded inquiry (a lender's read of the report).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize)]
pub struct Inquiry {
    pub date: Date,
    pub lender: String,
    pub purpose: String,
}

/// Everything stored about one subject: the input of a report.
#[derive(Clone, Debug)]
pub struct SubjectFile {
    pub subject: SubjectKey,
    pub identifier: NationalId,
    pub identities: Vec<ReportedBy>,
    pub accounts: Vec<AccountHistory>,
    pub inquiries: Vec<Inquiry>,
    /// Alerts the registry itself holds for the subject (freezes, fraud alerts, disputes the
    /// subject opened), already decided for the report's date.
    pub registry_alerts: Vec<Alert>,
}

/// Who is reading: only the subject (and the operator's audited drill-down) sees identifiers
/// unmasked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Masked,
    Subject,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub as_of: Date,
    pub subject: SubjectSection,
    pub summary: Summary,
    pub accounts: Vec<AccountView>,
    pub inquiries: Vec<Inquiry>,
    /// The score and its reasons (`registry-service`'s `ReportScore`), added by the application
    /// that holds the model; `None` only where no model scored the report.
    pub score: Option<serde_json::Value>,
    pub alerts: Vec<Alert>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize)]
pub struct SubjectSection {
    pub registry_id: String,
    pub identifiers: Vec<IdentifierView>,
    pub names: Vec<NameView>,
    pub birth_dates: Vec<BirthDateView>,
    /// Furnishers spell the name differently (beyond case, spaces and punctuation).
    pub name_mismatch: bool,
    /// Furnishers give different birth dates.
    pub birth_date_mismatch: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize)]
pub struct IdentifierView {
    pub id_type: IdType,
    pub id: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct NameView {
    pub family_name: String,
    pub given_name: String,
    pub reported_by: Vec<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct BirthDateView {
    pub birth_date: Date,
    pub reported_by: Vec<String>,
}

/// The summary block; definitions in `shared/spec/report.md`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    pub accounts_total: u64,
    pub accounts_open: u64,
    pub lenders_open: u64,
    pub balance_open: BTreeMap<Currency, u128>,
    pub revolving_limit: BTreeMap<Currency, u128>,
    pub revolving_utilization: BTreeMap<Currency, Option<f64>>,
    pub past_due_total: BTreeMap<Currency, u128>,
    pub late_30_59_24m: u64,
    pub late_60_89_24m: u64,
    pub late_90_plus_24m: u64,
    pub derogatory_accounts: u64,
    pub inquiries_6m: u64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize)]
pub struct AccountView {
    pub furnisher: String,
    pub account: String,
    pub product: Product,
    pub role: Role,
    pub opened: Date,
    pub closed: Option<Date>,
    /// Date of the latest record.
    pub as_of: Date,
    pub currency: Currency,
    pub credit_limit: Option<AmountMinor>,
    pub original_amount: Option<AmountMinor>,
    pub term_months: Option<u16>,
    pub scheduled_payment: Option<AmountMinor>,
    pub actual_payment: Option<AmountMinor>,
    pub balance: AmountMinor,
    pub past_due: AmountMinor,
    pub status: Status,
    pub open: bool,
    pub first_delinquency: Option<Date>,
    pub last_payment: Option<Date>,
    pub special_comment: Option<String>,
    pub dispute: Dispute,
    pub funding: Vec<FundingShare>,
    /// The 24 months ending with the report's month, oldest first.
    pub payment_grid: Vec<GridMonth>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize)]
pub struct Alert {
    pub kind: AlertKind,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub furnisher: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    NameMismatch,
    BirthDateMismatch,
    ReportedDeceased,
    OpenDispute,
    /// The subject asked lenders to verify their identity before extending credit.
    FraudAlert,
    /// The subject froze their file: no inquiry for new credit is answered.
    SecurityFreeze,
}

/// Builds the report of `file` as of `as_of`.
pub fn build_report(file: &SubjectFile, as_of: Date, audience: Audience) -> Report {
    let window = YearMonth::of(as_of).window_24();
    let mut summary = Summary::default();
    let mut accounts = Vec::new();
    let mut open_lenders = BTreeSet::new();
    let mut revolving_balance: BTreeMap<Currency, u128> = BTreeMap::new();
    let mut alerts = Vec::new();
    let mut deceased_by = BTreeSet::new();
    // Identities shown are those the subject's reported accounts carry, so a deleted account
    // (sent under the wrong identifier, say) takes its names with it.
    let mut identities_used = BTreeSet::new();

    for history in &file.accounts {
        // A delete removes the account at every date, whenever it was sent.
        if history.records.iter().any(|r| r.facts.status == Status::Delete) {
            continue;
        }
        let mut visible: Vec<&StoredRecord> = history.records.iter().filter(|r| r.facts.as_of <= as_of).collect();
        visible.sort_by_key(|r| r.facts.as_of);
        let Some(latest) = visible.last().copied() else { continue };
        let Some(link) = latest.subjects.iter().find(|link| link.subject == file.subject.0 && link.role != Role::Terminated) else {
            continue;
        };
        if link.role == Role::Deceased {
            deceased_by.insert(history.furnisher.clone());
        }
        for record in &visible {
            for used in record.subjects.iter().filter(|l| l.subject == file.subject.0) {
                identities_used.insert(used.identity);
            }
        }
        let facts = &latest.facts;
        let open = facts.status.is_open() && facts.closed.is_none();
        let grid = payment_grid(&visible, window);

        summary.accounts_total += 1;
        if open {
            summary.accounts_open += 1;
            open_lenders.insert(history.furnisher.as_str());
            *summary.balance_open.entry(facts.currency).or_default() += u128::from(facts.balance.0);
            if facts.product.is_revolving() {
                *summary.revolving_limit.entry(facts.currency).or_default() += u128::from(facts.credit_limit.unwrap_or_default().0);
                *revolving_balance.entry(facts.currency).or_default() += u128::from(facts.balance.0);
            }
        }
        *summary.past_due_total.entry(facts.currency).or_default() += u128::from(facts.past_due.0);
        if facts.status.is_derogatory() {
            summary.derogatory_accounts += 1;
        }
        for month in &grid {
            match month.rating.map(super::model::Rating::lateness) {
                Some(crate::model::Lateness::Days30) => summary.late_30_59_24m += 1,
                Some(crate::model::Lateness::Days60) => summary.late_60_89_24m += 1,
                Some(crate::model::Lateness::Days90Plus) => summary.late_90_plus_24m += 1,
                _ => {}
            }
        }
        if facts.dispute == Dispute::Disputed {
            alerts.push(Alert {
                kind: AlertKind::OpenDispute,
                message: "the consumer disputes this account; the furnisher is investigating".into(),
                furnisher: Some(history.furnisher.clone()),
                account: Some(facts.account.clone()),
            });
        }
        accounts.push(AccountView {
            furnisher: history.furnisher.clone(),
            account: facts.account.clone(),
            product: facts.product,
            role: link.role,
            opened: facts.opened,
            closed: facts.closed,
            as_of: facts.as_of,
            currency: facts.currency,
            credit_limit: facts.credit_limit,
            original_amount: facts.original_amount,
            term_months: facts.term_months,
            scheduled_payment: facts.scheduled_payment,
            actual_payment: facts.actual_payment,
            balance: facts.balance,
            past_due: facts.past_due,
            status: facts.status,
            open,
            first_delinquency: facts.first_delinquency,
            last_payment: facts.last_payment,
            special_comment: facts.special_comment.clone(),
            dispute: facts.dispute,
            funding: facts.funding.clone(),
            payment_grid: grid,
        });
    }
    summary.lenders_open = open_lenders.len() as u64;
    for (currency, limit) in &summary.revolving_limit {
        let balance = revolving_balance.get(currency).copied().unwrap_or(0);
        summary.revolving_utilization.insert(*currency, utilization(balance, *limit));
    }
    summary.inquiries_6m = count_recent_applications(&file.inquiries, as_of, 6);
    accounts.sort_by(|a, b| b.as_of.cmp(&a.as_of).then_with(|| a.furnisher.cmp(&b.furnisher)).then_with(|| a.account.cmp(&b.account)));

    let subject = subject_section(file, &identities_used, audience);
    if subject.name_mismatch {
        alerts.insert(
            0,
            Alert {
                kind: AlertKind::NameMismatch,
                message: "furnishers report different names for this identifier".into(),
                furnisher: None,
                account: None,
            },
        );
    }
    if subject.birth_date_mismatch {
        alerts.insert(
            0,
            Alert {
                kind: AlertKind::BirthDateMismatch,
                message: "furnishers report different birth dates for this identifier".into(),
                furnisher: None,
                account: None,
            },
        );
    }
    for furnisher in deceased_by {
        alerts.push(Alert {
            kind: AlertKind::ReportedDeceased,
            message: "a furnisher reports this subject as deceased".into(),
            furnisher: Some(furnisher),
            account: None,
        });
    }
    let inquiries = recent_inquiries(&file.inquiries, as_of);
    alerts.extend(file.registry_alerts.iter().cloned());
    Report { as_of, subject, summary, accounts, inquiries, score: None, alerts }
}

/// Balance over limit, rounded half-up to 4 decimals; `None` when the limit is 0.
fn utilization(balance: u128, limit: u128) -> Option<f64> {
    if limit == 0 {
        return None;
    }
    // Integer arithmetic so the rounding is exact: floor((2·b·10⁴ + l) / 2l).
    let ten_thousandths = (2 * balance * 10_000 + limit) / (2 * limit);
    Some(ten_thousandths as f64 / 10_000.0)
}

/// `credit_application` inquiries in the `months` months up to `as_of` (the summary's
/// `inquiries_6m`; scoring counts 12 months too).
pub fn count_recent_applications(inquiries: &[Inquiry], as_of: Date, months: u32) -> u64 {
    let since = as_of.checked_sub_months(chrono::Months::new(months)).unwrap_or(Date::MIN);
    inquiries.iter().filter(|i| i.purpose == "credit_application" && i.date > since && i.date <= as_of).count() as u64
}

/// Inquiries of the last 24 months up to `as_of`, newest first.
fn recent_inquiries(inquiries: &[Inquiry], as_of: Date) -> Vec<Inquiry> {
    let since = as_of.checked_sub_months(chrono::Months::new(24)).unwrap_or(Date::MIN);
    let mut recent: Vec<Inquiry> = inquiries.iter().filter(|i| i.date > since && i.date <= as_of).cloned().collect();
    recent.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.lender.cmp(&b.lender)));
    recent
}

fn subject_section(file: &SubjectFile, identities_used: &BTreeSet<i64>, audience: Audience) -> SubjectSection {
    let id = match audience {
        Audience::Subject => file.identifier.id.0.clone(),
        Audience::Masked => mask_id(file.identifier.id_type, &file.identifier.id),
    };
    let mut names: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut birth_dates: BTreeMap<Date, BTreeSet<String>> = BTreeMap::new();
    for reported in file.identities.iter().filter(|r| identities_used.contains(&r.key)) {
        let identity = &reported.identity;
        names.entry((identity.family_name.0.clone(), identity.given_name.0.clone())).or_default().insert(reported.furnisher.clone());
        if let Some(birth) = &identity.birth_date {
            birth_dates.entry(birth.0).or_default().insert(reported.furnisher.clone());
        }
    }
    let distinct_names: BTreeSet<(String, String)> =
        names.keys().map(|(family, given)| (normalize_name(family), normalize_name(given))).collect();
    SubjectSection {
        registry_id: file.subject.registry_id(),
        identifiers: vec![IdentifierView { id_type: file.identifier.id_type, id }],
        name_mismatch: distinct_names.len() > 1,
        birth_date_mismatch: birth_dates.len() > 1,
        names: names
            .into_iter()
            .map(|((family_name, given_name), by)| NameView { family_name, given_name, reported_by: by.into_iter().collect() })
            .collect(),
        birth_dates: birth_dates
            .into_iter()
            .map(|(birth_date, by)| BirthDateView { birth_date, reported_by: by.into_iter().collect() })
            .collect(),
    }
}

/// Spelling-insensitive form of a name: case, spaces and punctuation do not make two names
/// different ("Xiao-Ming" is "xiao ming"); letters do ("Lu" is not "Lv").
fn normalize_name(name: &str) -> String {
    name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests;
