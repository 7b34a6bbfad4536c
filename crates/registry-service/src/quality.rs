//! Data quality (`shared/spec/data-quality.md`): the evaluators run on every applied submission
//! (beside the ingest, on its own thread, against the records stored before it) and over the
//! whole store on demand; findings are stored, and scorecards count them per 10,000 records.
//! A finding names an account, never a person; the records behind one are read through
//! `account_history`, an audited read.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::mpsc;

use registry_core::model::{AccountFacts, Date, FurnisherId, ReportedIdentity};
use registry_core::quality::{self, CATALOGUE, Context, Finding, InSequence, ReportedName, Severity};
use registry_core::report::{StoredRecord, YearMonth};
/// A page of findings: `limit` after the first `offset`.
pub use registry_store::Page;
use registry_store::{FindingScope, ScanProgress};
use serde::Serialize;

use crate::vault::Purpose;
use crate::{Registry, ServiceError};

/// Findings one submission's evaluation keeps in memory to store; past it, the hits are still
/// counted (its result says how many by evaluator) but the rest of the findings are left for
/// `credit-registry quality` to store. A file whose every record hits (the worst case) would
/// otherwise hold one finding per record per evaluator in memory.
pub const SUBMISSION_FINDINGS_MAX: usize = 200_000;

/// Records a whole-store pass holds in memory at a time for one account: an account has one a
/// month, so this is generous.
const ACCOUNT_RECORDS_MAX: usize = 10_000;

/// What evaluating one submission found.
#[derive(Debug, Default)]
pub(crate) struct SubmissionEvaluation {
    pub findings: Vec<Finding>,
    /// Records of the submission that correct a stored one: their old findings go.
    pub corrected: Vec<(String, Date)>,
    pub hits: BTreeMap<String, u64>,
    pub records: u64,
}

/// One batch of a submission's accepted records, as the parsing thread hands them over.
/// Batches of an ingest looked up together at most, when they are waiting.
const LOOKUP_BATCHES_MAX: usize = 8;

/// A sealed batch of an ingest, shared with the writer.
pub(crate) type FactsBatch = std::sync::Arc<Vec<registry_store::BatchItem>>;

/// A scope of findings to evaluate or read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QualityScope {
    pub furnisher: Option<FurnisherId>,
    pub month: Option<YearMonth>,
}

impl QualityScope {
    fn finding_scope(&self) -> FindingScope {
        FindingScope {
            furnisher: self.furnisher.clone(),
            from: self.month.map(|m| m.day(1)),
            to: self.month.map(YearMonth::last_day),
            evaluator: None,
            high_only: false,
        }
    }
}

/// The findings document (`shared/spec/data-quality.md`, "Results").
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize)]
pub struct FindingsDocument {
    pub findings: Vec<Finding>,
    /// Records evaluated by the run that produced the findings (a whole-store run), or the
    /// current records in scope (a listing).
    pub records_evaluated: u64,
    /// Findings in scope in all; `findings` is the page from `offset`.
    pub total: u64,
    pub offset: u64,
}

/// A furnisher's scorecard: hits per 10,000 records, by evaluator and month.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize)]
pub struct Scorecard {
    pub furnisher: String,
    pub records: u64,
    pub findings: u64,
    pub high_findings: u64,
    /// Per evaluator with hits: per month, hits per 10,000 of the month's records, and the
    /// trend of the last month against the mean of the three before.
    pub evaluators: Vec<EvaluatorScore>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize)]
pub struct EvaluatorScore {
    pub evaluator: String,
    pub severity: Severity,
    pub hits: u64,
    pub months: Vec<MonthScore>,
    /// `rising`, `falling` or `steady`.
    pub trend: &'static str,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize)]
pub struct MonthScore {
    pub month: YearMonth,
    pub records: u64,
    pub hits: u64,
    pub per_10000: f64,
}

/// The supervisor's overview: furnishers ranked by high-severity hits per 10,000 records.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize)]
pub struct QualityOverview {
    pub furnishers: Vec<FurnisherQuality>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize)]
pub struct FurnisherQuality {
    pub furnisher: String,
    pub records: u64,
    pub findings: u64,
    pub high_findings: u64,
    pub high_per_10000: f64,
}

fn per_10000(hits: u64, records: u64) -> f64 {
    if records == 0 { 0.0 } else { (hits as f64 * 10_000.0 / records as f64 * 100.0).round() / 100.0 }
}

