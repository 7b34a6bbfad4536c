//! Explainable credit scores. A score is a sum of points, one points table per attribute: each
//! attribute is cut into bins (missing values in a bin of their own), each bin is worth points.
//! Pure: data in, model out; no storage, no files but the CSV reader's.
//!
//! - `attributes.rs`: the bureau attribute catalogue, computed from a report as of a date;
//! - `data.rs`: a labelled table (CSV), column by column, missing values kept as missing;
//! - `binning.rs`: quantile cut points and each value's bin;
//! - `boost.rs`: the additive model fitted by cyclic gradient boosting over the bins (the way
//!   Explainable Boosting Machines fit one shape per attribute), with monotone constraints;
//! - `woe.rs`: the classic weight-of-evidence logistic scorecard, fitted beside it;
//! - `metrics.rs`: AUC, Gini, KS; `evaluation.rs`: score bands, calibration, stability;
//! - `model.rs`: the versioned JSON model, points scaling, scoring and reason codes;
//! - `card.rs`: the model card, rendered from the model file.

pub mod attributes;
pub mod binning;
pub mod boost;
pub mod card;
pub mod data;
pub mod evaluation;
pub mod metrics;
pub mod model;
pub mod woe;

/// What went wrong, said so that the user can fix it.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    /// The data cannot be used as given (where and why).
    #[error("{0}")]
    Data(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

pub use boost::{BoostSettings, Monotone};
pub use data::Dataset;
pub use model::{Candidate, Excluded, ModelCard, ModelKind, Scaling, Scorecard};
pub use woe::WoeSettings;

/// AUC, Gini and KS of `points` (higher = safer) against the data's target.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Performance {
    pub auc: f64,
    pub gini: f64,
    pub ks: f64,
    pub rows: usize,
}

pub fn performance(points: &[f64], target: &[u8]) -> Performance {
    let risk: Vec<f64> = points.iter().map(|p| -p).collect();
    let auc = metrics::auc(&risk, target);
    Performance { auc, gini: metrics::gini_of_auc(auc), ks: metrics::ks(&risk, target), rows: target.len() }
}

/// How to train: both fits' settings, the points scaling, and how to compare the fits.
#[derive(Clone, Debug, Default)]
pub struct TrainSettings {
    pub boost: BoostSettings,
    pub woe: WoeSettings,
    pub scaling: Scaling,
    /// Compare the fits by K-fold cross-validation; `None`: on one 80/20 split (the first of
    /// five folds), which halves the work.
    pub folds: Option<usize>,
}

/// Fits one kind of scorecard to all of `data`.
pub fn fit(kind: ModelKind, data: &Dataset, target: &str, monotone: &[Monotone], settings: &TrainSettings, model_id: &str) -> Scorecard {
    match kind {
        ModelKind::BoostedAdditive => {
            let fitted = boost::fit(data, monotone, &settings.boost);
            Scorecard::from_additive(model_id, kind, target, &data.names, monotone, &fitted, settings.scaling.clone())
        }
        ModelKind::WoeLogistic => {
            let fitted = woe::fit(data, monotone, &settings.woe);
            let names: Vec<String> = fitted.selected.iter().map(|&j| data.names[j].clone()).collect();
            let monotone: Vec<Monotone> = fitted.selected.iter().map(|&j| monotone.get(j).copied().unwrap_or_default()).collect();
            Scorecard::from_additive(model_id, kind, target, &names, &monotone, &fitted.additive, settings.scaling.clone())
        }
    }
}

/// Which fold each row belongs to: a seeded scatter, so the folds are the same every run (and
/// the same for both fits, and for `scripts/score-baseline.py`'s comparison).
pub fn fold_of_rows(rows: usize, folds: usize, seed: u64) -> Vec<usize> {
    (0..rows).map(|row| (boost::scatter(seed ^ 0xF01D, row as u64) % folds as u64) as usize).collect()
}

/// Out-of-sample performance of one kind of fit: each evaluated fold scored by a scorecard
/// fitted on the other folds.
pub fn cross_validate(
    kind: ModelKind,
    data: &Dataset,
    target: &str,
    monotone: &[Monotone],
    settings: &TrainSettings,
    folds: usize,
    evaluated: usize,
) -> Vec<Performance> {
    let folds = folds.max(2);
    let fold_of = fold_of_rows(data.rows(), folds, settings.boost.seed);
    (0..evaluated.min(folds))
        .map(|fold| {
            let train_rows: Vec<usize> = (0..data.rows()).filter(|&r| fold_of[r] != fold).collect();
            let test_rows: Vec<usize> = (0..data.rows()).filter(|&r| fold_of[r] == fold).collect();
            let card = self::fit(kind, &data.subset(&train_rows), target, monotone, settings, "cv");
            let test = data.subset(&test_rows);
            let points = card.raw_points(&test).unwrap_or_default();
            performance(&points, &test.target)
        })
        .collect()
}

