//! The scorecard: a versioned JSON file that fully determines the score. Each attribute has its
//! cut points and one number of points per bin; the score is the base points plus the sum of the
//! subject's bins' points, within a range. Points come from the fitted log-odds with the usual
//! scaling: `points_to_double_odds` points double the odds of good, `base_score` points mean
//! good:bad odds of `base_odds`.

use serde::{Deserialize, Serialize};

use crate::Performance;
use crate::binning::Cuts;
use crate::boost::{Additive, Monotone};
use crate::data::Dataset;

/// Format identifier written into every model file.
pub const FORMAT: &str = "credit-registry-scorecard";
pub const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    pub base_score: f64,
    /// Good:bad odds at `base_score`.
    pub base_odds: f64,
    pub points_to_double_odds: f64,
    pub min_score: i64,
    pub max_score: i64,
}

impl Default for Scaling {
    fn default() -> Self {
        Scaling { base_score: 600.0, base_odds: 50.0, points_to_double_odds: 40.0, min_score: 300, max_score: 900 }
    }
}

impl Scaling {
    fn factor(&self) -> f64 {
        self.points_to_double_odds / std::f64::consts::LN_2
    }

    /// Points = offset + factor·ln(odds of good): the offset puts `base_odds` at `base_score`.
    fn offset(&self) -> f64 {
        self.base_score - self.factor() * self.base_odds.ln()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttributePoints {
    pub name: String,
    /// Reason code: the catalogue's (`A01` …) for registry attributes, `V01` … by column
    /// position otherwise.
    #[serde(default)]
    pub code: String,
    /// The sentence a subject reads when this attribute costs them points.
    #[serde(default)]
    pub reason: String,
    pub monotone: Monotone,
    pub cuts: Cuts,
    /// Points of the missing bin, then of each bin in order.
    pub points: Vec<f64>,
    /// Training rows per bin, the same order.
    pub rows: Vec<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    pub format: String,
    pub format_version: u32,
    pub model_id: String,
    /// Which fit produced the tables (both are points tables, scored the same way).
    #[serde(default)]
    pub kind: ModelKind,
    pub target: String,
    pub scaling: Scaling,
    /// Points every subject starts from.
    pub base_points: f64,
    pub attributes: Vec<AttributePoints>,
    /// What the model was trained on and how it performed: the model card's facts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<ModelCard>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Cyclic gradient boosting over the bins (`boost.rs`).
    #[default]
    BoostedAdditive,
    /// Weight-of-evidence logistic regression (`woe.rs`).
    WoeLogistic,
}

impl ModelKind {
    pub fn describe(self) -> &'static str {
        match self {
            ModelKind::BoostedAdditive => "additive model boosted over binned attributes",
            ModelKind::WoeLogistic => "weight-of-evidence logistic regression",
        }
    }
}

/// One fit compared out of sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub kind: ModelKind,
    /// Means over the folds.
    pub auc: f64,
    pub gini: f64,
    pub ks: f64,
    pub folds: Vec<Performance>,
}

/// An attribute left out on purpose, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Excluded {
    pub attribute: String,
    pub why: String,
}

/// The facts of the model card (`card.rs` renders them with the points tables).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// What the development sample was.
    pub data: String,
    /// The observation date and outcome window, for samples built from the registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    pub rows: usize,
    pub bad_rate: f64,
    /// How the candidates were compared ("5-fold cross-validation", "one 80/20 split").
    pub validation: String,
    pub candidates: Vec<Candidate>,
    /// The chosen model on every training row.
    pub training: Performance,
    pub excluded: Vec<Excluded>,
}

/// One attribute's part of a score.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reason {
    pub code: String,
    pub attribute: String,
    /// The plain sentence.
    pub reason: String,
    /// Points below the attribute's best bin.
    pub points_lost: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scored {
    pub score: i64,
    /// Up to four attributes that cost the most points against their best bin, worst first.
    pub reasons: Vec<Reason>,
}