/// `rising` when the last month's rate is more than 1.5 times the mean of the three before (and
/// at least 1 per 10,000), `falling` when under two thirds of it, else `steady`.
fn trend(months: &[MonthScore]) -> &'static str {
    let Some((last, before)) = months.split_last() else { return "steady" };
    let earlier: Vec<f64> = before.iter().rev().take(3).map(|m| m.per_10000).collect();
    if earlier.is_empty() {
        return "steady";
    }
    let mean = earlier.iter().sum::<f64>() / earlier.len() as f64;
    if last.per_10000 > mean * 1.5 && last.per_10000 >= 1.0 {
        "rising"
    } else if last.per_10000 < mean * 2.0 / 3.0 {
        "falling"
    } else {
        "steady"
    }
}

impl Registry {
    /// What the evaluators know beyond the records: the institutions the registry knows (its
    /// furnishers and the supervisory institutions file).
    pub(crate) fn quality_context(&self) -> Result<Context, ServiceError> {
        // Without the supervisory institutions file the registry cannot tell a licensed partner
        // that does not furnish from an unknown one: judging none beats flagging every one.
        if self.institutions.0.is_empty() {
            return Ok(Context::default());
        }
        let mut known: BTreeSet<String> = self.store.furnishers()?.into_iter().map(|f| f.as_str().to_owned()).collect();
        known.extend(self.institutions.0.keys().cloned());
        Ok(Context { known_institutions: known })
    }

    /// The furnisher's accounts with a consumer's dispute still open, and since when.
    fn open_disputes(&self, furnisher: &FurnisherId) -> Result<HashMap<String, Date>, ServiceError> {
        let mut open = HashMap::new();
        for dispute in self.governance.furnisher_disputes(furnisher.as_str(), true)? {
            let since = open.entry(dispute.account).or_insert(dispute.opened_on);
            *since = (*since).min(dispute.opened_on);
        }
        Ok(open)
    }

    /// Evaluates a submission's accepted records as they come, each against the record stored
    /// before it: the evaluation thread of an ingest.
    pub(crate) fn evaluate_submission(
        &self,
        furnisher: &FurnisherId,
        mut lookup: Box<dyn registry_store::PriorLookup + '_>,
        batches: mpsc::Receiver<FactsBatch>,
    ) -> Result<SubmissionEvaluation, ServiceError> {
        let context = self.quality_context()?;
        let disputes = self.open_disputes(furnisher)?;
        let mut evaluation = SubmissionEvaluation::default();
        while let Ok(first) = batches.recv() {
            // The batches already waiting go with it: one look-up for all of them, fewer round
            // trips when the evaluators fall behind (on a distributed database, each is a task
            // on every shard).
            let mut waiting = vec![first];
            while waiting.len() < LOOKUP_BATCHES_MAX
                && let Ok(next) = batches.try_recv()
            {
                waiting.push(next);
            }
            let accepted: Vec<&AccountFacts> = waiting
                .iter()
                .flat_map(|batch| batch.iter())
                .filter_map(|item| match item {
                    registry_store::BatchItem::Accepted(record) => Some(&record.facts),
                    registry_store::BatchItem::Rejected(_) => None,
                })
                .collect();
            let keys: Vec<(&str, Date)> = accepted.iter().map(|f| (f.account.as_str(), f.as_of)).collect();
            let prior = lookup.prior_records(&keys)?;
            for (&facts, prior) in accepted.iter().zip(prior) {
                evaluation.records += 1;
                if prior.exists {
                    evaluation.corrected.push((facts.account.clone(), facts.as_of));
                }
                let record = InSequence {
                    furnisher: furnisher.as_str(),
                    current: facts,
                    previous: prior.previous.as_ref(),
                    same_month: prior.same_month,
                    open_dispute_since: disputes.get(&facts.account).copied(),
                    context: &context,
                };
                for finding in quality::evaluate(&record) {
                    *evaluation.hits.entry(finding.evaluator.clone()).or_default() += 1;
                    if evaluation.findings.len() < SUBMISSION_FINDINGS_MAX {
                        evaluation.findings.push(finding);
                    }
                }
            }
        }
        Ok(evaluation)
    }

    /// Stores what evaluating an applied submission found.
    pub(crate) fn store_evaluation(
        &self,
        furnisher: &FurnisherId,
        submission_id: &str,
        evaluation: &SubmissionEvaluation,
    ) -> Result<(), ServiceError> {
        Ok(self.store.store_submission_findings(furnisher, submission_id, &evaluation.corrected, &evaluation.findings, &evaluation.hits)?)
    }

