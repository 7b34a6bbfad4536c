//! The additive model: log-odds of bad = intercept + Σ shape_j(bin of attribute j), fitted by
//! cyclic gradient boosting over the bins (one attribute at a time, a small Newton step per bin,
//! round after round, as Explainable Boosting Machines do without interactions), with optional
//! monotone constraints (pool-adjacent-violators after each step) and early stopping on a
//! held-out share of the rows. The result is one points table per attribute.

use serde::{Deserialize, Serialize};

use crate::binning::Cuts;
use crate::data::Dataset;

/// How an attribute's risk may move as its value grows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monotone {
    #[default]
    Free,
    /// More of it never lowers the risk (delinquencies, utilisation).
    Increasing,
    /// More of it never raises the risk (age of the oldest account).
    Decreasing,
}

#[derive(Clone, Debug)]
pub struct BoostSettings {
    pub max_bins: usize,
    /// Fewest rows a bin may hold, as a share of the rows.
    pub min_bin_share: f64,
    pub learning_rate: f64,
    pub max_rounds: usize,
    /// L2 penalty of each step (in units of the Hessian).
    pub l2: f64,
    /// Each step moves the non-missing bins in at most this many runs of adjacent bins (a
    /// shallow tree over the ordered bins, as EBM does): neighbours move together, so a table
    /// can have many bins without learning each bin's noise.
    pub max_leaves: usize,
    /// Share of the rows held out to decide when to stop.
    pub validation_share: f64,
    /// Rounds without improvement before stopping.
    pub patience: usize,
    /// Models fitted on different held-out splits and averaged (EBM's outer bags): every row
    /// trains most of them, and the average shape is smoother than any one.
    pub bags: usize,
    pub seed: u64,
}

impl Default for BoostSettings {
    fn default() -> Self {
        BoostSettings {
            max_bins: 1_024,
            min_bin_share: 0.000_2,
            learning_rate: 0.05,
            max_rounds: 3_000,
            l2: 3.0,
            max_leaves: 3,
            validation_share: 0.15,
            patience: 100,
            bags: 2,
            seed: 1,
        }
    }
}

/// One attribute's points table in log-odds: `scores[bin]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    pub cuts: Cuts,
    pub scores: Vec<f64>,
    /// Training rows per bin (for reading the table, and for centring).
    pub counts: Vec<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Additive {
    pub intercept: f64,
    pub shapes: Vec<Shape>,
}

