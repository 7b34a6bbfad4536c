//! The scorecard: a versioned JSON file that fully determines the score. Each attribute has its
//! cut points and one number of points per bin; the score is the base points plus the sum of the
//! subject's bins' points, within a range. Points come from the fitted log-odds with the usual
//! scaling: `points_to_double_odds` points double the odds of good, `base_score` points mean
//! good:bad odds of `base_odds`.

use serde::{Deserialize, Serialize};

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
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttributePoints {
    pub name: String,
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
    pub target: String,
    pub scaling: Scaling,
    /// Points every subject starts from.
    pub base_points: f64,
    pub attributes: Vec<AttributePoints>,
}

/// One attribute's part of a score.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reason {
    pub attribute: String,
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
    pub fn from_additive(model_id: &str, target: &str, names: &[String], monotone: &[Monotone], fitted: &Additive, scaling: Scaling) -> Scorecard {
        let factor = scaling.factor();
        // score = offset − factor·log-odds(bad); offset puts base_odds (good:bad) at base_score.
        let offset = scaling.base_score - factor * scaling.base_odds.ln();
        let base_points = offset - factor * fitted.intercept;
        let attributes = fitted
            .shapes
            .iter()
            .zip(names)
            .enumerate()
            .map(|(j, (shape, name))| AttributePoints {
                name: name.clone(),
                monotone: monotone.get(j).copied().unwrap_or_default(),
                cuts: shape.cuts.clone(),
                points: shape.scores.iter().map(|s| round2(-factor * s)).collect(),
                rows: shape.counts.clone(),
            })
            .collect();
        Scorecard {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            model_id: model_id.into(),
            target: target.into(),
            scaling,
            base_points: round2(base_points),
            attributes,
        }
    }

    /// The unclamped points of each row: higher is safer.
    pub fn raw_points(&self, data: &Dataset) -> Result<Vec<f64>, String> {
        let columns = self.columns_of(data)?;
        let mut points = vec![self.base_points; data.rows()];
        for (attribute, column) in self.attributes.iter().zip(columns) {
            for (total, &x) in points.iter_mut().zip(column) {
                *total += attribute.points[attribute.cuts.bin(x)];
            }
        }
        Ok(points)
    }

    /// The data's columns in the model's attribute order, or which one is missing.
    fn columns_of<'d>(&self, data: &'d Dataset) -> Result<Vec<&'d Vec<Option<f64>>>, String> {
        self.attributes
            .iter()
            .map(|a| {
                data.names.iter().position(|n| *n == a.name).map(|j| &data.columns[j]).ok_or_else(|| format!("the data has no column {:?}, which the model uses", a.name))
            })
            .collect()
    }

    /// The score of one subject given each attribute's value, with its reason codes.
    pub fn score(&self, values: &[Option<f64>]) -> Scored {
        let mut total = self.base_points;
        let mut reasons = Vec::new();
        for (attribute, &value) in self.attributes.iter().zip(values) {
            let points = attribute.points[attribute.cuts.bin(value)];
            total += points;
            let best = attribute.points.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if best - points > 0.0 {
                reasons.push(Reason { attribute: attribute.name.clone(), points_lost: round2(best - points) });
            }
        }
        reasons.sort_by(|a, b| b.points_lost.total_cmp(&a.points_lost).then_with(|| a.attribute.cmp(&b.attribute)));
        reasons.truncate(4);
        Scored { score: self.clamp(total), reasons }
    }

    pub fn clamp(&self, points: f64) -> i64 {
        (points.round() as i64).clamp(self.scaling.min_score, self.scaling.max_score)
    }

    /// Checks a model read from a file: its format, and that every table fits its cuts.
    pub fn check(&self) -> Result<(), String> {
        if self.format != FORMAT || self.format_version != FORMAT_VERSION {
            return Err(format!("not a credit-registry scorecard of version {FORMAT_VERSION} (format {:?} version {})", self.format, self.format_version));
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
            rounds: 1,
        };
        Scorecard::from_additive("test", "bad", &["late".into(), "age".into()], &[Monotone::Increasing, Monotone::Decreasing], &fitted, Scaling::default())
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