impl Scorecard {
    /// Turns the fitted log-odds of bad into points.
    pub fn from_additive(
        model_id: &str,
        kind: ModelKind,
        target: &str,
        names: &[String],
        monotone: &[Monotone],
        fitted: &Additive,
        scaling: Scaling,
    ) -> Scorecard {
        let factor = scaling.factor();
        // score = offset − factor·log-odds(bad).
        let base_points = scaling.offset() - factor * fitted.intercept;
        let attributes = fitted
            .shapes
            .iter()
            .zip(names)
            .enumerate()
            .map(|(j, (shape, name))| {
                let known = crate::attributes::find(name);
                AttributePoints {
                    name: name.clone(),
                    code: known.map_or_else(|| format!("V{:02}", j + 1), |a| a.code.to_owned()),
                    reason: known.map_or_else(|| format!("The value of {name}"), |a| a.reason.to_owned()),
                    monotone: monotone.get(j).copied().unwrap_or_default(),
                    cuts: shape.cuts.clone(),
                    points: shape.scores.iter().map(|s| round2(-factor * s)).collect(),
                    rows: shape.counts.clone(),
                }
            })
            .collect();
        Scorecard {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            model_id: model_id.into(),
            kind,
            target: target.into(),
            scaling,
            base_points: round2(base_points),
            attributes,
            card: None,
        }
    }

    /// The unclamped points of each row: higher is safer.
    pub fn raw_points(&self, data: &Dataset) -> Result<Vec<f64>, String> {
        Ok(self.points_of_columns(&self.columns_of(data)?))
    }

    /// The unclamped points of each row, given the model's attributes' columns in its order.
    pub fn points_of_columns(&self, columns: &[&Vec<Option<f64>>]) -> Vec<f64> {
        let rows = columns.first().map_or(0, |c| c.len());
        let mut points = vec![self.base_points; rows];
        for (attribute, column) in self.attributes.iter().zip(columns) {
            for (total, &x) in points.iter_mut().zip(column.iter()) {
                *total += attribute.points[attribute.cuts.bin(x)];
            }
        }
        points
    }

    /// The model's attribute names, in its order.
    pub fn attribute_names(&self) -> Vec<String> {
        self.attributes.iter().map(|a| a.name.clone()).collect()
    }

    /// Where each of the model's attributes is in `names`, or which one is missing: how the
    /// registry maps the catalogue's values onto a model once, before scoring many subjects.
    pub fn positions_in(&self, names: &[String]) -> Result<Vec<usize>, String> {
        self.attributes
            .iter()
            .map(|a| {
                names
                    .iter()
                    .position(|n| *n == a.name)
                    .ok_or_else(|| format!("the model uses {:?}, which is not an attribute here", a.name))
            })
            .collect()
    }

    /// The probability of bad the points stand for (the scaling read backwards).
    pub fn probability_of_bad(&self, points: f64) -> f64 {
        // points = offset + factor·ln(odds of good) = offset − factor·log-odds(bad)
        crate::boost::sigmoid((self.scaling.offset() - points) / self.scaling.factor())
    }

