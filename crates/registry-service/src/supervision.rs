//! The supervisor's view of the whole market (`shared/spec/supervision.md`): the measures of a
//! month, which name no person, and the drill-down lists of people, each listed person an
//! audited read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use registry_core::model::Currency;
use registry_core::report::{SubjectKey, YearMonth};
use registry_core::supervision::{BorrowerList, Document, Institutions, Policy, Section, finish};
use registry_store::ScanProgress;
use serde::Serialize;

use crate::audit::{Access, AccessAction};
use crate::disclosure::Unlogged;
use crate::{Registry, ServiceError};

/// The purpose every drill-down read is logged under.
pub const SUPERVISION_PURPOSE: &str = "supervision";

/// How the registry judges the market (configuration): the policy numbers, and the file of the
/// institutions' supervisory figures (tier-1 capital, total loans).
#[derive(Clone, Debug, Default)]
pub struct SupervisionSettings {
    pub policy: Policy,
    /// A TOML file: a table per institution with `tier1_capital` and `total_loans`, each a
    /// table of minor units per currency (docs/supervision.md).
    pub institutions_file: Option<PathBuf>,
}

/// Reads an institutions file; an unreadable or malformed one is an input error naming it.
pub fn read_institutions(path: &Path) -> Result<Institutions, ServiceError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ServiceError::InvalidInput(format!("the institutions file {} cannot be read: {e}", path.display())))?;
    let institutions: Institutions =
        toml::from_str(&text).map_err(|e| ServiceError::InvalidInput(format!("the institutions file {}: {e}", path.display())))?;
    for (name, figures) in &institutions.0 {
        if figures.tier1_capital.values().chain(figures.total_loans.values()).any(|amount| *amount == 0) {
            return Err(ServiceError::InvalidInput(format!(
                "the institutions file {}: {name}'s tier1_capital and total_loans must be above 0",
                path.display()
            )));
        }
    }
    Ok(institutions)
}

/// A person on a drill-down list, with the figures that put them there.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ListedBorrower {
    /// The subject's registry id (`S…`).
    pub registry_id: String,
    /// Distinct lenders with an open account of theirs.
    pub lenders_open: usize,
    /// An open account of theirs 30 days or more past due.
    pub delinquent: bool,
    /// The lenders that opened an account of theirs in the month's last 30 days.
    pub recently_opened_at: Vec<String>,
    /// Their open microloans, per currency, in minor units.
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, u64>))]
    pub microloan_balance: BTreeMap<Currency, u128>,
}

/// A drill-down list of a month.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BorrowerListing {
    pub month: YearMonth,
    pub list: BorrowerList,
    /// The microloan caps the list was judged by (minor units per currency).
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, u64>))]
    pub microloan_cap: BTreeMap<Currency, u64>,
    pub subjects: Vec<ListedBorrower>,
}

impl Registry {
    /// The supervision policy in force.
    pub fn supervision_policy(&self) -> &Policy {
        &self.settings.supervision.policy
    }

    /// The measures of `month`, the `sections` asked for (all four when empty). They name
    /// furnishers and institutions but no person, so nothing is logged. `progress` hears (work
    /// done, work in all) as the store goes.
    pub fn supervise(&self, month: YearMonth, sections: &[Section], progress: &ScanProgress<'_>) -> Result<Document, ServiceError> {
        let policy = self.supervision_policy();
        let tally = self.store.supervision_tally(month, policy, progress)?;
        Ok(finish(&tally, month, sections, policy, &self.institutions))
    }

    /// The people on drill-down `list` for `month`, for the supervisor or operator `access`
    /// names: each person listed is a read logged before the list is handed over (action
    /// `drill_down`, purpose `supervision`), so they see it among their accesses.
    pub fn supervision_list(
        &self,
        access: &Access,
        month: YearMonth,
        list: BorrowerList,
        progress: &ScanProgress<'_>,
    ) -> Result<BorrowerListing, ServiceError> {
        let policy = self.supervision_policy();
        let listed = self.store.supervision_borrowers(month, policy, list, progress)?;
        let names: Vec<SubjectKey> = listed.iter().map(|(subject, _)| *subject).collect();
        let subjects = listed
            .into_iter()
            .map(|(subject, borrower)| ListedBorrower {
                registry_id: subject.registry_id(),
                lenders_open: borrower.lenders_open,
                delinquent: borrower.delinquent,
                recently_opened_at: borrower.recent_openers.into_iter().collect(),
                microloan_balance: borrower.microloan_balance,
            })
            .collect();
        let listing = BorrowerListing { month, list, microloan_cap: policy.microloan_cap_minor.clone(), subjects };
        let access = Access { action: AccessAction::DrillDown, purpose: Some(SUPERVISION_PURPOSE.to_owned()), ..access.clone() };
        self.disclose(&access, Unlogged::new(listing, names))
    }
}
