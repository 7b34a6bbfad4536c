//! The classic scorecard, fitted beside the boosted one: each attribute's bins merged until its
//! bad rate is monotone (in the direction its meaning demands, or in whichever direction keeps
//! more information), each bin's weight of evidence, attributes chosen by information value, and
//! a logistic regression with an L2 penalty on the weights of evidence. Its points table is
//! coefficient × WoE per bin, so it is scored, scaled and explained like any other.

use crate::binning::Cuts;
use crate::boost::{Additive, Monotone, Shape};
use crate::data::Dataset;

#[derive(Clone, Debug)]
pub struct WoeSettings {
    /// Fine bins each attribute starts from, before merging.
    pub fine_bins: usize,
    /// Fewest rows a merged bin may hold, as a share of the rows.
    pub min_bin_share: f64,
    /// Attributes with less information value are left out.
    pub min_information_value: f64,
    /// Of two attributes whose WoE columns correlate more than this, the one with less
    /// information value is left out.
    pub max_correlation: f64,
    /// L2 penalty on the coefficients (not the intercept).
    pub l2: f64,
}

impl Default for WoeSettings {
    fn default() -> Self {
        WoeSettings { fine_bins: 50, min_bin_share: 0.02, min_information_value: 0.02, max_correlation: 0.9, l2: 1.0 }
    }
}

/// Goods and bads of one bin.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BinCounts {
    pub goods: f64,
    pub bads: f64,
}

impl std::ops::Add for BinCounts {
    type Output = BinCounts;
    fn add(self, other: BinCounts) -> BinCounts {
        BinCounts { goods: self.goods + other.goods, bads: self.bads + other.bads }
    }
}

impl BinCounts {
    fn rows(self) -> f64 {
        self.goods + self.bads
    }

    fn bad_rate(self) -> f64 {
        if self.rows() > 0.0 { self.bads / self.rows() } else { 0.0 }
    }
}

/// Weight of evidence of each bin, ln(share of goods ÷ share of bads), with half a row added to
/// every count so that a bin without goods or without bads has a finite weight; and the
/// attribute's information value, Σ (share of goods − share of bads) × WoE.
pub fn woe_and_iv(bins: &[BinCounts]) -> (Vec<f64>, f64) {
    let goods: f64 = bins.iter().map(|b| b.goods + 0.5).sum();
    let bads: f64 = bins.iter().map(|b| b.bads + 0.5).sum();
    let mut iv = 0.0;
    let woe = bins
        .iter()
        .map(|b| {
            let (good_share, bad_share) = ((b.goods + 0.5) / goods, (b.bads + 0.5) / bads);
            let woe = (good_share / bad_share).ln();
            iv += (good_share - bad_share) * woe;
            woe
        })
        .collect();
    (woe, iv)
}

/// Merges adjacent (non-missing) bins until the bad rate moves one way only and every bin holds
/// `min_rows`: the optimal monotone binning of a fine binning, by pool-adjacent-violators.
/// `trend`: `Some(true)`, the bad rate may only rise with the value; `Some(false)`, only fall;
/// `None`, either (bins are merged only to hold `min_rows`). Returns the kept cut points (a
/// subset of `cuts`) and the merged counts (missing bin first).
pub fn merge_monotone(cuts: &Cuts, counts: &[BinCounts], trend: Option<bool>, min_rows: f64) -> (Cuts, Vec<BinCounts>) {
    // Blocks of adjacent fine bins: (first fine bin, counts).
    let mut blocks: Vec<(usize, BinCounts)> = Vec::new();
    let violates = |left: BinCounts, right: BinCounts| match trend {
        Some(true) => left.bad_rate() > right.bad_rate(),
        Some(false) => left.bad_rate() < right.bad_rate(),
        None => false,
    };
    // Pools the last block into the one before it.
    let pool_last = |blocks: &mut Vec<(usize, BinCounts)>| {
        let (_, merged) = blocks.pop().expect("two blocks");
        let last = blocks.last_mut().expect("one block");
        last.1 = last.1 + merged;
    };
    for (bin, &c) in counts.iter().enumerate().skip(1) {
        blocks.push((bin, c));
        while blocks.len() >= 2 {
            let (right, left) = (blocks[blocks.len() - 1].1, blocks[blocks.len() - 2].1);
            if !violates(left, right) && left.rows() >= min_rows {
                break;
            }
            pool_last(&mut blocks);
        }
    }
    // The last block may still be small: fold it into its neighbour.
    while blocks.len() >= 2 && blocks[blocks.len() - 1].1.rows() < min_rows {
        pool_last(&mut blocks);
    }
    // Block k starts at fine bin `first`: the cut before it is fine cut `first - 2`.
    let kept = blocks.iter().skip(1).map(|(first, _)| cuts.0[first - 2]).collect();
    let mut merged = vec![counts[0]];
    merged.extend(blocks.iter().map(|(_, c)| *c));
    (Cuts(kept), merged)
}

