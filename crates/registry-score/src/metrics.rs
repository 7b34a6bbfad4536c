//! How well scores rank: AUC (the probability that a random bad scores as riskier than a
//! random good, ties counting half), Gini = 2·AUC − 1, and KS (the largest gap between the
//! cumulative shares of bads and goods). Scores here are risks: higher means more likely bad.

/// AUC of `risk` against `target` (1 = bad), by ranks with ties averaged.
pub fn auc(risk: &[f64], target: &[u8]) -> f64 {
    let mut order: Vec<usize> = (0..risk.len()).collect();
    order.sort_by(|&a, &b| risk[a].total_cmp(&risk[b]));
    let (mut rank_sum_bad, mut bads) = (0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && risk[order[j + 1]] == risk[order[i]] {
            j += 1;
        }
        let average_rank = (i + j) as f64 / 2.0 + 1.0;
        for &row in &order[i..=j] {
            if target[row] == 1 {
                rank_sum_bad += average_rank;
                bads += 1.0;
            }
        }
        i = j + 1;
    }
    let goods = risk.len() as f64 - bads;
    if bads == 0.0 || goods == 0.0 {
        return f64::NAN;
    }
    (rank_sum_bad - bads * (bads + 1.0) / 2.0) / (bads * goods)
}

pub fn gini(risk: &[f64], target: &[u8]) -> f64 {
    gini_of_auc(auc(risk, target))
}

/// Gini = 2·AUC − 1, for a caller that has the AUC already.
pub fn gini_of_auc(auc: f64) -> f64 {
    2.0 * auc - 1.0
}

/// KS: max over thresholds of |share of bads above − share of goods above|, ties kept together.
pub fn ks(risk: &[f64], target: &[u8]) -> f64 {
    let mut order: Vec<usize> = (0..risk.len()).collect();
    order.sort_by(|&a, &b| risk[b].total_cmp(&risk[a]));
    let bads = target.iter().filter(|&&t| t == 1).count() as f64;
    let goods = target.len() as f64 - bads;
    if bads == 0.0 || goods == 0.0 {
        return f64::NAN;
    }
    let (mut seen_bad, mut seen_good, mut best) = (0.0f64, 0.0f64, 0.0f64);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j < order.len() && risk[order[j]] == risk[order[i]] {
            if target[order[j]] == 1 {
                seen_bad += 1.0;
            } else {
                seen_good += 1.0;
            }
            j += 1;
        }
        best = best.max((seen_bad / bads - seen_good / goods).abs());
        i = j;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_cases() {
        // Perfect, reversed, and random-by-ties rankings.
        assert_eq!(auc(&[0.1, 0.2, 0.8, 0.9], &[0, 0, 1, 1]), 1.0);
        assert_eq!(auc(&[0.9, 0.8, 0.2, 0.1], &[0, 0, 1, 1]), 0.0);
        assert_eq!(auc(&[0.5, 0.5, 0.5, 0.5], &[0, 1, 0, 1]), 0.5);
        // Pairs (bad, good): b=0.4 beats g=0.1,0.3 and loses to 0.6 → 2/3; b=0.7 beats all 3 → 1.
        // AUC = (2 + 3) / 6.
        let (risk, target) = ([0.1, 0.3, 0.4, 0.6, 0.7], [0, 0, 1, 0, 1]);
        assert!((auc(&risk, &target) - 5.0 / 6.0).abs() < 1e-12);
        assert!((gini(&risk, &target) - 2.0 / 3.0).abs() < 1e-12);
        // KS: from the top, 0.7 (bad): 1/2 − 0 = 0.5; 0.6 (good): 0.5 − 1/3; 0.4 (bad): 1 − 1/3 = 2/3.
        assert!((ks(&risk, &target) - 2.0 / 3.0).abs() < 1e-12);
        // A tie between a bad and a good counts half in AUC and moves together in KS.
        assert!((auc(&[0.5, 0.5], &[0, 1]) - 0.5).abs() < 1e-12);
        assert_eq!(ks(&[0.5, 0.5], &[0, 1]), 0.0);
    }
}