    /// The data's columns in the model's attribute order, or which one is missing.
    fn columns_of<'d>(&self, data: &'d Dataset) -> Result<Vec<&'d Vec<Option<f64>>>, String> {
        self.attributes
            .iter()
            .map(|a| {
                data.names
                    .iter()
                    .position(|n| *n == a.name)
                    .map(|j| &data.columns[j])
                    .ok_or_else(|| format!("the data has no column {:?}, which the model uses", a.name))
            })
            .collect()
    }

    /// Each attribute's best points (what a reason is measured against).
    pub fn best_points(&self) -> Vec<f64> {
        self.attributes.iter().map(|a| a.points.iter().copied().fold(f64::NEG_INFINITY, f64::max)).collect()
    }

    /// The score of one subject given each attribute's value, with its reason codes.
    pub fn score(&self, values: &[Option<f64>]) -> Scored {
        self.score_against(values, &self.best_points())
    }

    /// `score`, with `best_points` computed once by the caller (batch scoring).
    pub fn score_against(&self, values: &[Option<f64>], best_points: &[f64]) -> Scored {
        let mut total = self.base_points;
        // (points lost, attribute): the texts are copied only for the four kept.
        let mut lost: Vec<(f64, &AttributePoints)> = Vec::new();
        for ((attribute, &value), &best) in self.attributes.iter().zip(values).zip(best_points) {
            let points = attribute.points[attribute.cuts.bin(value)];
            total += points;
            if best - points > 0.0 {
                lost.push((round2(best - points), attribute));
            }
        }
        lost.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
        let reasons = lost
            .into_iter()
            .take(4)
            .map(|(points_lost, a)| Reason { code: a.code.clone(), attribute: a.name.clone(), reason: a.reason.clone(), points_lost })
            .collect();
        Scored { score: self.clamp(total), reasons }
    }

    pub fn clamp(&self, points: f64) -> i64 {
        (points.round() as i64).clamp(self.scaling.min_score, self.scaling.max_score)
    }

    /// Reads a model file's text and checks it.
    pub fn from_json(text: &str) -> Result<Scorecard, String> {
        let card: Scorecard = serde_json::from_str(text).map_err(|e| format!("not a scorecard: {e}"))?;
        card.check()?;
        Ok(card)
    }

    /// Checks a model read from a file: its format, and that every table fits its cuts.
    pub fn check(&self) -> Result<(), String> {
        if self.format != FORMAT || self.format_version != FORMAT_VERSION {
            return Err(format!(
                "not a credit-registry scorecard of version {FORMAT_VERSION} (format {:?} version {})",
                self.format, self.format_version
            ));
        }
        for attribute in &self.attributes {
            if attribute.points.len() != attribute.cuts.bins() || !attribute.cuts.0.windows(2).all(|w| w[0] < w[1]) {
                return Err(format!("attribute {:?}: its points do not fit its cut points", attribute.name));
            }
        }
        Ok(())
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boost::Shape;

    fn card() -> Scorecard {
        let fitted = Additive {
            intercept: -(50.0f64).ln(),
            shapes: vec![
                Shape { cuts: Cuts(vec![0.0, 2.0]), scores: vec![0.0, -0.5, 0.2, 1.0], counts: vec![1, 1, 1, 1] },
                Shape { cuts: Cuts(vec![30.0]), scores: vec![0.1, 0.3, -0.2], counts: vec![1, 1, 1] },
            ],
        };
        Scorecard::from_additive(
            "test",
            ModelKind::BoostedAdditive,
            "bad",
            &["late".into(), "age".into()],
            &[Monotone::Increasing, Monotone::Decreasing],
            &fitted,
            Scaling::default(),
        )
    }

    #[test]
    fn points_scale_and_reasons_name_what_cost_the_most() {
        let card = card();
        // Base odds at base score: an average subject (all scores 0) at 50:1 scores 600.
        assert!((card.base_points - 600.0).abs() < 0.01, "{}", card.base_points);
        // 40 points double the odds: a log-odds step of ln 2 is 40 points.
        let factor = 40.0 / std::f64::consts::LN_2;
        assert!((card.attributes[0].points[3] - (-factor * 1.0)).abs() < 0.01);
        let scored = card.score(&[Some(5.0), Some(25.0)]);
        assert_eq!(scored.score, (600.0 - factor * 1.0 - factor * 0.3).round() as i64);
        assert_eq!(scored.reasons[0].attribute, "late");
        assert_eq!(scored.reasons.len(), 2);
        let best = card.score(&[Some(0.0), Some(40.0)]);
        assert!(best.reasons.is_empty(), "the best bin of every attribute loses nothing: {:?}", best.reasons);
        assert_eq!(card.clamp(10_000.0), 900);
        card.check().unwrap();
        let text = serde_json::to_string(&card).unwrap();
        let back: Scorecard = serde_json::from_str(&text).unwrap();
        assert_eq!(back, card, "the JSON file is the whole model");
    }
}
