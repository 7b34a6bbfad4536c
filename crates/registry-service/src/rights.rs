//! Consent, inquiries and the consumer's rights: consents a consumer grants lenders, a lender's
//! inquiry under one, security freezes and fraud alerts, and disputes that go to the
//! furnisher's queue with the jurisdiction's deadline.

use std::collections::BTreeSet;

use registry_core::furnishing::RECORD_FIELDS;
pub use registry_core::governance::FlagKind;
use registry_core::governance::{ConsentStatus, DisputeStatus};
use registry_core::model::{Date, FurnisherId, IdType, NationalId, Timestamp};
use registry_core::report::{
    AccountHistory, Alert, AlertKind, Audience, Inquiry, Report, ReportedBy, SubjectFile, SubjectKey, build_report,
};
use registry_store::governance::{ConsentRow, DisputeAnswer, DisputeRow, FlagRow, InquiryRow};
use serde::{Deserialize, Serialize};

use crate::audit::{Access, AccessAction};
use crate::keys::{Principal, PrincipalRole};
use crate::profile::{AtDeadline, Sees};
use crate::{ErrorCode, Registry, ServiceError};

/// Why a request about someone's file is refused. Each has a stable code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No valid consent for this lender and purpose (said whether or not the subject exists).
    ConsentRequired,
    /// The identity details do not match the consenting subject (no hint which part).
    SubjectNotFound,
    /// The file is frozen and the purpose is new credit.
    FileFrozen,
}

