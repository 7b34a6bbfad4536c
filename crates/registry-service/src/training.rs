//! Training a scorecard: the development data (a labelled CSV file, or the registry's own
//! history), the attributes left out and why, the monotone directions, and the fit, which is
//! registry-score's. The command line only asks and prints.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use registry_core::model::Date;
use registry_core::report::YearMonth;
use registry_score::attributes;
use registry_score::{Dataset, Excluded, Monotone, ScoreError, Scorecard, TrainSettings};

use crate::audit::Access;
use crate::disclosure::{Destination, Staged, Unlogged, deliver_logged};
use crate::{Registry, ServiceError, io_error};

/// Column names that say an attribute the law or fairness keeps out of a score.
const PROTECTED_WORDS: [&str; 9] = ["sex", "gender", "race", "ethnic", "religion", "birthplace", "nationality", "name", "marriage"];

/// The longest a horizon may be: a report's payment grid.
const HORIZON_MONTHS_MAX: u32 = 24;

/// What a model is trained on, with what the model card says about it.
#[derive(Debug)]
pub struct TrainingSet {
    pub dataset: Dataset,
    /// The 0/1 column: 1 is bad.
    pub target: String,
    /// The model's id unless the caller names one.
    pub model_id: String,
    /// Where the data came from.
    pub data: String,
    /// The period it covers, when it is the registry's own.
    pub period: Option<String>,
    /// Attributes left out, and why.
    pub excluded: Vec<Excluded>,
    /// Things worth saying before training (a column that looks like a protected attribute).
    pub warnings: Vec<String>,
}

/// How to fit a training set.
#[derive(Clone, Debug, Default)]
pub struct TrainingOptions {
    /// `COLUMN:increasing` or `COLUMN:decreasing`, over the catalogue's own directions.
    pub monotone: Vec<String>,
    /// Compare the fits by K-fold cross-validation (default: one 80/20 split).
    pub folds: Option<usize>,
    /// The model's id (default: the training set's).
    pub model_id: Option<String>,
}

fn data_error(error: ScoreError) -> ServiceError {
    match error {
        ScoreError::Data(message) => ServiceError::InvalidData(message),
        ScoreError::Io { context, source } => ServiceError::Io { context, source },
    }
}

/// A labelled CSV file as a training set: `target` is its 0/1 column, `ignore` its columns left
/// out (named on the card).
pub fn csv_training_set(path: &Path, target: &str, ignore: &[String]) -> Result<TrainingSet, ServiceError> {
    let dataset = Dataset::read_csv(path, target, ignore).map_err(data_error)?;
    let warnings = dataset
        .names
        .iter()
        .filter(|name| PROTECTED_WORDS.iter().any(|word| name.to_lowercase().contains(word)))
        .map(|name| format!("the attribute {name:?} looks like one no score may use; leave it out with --ignore {name}"))
        .collect();
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
    Ok(TrainingSet {
        model_id: format!("{stem}-{target}"),
        target: target.to_owned(),
        data: path.display().to_string(),
        period: None,
        excluded: ignore.iter().map(|c| Excluded { attribute: c.clone(), why: "left out with --ignore".into() }).collect(),
        warnings,
        dataset,
    })
}

