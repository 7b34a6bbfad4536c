//! The identity evaluators: one identifier, as each furnisher reports the person behind it.
//! The registry keeps every furnisher's version (names are sealed); these look across them.

use std::collections::BTreeMap;

use crate::model::Date;

/// One furnisher's report of a subject, for the identity evaluators: personal data, so only
/// the service builds these (from sealed identities) and no finding repeats them.
#[derive(Clone, Debug)]
pub struct ReportedName {
    pub furnisher: String,
    /// An account of the subject's at this furnisher, and its latest record's date: what a
    /// finding names instead of the person.
    pub account: String,
    pub as_of: Date,
    pub family_name: String,
}

/// Surnames in the romanisations people and lenders use for the same Chinese name (pinyin,
/// Wade–Giles, Cantonese): two of one group are one name spelled two ways, not two people.
const ROMANISATIONS: &[&[&str]] = &[
    &["wang", "wong", "huang"],
    &["li", "lee", "lei"],
    &["zhang", "chang", "cheung"],
    &["liu", "lau", "lao"],
    &["chen", "chan", "chin"],
    &["yang", "yeung", "young"],
    &["zhao", "chao", "chiu"],
    &["wu", "ng", "woo", "hu"],
    &["zhou", "chou", "chow"],
    &["xu", "hsu", "tsui", "hui"],
    &["sun", "suen"],
    &["ma", "mah"],
    &["zhu", "chu", "chue"],
    &["guo", "kuo", "kwok"],
    &["he", "ho", "hoh"],
    &["gao", "kao", "ko"],
    &["lin", "lam", "lim"],
    &["luo", "lo", "law"],
    &["zheng", "cheng", "chang"],
    &["liang", "leung"],
    &["xie", "tse", "hsieh"],
    &["song", "sung"],
    &["tang", "tong", "deng"],
    &["lü", "lv", "lu", "lui"],
    &["han", "hon"],
    &["feng", "fung"],
];

/// Case, spaces and punctuation do not make two names different ("Xiao-Ming" is "xiao ming").
fn normalised(name: &str) -> String {
    name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Whether two family names are the same name: equal once normalised, a romanisation of one
/// Chinese surname, or a near spelling (Jaro–Winkler 0.85 or more: `SMYTH` for `SMITH`,
/// `ANDERSEN` for `ANDERSON`, `JONES-HALL` for `JONES`).
pub fn same_family_name(a: &str, b: &str) -> bool {
    let (a, b) = (normalised(a), normalised(b));
    if a == b || strsim::jaro_winkler(&a, &b) >= 0.85 {
        return true;
    }
    ROMANISATIONS.iter().any(|group| group.contains(&a.as_str()) && group.contains(&b.as_str()))
}

/// A furnisher whose family name for the identifier is unlike every other furnisher's, when
/// two or more others agree on theirs: the identifier is probably on the wrong person's file.
pub fn family_name_differs(reported: &[ReportedName]) -> Vec<(usize, String)> {
    let mut by_furnisher: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, name) in reported.iter().enumerate() {
        by_furnisher.entry(name.furnisher.as_str()).or_insert(i);
    }
    let firsts: Vec<usize> = by_furnisher.into_values().collect();
    let mut hits = Vec::new();
    for &i in &firsts {
        let others: Vec<usize> = firsts.iter().copied().filter(|&j| j != i).collect();
        let agree_with_it = others.iter().filter(|&&j| same_family_name(&reported[i].family_name, &reported[j].family_name)).count();
        if others.len() >= 2 && agree_with_it == 0 {
            hits.push((
                i,
                format!("the family name differs from the one {} other furnishers report for the same identifier", others.len()),
            ));
        }
    }
    hits
}