/// One attribute's binning and weights of evidence.
#[derive(Clone, Debug)]
pub struct WoeBinning {
    pub cuts: Cuts,
    pub counts: Vec<BinCounts>,
    pub woe: Vec<f64>,
    pub information_value: f64,
}

fn counts_of(cuts: &Cuts, column: &[Option<f64>], target: &[u8]) -> Vec<BinCounts> {
    let mut counts = vec![BinCounts::default(); cuts.bins()];
    for (&x, &y) in column.iter().zip(target) {
        let bin = &mut counts[cuts.bin(x)];
        if y == 1 { bin.bads += 1.0 } else { bin.goods += 1.0 }
    }
    counts
}

/// The binning of one attribute: monotone in the given direction; a free attribute's bins are
/// only merged to hold enough rows (a U-shaped risk, as of a debt ratio, stays U-shaped).
pub fn bin_attribute(column: &[Option<f64>], target: &[u8], monotone: Monotone, settings: &WoeSettings) -> WoeBinning {
    let min_rows = (settings.min_bin_share * target.len() as f64).max(1.0);
    let fine = Cuts::quantiles(column, settings.fine_bins, (min_rows / 4.0) as usize);
    let counts = counts_of(&fine, column, target);
    let trend = match monotone {
        Monotone::Increasing => Some(true),
        Monotone::Decreasing => Some(false),
        Monotone::Free => None,
    };
    let (cuts, counts) = merge_monotone(&fine, &counts, trend, min_rows);
    let (woe, information_value) = woe_and_iv(&counts);
    WoeBinning { cuts, counts, woe, information_value }
}

/// A logistic regression fitted by Newton's method: log-odds(y = 1) = b₀ + Σ bⱼ xⱼ, with
/// `l2`·Σ bⱼ²/2 added to the loss (the intercept is not penalised). `rows[i]` are the features
/// of row `i`. Returns (b₀, b).
pub fn logistic_regression(rows: &[Vec<f64>], target: &[u8], l2: f64) -> (f64, Vec<f64>) {
    let p = rows.first().map_or(0, Vec::len);
    let dim = p + 1;
    let mut beta = vec![0.0; dim];
    let bads = target.iter().filter(|&&y| y == 1).count() as f64;
    let n = target.len() as f64;
    beta[0] = ((bads + 0.5) / (n - bads + 0.5)).ln();
    for _ in 0..50 {
        let mut gradient = vec![0.0; dim];
        let mut hessian = vec![0.0; dim * dim];
        for (x, &y) in rows.iter().zip(target) {
            let eta = beta[0] + x.iter().zip(&beta[1..]).map(|(a, b)| a * b).sum::<f64>();
            let mu = crate::boost::sigmoid(eta);
            let w = (mu * (1.0 - mu)).max(1e-12);
            let r = mu - f64::from(y);
            let feature = |j: usize| if j == 0 { 1.0 } else { x[j - 1] };
            for j in 0..dim {
                let fj = feature(j);
                gradient[j] += r * fj;
                for k in 0..=j {
                    hessian[j * dim + k] += w * fj * feature(k);
                }
            }
        }
        for j in 1..dim {
            gradient[j] += l2 * beta[j];
            hessian[j * dim + j] += l2;
        }
        for j in 0..dim {
            for k in 0..j {
                hessian[k * dim + j] = hessian[j * dim + k];
            }
        }
        let Some(step) = solve_symmetric(&hessian, &gradient, dim) else { break };
        let mut largest: f64 = 0.0;
        for (b, s) in beta.iter_mut().zip(&step) {
            *b -= s;
            largest = largest.max(s.abs());
        }
        if largest < 1e-9 {
            break;
        }
    }
    (beta[0], beta[1..].to_vec())
}

