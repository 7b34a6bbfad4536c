//! Retention: negative information is reported only as long as the jurisdiction allows. An
//! account whose negative information's retention has ended is deleted whole (its records,
//! their earlier versions and its memberships), each deletion recorded in the access log.

use std::ops::ControlFlow;

use registry_core::model::{Date, FurnisherId};
use registry_core::report::{StoredRecord, SubjectKey};
use registry_core::retention::retention_start;
use serde::Serialize;

use crate::audit::{Access, AccessAction, Actor};
use crate::{Registry, ServiceError};

/// What one retention run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RetentionOutcome {
    pub accounts_examined: u64,
    pub accounts_purged: u64,
    pub records_purged: u64,
}

/// An account due for deletion.
struct Expired {
    account: String,
    subject: Option<SubjectKey>,
    start: Date,
    ends: Date,
}

impl Registry {
    /// Deletes every account whose negative information is past the profile's retention today.
    pub fn run_retention(&self) -> Result<RetentionOutcome, ServiceError> {
        let today = self.clock.today();
        let mut outcome = RetentionOutcome::default();
        for furnisher in self.store.furnishers()? {
            let expired = self.expired_accounts(&furnisher, today, &mut outcome.accounts_examined)?;
            for account in expired {
                let purged = self.store.purge_account(&furnisher, &account.account)?;
                let access = Access {
                    actor: Actor { key_id: None, name: "retention".into(), role: "operator".into() },
                    action: AccessAction::RetentionPurge,
                    purpose: Some(format!(
                        "{} account deleted: negative information from {} kept until {} ({} profile, {:?})",
                        furnisher, account.start, account.ends, self.profile.id, self.profile.retention.from
                    )),
                    consent_id: None,
                };
                // Not a read: the log keeps the deletion, naming whose account it was.
                self.log_reads(&access, account.subject.as_slice())?;
                outcome.accounts_purged += 1;
                outcome.records_purged += purged;
            }
        }
        Ok(outcome)
    }

    /// The furnisher's accounts whose retention has ended by `today`, reading its records
    /// account by account (they arrive grouped by account).
    fn expired_accounts(&self, furnisher: &FurnisherId, today: Date, examined: &mut u64) -> Result<Vec<Expired>, ServiceError> {
        let mut expired = Vec::new();
        let mut current: Vec<StoredRecord> = Vec::new();
        let rule = self.profile.retention.from;
        let mut judge = |records: &mut Vec<StoredRecord>| {
            if records.is_empty() {
                return;
            }
            *examined += 1;
            let facts: Vec<_> = records.iter().map(|r| &r.facts).collect();
            if let Some(start) = retention_start(&facts, rule) {
                let ends = self.profile.retention_ends(start);
                if ends <= today {
                    let subject = records.last().and_then(|r| r.subjects.first()).map(|link| SubjectKey(link.subject));
                    expired.push(Expired { account: records[0].facts.account.clone(), subject, start, ends });
                }
            }
            records.clear();
        };
        // Furnishing dates start in 1900 (the spec's range); the stores keep dates as integers.
        let earliest = Date::from_ymd_opt(1900, 1, 1).unwrap_or(today);
        self.store.for_each_record(furnisher, earliest, today, &mut |record| {
            if current.last().is_some_and(|last| last.facts.account != record.facts.account) {
                judge(&mut current);
            }
            current.push(record);
            Ok(ControlFlow::Continue(()))
        })?;
        judge(&mut current);
        Ok(expired)
    }
}
