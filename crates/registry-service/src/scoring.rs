//! Scores in the registry: the model in force, the score on every report, every subject's
//! report for batch scoring, and the development sample built from the registry's own history.

use std::collections::BTreeMap;
use std::ops::{ControlFlow, Range};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use registry_core::model::{Date, IdType, NationalId, Pii};
use registry_core::report::{Audience, Report, SubjectFile, SubjectKey, build_report};
use registry_score::attributes;
use registry_score::model::{Reason, Scorecard};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::Access;
use crate::disclosure::Logged;
use crate::{Registry, ServiceError};

/// The model shipped with the registry: trained on the synthetic market's history
/// (`scripts/train-default-model.sh`). Operators retrain on their own data with
/// `score train --from-registry` and configure `score_model`.
pub const SHIPPED_MODEL: &str = include_str!("../models/default.json");

/// Subject keys a thread takes at a time in batch work: enough to amortise a query, few enough
/// that a round's results stay small.
const CHUNK_KEYS: i64 = 4_096;

/// A scorecard ready to score reports: its attributes located in the catalogue once.
#[derive(Clone, Debug)]
pub struct ScoreModel {
    card: Scorecard,
    /// Where each of the model's attributes is in `attributes::CATALOGUE`.
    positions: Vec<usize>,
    best_points: Vec<f64>,
    /// `sha256:` and the first 16 hex digits of the model file: which exact model scored.
    version: String,
}

/// What `score_all` hands over per subject: who, the catalogue's attributes, the score.
pub type ScoreVisitor<'v> = dyn FnMut(SubjectKey, &[Option<f64>], &ReportScore) -> ControlFlow<()> + 'v;

/// What `development_sample` went through.
#[derive(Clone, Copy, Debug)]
pub struct DevelopmentSample {
    /// Subjects with accounts, in or out of the sample.
    pub subjects_seen: u64,
    pub rows: u64,
    /// The end of the outcome window (the last day of the horizon's last month).
    pub outcome_date: Date,
}

/// The `score` section of a report (`docs/scoring.md`).
#[derive(Clone, Debug, Serialize)]
pub struct ReportScore {
    pub value: i64,
    pub model_id: String,
    pub model_version: String,
    /// Up to four attributes that cost the most points, worst first.
    pub reasons: Vec<Reason>,
}

impl ScoreModel {
    /// Reads a model file's text; refuses a model that uses anything but catalogue attributes.
    pub fn from_json(text: &str) -> Result<ScoreModel, String> {
        let card = Scorecard::from_json(text)?;
        let positions = card.positions_in(&attributes::names())?;
        let digest = hex::encode(Sha256::digest(text.as_bytes()));
        Ok(ScoreModel { best_points: card.best_points(), card, positions, version: format!("sha256:{}", &digest[..16]) })
    }

    pub fn shipped() -> ScoreModel {
        ScoreModel::from_json(SHIPPED_MODEL).expect("the shipped model is checked by its tests")
    }

    pub fn load(path: &Path) -> Result<ScoreModel, ServiceError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ServiceError::Io { context: format!("reading the score model {}", path.display()), source })?;
        ScoreModel::from_json(&text).map_err(|e| ServiceError::InvalidInput(format!("the score model {}: {e}", path.display())))
    }

    pub fn card(&self) -> &Scorecard {
        &self.card
    }

    /// The score of the subject of `report`, as of the report's date.
    pub fn score(&self, report: &Report) -> ReportScore {
        self.score_attributes(&attributes::compute(report))
    }

    /// The score given the catalogue's attribute values (in catalogue order).
    pub fn score_attributes(&self, catalogue_values: &[Option<f64>]) -> ReportScore {
        let values: Vec<Option<f64>> = self.positions.iter().map(|&at| catalogue_values[at]).collect();
        let scored = self.card.score_against(&values, &self.best_points);
        ReportScore {
            value: scored.score,
            model_id: self.card.model_id.clone(),
            model_version: self.version.clone(),
            reasons: scored.reasons,
        }
    }
}

impl Registry {
    /// The score model in force.
    pub fn score_model(&self) -> &ScoreModel {
        &self.score_model
    }

    /// Puts the score on a report built for `as_of`.
    pub(crate) fn add_score(&self, report: &mut Report) {
        report.score = serde_json::to_value(self.score_model.score(report)).ok();
    }

    /// The file of every subject whose key is in `keys`, in key order, holding what a report as
    /// of `as_of` holds (inquiries, accounts withheld by unanswered disputes), without identities
    /// or identifier: batch work never shows who anyone is. Stops when `visit` breaks.
    fn subject_files(
        &self,
        keys: Range<i64>,
        as_of: Date,
        visit: &mut dyn FnMut(&SubjectFile) -> ControlFlow<()>,
    ) -> Result<(), ServiceError> {
        self.store.for_each_subject_accounts(keys, &mut |subject, accounts| {
            let view = self.registry_view(subject, as_of).map_err(crate::visit_error)?;
            Ok(visit(&view.into_file(subject, NationalId { id_type: IdType::Other, id: Pii(String::new()) }, Vec::new(), accounts)))
        })?;
        Ok(())
    }