/// Solves A·x = b for a symmetric positive-definite `a` (row-major, `dim`×`dim`) by Cholesky.
/// Written here rather than taken from a linear-algebra crate: one small solve per Newton step
/// (at most a few dozen unknowns) does not justify the dependency.
#[allow(clippy::many_single_char_names)] // the textbook's names: A = L·Lᵀ, L·y = b, Lᵀ·x = y
fn solve_symmetric(a: &[f64], b: &[f64], dim: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; dim * dim];
    for i in 0..dim {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|k| l[i * dim + k] * l[j * dim + k]).sum();
            if i == j {
                let d = a[i * dim + i] - sum;
                if d <= 0.0 {
                    return None;
                }
                l[i * dim + i] = d.sqrt();
            } else {
                l[i * dim + j] = (a[i * dim + j] - sum) / l[j * dim + j];
            }
        }
    }
    let mut y = vec![0.0; dim];
    for i in 0..dim {
        y[i] = (b[i] - (0..i).map(|k| l[i * dim + k] * y[k]).sum::<f64>()) / l[i * dim + i];
    }
    let mut x = vec![0.0; dim];
    for i in (0..dim).rev() {
        x[i] = (y[i] - (i + 1..dim).map(|k| l[k * dim + i] * x[k]).sum::<f64>()) / l[i * dim + i];
    }
    Some(x)
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        cov += (x - ma) * (y - mb);
        va += (x - ma) * (x - ma);
        vb += (y - mb) * (y - mb);
    }
    if va <= 0.0 || vb <= 0.0 { 0.0 } else { cov / (va * vb).sqrt() }
}

/// The fitted classic scorecard: the additive model (in log-odds of bad, over the selected
/// attributes only), which attributes those are, and every attribute's information value.
pub struct WoeFit {
    pub additive: Additive,
    /// Indices into the data's attributes of those kept, in `additive.shapes` order.
    pub selected: Vec<usize>,
    pub information_values: Vec<f64>,
}