    /// The hits by evaluator that evaluating a submission found.
    pub fn submission_hits(&self, furnisher: &FurnisherId, submission_id: &str) -> Result<BTreeMap<String, u64>, ServiceError> {
        Ok(self.store.submission_hits(furnisher, submission_id)?)
    }

    /// Evaluates every record in `scope` (and, without a furnisher, every identifier reported by
    /// several furnishers), replaces the scope's findings by what it finds, and returns the
    /// first `page` of them. `progress` hears (furnishers done, furnishers).
    pub fn evaluate_store(&self, scope: &QualityScope, page: Page, progress: &ScanProgress<'_>) -> Result<FindingsDocument, ServiceError> {
        let context = self.quality_context()?;
        let furnishers: Vec<FurnisherId> = match &scope.furnisher {
            Some(f) => vec![f.clone()],
            None => self.store.furnishers()?,
        };
        // Every date a record can carry (four-digit years), as every backend stores them.
        let (first, last) = (Date::from_ymd_opt(1, 1, 1).expect("a date"), Date::from_ymd_opt(9999, 12, 31).expect("a date"));
        let to = scope.month.map_or(last, YearMonth::last_day);
        let keep = |finding: &Finding| scope.month.is_none_or(|m| YearMonth::of(finding.as_of) == m);
        let total = furnishers.len() as u64;
        let done = std::sync::atomic::AtomicU64::new(0);
        let next = std::sync::atomic::AtomicUsize::new(0);
        let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get).min(furnishers.len().max(1));
        // Furnishers are independent: one thread each at a time, on every core.
        let results: Vec<Result<(Vec<Finding>, u64), ServiceError>> = std::thread::scope(|threads| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    threads.spawn(|| -> Result<(Vec<Finding>, u64), ServiceError> {
                        let (mut findings, mut records) = (Vec::new(), 0);
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(furnisher) = furnishers.get(i) else { return Ok((findings, records)) };
                            let disputes = self.open_disputes(furnisher)?;
                            let mut account: Vec<StoredRecord> = Vec::new();
                            let flush = |account: &mut Vec<StoredRecord>, findings: &mut Vec<Finding>| {
                                if let Some(first) = account.first() {
                                    let since = disputes.get(&first.facts.account).copied();
                                    let mut facts: Vec<&AccountFacts> = account.iter().map(|r| &r.facts).collect();
                                    findings.extend(
                                        quality::evaluate_account(furnisher.as_str(), &mut facts, since, &context)
                                            .into_iter()
                                            .filter(&keep),
                                    );
                                }
                                account.clear();
                            };
                            self.store.for_each_record(furnisher, first, to, &mut |record| {
                                if scope.month.is_none_or(|m| YearMonth::of(record.facts.as_of) == m) {
                                    records += 1;
                                }
                                if account.first().is_some_and(|first| first.facts.account != record.facts.account)
                                    || account.len() >= ACCOUNT_RECORDS_MAX
                                {
                                    flush(&mut account, &mut findings);
                                }
                                account.push(record);
                                Ok(std::ops::ControlFlow::Continue(()))
                            })?;
                            flush(&mut account, &mut findings);
                            let so_far = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                            progress(so_far, total);
                        }
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
        });
        let mut findings = Vec::new();
        let mut records = 0;
        for result in results {
            let (found, evaluated) = result?;
            findings.extend(found);
            records += evaluated;
        }
        findings.extend(
            self.identity_findings()?
                .into_iter()
                .filter(|f| keep(f) && scope.furnisher.as_ref().is_none_or(|furnisher| furnisher.as_str() == f.furnisher)),
        );
        findings.sort_by(|a, b| (&a.furnisher, a.as_of, &a.account, &a.evaluator).cmp(&(&b.furnisher, b.as_of, &b.account, &b.evaluator)));
        self.store.replace_findings(&scope.finding_scope(), &findings)?;
        let total_findings = findings.len() as u64;
        let page_of: Vec<Finding> = findings
            .into_iter()
            .skip(usize::try_from(page.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(page.limit).unwrap_or(usize::MAX))
            .collect();
        Ok(FindingsDocument { findings: page_of, records_evaluated: records, total: total_findings, offset: page.offset })
    }

