//! Explainable credit scores. A score is a sum of points, one points table per attribute: each
//! attribute is cut into bins (missing values in a bin of their own), each bin is worth points.
//! Pure: data in, model out; no registry, no files but the CSV reader's.
//!
//! - `data.rs`: a labelled table (CSV), column by column, missing values kept as missing;
//! - `binning.rs`: quantile cut points and each value's bin;
//! - `boost.rs`: the additive model fitted by cyclic gradient boosting over the bins (the way
//!   Explainable Boosting Machines fit one shape per attribute), with monotone constraints;
//! - `metrics.rs`: AUC, Gini, KS;
//! - `model.rs`: the versioned JSON model, points scaling, scoring and reason codes.

pub mod binning;
pub mod boost;
pub mod data;
pub mod metrics;
pub mod model;

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
pub use model::{Scaling, Scorecard};

/// AUC, Gini and KS of `points` (higher = safer) against the data's target.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Performance {
    pub auc: f64,
    pub gini: f64,
    pub ks: f64,
    pub rows: usize,
}

pub fn performance(points: &[f64], target: &[u8]) -> Performance {
    let risk: Vec<f64> = points.iter().map(|p| -p).collect();
    Performance { auc: metrics::auc(&risk, target), gini: metrics::gini(&risk, target), ks: metrics::ks(&risk, target), rows: target.len() }
}

/// Fits a scorecard to all of `data`.
pub fn train(data: &Dataset, target: &str, monotone: &[Monotone], settings: &BoostSettings, scaling: Scaling, model_id: &str) -> Scorecard {
    let fitted = boost::fit(data, monotone, settings);
    Scorecard::from_additive(model_id, target, &data.names, monotone, &fitted, scaling)
}

/// K-fold cross-validation: each fold scored by a scorecard fitted on the others. Rows are
/// dealt to folds by a seeded scatter, so the folds are the same every run.
pub fn cross_validate(data: &Dataset, target: &str, monotone: &[Monotone], settings: &BoostSettings, folds: usize) -> Vec<Performance> {
    let folds = folds.max(2);
    let fold_of: Vec<usize> = (0..data.rows()).map(|row| (boost::scatter(settings.seed ^ 0xF01D, row as u64) % folds as u64) as usize).collect();
    (0..folds)
        .map(|fold| {
            let train_rows: Vec<usize> = (0..data.rows()).filter(|&r| fold_of[r] != fold).collect();
            let test_rows: Vec<usize> = (0..data.rows()).filter(|&r| fold_of[r] == fold).collect();
            let card = train(&data.subset(&train_rows), target, monotone, settings, Scaling::default(), "cv");
            let test = data.subset(&test_rows);
            let points = card.raw_points(&test).unwrap_or_default();
            performance(&points, &test.target)
        })
        .collect()
}