impl Registry {
    /// The registry's own history as a training set: each subject's catalogue attributes as of
    /// `as_of`, bad if they went 90+ days past due within `horizon_months` (the development
    /// sample), read for the reader `access` names and logged as one entry before the first
    /// subject is read; the attributes the jurisdiction keeps out of scores named on the card.
    /// `sample_out`: the sample is also written there, as CSV, once whole. `progress` is called
    /// with each subject sampled. Refused unless the sample holds goods and bads.
    pub fn registry_training_set(
        &self,
        access: &Access,
        as_of: Date,
        horizon_months: u32,
        sample_out: Option<Destination<'_>>,
        progress: &dyn Fn(u64),
    ) -> Result<TrainingSet, ServiceError> {
        Registry::check_horizon(horizon_months)?;
        let logged = self.log_before(access)?;
        let names = attributes::names();
        let mut dataset = Dataset { names: names.clone(), columns: vec![Vec::new(); names.len()], target: Vec::new() };
        let sample = self.development_sample_logged(&logged, as_of, horizon_months, &mut |values, bad| {
            for (column, value) in dataset.columns.iter_mut().zip(values) {
                column.push(*value);
            }
            dataset.target.push(u8::from(bad));
            progress(dataset.target.len() as u64);
        })?;
        let bads = dataset.target.iter().filter(|&&y| y == 1).count();
        if bads == 0 || bads == dataset.rows() {
            return Err(ServiceError::InvalidInput(format!(
                "the sample as of {as_of} has {} subjects and {bads} went 90+ days past due within {horizon_months} months: \
                 a model needs both goods and bads (is there history after {as_of}?)",
                dataset.rows()
            )));
        }
        if let Some(destination) = sample_out {
            // Part of the read logged above: written privately, then moved into place.
            let mut staged = Staged::for_destination(&destination)?;
            write_sample(staged.file(), &dataset).map_err(io_error("writing the sample failed"))?;
            deliver_logged(&logged, Unlogged::new(staged, Vec::new()), destination)?;
        }
        let profile = self.profile();
        Ok(TrainingSet {
            model_id: format!("registry-{as_of}-{horizon_months}m"),
            target: "bad_90_in_horizon".to_owned(),
            data: format!(
                "the registry's own history: {} subjects with accounts, of whom those with an account on {as_of} and not already in default",
                sample.subjects_seen
            ),
            period: Some(format!(
                "attributes as of {as_of}; bad = 90+ days past due or worse on any account from {} to {} ({horizon_months} months)",
                YearMonth::of(as_of).plus(1),
                sample.outcome_date
            )),
            excluded: profile
                .scoring
                .excluded
                .iter()
                .map(|e| Excluded { attribute: e.attribute.clone(), why: format!("{} ({} profile)", e.why, profile.id) })
                .collect(),
            warnings: Vec::new(),
            dataset,
        })
    }

    /// The horizon a development sample may look ahead: 1 to 24 months.
    pub(crate) fn check_horizon(horizon_months: u32) -> Result<(), ServiceError> {
        if (1..=HORIZON_MONTHS_MAX).contains(&horizon_months) {
            Ok(())
        } else {
            Err(ServiceError::InvalidInput(format!(
                "the horizon is {horizon_months} months; it must be 1 to {HORIZON_MONTHS_MAX} (a report's payment grid)"
            )))
        }
    }
}

/// Fits a scorecard to a training set: both fits compared out of sample, the better kept, with
/// the card's facts filled in. Monotone directions are the catalogue's where it knows the
/// attribute, overridden by `options.monotone`.
pub fn train(set: &TrainingSet, options: &TrainingOptions) -> Result<Scorecard, ServiceError> {
    let names = &set.dataset.names;
    let mut monotone: Vec<Monotone> = names.iter().map(|n| attributes::find(n).map_or(Monotone::Free, |a| a.monotone)).collect();
    for spec in &options.monotone {
        let (name, direction) = spec
            .split_once(':')
            .ok_or_else(|| ServiceError::InvalidInput(format!("--monotone takes COL:increasing or COL:decreasing, not {spec:?}")))?;
        let at = names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| ServiceError::InvalidInput(format!("--monotone names {name:?}, which is not an attribute")))?;
        monotone[at] = match direction {
            "increasing" => Monotone::Increasing,
            "decreasing" => Monotone::Decreasing,
            other => return Err(ServiceError::InvalidInput(format!("{other:?} is not a direction (increasing, decreasing)"))),
        };
    }
    let model_id = options.model_id.clone().unwrap_or_else(|| set.model_id.clone());
    let settings = TrainSettings { folds: options.folds, ..TrainSettings::default() };
    let mut card = registry_score::train(&set.dataset, &set.target, &monotone, &settings, &model_id);
    if let Some(facts) = card.card.as_mut() {
        facts.data.clone_from(&set.data);
        facts.period.clone_from(&set.period);
        facts.excluded.clone_from(&set.excluded);
    }
    Ok(card)
}

/// The sample as CSV: the attributes, then `bad`; a missing value is empty, any other the
/// shortest text that reads back exactly.
fn write_sample(file: &mut std::fs::File, data: &Dataset) -> io::Result<()> {
    let mut out = BufWriter::new(file);
    writeln!(out, "{},bad", data.names.join(","))?;
    for row in 0..data.rows() {
        for column in &data.columns {
            if let Some(value) = column[row] {
                write!(out, "{value}")?;
            }
            out.write_all(b",")?;
        }
        writeln!(out, "{}", data.target[row])?;
    }
    out.flush()
}