/// Fits the classic scorecard: monotone WoE binning, selection by information value and
/// correlation, L2 logistic regression on the weights of evidence; an attribute whose
/// coefficient comes out with the wrong sign (more evidence of good raising the risk, the mark
/// of collinearity) is dropped and the regression refitted.
pub fn fit(data: &Dataset, monotone: &[Monotone], settings: &WoeSettings) -> WoeFit {
    let binnings: Vec<WoeBinning> = data
        .columns
        .iter()
        .enumerate()
        .map(|(j, column)| bin_attribute(column, &data.target, monotone.get(j).copied().unwrap_or_default(), settings))
        .collect();
    let information_values: Vec<f64> = binnings.iter().map(|b| b.information_value).collect();
    let woe_column = |j: usize| -> Vec<f64> { data.columns[j].iter().map(|&x| binnings[j].woe[binnings[j].cuts.bin(x)]).collect() };

    let mut candidates: Vec<usize> = (0..data.columns.len()).filter(|&j| information_values[j] >= settings.min_information_value).collect();
    candidates.sort_by(|&a, &b| information_values[b].total_cmp(&information_values[a]).then(a.cmp(&b)));
    let mut selected: Vec<usize> = Vec::new();
    let mut columns: Vec<Vec<f64>> = Vec::new();
    for j in candidates {
        let column = woe_column(j);
        if columns.iter().all(|kept| correlation(kept, &column).abs() <= settings.max_correlation) {
            selected.push(j);
            columns.push(column);
        }
    }
    loop {
        let rows: Vec<Vec<f64>> = (0..data.rows()).map(|i| columns.iter().map(|c| c[i]).collect()).collect();
        let (intercept, coefficients) = logistic_regression(&rows, &data.target, settings.l2);
        // WoE is evidence of good, the regression predicts bad: every coefficient should be ≤ 0.
        if let Some(wrong) = coefficients.iter().position(|&b| b > 0.0) {
            selected.remove(wrong);
            columns.remove(wrong);
            continue;
        }
        let shapes = selected
            .iter()
            .zip(&coefficients)
            .map(|(&j, &b)| {
                let binning = &binnings[j];
                Shape {
                    cuts: binning.cuts.clone(),
                    scores: binning.woe.iter().map(|w| b * w).collect(),
                    counts: binning.counts.iter().map(|c| c.rows() as u64).collect(),
                }
            })
            .collect();
        return WoeFit { additive: Additive { intercept, shapes }, selected, information_values };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_of_evidence_and_information_value_of_a_hand_table() {
        // 100 goods and 100 bads over two bins: 80/20 and 20/80 (plus half a row each).
        let bins = [BinCounts { goods: 79.5, bads: 19.5 }, BinCounts { goods: 19.5, bads: 79.5 }];
        let (woe, iv) = woe_and_iv(&bins);
        assert!((woe[0] - (0.8f64 / 0.2).ln()).abs() < 1e-12, "{woe:?}");
        assert!((woe[1] - (0.2f64 / 0.8).ln()).abs() < 1e-12);
        // IV = (0.8 − 0.2)·ln 4 + (0.2 − 0.8)·ln ¼ = 1.2·ln 4.
        assert!((iv - 1.2 * 4f64.ln()).abs() < 1e-12, "{iv}");
        // A bin without bads still has a finite weight.
        let (woe, _) = woe_and_iv(&[BinCounts { goods: 10.0, bads: 0.0 }, BinCounts { goods: 10.0, bads: 10.0 }]);
        assert!(woe.iter().all(|w| w.is_finite()));
    }

    #[test]
    fn merging_makes_the_bad_rate_monotone() {
        // Fine bins' bad rates: 10 %, 30 %, 20 %, 40 %, 35 %; missing first.
        let cuts = Cuts(vec![1.0, 2.0, 3.0, 4.0]);
        let rate = |bads: f64| BinCounts { goods: 100.0 - bads, bads };
        let counts = [rate(50.0), rate(10.0), rate(30.0), rate(20.0), rate(40.0), rate(35.0)];
        let (kept, merged) = merge_monotone(&cuts, &counts, Some(true), 1.0);
        let rates: Vec<f64> = merged[1..].iter().map(|c| c.bad_rate()).collect();
        assert!(rates.windows(2).all(|w| w[0] <= w[1]), "{rates:?}");
        assert_eq!(kept.0, vec![1.0, 3.0], "bins 2–3 and 4–5 pooled");
        assert_eq!(merged[0], counts[0], "the missing bin is never merged");
        assert_eq!(merged.iter().map(|c| c.rows()).sum::<f64>(), 600.0, "no row lost");
        let (_, merged) = merge_monotone(&cuts, &counts, Some(false), 1.0);
        let rates: Vec<f64> = merged[1..].iter().map(|c| c.bad_rate()).collect();
        assert!(rates.windows(2).all(|w| w[0] >= w[1]), "{rates:?}");
        // The minimum size holds.
        let (_, merged) = merge_monotone(&cuts, &counts, Some(true), 250.0);
        assert!(merged[1..].iter().all(|c| c.rows() >= 250.0), "{merged:?}");
    }

    #[test]
    fn logistic_regression_finds_the_known_solution() {
        // One binary feature: the maximum-likelihood fit is exact, logit of each group's rate.
        // x = 0: 30 bads of 100; x = 1: 60 bads of 100.
        let mut rows = Vec::new();
        let mut target = Vec::new();
        for (x, bads) in [(0.0, 30), (1.0, 60)] {
            for i in 0..100 {
                rows.push(vec![x]);
                target.push(u8::from(i < bads));
            }
        }
        let (b0, b) = logistic_regression(&rows, &target, 0.0);
        let logit = |p: f64| (p / (1.0 - p)).ln();
        assert!((b0 - logit(0.3)).abs() < 1e-8, "{b0}");
        assert!((b[0] - (logit(0.6) - logit(0.3))).abs() < 1e-8, "{b:?}");
        // A penalty shrinks the coefficient toward zero.
        let (_, shrunk) = logistic_regression(&rows, &target, 50.0);
        assert!(shrunk[0] > 0.0 && shrunk[0] < b[0], "{shrunk:?}");
    }

    #[test]
    fn the_classic_scorecard_keeps_informative_attributes_with_the_right_sign() {
        // Attribute 0 drives the risk; attribute 1 is noise.
        let n = 4_000;
        let mut columns = vec![Vec::new(), Vec::new()];
        let mut target = Vec::new();
        for i in 0..n {
            let x = (i % 10) as f64;
            let noise = ((i * 7919) % 13) as f64;
            columns[0].push(Some(x));
            columns[1].push(Some(noise));
            // Bad rate rises with x: 5 % … 50 %, deterministic.
            target.push(u8::from((i / 10) % 20 < (1 + x as usize)));
        }
        let data = Dataset { names: vec!["x".into(), "noise".into()], columns, target };
        let fitted = fit(&data, &[Monotone::Increasing, Monotone::Free], &WoeSettings::default());
        assert_eq!(fitted.selected, vec![0], "IVs {:?}", fitted.information_values);
        let scores = &fitted.additive.shapes[0].scores[1..];
        assert!(scores.windows(2).all(|w| w[0] <= w[1] + 1e-12), "more x never lowers the risk: {scores:?}");
    }
}