    /// Maps every subject's file (as `subject_files` gives it) on every core, and hands the
    /// results to `visit` in subject-key order. Each worker takes the next chunk of keys as soon
    /// as it is free (no round waits for its slowest chunk); results are put back in order here,
    /// and a worker more than a few chunks ahead of the output waits, so memory stays bounded.
    fn map_subjects<T: Send>(
        &self,
        _logged: &Logged,
        as_of: Date,
        map: &(dyn Fn(&SubjectFile) -> T + Sync),
        visit: &mut dyn FnMut(T) -> ControlFlow<()>,
    ) -> Result<(), ServiceError> {
        let Some(max_key) = self.store.subject_key_max()? else { return Ok(()) };
        let chunks = max_key / CHUNK_KEYS + 1;
        let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get) as i64;
        let next_chunk = AtomicI64::new(0);
        let emitted = AtomicI64::new(0);
        let stop = AtomicBool::new(false);
        let (sender, receiver) = std::sync::mpsc::sync_channel::<(i64, Result<Vec<T>, ServiceError>)>(2 * workers as usize);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                let sender = sender.clone();
                let (next_chunk, emitted, stop) = (&next_chunk, &emitted, &stop);
                scope.spawn(move || {
                    loop {
                        let chunk = next_chunk.fetch_add(1, Ordering::Relaxed);
                        if chunk >= chunks || stop.load(Ordering::Relaxed) {
                            return;
                        }
                        while chunk >= emitted.load(Ordering::Acquire) + 4 * workers && !stop.load(Ordering::Relaxed) {
                            std::thread::sleep(std::time::Duration::from_millis(1));
                        }
                        let keys = chunk * CHUNK_KEYS..(chunk + 1) * CHUNK_KEYS;
                        let mut out = Vec::new();
                        let result = self
                            .subject_files(keys, as_of, &mut |file| {
                                out.push(map(file));
                                if stop.load(Ordering::Relaxed) { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
                            })
                            .map(|()| out);
                        if sender.send((chunk, result)).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(sender);
            let mut waiting: BTreeMap<i64, Vec<T>> = BTreeMap::new();
            let mut outcome = Ok(());
            for (chunk, result) in &receiver {
                if stop.load(Ordering::Relaxed) {
                    continue;
                }
                match result {
                    Ok(items) => {
                        waiting.insert(chunk, items);
                    }
                    Err(e) => {
                        outcome = Err(e);
                        stop.store(true, Ordering::Relaxed);
                        continue;
                    }
                }
                while let Some(items) = waiting.remove(&emitted.load(Ordering::Acquire)) {
                    emitted.fetch_add(1, Ordering::Release);
                    for item in items {
                        if visit(item).is_break() {
                            stop.store(true, Ordering::Relaxed);
                            break;
                        }
                    }
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
            }
            outcome
        })
    }

    /// Scores every subject as of `as_of`, in subject-key order, for the reader `access` names;
    /// `visit` gets the subject, its catalogue attributes and its score. The run is logged (one
    /// entry) before the first subject is read; no identities are read.
    pub fn score_all(&self, access: &Access, as_of: Date, visit: &mut ScoreVisitor<'_>) -> Result<(), ServiceError> {
        let logged = self.log_before(access)?;
        let score = |file: &SubjectFile| {
            let report = build_report(file, as_of, Audience::Masked);
            let values = attributes::compute(&report);
            let score = self.score_model.score_attributes(&values);
            (file.subject, values, score)
        };
        self.map_subjects(&logged, as_of, &score, &mut |(subject, values, score)| visit(subject, &values, &score))
    }

    /// The development sample of the registry's own history: each subject's catalogue
    /// attributes as of `as_of` and whether they went 90+ days past due (or worse) on any
    /// account in the next `horizon_months` (1 to 24). Subjects without an account on the date,
    /// and those already in default on it, are left out. The run is logged (one entry, for the
    /// reader `access` names) before the first subject is read.
    pub fn development_sample(
        &self,
        access: &Access,
        as_of: Date,
        horizon_months: u32,
        visit: &mut dyn FnMut(&[Option<f64>], bool),
    ) -> Result<DevelopmentSample, ServiceError> {
        Registry::check_horizon(horizon_months)?;
        let logged = self.log_before(access)?;
        self.development_sample_logged(&logged, as_of, horizon_months, visit)
    }

    /// `development_sample`, its run already logged.
    pub(crate) fn development_sample_logged(
        &self,
        logged: &Logged,
        as_of: Date,
        horizon_months: u32,
        visit: &mut dyn FnMut(&[Option<f64>], bool),
    ) -> Result<DevelopmentSample, ServiceError> {
        let outcome_date = registry_core::report::YearMonth::of(as_of).plus(horizon_months as i32).last_day();
        let label = |file: &SubjectFile| {
            let observed = build_report(file, as_of, Audience::Masked);
            if observed.accounts.is_empty() || attributes::already_bad(&observed) {
                return None;
            }
            let outcome = build_report(file, outcome_date, Audience::Masked);
            attributes::went_bad_after(&outcome, as_of).map(|bad| (attributes::compute(&observed), bad))
        };
        let (mut seen, mut rows) = (0u64, 0u64);
        self.map_subjects(logged, as_of, &label, &mut |row| {
            seen += 1;
            if let Some((values, bad)) = row {
                visit(&values, bad);
                rows += 1;
            }
            ControlFlow::Continue(())
        })?;
        Ok(DevelopmentSample { subjects_seen: seen, rows, outcome_date })
    }
}

#[cfg(test)]
mod tests {
    use registry_core::model::{AccountFacts, Role};
    use registry_core::report::{AccountHistory, StoredRecord, SubjectLink, YearMonth};
    use serde_json::json;

    use super::*;

    #[test]
    fn the_shipped_model_loads_and_uses_catalogue_attributes_only() {
        let model = ScoreModel::shipped();
        assert!(model.version.starts_with("sha256:"));
        assert!(!model.card().attributes.is_empty());
        assert!(model.card().attributes.iter().all(|a| attributes::find(&a.name).is_some()));
        // A model of CSV columns cannot score the registry's reports.
        let mut foreign: serde_json::Value = serde_json::from_str(SHIPPED_MODEL).unwrap();
        let mut extra = foreign["attributes"][0].clone();
        extra["name"] = json!("RevolvingUtilizationOfUnsecuredLines");
        foreign["attributes"].as_array_mut().unwrap().push(extra);
        let refused = ScoreModel::from_json(&foreign.to_string()).unwrap_err();
        assert!(refused.contains("RevolvingUtilizationOfUnsecuredLines"), "{refused}");
    }

    /// A year of monthly card records; `last` is the status of the final month.
    fn card(last: &str, past_due: u64, balance: u64) -> AccountHistory {
        let records = (1..=12)
            .map(|month| {
                let status = if month == 12 { last } else { "current" };
                let facts: AccountFacts = serde_json::from_value(json!({
                    "account": "C1", "as_of": YearMonth::new(2024, month).unwrap().last_day(), "product": "credit_card",
                    "opened": "2019-03-01", "currency": "CNY", "credit_limit": 2_000_000,
                    "balance": if month == 12 { balance } else { 200_000 }, "past_due": if month == 12 { past_due } else { 0 },
                    "status": status,
                }))
                .unwrap();
                StoredRecord { facts, subjects: vec![SubjectLink { subject: 1, role: Role::Primary, identity: 1 }] }
            })
            .collect();
        AccountHistory { furnisher: "bank-a".into(), records }
    }

    fn score_of(history: AccountHistory) -> ReportScore {
        let file = SubjectFile {
            subject: SubjectKey(1),
            identifier: NationalId { id_type: IdType::Other, id: Pii(String::new()) },
            identities: vec![],
            accounts: vec![history],
            inquiries: vec![],
            registry_alerts: vec![],
        };
        ScoreModel::shipped().score(&build_report(&file, "2024-12-31".parse().unwrap(), Audience::Masked))
    }

    #[test]
    fn reason_codes_of_constructed_subjects() {
        let clean = score_of(card("current", 0, 200_000));
        let late = score_of(card("dpd60", 120_000, 1_900_000));
        assert!(late.value < clean.value - 40, "60 days late and near the limit costs: {} vs {}", late.value, clean.value);
        let delinquency = ["A09", "A10", "A11", "A14", "A15", "A16", "A17", "A18", "A20"];
        let late_codes: Vec<&str> = late.reasons.iter().map(|r| r.code.as_str()).collect();
        assert!(late_codes.iter().any(|c| delinquency.contains(c)), "the late payment is among the reasons: {late_codes:?}");
        assert!(late.reasons.len() <= 4 && late.reasons.windows(2).all(|w| w[0].points_lost >= w[1].points_lost));
        assert!(
            clean.reasons.iter().all(|r| !["A09", "A14", "A16"].contains(&r.code.as_str())),
            "nothing past due, nothing late: {:?}",
            clean.reasons
        );
        // Deterministic: the same file, the same score and reasons.
        let again = score_of(card("dpd60", 120_000, 1_900_000));
        assert_eq!((again.value, again.reasons.len()), (late.value, late.reasons.len()));
    }
}
