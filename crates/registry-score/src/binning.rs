//! Cut points per attribute and each value's bin. Bin 0 holds missing values; bins 1..=k hold
//! the values up to each cut point, and the last bin the values above the last cut.

use serde::{Deserialize, Serialize};

/// An attribute's cut points, ascending: value `v` falls in bin `1 + (number of cuts < v)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cuts(pub Vec<f64>);

impl Cuts {
    /// Cut points at the quantiles of the non-missing values, at most `max_bins - 1` of them,
    /// each bin holding at least `min_rows` values where the data allows: many bins keep the
    /// shape fine-grained, the minimum keeps each bin's points estimated from enough rows.
    pub fn quantiles(values: &[Option<f64>], max_bins: usize, min_rows: usize) -> Cuts {
        let mut present: Vec<f64> = values.iter().flatten().copied().collect();
        present.sort_by(f64::total_cmp);
        let n = present.len();
        let mut cuts: Vec<f64> = Vec::new();
        if n == 0 || max_bins < 2 {
            return Cuts(cuts);
        }
        let step = (n / max_bins).max(min_rows.max(1));
        let mut at = step;
        let mut last_cut_index = 0;
        while at < n {
            let cut = present[at - 1];
            // Bins end between distinct values: skip past every copy of the cut value.
            let end = present.partition_point(|v| *v <= cut);
            if end >= n {
                break;
            }
            if end - last_cut_index >= min_rows.max(1) && n - end >= min_rows.max(1) {
                cuts.push(cut);
                last_cut_index = end;
            }
            at = end.max(at) + step;
        }
        Cuts(cuts)
    }

    /// How many bins, the missing bin included.
    pub fn bins(&self) -> usize {
        self.0.len() + 2
    }

    pub fn bin(&self, value: Option<f64>) -> usize {
        match value {
            None => 0,
            Some(v) => 1 + self.0.partition_point(|cut| *cut < v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_values_have_their_own_bin_and_ties_stay_together() {
        let values: Vec<Option<f64>> = [1.0, 1.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0].iter().map(|v| Some(*v)).chain([None]).collect();
        let cuts = Cuts::quantiles(&values, 4, 1);
        assert!(cuts.0.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(cuts.bin(None), 0);
        // Every 1.0 lands in one bin.
        assert_eq!(cuts.bin(Some(1.0)), 1);
        assert!(cuts.bin(Some(6.0)) == cuts.bins() - 1);
        assert!(cuts.bin(Some(100.0)) == cuts.bins() - 1, "beyond the data: the last bin");
        assert_eq!(cuts.bin(Some(-5.0)), 1, "below the data: the first bin");
        // A constant attribute has one bin for its values.
        assert_eq!(Cuts::quantiles(&[Some(3.0); 10], 8, 1).0, Vec::<f64>::new());
        // The minimum rows per bin holds.
        let many: Vec<Option<f64>> = (0..1000).map(|i| Some(f64::from(i))).collect();
        let cuts = Cuts::quantiles(&many, 64, 100);
        assert!(cuts.0.len() <= 9, "{}", cuts.0.len());
    }
}
