//! The model card: a page a supervisor, a lender or a court can read, rendered from the model
//! file alone (data and period, performance of both fits, every attribute's points table and
//! monotonicity, what was deliberately left out).

use std::fmt::Write;

use crate::model::{AttributePoints, Scorecard};

/// One row of an attribute's points table as the card shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct RangePoints {
    pub range: String,
    pub points: f64,
    /// Training rows in the range.
    pub rows: u64,
}

/// The bins of an attribute as text, with their points and training rows: adjacent bins worth
/// the same whole number of points are shown as one range (a boosted table has hundreds of
/// fine bins).
pub fn bin_ranges(attribute: &AttributePoints) -> Vec<RangePoints> {
    let cuts = &attribute.cuts.0;
    let rows = |bin: usize| attribute.rows.get(bin).copied().unwrap_or(0);
    let mut ranges: Vec<(Option<f64>, Option<f64>, f64, u64)> = Vec::new(); // (above, up to, points, rows)
    for bin in 1..attribute.points.len() {
        let points = attribute.points[bin];
        let above = if bin == 1 { None } else { Some(cuts[bin - 2]) };
        let up_to = cuts.get(bin - 1).copied();
        match ranges.last_mut() {
            Some(last) if last.2.round() == points.round() => {
                last.1 = up_to;
                last.3 += rows(bin);
            }
            _ => ranges.push((above, up_to, points, rows(bin))),
        }
    }
    let number = |x: f64| if x.fract() == 0.0 { format!("{x:.0}") } else { format!("{x}") };
    let mut shown = vec![RangePoints { range: "missing".to_owned(), points: attribute.points[0], rows: rows(0) }];
    shown.extend(ranges.into_iter().map(|(above, up_to, points, rows)| {
        let text = match (above, up_to) {
            (None, None) => "any value".to_owned(),
            (None, Some(u)) => format!("≤ {}", number(u)),
            (Some(a), None) => format!("> {}", number(a)),
            (Some(a), Some(u)) => format!("> {} and ≤ {}", number(a), number(u)),
        };
        RangePoints { range: text, points, rows }
    }));
    shown
}

/// The model card in Markdown.
pub fn render(card: &Scorecard) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Model card: {}\n", card.model_id);
    let _ = writeln!(
        out,
        "- Model: {} (`{}` format version {}), target `{}`",
        card.kind.describe(),
        card.format,
        card.format_version,
        card.target
    );
    let s = &card.scaling;
    let _ = writeln!(
        out,
        "- Points: {} points double the odds of good; {} points at good:bad odds of {}:1; scores from {} to {}",
        s.points_to_double_odds, s.base_score, s.base_odds, s.min_score, s.max_score
    );
    if let Some(facts) = &card.card {
        let _ = writeln!(out, "- Data: {}", facts.data);
        if let Some(period) = &facts.period {
            let _ = writeln!(out, "- Period: {period}");
        }
        let _ = writeln!(out, "- Development sample: {} rows, bad rate {:.2} %", facts.rows, 100.0 * facts.bad_rate);
        let _ =
            writeln!(out, "\n## Performance\n\nBoth fits over the same bins, compared by {} (means over the folds):\n", facts.validation);
        let _ = writeln!(out, "| fit | AUC | Gini | KS | |\n|---|---|---|---|---|");
        for candidate in &facts.candidates {
            let chosen = if candidate.kind == card.kind { "**kept**" } else { "" };
            let _ = writeln!(
                out,
                "| {} | {:.4} | {:.4} | {:.4} | {chosen} |",
                candidate.kind.describe(),
                candidate.auc,
                candidate.gini,
                candidate.ks
            );
        }
        let t = &facts.training;
        let _ = writeln!(out, "\nThe kept model on every training row: AUC {:.4}, Gini {:.4}, KS {:.4}.", t.auc, t.gini, t.ks);
        let _ = writeln!(out, "\n## Deliberately excluded\n");
        if facts.excluded.is_empty() {
            let _ = writeln!(out, "Nothing was excluded.");
        }
        for excluded in &facts.excluded {
            let _ = writeln!(out, "- **{}**: {}", excluded.attribute, excluded.why);
        }
    }
    let _ = writeln!(out, "\n## Attributes and their points\n");
    let _ = writeln!(out, "Every subject starts from {:.2} points; each attribute adds the points of the subject's bin.", card.base_points);
    let _ = writeln!(out, "Reason codes name the up to four attributes that cost the most points against their best bin.\n");
    for attribute in &card.attributes {
        let _ = writeln!(out, "### {} `{}`: {}\n", attribute.code, attribute.name, attribute.reason);
        let monotone = match attribute.monotone {
            crate::Monotone::Free => "free (the data decides)",
            crate::Monotone::Increasing => "more of it never raises the score",
            crate::Monotone::Decreasing => "more of it never lowers the score",
        };
        if let Some(known) = crate::attributes::find(&attribute.name) {
            let _ = writeln!(out, "{}. Monotonicity: {monotone}.\n", known.description);
        } else {
            let _ = writeln!(out, "Monotonicity: {monotone}.\n");
        }
        let _ = writeln!(out, "| value | points | training rows |\n|---|---|---|");
        for row in bin_ranges(attribute) {
            let _ = writeln!(out, "| {} | {:.1} | {} |", row.range, row.points, row.rows);
        }
        let _ = writeln!(out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Monotone;
    use crate::binning::Cuts;

    #[test]
    fn equal_points_read_as_one_range() {
        let attribute = AttributePoints {
            name: "late".into(),
            code: "V01".into(),
            reason: "The value of late".into(),
            monotone: Monotone::Increasing,
            cuts: Cuts(vec![0.0, 1.0, 2.5]),
            points: vec![3.0, 10.0, -5.2, -5.0, -20.0],
            rows: vec![0, 4, 3, 2, 1],
        };
        let ranges = bin_ranges(&attribute);
        let text: Vec<&str> = ranges.iter().map(|r| r.range.as_str()).collect();
        assert_eq!(text, ["missing", "≤ 0", "> 0 and ≤ 2.5", "> 2.5"]);
        assert_eq!((ranges[2].points, ranges[2].rows), (-5.2, 5), "the pooled range's rows add up");
        assert_eq!(ranges[0].rows, 0);
    }
}
