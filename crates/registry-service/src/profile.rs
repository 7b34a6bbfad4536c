//! Jurisdiction profiles: the rules that differ by country, as data (`profiles/*.toml`, each
//! rule with its legal source): permissible purposes and what each may see, the dispute
//! deadline and what happens when it passes, how long negative information is kept.

use std::fmt;

use chrono::Months;
use registry_core::model::Date;
pub use registry_core::retention::RetentionStart;
use serde::{Deserialize, Serialize};

use crate::ServiceError;

const PROFILES: [(&str, &str); 3] = [
    ("cn", include_str!("../profiles/cn.toml")),
    ("us", include_str!("../profiles/us.toml")),
    ("eu-nl", include_str!("../profiles/eu-nl.toml")),
];

/// The profile used when configuration names none.
pub const DEFAULT_PROFILE: &str = "cn";

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub id: String,
    pub name: String,
    pub dispute: DisputeRules,
    pub retention: RetentionRules,
    pub consumer: ConsumerRules,
    pub scoring: ScoringRules,
    #[serde(rename = "purpose")]
    pub purposes: Vec<PurposeRule>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisputeRules {
    pub deadline_days: Option<u32>,
    pub deadline_months: Option<u32>,
    pub at_deadline: AtDeadline,
    pub source: String,
}

/// What an unanswered dispute does to the report once its deadline has passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AtDeadline {
    /// The account stays, marked as disputed and unanswered.
    Annotate,
    /// The account is left out of every report until the furnisher answers.
    Suppress,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRules {
    pub years: u32,
    pub from: RetentionStart,
    pub source: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerRules {
    pub sees_full_report: bool,
}

/// What no scorecard of this registry may use: listed on every model card it trains.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringRules {
    pub excluded: Vec<ExcludedAttribute>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExcludedAttribute {
    pub attribute: String,
    pub why: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurposeRule {
    pub id: String,
    pub description: String,
    /// An application for new credit: refused while the file is frozen, counted in
    /// `inquiries_6m` when it is `credit_application`.
    pub new_credit: bool,
    pub sees: Sees,
    pub source: String,
}

/// How much of the report an inquiry for a purpose returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sees {
    /// The whole report (identifiers masked).
    Full,
    /// Subject, summary, score and alerts: no account list, no inquiry list.
    Summary,
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.id, self.name)
    }
}

impl Profile {
    /// The named profile: `cn`, `us` or `eu-nl`.
    pub fn named(id: &str) -> Result<Profile, ServiceError> {
        let (_, text) = PROFILES
            .iter()
            .find(|(name, _)| *name == id)
            .ok_or_else(|| ServiceError::InvalidInput(format!("{id:?} is not a jurisdiction profile (cn, us, eu-nl)")))?;
        let profile: Profile =
            toml::from_str(text).map_err(|e| ServiceError::Internal(format!("the {id} profile does not parse: {}", e.message())))?;
        if profile.dispute.deadline_days.is_some() == profile.dispute.deadline_months.is_some() {
            return Err(ServiceError::Internal(format!("the {id} profile must give exactly one of deadline_days and deadline_months")));
        }
        Ok(profile)
    }

    pub fn ids() -> impl Iterator<Item = &'static str> {
        PROFILES.iter().map(|(id, _)| *id)
    }

    pub fn purpose(&self, id: &str) -> Option<&PurposeRule> {
        self.purposes.iter().find(|p| p.id == id)
    }

    /// The last day a dispute opened on `opened` may be answered.
    pub fn dispute_deadline(&self, opened: Date) -> Date {
        match (self.dispute.deadline_days, self.dispute.deadline_months) {
            (Some(days), _) => opened + chrono::Days::new(u64::from(days)),
            (None, Some(months)) => opened.checked_add_months(Months::new(months)).unwrap_or(Date::MAX),
            (None, None) => opened,
        }
    }

    /// The first day negative information that started its retention clock on `start` may no
    /// longer be reported.
    pub fn retention_ends(&self, start: Date) -> Date {
        start.checked_add_months(Months::new(self.retention.years * 12)).unwrap_or(Date::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn every_profile_parses_and_gives_its_deadlines() {
        for id in Profile::ids() {
            let profile = Profile::named(id).unwrap();
            assert!(profile.purpose("credit_application").is_some_and(|p| p.new_credit), "{id}");
            assert!(profile.purpose("account_review").is_some_and(|p| p.sees == Sees::Summary), "{id}");
            assert!(!profile.dispute.source.is_empty() && !profile.retention.source.is_empty());
            assert!(profile.purposes.iter().all(|p| !p.source.is_empty()));
        }
        assert_eq!(Profile::named("cn").unwrap().dispute_deadline(d("2026-01-20")), d("2026-02-09"));
        assert_eq!(Profile::named("us").unwrap().dispute_deadline(d("2026-01-20")), d("2026-02-19"));
        // One month, as GDPR art. 12(3) counts it: to the same day of the next month, or its last day.
        assert_eq!(Profile::named("eu-nl").unwrap().dispute_deadline(d("2026-01-31")), d("2026-02-28"));
        assert_eq!(Profile::named("cn").unwrap().retention_ends(d("2020-02-29")), d("2025-02-28"));
        assert_eq!(Profile::named("us").unwrap().retention_ends(d("2019-03-01")), d("2026-03-01"));
        assert!(matches!(Profile::named("uk"), Err(ServiceError::InvalidInput(_))));
    }
}