/// Trains both scorecards, compares them out of sample, and fits the more accurate one (by AUC)
/// to all of `data`. The card's `data`, `period` and `excluded` are the caller's to fill.
pub fn train(data: &Dataset, target: &str, monotone: &[Monotone], settings: &TrainSettings, model_id: &str) -> Scorecard {
    let (folds, evaluated, validation) = match settings.folds {
        Some(k) => (k.max(2), k.max(2), format!("{}-fold cross-validation", k.max(2))),
        None => (5, 1, "one 80/20 split".to_owned()),
    };
    let candidates: Vec<Candidate> = [ModelKind::BoostedAdditive, ModelKind::WoeLogistic]
        .into_iter()
        .map(|kind| {
            let folds = cross_validate(kind, data, target, monotone, settings, folds, evaluated);
            let mean = |f: fn(&Performance) -> f64| folds.iter().map(f).sum::<f64>() / folds.len().max(1) as f64;
            Candidate { kind, auc: mean(|p| p.auc), gini: mean(|p| p.gini), ks: mean(|p| p.ks), folds }
        })
        .collect();
    let chosen = candidates.iter().max_by(|a, b| a.auc.total_cmp(&b.auc)).map_or(ModelKind::BoostedAdditive, |c| c.kind);
    let mut card = self::fit(chosen, data, target, monotone, settings, model_id);
    let training = performance(&card.raw_points(data).unwrap_or_default(), &data.target);
    let bads = data.target.iter().filter(|&&y| y == 1).count();
    card.card = Some(ModelCard {
        data: String::new(),
        period: None,
        rows: data.rows(),
        bad_rate: bads as f64 / data.rows().max(1) as f64,
        validation,
        candidates,
        training,
        excluded: Vec::new(),
    });
    card
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 3,000 rows: `late` drives the risk, `age` lowers it a little, `noise` is noise.
    fn population() -> Dataset {
        let mut columns = vec![Vec::new(), Vec::new(), Vec::new()];
        let mut target = Vec::new();
        for i in 0..3_000u64 {
            let late = (boost::scatter(11, i) % 5) as f64;
            let age = 20.0 + (boost::scatter(12, i) % 40) as f64;
            let noise = (boost::scatter(13, i) % 100) as f64;
            let logit = -3.0 + 0.9 * late - 0.02 * (age - 40.0);
            let p = 1.0 / (1.0 + (-logit).exp());
            let u = (boost::scatter(14, i) % 1_000_000) as f64 / 1_000_000.0;
            columns[0].push(Some(late));
            columns[1].push(if i % 17 == 0 { None } else { Some(age) });
            columns[2].push(Some(noise));
            target.push(u8::from(u < p));
        }
        Dataset { names: vec!["late".into(), "age".into(), "noise".into()], columns, target }
    }

    #[test]
    fn training_is_deterministic_and_reports_both_fits() {
        let data = population();
        let monotone = [Monotone::Increasing, Monotone::Decreasing, Monotone::Free];
        let settings = TrainSettings { folds: Some(3), ..TrainSettings::default() };
        let first = train(&data, "bad", &monotone, &settings, "m");
        let second = train(&data, "bad", &monotone, &settings, "m");
        assert_eq!(
            serde_json::to_string(&first).unwrap(),
            serde_json::to_string(&second).unwrap(),
            "the same data gives the same model file"
        );
        let card = first.card.as_ref().unwrap();
        let kinds: Vec<ModelKind> = card.candidates.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, [ModelKind::BoostedAdditive, ModelKind::WoeLogistic]);
        assert!(card.candidates.iter().all(|c| c.folds.len() == 3 && c.auc > 0.7), "{:?}", card.candidates);
        let best = card.candidates.iter().map(|c| c.auc).fold(0.0, f64::max);
        let kept = card.candidates.iter().find(|c| c.kind == first.kind).unwrap();
        assert_eq!(kept.auc, best, "the more accurate fit is kept");
        // Scoring is a pure function of the file: a round trip scores alike.
        let back: Scorecard = serde_json::from_str(&serde_json::to_string(&first).unwrap()).unwrap();
        assert_eq!(back.raw_points(&data).unwrap(), first.raw_points(&data).unwrap());
    }
}