pub(crate) fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A reproducible shuffle key per row (splitmix64): which rows are held out depends only on the
/// seed. Not cryptographic; it only has to scatter.
pub(crate) fn scatter(seed: u64, row: u64) -> u64 {
    let mut z = seed.wrapping_add(row.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Newton steps per bin (to be subtracted, times the learning rate): the missing bin (0) on its
/// own; the others grouped into at most `max_leaves` runs of adjacent bins, split greedily where
/// the loss falls most, each run moving by −G/(H + l2) of its bins.
fn leaf_steps(gradient: &[f64], hessian: &[f64], l2: f64, max_leaves: usize) -> Vec<f64> {
    let k = gradient.len();
    let mut steps = vec![0.0; k];
    if k == 0 {
        return steps;
    }
    steps[0] = gradient[0] / (hessian[0] + l2);
    let score = |g: f64, h: f64| g * g / (h + l2);
    // Prefix sums over bins 1..k.
    let (mut prefix_g, mut prefix_h) = (vec![0.0; k + 1], vec![0.0; k + 1]);
    for bin in 1..k {
        prefix_g[bin + 1] = prefix_g[bin] + gradient[bin];
        prefix_h[bin + 1] = prefix_h[bin] + hessian[bin];
    }
    let sum = |from: usize, to: usize| (prefix_g[to] - prefix_g[from], prefix_h[to] - prefix_h[from]);
    // Runs [from, to) of bins.
    let mut runs: Vec<(usize, usize)> = vec![(1, k)];
    while runs.len() < max_leaves.max(1) {
        let mut best: Option<(f64, usize, usize)> = None;
        for (index, &(from, to)) in runs.iter().enumerate() {
            let (g, h) = sum(from, to);
            let whole = score(g, h);
            for cut in from + 1..to {
                let (gl, hl) = sum(from, cut);
                let gain = score(gl, hl) + score(g - gl, h - hl) - whole;
                if gain > best.map_or(1e-12, |b| b.0) {
                    best = Some((gain, index, cut));
                }
            }
        }
        let Some((_, index, cut)) = best else { break };
        let (from, to) = runs[index];
        runs[index] = (from, cut);
        runs.insert(index + 1, (cut, to));
    }
    for (from, to) in runs {
        let (g, h) = sum(from, to);
        let step = g / (h + l2);
        steps[from..to].iter_mut().for_each(|s| *s = step);
    }
    steps
}

/// Weighted pool-adjacent-violators: the closest non-decreasing sequence (weighted least squares).
fn isotonic(values: &mut [f64], weights: &[f64]) {
    // Blocks of (mean, weight, length).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(values.len());
    for (&value, &weight) in values.iter().zip(weights) {
        let mut block = (value, weight.max(1e-12), 1usize);
        while let Some(&(mean, w, len)) = blocks.last() {
            if mean <= block.0 {
                break;
            }
            blocks.pop();
            let total = w + block.1;
            block = ((mean * w + block.0 * block.1) / total, total, len + block.2);
        }
        blocks.push(block);
    }
    let mut at = 0;
    for (mean, _, len) in blocks {
        for value in &mut values[at..at + len] {
            *value = mean;
        }
        at += len;
    }
}

/// Applies an attribute's constraint to its non-missing bins (bin 0, missing, is free).
fn constrain(scores: &mut [f64], counts: &[f64], monotone: Monotone) {
    let (values, weights) = (&mut scores[1..], &counts[1..]);
    match monotone {
        Monotone::Free => {}
        Monotone::Increasing => isotonic(values, weights),
        Monotone::Decreasing => {
            for v in values.iter_mut() {
                *v = -*v;
            }
            isotonic(values, weights);
            for v in values.iter_mut() {
                *v = -*v;
            }
        }
    }
}

fn log_loss(f: &[f64], target: &[u8]) -> f64 {
    f.iter()
        .zip(target)
        .map(|(&f, &y)| {
            // log(1 + e^f) − y·f, computed stably.
            let softplus = if f > 0.0 { f + (-f).exp().ln_1p() } else { f.exp().ln_1p() };
            softplus - f64::from(y) * f
        })
        .sum::<f64>()
        / f.len().max(1) as f64
}

/// Fits the additive model to `data`; `monotone[j]` constrains attribute `j`. Bins come from
/// all rows; each bag boosts on its own split and the bags' tables are averaged (the average of
/// monotone tables is monotone).
pub fn fit(data: &Dataset, monotone: &[Monotone], settings: &BoostSettings) -> Additive {
    let n = data.rows();
    let min_rows = ((n as f64 * settings.min_bin_share) as usize).max(1);
    let mut shapes: Vec<Shape> = Vec::with_capacity(data.columns.len());
    let mut bins: Vec<Vec<u16>> = Vec::with_capacity(data.columns.len());
    for column in &data.columns {
        let cuts = Cuts::quantiles(column, settings.max_bins, min_rows);
        let mut counts = vec![0u64; cuts.bins()];
        let column_bins: Vec<u16> = column.iter().map(|&v| cuts.bin(v) as u16).collect();
        for &bin in &column_bins {
            counts[bin as usize] += 1;
        }
        shapes.push(Shape { scores: vec![0.0; cuts.bins()], cuts, counts });
        bins.push(column_bins);
    }
    let bags = settings.bags.max(1);
    let fitted: Vec<(f64, Vec<Vec<f64>>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..bags)
            .map(|bag| {
                let (shapes, bins) = (&shapes, &bins);
                scope.spawn(move || boost_bag(data, bins, shapes, monotone, settings, settings.seed.wrapping_add(bag as u64)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a boosting thread panicked")).collect()
    });
    let mut intercept = fitted.iter().map(|(i, _)| i).sum::<f64>() / bags as f64;
    for (j, shape) in shapes.iter_mut().enumerate() {
        for bin in 0..shape.scores.len() {
            shape.scores[bin] = fitted.iter().map(|(_, tables)| tables[j][bin]).sum::<f64>() / bags as f64;
        }
    }
    // Centre each table on the rows, so a bin's score reads as better or worse than the
    // average applicant; the intercept takes the difference.
    for shape in &mut shapes {
        let total: u64 = shape.counts.iter().sum();
        let mean = shape.scores.iter().zip(&shape.counts).map(|(s, &c)| s * c as f64).sum::<f64>() / total.max(1) as f64;
        shape.scores.iter_mut().for_each(|s| *s -= mean);
        intercept += mean;
    }
    Additive { intercept, shapes }
}

/// One bag: boosts on the rows its seed keeps, stops on the rows it holds out. Returns the
/// intercept and each attribute's table as of the best round on the held-out rows.
fn boost_bag(
    data: &Dataset,
    bins: &[Vec<u16>],
    template: &[Shape],
    monotone: &[Monotone],
    settings: &BoostSettings,
    seed: u64,
) -> (f64, Vec<Vec<f64>>) {
    let n = data.rows();
    let (mut train, mut valid): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
    for row in 0..n {
        let held_out = (scatter(seed, row as u64) as f64 / u64::MAX as f64) < settings.validation_share;
        if held_out { valid.push(row) } else { train.push(row) }
    }
    let mut tables: Vec<Vec<f64>> = template.iter().map(|s| vec![0.0; s.scores.len()]).collect();
    let bad_rate = train.iter().filter(|&&i| data.target[i] == 1).count() as f64 / train.len().max(1) as f64;
    let intercept = (bad_rate / (1.0 - bad_rate)).ln();
    let mut f = vec![intercept; n];
    let valid_target: Vec<u8> = valid.iter().map(|&i| data.target[i]).collect();
    // The monotone projection weighs each bin by its rows: the same every round.
    let weights: Vec<Vec<f64>> = template.iter().map(|s| s.counts.iter().map(|&c| c as f64).collect()).collect();
    let mut best = (f64::INFINITY, tables.clone());
    let mut since_best = 0;
    for _ in 0..settings.max_rounds {
        for (j, table) in tables.iter_mut().enumerate() {
            let k = table.len();
            let (mut gradient, mut hessian) = (vec![0.0; k], vec![0.0; k]);
            for &i in &train {
                let p = sigmoid(f[i]);
                let bin = bins[j][i] as usize;
                gradient[bin] += p - f64::from(data.target[i]);
                hessian[bin] += p * (1.0 - p);
            }
            let old = table.clone();
            let step = leaf_steps(&gradient, &hessian, settings.l2, settings.max_leaves);
            for bin in 0..k {
                table[bin] -= settings.learning_rate * step[bin];
            }
            constrain(table, &weights[j], monotone.get(j).copied().unwrap_or_default());
            let delta: Vec<f64> = table.iter().zip(&old).map(|(new, old)| new - old).collect();
            for (value, &bin) in f.iter_mut().zip(&bins[j]) {
                *value += delta[bin as usize];
            }
        }
        let valid_f: Vec<f64> = valid.iter().map(|&i| f[i]).collect();
        let loss = if valid.is_empty() { 0.0 } else { log_loss(&valid_f, &valid_target) };
        if loss < best.0 - 1e-9 {
            best = (loss, tables.clone());
            since_best = 0;
        } else {
            since_best += 1;
            if since_best >= settings.patience {
                break;
            }
        }
    }
    (intercept, best.1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::auc;

    /// Log-odds of bad for each row of `data` (whose columns are the model's, in order).
    fn log_odds(model: &Additive, data: &Dataset) -> Vec<f64> {
        let mut f = vec![model.intercept; data.rows()];
        for (shape, column) in model.shapes.iter().zip(&data.columns) {
            for (value, &x) in f.iter_mut().zip(column) {
                *value += shape.scores[shape.cuts.bin(x)];
            }
        }
        f
    }

    #[test]
    fn isotonic_pools_violators_by_weight() {
        let mut values = [1.0, 3.0, 2.0, 4.0];
        isotonic(&mut values, &[1.0, 1.0, 1.0, 1.0]);
        assert_eq!(values, [1.0, 2.5, 2.5, 4.0]);
        let mut values = [5.0, 1.0];
        isotonic(&mut values, &[3.0, 1.0]);
        assert_eq!(values, [4.0, 4.0]);
    }

    /// A synthetic population where risk rises with `late` and falls with `age`, plus noise and
    /// missing values: the fit finds the signal, keeps the constraints, and beats chance.
    #[test]
    fn fits_a_known_signal_within_its_constraints() {
        let n = 6_000;
        let mut data =
            Dataset { names: vec!["late".into(), "age".into(), "noise".into()], columns: vec![vec![], vec![], vec![]], target: vec![] };
        for i in 0..n as u64 {
            let u = |salt: u64| scatter(salt, i) as f64 / u64::MAX as f64;
            let late = (u(1) * 6.0).floor();
            let age = 20.0 + u(2) * 50.0;
            let log_odds = -3.0 + 0.6 * late - 0.03 * (age - 45.0);
            let bad = u(3) < 1.0 / (1.0 + (-log_odds).exp());
            data.columns[0].push(Some(late));
            data.columns[1].push(if u(4) < 0.05 { None } else { Some(age) });
            data.columns[2].push(Some(u(5)));
            data.target.push(u8::from(bad));
        }
        let model = fit(
            &data,
            &[Monotone::Increasing, Monotone::Decreasing, Monotone::Free],
            &BoostSettings { min_bin_share: 0.05, ..BoostSettings::default() },
        );
        let late = &model.shapes[0].scores[1..];
        assert!(late.windows(2).all(|w| w[0] <= w[1] + 1e-12), "more delinquency never lowers the risk: {late:?}");
        let age = &model.shapes[1].scores[1..];
        assert!(age.windows(2).all(|w| w[0] >= w[1] - 1e-12), "{age:?}");
        assert!(late.last().unwrap() - late.first().unwrap() > 1.5, "the signal is found: {late:?}");
        let noise = &model.shapes[2].scores;
        let largest_noise = noise.iter().fold(0.0f64, |m, s| m.max(s.abs()));
        let late_range = late.last().unwrap() - late.first().unwrap();
        assert!(largest_noise < 0.2 * late_range, "noise stays small beside the signal ({late_range}): {noise:?}");
        assert!(auc(&log_odds(&model, &data), &data.target) > 0.7);
        // Deterministic: the same data and settings give the same model.
        assert_eq!(
            model,
            fit(
                &data,
                &[Monotone::Increasing, Monotone::Decreasing, Monotone::Free],
                &BoostSettings { min_bin_share: 0.05, ..BoostSettings::default() }
            )
        );
    }
}
