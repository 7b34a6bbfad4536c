//! What `score evaluate` and `score stability` print beyond AUC and KS: how bad rates fall across
//! score bands, whether the probabilities the points stand for match what happened
//! (calibration), and how far one sample's scores have drifted from another's (PSI).

use serde::Serialize;

/// Rows and bads of one score band `[from, to)`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Band {
    pub from: i64,
    pub to: i64,
    pub rows: usize,
    pub bads: usize,
    pub bad_rate: f64,
}

/// Scores grouped into bands of `width` points from `min` to `max` (the last band includes `max`);
/// empty bands are left out.
pub fn bands(scores: &[i64], target: &[u8], min: i64, max: i64, width: i64) -> Vec<Band> {
    let width = width.max(1);
    let count = ((max - min) / width + 1).max(1) as usize;
    let mut bands: Vec<Band> = (0..count)
        .map(|i| {
            let from = min + i as i64 * width;
            Band { from, to: from + width, rows: 0, bads: 0, bad_rate: 0.0 }
        })
        .collect();
    for (&score, &y) in scores.iter().zip(target) {
        let index = (((score.clamp(min, max) - min) / width) as usize).min(count - 1);
        bands[index].rows += 1;
        bands[index].bads += usize::from(y);
    }
    bands.retain(|b| b.rows > 0);
    for band in &mut bands {
        band.bad_rate = band.bads as f64 / band.rows as f64;
    }
    bands
}

/// One group of the calibration table: rows of similar predicted probability.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CalibrationGroup {
    pub rows: usize,
    pub predicted_bad_rate: f64,
    pub observed_bad_rate: f64,
}

/// Rows sorted by predicted probability of bad and cut into `groups` groups of equal size:
/// the mean predicted and the observed bad rate of each, safest first.
pub fn calibration(predicted: &[f64], target: &[u8], groups: usize) -> Vec<CalibrationGroup> {
    let mut order: Vec<usize> = (0..predicted.len()).collect();
    order.sort_by(|&a, &b| predicted[a].total_cmp(&predicted[b]));
    let groups = groups.clamp(1, order.len().max(1));
    (0..groups)
        .filter_map(|g| {
            let rows = &order[g * order.len() / groups..(g + 1) * order.len() / groups];
            (!rows.is_empty()).then(|| CalibrationGroup {
                rows: rows.len(),
                predicted_bad_rate: rows.iter().map(|&i| predicted[i]).sum::<f64>() / rows.len() as f64,
                observed_bad_rate: rows.iter().map(|&i| f64::from(target[i])).sum::<f64>() / rows.len() as f64,
            })
        })
        .collect()
}

/// One band's shares in the population stability index.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StabilityBand {
    pub from: i64,
    pub to: i64,
    pub expected_share: f64,
    pub actual_share: f64,
    /// This band's term of the index.
    pub psi: f64,
}

/// The population stability index of `actual` against `expected` over score bands:
/// Σ (actual share − expected share) × ln(actual share ÷ expected share). An empty band counts
/// as a share of 0.0001, so the index stays finite. Rule of thumb: below 0.1 stable, 0.1–0.25
/// a shift worth watching, above 0.25 a shift that calls for review.
pub fn stability(expected: &[i64], actual: &[i64], min: i64, max: i64, width: i64) -> (f64, Vec<StabilityBand>) {
    let none = vec![0u8; expected.len().max(actual.len())];
    let expected_bands = bands(expected, &none, min, max, width);
    let actual_bands = bands(actual, &none, min, max, width);
    let mut starts: Vec<i64> = expected_bands.iter().chain(&actual_bands).map(|b| b.from).collect();
    starts.sort_unstable();
    starts.dedup();
    let share = |bands: &[Band], from: i64, total: usize| {
        let rows = bands.iter().find(|b| b.from == from).map_or(0, |b| b.rows);
        (rows as f64 / total.max(1) as f64).max(0.000_1)
    };
    let mut index = 0.0;
    let table = starts
        .into_iter()
        .map(|from| {
            let (e, a) = (share(&expected_bands, from, expected.len()), share(&actual_bands, from, actual.len()));
            let psi = (a - e) * (a / e).ln();
            index += psi;
            StabilityBand { from, to: from + width.max(1), expected_share: e, actual_share: a, psi }
        })
        .collect();
    (index, table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_count_rows_and_bads() {
        let scores = [300, 349, 350, 900, 640];
        let target = [1, 1, 0, 0, 1];
        let b = bands(&scores, &target, 300, 900, 50);
        assert_eq!((b[0].from, b[0].rows, b[0].bads), (300, 2, 2));
        assert_eq!((b[1].from, b[1].rows, b[1].bads), (350, 1, 0));
        assert_eq!(b.last().unwrap().from, 900, "the maximum has a band of its own");
        assert_eq!(b.iter().map(|b| b.rows).sum::<usize>(), 5);
    }

    #[test]
    fn calibration_compares_predicted_and_observed() {
        let predicted = [0.1, 0.1, 0.9, 0.9];
        let target = [0, 0, 1, 0];
        let table = calibration(&predicted, &target, 2);
        assert_eq!(table[0], CalibrationGroup { rows: 2, predicted_bad_rate: 0.1, observed_bad_rate: 0.0 });
        assert_eq!(table[1], CalibrationGroup { rows: 2, predicted_bad_rate: 0.9, observed_bad_rate: 0.5 });
    }

    #[test]
    fn the_stability_index_of_a_hand_computed_shift() {
        let (same, _) = stability(&[400, 500, 600, 700], &[400, 500, 600, 700], 300, 900, 100);
        assert!(same.abs() < 1e-12);
        // Expected half in 400–499 and half in 500–599; actual a quarter and three quarters.
        let (psi, table) = stability(&[400, 500], &[400, 500, 500, 500], 300, 900, 100);
        let expected = (0.25 - 0.5) * (0.25f64 / 0.5).ln() + (0.75 - 0.5) * (0.75f64 / 0.5).ln();
        assert!((psi - expected).abs() < 1e-12, "{psi} vs {expected}");
        assert_eq!(table.len(), 2);
    }
}