    /// The identity evaluators over every identifier several furnishers report: the names are
    /// opened here, compared, and forgotten; a finding names an account.
    fn identity_findings(&self) -> Result<Vec<Finding>, ServiceError> {
        let mut findings = Vec::new();
        self.store.for_each_identity_group(&mut |_, reports| {
            let mut names = Vec::with_capacity(reports.len());
            for report in reports {
                let plain =
                    self.vault.open(Purpose::Identity, &report.identity_sealed).map_err(|e| crate::visit_error(ServiceError::from(e)))?;
                let identity: ReportedIdentity = serde_json::from_slice(&plain)
                    .map_err(|e| crate::visit_error(ServiceError::Internal(format!("a sealed identity: {e}"))))?;
                names.push(ReportedName {
                    furnisher: report.furnisher,
                    account: report.account,
                    as_of: report.as_of,
                    family_name: identity.family_name.0,
                });
            }
            findings.extend(quality::evaluate_identities(&names));
            Ok(std::ops::ControlFlow::Continue(()))
        })?;
        Ok(findings)
    }

    /// A page of the stored findings in `scope`, with the records they are counted against.
    pub fn findings(&self, scope: &QualityScope, page: Page) -> Result<FindingsDocument, ServiceError> {
        let (findings, total) = self.store.findings(&scope.finding_scope(), page)?;
        let records = self.store.record_counts(&scope.finding_scope())?.iter().map(|c| c.records).sum();
        Ok(FindingsDocument { findings, records_evaluated: records, total, offset: page.offset })
    }

    /// The stored findings in `scope`, counted by evaluator.
    pub fn findings_by_evaluator(&self, scope: &QualityScope) -> Result<BTreeMap<String, u64>, ServiceError> {
        let mut counts = BTreeMap::new();
        for count in self.store.finding_counts(&scope.finding_scope())? {
            *counts.entry(count.evaluator).or_default() += count.hits;
        }
        Ok(counts)
    }

    /// Each furnisher's scorecard (only `furnisher`'s when given), from the stored findings.
    pub fn scorecards(&self, furnisher: Option<&FurnisherId>) -> Result<Vec<Scorecard>, ServiceError> {
        let scope = FindingScope { furnisher: furnisher.cloned(), ..FindingScope::default() };
        let records = self.store.record_counts(&scope)?;
        let counts = self.store.finding_counts(&scope)?;
        let mut by_furnisher: BTreeMap<&str, BTreeMap<YearMonth, u64>> = BTreeMap::new();
        for count in &records {
            by_furnisher.entry(&count.furnisher).or_default().insert(count.month, count.records);
        }
        let mut cards = Vec::new();
        for (name, months) in &by_furnisher {
            let mut evaluators: BTreeMap<&str, BTreeMap<YearMonth, u64>> = BTreeMap::new();
            for count in counts.iter().filter(|c| c.furnisher == *name) {
                evaluators.entry(&count.evaluator).or_default().insert(count.month, count.hits);
            }
            let mut card = Scorecard {
                furnisher: (*name).to_owned(),
                records: months.values().sum(),
                findings: 0,
                high_findings: 0,
                evaluators: Vec::new(),
            };
            for (id, hits_by_month) in evaluators {
                let severity = quality::evaluator(id).map_or(Severity::Review, |e| e.severity);
                let hits: u64 = hits_by_month.values().sum();
                card.findings += hits;
                if severity == Severity::High {
                    card.high_findings += hits;
                }
                let months: Vec<MonthScore> = months
                    .iter()
                    .map(|(month, records)| {
                        let hits = hits_by_month.get(month).copied().unwrap_or(0);
                        MonthScore { month: *month, records: *records, hits, per_10000: per_10000(hits, *records) }
                    })
                    .collect();
                card.evaluators.push(EvaluatorScore { evaluator: id.to_owned(), severity, hits, trend: trend(&months), months });
            }
            cards.push(card);
        }
        Ok(cards)
    }

    /// The supervisor's overview: every furnisher by high-severity hits per 10,000 records,
    /// worst first.
    pub fn quality_overview(&self) -> Result<QualityOverview, ServiceError> {
        let mut furnishers: Vec<FurnisherQuality> = self
            .scorecards(None)?
            .into_iter()
            .map(|card| FurnisherQuality {
                high_per_10000: per_10000(card.high_findings, card.records),
                furnisher: card.furnisher,
                records: card.records,
                findings: card.findings,
                high_findings: card.high_findings,
            })
            .collect();
        furnishers.sort_by(|a, b| b.high_per_10000.total_cmp(&a.high_per_10000).then_with(|| a.furnisher.cmp(&b.furnisher)));
        Ok(QualityOverview { furnishers })
    }
}

/// The published catalogue, in order.
pub fn evaluators() -> &'static [quality::Evaluator] {
    CATALOGUE
}