impl Refusal {
    pub fn code(self) -> ErrorCode {
        match self {
            Refusal::ConsentRequired => ErrorCode::ConsentRequired,
            Refusal::SubjectNotFound => ErrorCode::SubjectNotFound,
            Refusal::FileFrozen => ErrorCode::FileFrozen,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentView {
    pub consent_id: String,
    pub lender: String,
    pub purpose: String,
    pub granted_at: Timestamp,
    /// The last day it may be used.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub expires: Date,
    pub status: ConsentStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

/// Who the lender says the inquiry is about.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InquirySubject {
    pub id_type: IdType,
    pub id: String,
    pub family_name: String,
    pub given_name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub birth_date: Date,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InquiryRequest {
    pub subject: InquirySubject,
    pub purpose: String,
    pub consent_id: String,
}

/// A freeze or fraud alert as the consumer sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlagView {
    pub flag_id: String,
    pub kind: FlagKind,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub starts: Date,
    /// The last day in force; absent while it runs until lifted.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub ends: Option<Date>,
}

impl FlagView {
    /// Whether the flag applies on `day`.
    pub fn in_force_on(&self, day: Date) -> bool {
        self.starts <= day && self.ends.is_none_or(|end| day <= end)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DisputeView {
    pub dispute_id: String,
    /// The disputing subject's registry id (for the furnisher, who knows the account).
    pub subject: String,
    pub furnisher: String,
    pub account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub reason: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub opened_on: Date,
    /// The last day the furnisher may answer (from the jurisdiction profile).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub deadline: Date,
    pub status: DisputeStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
}

/// How a furnisher answers a dispute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DisputeOutcome {
    /// The data is right as reported.
    Confirmed,
    /// The furnisher sent a corrected record (a correction submission).
    Corrected,
}

/// Fields of an account record a consumer may not dispute one by one: what names the account
/// and its cycle (dispute the account as a whole), and the dispute flag itself.
const NOT_DISPUTABLE_FIELDS: [&str; 4] = ["account", "as_of", "currency", "dispute"];

/// The fields of an account a consumer may dispute one by one.
pub fn disputable_fields() -> impl Iterator<Item = &'static str> {
    RECORD_FIELDS.into_iter().filter(|field| !NOT_DISPUTABLE_FIELDS.contains(field))
}

/// What the registry adds to a subject's report as of a date (`registry_view`).
pub(crate) struct RegistryView {
    pub alerts: Vec<Alert>,
    pub inquiries: Vec<Inquiry>,
    /// (furnisher, account) of disputed accounts withheld past their deadline.
    pub withheld: BTreeSet<(String, String)>,
}

impl RegistryView {
    /// The subject's file for a report: the stored accounts less those withheld, with the
    /// registry's inquiries and alerts. One place for it, whoever reads the file.
    pub(crate) fn into_file(
        self,
        subject: SubjectKey,
        identifier: NationalId,
        identities: Vec<ReportedBy>,
        mut accounts: Vec<AccountHistory>,
    ) -> SubjectFile {
        if !self.withheld.is_empty() {
            accounts.retain(|history| {
                let number = history.records.last().map_or("", |r| r.facts.account.as_str());
                !self.withheld.iter().any(|(furnisher, account)| *furnisher == history.furnisher && account == number)
            });
        }
        SubjectFile { subject, identifier, identities, accounts, inquiries: self.inquiries, registry_alerts: self.alerts }
    }
}

fn random_id(prefix: &str) -> Result<String, ServiceError> {
    Ok(format!("{prefix}{}", hex::encode(crate::keys::random_bytes::<12>()?)))
}

/// A consent id carries its subject (hex) so that it is found in that subject's rows alone,
/// whatever identity the lender then sends.
fn consent_subject(consent_id: &str) -> Option<SubjectKey> {
    let rest = consent_id.strip_prefix("cns_")?;
    let (subject, random) = rest.split_once('_')?;
    (random.len() == 24 && random.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| i64::from_str_radix(subject, 16).ok().map(SubjectKey))
        .flatten()
}

fn refused(refusal: Refusal, message: &str) -> ServiceError {
    ServiceError::Refused(refusal, message.to_owned())
}

fn normalise_name(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Birth date exactly, family name case-insensitively, against any identity reported.
fn identity_matches(identities: &[ReportedBy], claimed: &InquirySubject) -> bool {
    let family = normalise_name(&claimed.family_name);
    identities.iter().any(|r| r.identity.birth_date.as_ref().is_some_and(|b| b.0 == claimed.birth_date))
        && identities.iter().any(|r| normalise_name(&r.identity.family_name.0) == family)
}

impl Registry {
    fn consent_view(&self, row: ConsentRow) -> ConsentView {
        let status = if row.revoked_at.is_some() {
            ConsentStatus::Revoked
        } else if row.expires < self.clock.today() {
            ConsentStatus::Expired
        } else {
            ConsentStatus::Active
        };
        ConsentView {
            consent_id: row.consent_id,
            lender: row.lender,
            purpose: row.purpose,
            granted_at: row.granted_at,
            expires: row.expires,
            status,
            revoked_at: row.revoked_at,
        }
    }

    /// A consumer lets `lender` inquire for `purpose` until `expires` (inclusive).
    pub fn grant_consent(&self, subject: SubjectKey, lender: &str, purpose: &str, expires: Date) -> Result<ConsentView, ServiceError> {
        if self.profile.purpose(purpose).is_none() {
            let known: Vec<&str> = self.profile.purposes.iter().map(|p| p.id.as_str()).collect();
            return Err(ServiceError::InvalidInput(format!("that is not a purpose in this jurisdiction ({})", known.join(", "))));
        }
        if expires < self.clock.today() {
            return Err(ServiceError::InvalidInput("expires is a date not in the past".into()));
        }
        if !self.governance.has_live_key(PrincipalRole::Lender, lender)? {
            return Err(ServiceError::InvalidInput("there is no lender with that name (a lender is named as its API key is)".to_string()));
        }
        let row = ConsentRow {
            consent_id: format!("cns_{:x}_{}", subject.0, &random_id("")?),
            subject,
            lender: lender.to_owned(),
            purpose: purpose.to_owned(),
            granted_at: self.now(),
            expires,
            revoked_at: None,
        };
        self.governance.insert_consent(&row)?;
        Ok(self.consent_view(row))
    }

    pub fn consents(&self, subject: SubjectKey) -> Result<Vec<ConsentView>, ServiceError> {
        Ok(self.governance.consents(subject)?.into_iter().map(|row| self.consent_view(row)).collect())
    }

    pub fn revoke_consent(&self, subject: SubjectKey, consent_id: &str) -> Result<(), ServiceError> {
        if self.governance.revoke_consent(subject, consent_id, self.now())? {
            return Ok(());
        }
        match self.governance.consent(subject, consent_id)? {
            Some(_) => Err(ServiceError::InvalidInput("that consent is already revoked".into())),
            None => Err(ServiceError::NotFound("you have no consent with that id".into())),
        }
    }

    /// A lender's inquiry: checked against the consent, the identity and any freeze, recorded
    /// on the subject's file and in the access log, answered with what the purpose may see.
    pub fn inquire(&self, lender: &Principal, request: &InquiryRequest) -> Result<Report, ServiceError> {
        let purpose = self
            .profile
            .purpose(&request.purpose)
            .ok_or_else(|| ServiceError::InvalidInput("that is not a purpose in this jurisdiction".into()))?;
        let today = self.clock.today();
        // 1. A live consent for this lender and purpose, or nothing else is said.
        let consent = match consent_subject(&request.consent_id) {
            Some(subject) => self.governance.consent(subject, &request.consent_id)?,
            None => None,
        };
        let consent = consent
            .filter(|c| c.lender == lender.name && c.purpose == request.purpose && c.revoked_at.is_none())
            .filter(|c| c.expires >= today)
            .ok_or_else(|| refused(Refusal::ConsentRequired, "there is no valid consent of this subject for this lender and purpose"))?;
        // 2. The details must be the consenting subject's.
        let not_found = || refused(Refusal::SubjectNotFound, "no subject matches those details");
        let found = match self.find_subject(request.subject.id_type, &request.subject.id) {
            Ok(found) => found,
            Err(ServiceError::InvalidInput(_)) => None,
            Err(other) => return Err(other),
        };
        let file = match found {
            Some(subject) if subject == consent.subject => self.subject_file(subject, today)?,
            _ => None,
        };
        let Some(file) = file.filter(|file| file.test(|file| identity_matches(&file.identities, &request.subject))) else {
            return Err(not_found());
        };
        // 3. A frozen file answers no inquiry for new credit.
        // The file's alerts hold the freezes in force today (`registry_view`): no second read.
        if purpose.new_credit && file.test(|file| file.registry_alerts.iter().any(|a| a.kind == AlertKind::SecurityFreeze)) {
            return Err(refused(Refusal::FileFrozen, "the subject has frozen their file against inquiries for new credit"));
        }
        // 4. The report before this inquiry (it does not count itself), shaped by the purpose.
        let report = file.map(|file| {
            let mut report = build_report(&file, today, Audience::Masked);
            // Scored before the purpose trims the accounts away: the score is of the whole file.
            self.add_score(&mut report);
            if purpose.sees == Sees::Summary {
                report.accounts.clear();
                report.inquiries.clear();
            }
            report
        });
        self.governance.insert_inquiry(&InquiryRow {
            subject: consent.subject,
            made_on: today,
            lender: lender.name.clone(),
            purpose: request.purpose.clone(),
            consent_id: consent.consent_id.clone(),
        })?;
        let access = Access {
            actor: lender.actor(),
            action: AccessAction::Inquiry,
            purpose: Some(request.purpose.clone()),
            consent_id: Some(consent.consent_id),
        };
        self.disclose(&access, report)
    }

    fn flag_view(row: FlagRow) -> FlagView {
        FlagView { starts: row.starts, ends: row.ends, flag_id: row.flag_id, kind: row.kind }
    }

    pub fn flags(&self, subject: SubjectKey) -> Result<Vec<FlagView>, ServiceError> {
        Ok(self.governance.flags(subject)?.into_iter().map(Registry::flag_view).collect())
    }

    fn flag_active(&self, subject: SubjectKey, kind: FlagKind, on: Date) -> Result<bool, ServiceError> {
        Ok(self.flags(subject)?.iter().any(|f| f.kind == kind && f.in_force_on(on)))
    }

    /// Places a freeze (until lifted, or `until`) or a fraud alert (a year, or `until`) from today.
    pub fn place_flag(&self, subject: SubjectKey, kind: FlagKind, until: Option<Date>) -> Result<FlagView, ServiceError> {
        let today = self.clock.today();
        if self.flag_active(subject, kind, today)? {
            return Err(ServiceError::InvalidInput(format!("a {} is already in force", kind.as_str())));
        }
        if until.is_some_and(|until| until < today) {
            return Err(ServiceError::InvalidInput("until is a date not in the past".into()));
        }
        // An initial fraud alert lasts a year (FCRA §605A(a)(1), since 2018), unless lifted.
        let ends = until.or(match kind {
            FlagKind::FraudAlert => today.checked_add_months(chrono::Months::new(12)).map(|d| d - chrono::Days::new(1)),
            FlagKind::Freeze => None,
        });
        let row = FlagRow { flag_id: random_id("flg_")?, subject, kind, starts: today, ends, created_at: self.now() };
        self.governance.insert_flag(&row)?;
        Ok(Registry::flag_view(row))
    }

    /// Lifts the flag of `kind` in force: yesterday is its last day.
    pub fn lift_flag(&self, subject: SubjectKey, kind: FlagKind) -> Result<(), ServiceError> {
        let today = self.clock.today();
        let active: Vec<FlagView> = self.flags(subject)?.into_iter().filter(|f| f.kind == kind && f.in_force_on(today)).collect();
        if active.is_empty() {
            return Err(ServiceError::NotFound(format!("no {} is in force", kind.as_str())));
        }
        let yesterday = today - chrono::Days::new(1);
        for flag in active {
            self.governance.end_flag(subject, &flag.flag_id, yesterday)?;
        }
        Ok(())
    }

    fn dispute_view(row: DisputeRow) -> DisputeView {
        DisputeView {
            opened_on: row.opened_on,
            deadline: row.deadline,
            dispute_id: row.dispute_id,
            subject: row.subject.registry_id(),
            furnisher: row.furnisher,
            account: row.account,
            field: row.field,
            reason: row.reason,
            status: row.status,
            resolved_at: row.resolved_at,
            resolution: row.resolution,
        }
    }

    /// A consumer disputes one of their accounts (or one field of it), with a reason. It goes
    /// to the furnisher's queue with the jurisdiction's deadline and is marked on the report.
    pub fn open_dispute(
        &self,
        subject: SubjectKey,
        furnisher: &str,
        account: &str,
        field: Option<&str>,
        reason: &str,
    ) -> Result<DisputeView, ServiceError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 2000 {
            return Err(ServiceError::InvalidInput("the reason is 1 to 2,000 characters".into()));
        }
        if let Some(field) = field
            && !disputable_fields().any(|disputable| disputable == field)
        {
            let fields = disputable_fields().collect::<Vec<_>>().join(", ");
            return Err(ServiceError::InvalidInput(format!("that is not a field of an account ({fields})")));
        }
        let today = self.clock.today();
        // The account must be on the subject's report today (built, not scored: only its
        // accounts are looked at).
        let file =
            self.subject_file(subject, today)?.ok_or_else(|| ServiceError::NotFound("the registry holds nothing about you".into()))?;
        let on_report = file.test(|file| {
            build_report(file, today, Audience::Subject).accounts.iter().any(|a| a.furnisher == furnisher && a.account == account)
        });
        if !on_report {
            return Err(ServiceError::NotFound("your report has no such account from that furnisher".into()));
        }
        let row = DisputeRow {
            dispute_id: random_id("dsp_")?,
            subject,
            furnisher: furnisher.to_owned(),
            account: account.to_owned(),
            field: field.map(str::to_owned),
            reason: reason.to_owned(),
            opened_on: today,
            deadline: self.profile.dispute_deadline(today),
            status: DisputeStatus::Open,
            resolved_at: None,
            resolution: None,
        };
        self.governance.insert_dispute(&row)?;
        Ok(Registry::dispute_view(row))
    }

    pub fn subject_disputes(&self, subject: SubjectKey) -> Result<Vec<DisputeView>, ServiceError> {
        Ok(self.governance.subject_disputes(subject)?.into_iter().map(Registry::dispute_view).collect())
    }

    /// A furnisher's queue: open disputes (or all), oldest first.
    pub fn furnisher_disputes(&self, furnisher: &FurnisherId, open_only: bool) -> Result<Vec<DisputeView>, ServiceError> {
        Ok(self.governance.furnisher_disputes(furnisher.as_str(), open_only)?.into_iter().map(Registry::dispute_view).collect())
    }

    /// The furnisher answers: the data is right (`confirmed`) or it sent a correction (`corrected`).
    pub fn resolve_dispute(
        &self,
        furnisher: &FurnisherId,
        dispute_id: &str,
        outcome: DisputeOutcome,
        note: &str,
    ) -> Result<(), ServiceError> {
        let note = note.trim();
        if note.chars().count() > 2000 {
            return Err(ServiceError::InvalidInput("the note is at most 2,000 characters".into()));
        }
        let status = match outcome {
            DisputeOutcome::Confirmed => DisputeStatus::Confirmed,
            DisputeOutcome::Corrected => DisputeStatus::Corrected,
        };
        if self.governance.resolve_dispute(furnisher.as_str(), dispute_id, &DisputeAnswer { status, at: self.now(), note })? {
            return Ok(());
        }
        match self.governance.furnisher_disputes(furnisher.as_str(), false)?.iter().find(|d| d.dispute_id == dispute_id) {
            Some(_) => Err(ServiceError::InvalidInput("that dispute is already answered".into())),
            None => Err(ServiceError::NotFound("this furnisher has no dispute with that id".into())),
        }
    }

    /// What the registry itself says on a subject's report as of `as_of`: freezes and fraud
    /// alerts in force, the subject's open disputes; and which disputed accounts the profile
    /// withholds because their furnisher let the deadline pass.
    pub(crate) fn registry_view(&self, subject: SubjectKey, as_of: Date) -> Result<RegistryView, ServiceError> {
        let mut alerts = Vec::new();
        for flag in self.flags(subject)? {
            if flag.in_force_on(as_of) {
                let (kind, message) = match flag.kind.as_str() {
                    "freeze" => {
                        (AlertKind::SecurityFreeze, format!("security freeze since {}: no inquiry for new credit is answered", flag.starts))
                    }
                    _ => (
                        AlertKind::FraudAlert,
                        format!("fraud alert since {}: verify the applicant's identity before extending credit", flag.starts),
                    ),
                };
                alerts.push(Alert { kind, message, furnisher: None, account: None });
            }
        }
        let mut withheld = BTreeSet::new();
        for dispute in self.subject_disputes(subject)? {
            if dispute.status != DisputeStatus::Open || dispute.opened_on > as_of {
                continue;
            }
            let field = dispute.field.as_deref().map(|f| format!(" ({f})")).unwrap_or_default();
            let message = if as_of <= dispute.deadline {
                format!("disputed by the subject on {}{field}; the furnisher must answer by {}", dispute.opened_on, dispute.deadline)
            } else if self.profile.dispute.at_deadline == AtDeadline::Suppress {
                withheld.insert((dispute.furnisher.clone(), dispute.account.clone()));
                format!(
                    "disputed by the subject on {}{field} and not answered by {}: withheld from reports until answered",
                    dispute.opened_on, dispute.deadline
                )
            } else {
                format!("disputed by the subject on {}{field}; not answered by the deadline, {}", dispute.opened_on, dispute.deadline)
            };
            alerts.push(Alert {
                kind: AlertKind::OpenDispute,
                message,
                furnisher: Some(dispute.furnisher),
                account: Some(dispute.account),
            });
        }
        let inquiries = self
            .governance
            .inquiries(subject)?
            .into_iter()
            .map(|row| Inquiry { date: row.made_on, lender: row.lender, purpose: row.purpose })
            .collect();
        Ok(RegistryView { alerts, inquiries, withheld })
    }
}
