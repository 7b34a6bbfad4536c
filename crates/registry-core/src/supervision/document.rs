//! The supervision document (`shared/spec/supervision.md`, "Command line and API") made from a
//! tally: the one place shares, indices, rates and breaches are computed.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::tally::{Amounts, Tally};
use super::{Bucket, Institutions, LendersBucket, Policy, Section, limits, share};
use crate::model::{Currency, Product};
use crate::report::YearMonth;

/// The measures of a month: the sections asked for, each `None` when not.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Document {
    pub month: YearMonth,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub market: Option<Market>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub co_lending: Option<CoLending>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub borrowers: Option<Borrowers>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_risk: Option<CreditRisk>,
}

/// Who lends what.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Market {
    /// One row per `(furnisher, product, currency)` with an account in the snapshot.
    pub rows: Vec<MarketRow>,
    /// Concentration per `(product, currency)`.
    pub products: Vec<Concentration>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MarketRow {
    pub furnisher: String,
    pub product: Product,
    pub currency: Currency,
    pub accounts_open: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = u64))]
    pub balance_open: u128,
    #[cfg_attr(feature = "openapi", schema(value_type = u64))]
    pub past_due: u128,
    pub originations: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = u64))]
    pub originated_amount: u128,
    #[cfg_attr(feature = "openapi", schema(value_type = u64))]
    pub balance_30_plus: u128,
    #[cfg_attr(feature = "openapi", schema(value_type = u64))]
    pub balance_90_plus: u128,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Concentration {
    pub product: Product,
    pub currency: Currency,
    #[cfg_attr(feature = "openapi", schema(value_type = u64))]
    pub balance_open: u128,
    /// The Herfindahl–Hirschman index, 0 to 10,000; null where the balance is 0.
    pub hhi: Option<u64>,
    /// The largest furnisher's share; null where the balance is 0.
    pub top_share: Option<f64>,
    /// Each furnisher's share of the open balance.
    pub shares: BTreeMap<String, f64>,
}

/// Who really funds the loans.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoLending {
    pub furnishers: Vec<CoLendingFurnisher>,
    pub institutions: Vec<FundingInstitution>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoLendingFurnisher {
    pub furnisher: String,
    pub co_lent_loans: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, u64>))]
    pub co_lent_balance: Amounts,
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, u64>))]
    pub own_balance: Amounts,
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, u64>))]
    pub partner_balance: Amounts,
    pub loans_below_min_own_share: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, u64>))]
    pub balance_below_min_own_share: Amounts,
    /// `own_balance ÷ tier1_capital` per currency, where its tier-1 capital is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<BTreeMap<String, f64>>))]
    pub own_balance_to_tier1: Option<BTreeMap<Currency, f64>>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FundingInstitution {
    pub institution: String,
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, u64>))]
    pub funded_balance: Amounts,
    /// Its parts of each other furnisher's loans.
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, BTreeMap<String, u64>>))]
    pub by_partner: BTreeMap<String, Amounts>,
    /// Its largest partner's loans ÷ its tier-1 capital, per currency (where configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<BTreeMap<String, f64>>))]
    pub max_partner_to_tier1: Option<BTreeMap<Currency, f64>>,
    /// Its parts of other furnishers' loans ÷ its total loans, per currency (where configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<BTreeMap<String, f64>>))]
    pub co_lent_to_total_loans: Option<BTreeMap<Currency, f64>>,
    /// The limits it is over (where its figures are configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaches: Option<Vec<Breach>>,
}

/// A co-lending limit an institution is over.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Breach {
    /// `max_partner_to_tier1` or `co_lent_to_total_loans`.
    pub measure: &'static str,
    pub currency: Currency,
    pub value: f64,
    pub limit: f64,
    /// The partner behind `max_partner_to_tier1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
}

/// Who borrows from many.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Borrowers {
    pub subjects: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, u64>))]
    pub by_lenders_open: BTreeMap<LendersBucket, u64>,
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, f64>))]
    pub delinquent_share_by_lenders_open: BTreeMap<LendersBucket, f64>,
    pub stacking_subjects: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, u64>))]
    pub over_microloan_cap: BTreeMap<Currency, u64>,
}

/// Where it goes wrong.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CreditRisk {
    pub rows: Vec<RiskRow>,
    pub furnishers: Vec<FurnisherAccounts>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RiskRow {
    pub furnisher: String,
    pub product: Product,
    pub open_accounts: u64,
    pub rate_30_plus: Option<f64>,
    pub rate_90_plus: Option<f64>,
    /// Accounts by bucket in `M − 1` (outer key) and in `M` (inner key).
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, BTreeMap<String, u64>>))]
    pub roll: BTreeMap<Bucket, BTreeMap<Bucket, u64>>,
    pub vintages: Vec<Vintage>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Vintage {
    pub opened: YearMonth,
    pub accounts: u64,
    /// For each month on book `k = 0 … M − opened`, the share of the vintage seriously
    /// delinquent (`90+` or derogatory) by the end of month `opened + k`.
    pub ever_90_plus: Vec<f64>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FurnisherAccounts {
    pub furnisher: String,
    pub accounts_in_snapshot: u64,
    pub stale_accounts: u64,
}

/// The document of `month` from its tally: the `sections` asked for (all four when empty).
pub fn finish(tally: &Tally, month: YearMonth, sections: &[Section], policy: &Policy, institutions: &Institutions) -> Document {
    let wants = |section: Section| sections.is_empty() || sections.contains(&section);
    Document {
        month,
        market: wants(Section::Market).then(|| market(tally)),
        co_lending: wants(Section::CoLending).then(|| co_lending(tally, institutions)),
        borrowers: wants(Section::Borrowers).then(|| borrowers(tally, policy)),
        credit_risk: wants(Section::CreditRisk).then(|| credit_risk(tally, month)),
    }
}

/// Rows sorted by the codes as they are spelled, so every backend lists them alike.
fn by_spelling<K: Ord>(key: &(String, Product, K)) -> (&str, &'static str, &K) {
    (key.0.as_str(), key.1.as_str(), &key.2)
}

fn market(tally: &Tally) -> Market {
    let mut keys: Vec<_> = tally.market.keys().collect();
    keys.sort_by(|a, b| by_spelling(a).cmp(&by_spelling(b)));
    let rows = keys
        .into_iter()
        .map(|key| {
            let sums = &tally.market[key];
            MarketRow {
                furnisher: key.0.clone(),
                product: key.1,
                currency: key.2,
                accounts_open: sums.accounts_open,
                balance_open: sums.balance_open,
                past_due: sums.past_due,
                originations: sums.originations,
                originated_amount: sums.originated_amount,
                balance_30_plus: sums.balance_30_plus,
                balance_90_plus: sums.balance_90_plus,
            }
        })
        .collect::<Vec<_>>();
    // Per (product spelling, currency): the product, and each furnisher's open balance.
    type Group<'r> = (Product, Vec<(&'r str, u128)>);
    let mut groups: BTreeMap<(&'static str, Currency), Group<'_>> = BTreeMap::new();
    for row in &rows {
        groups
            .entry((row.product.as_str(), row.currency))
            .or_insert_with(|| (row.product, Vec::new()))
            .1
            .push((&row.furnisher, row.balance_open));
    }
    let products = groups.into_iter().map(|((_, currency), (product, balances))| concentration(product, currency, &balances)).collect();
    Market { rows, products }
}

fn concentration(product: Product, currency: Currency, balances: &[(&str, u128)]) -> Concentration {
    let total: u128 = balances.iter().map(|(_, balance)| balance).sum();
    if total == 0 {
        return Concentration { product, currency, balance_open: 0, hhi: None, top_share: None, shares: BTreeMap::new() };
    }
    let shares: BTreeMap<String, f64> =
        balances.iter().map(|(furnisher, balance)| ((*furnisher).to_owned(), share(*balance, total).unwrap_or(0.0))).collect();
    let top_share = shares.values().copied().fold(0.0, f64::max);
    // HHI = 10,000 × Σ balance² ÷ total², rounded half-up, exactly. Balances are scaled down
    // first where the total passes 2^56 minor units (so the squares fit); the index moves by
    // far less than its rounding.
    let shift = (128 - total.leading_zeros()).saturating_sub(56);
    let (total, squares) = (total >> shift, balances.iter().map(|(_, balance)| (balance >> shift).pow(2)).sum::<u128>());
    let hhi = (2 * 10_000 * squares + total * total) / (2 * total * total);
    Concentration { product, currency, balance_open: total << shift, hhi: Some(hhi as u64), top_share: Some(top_share), shares }
}

fn co_lending(tally: &Tally, institutions: &Institutions) -> CoLending {
    let furnishers = tally
        .co_lending
        .iter()
        .map(|(furnisher, sums)| CoLendingFurnisher {
            furnisher: furnisher.clone(),
            co_lent_loans: sums.loans,
            co_lent_balance: sums.balance.clone(),
            own_balance: sums.own_balance.clone(),
            partner_balance: sums.partner_balance.clone(),
            loans_below_min_own_share: sums.loans_below_min_own_share,
            balance_below_min_own_share: sums.balance_below_min_own_share.clone(),
            own_balance_to_tier1: institutions.0.get(furnisher).filter(|f| !f.tier1_capital.is_empty()).map(|figures| {
                figures
                    .tier1_capital
                    .iter()
                    .filter_map(|(currency, capital)| {
                        let own = sums.own_balance.get(currency).copied().unwrap_or(0);
                        share(own, u128::from(*capital)).map(|ratio| (*currency, ratio))
                    })
                    .collect()
            }),
        })
        .collect();

    let mut funded: BTreeMap<&str, (Amounts, BTreeMap<String, Amounts>)> = BTreeMap::new();
    for ((institution, furnisher, currency), part) in &tally.funded {
        let entry = funded.entry(institution.as_str()).or_default();
        *entry.0.entry(*currency).or_default() += part;
        if institution != furnisher {
            *entry.1.entry(furnisher.clone()).or_default().entry(*currency).or_default() += part;
        }
    }
    let institutions = funded
        .into_iter()
        .map(|(institution, (funded_balance, by_partner))| {
            let mut row = FundingInstitution {
                institution: institution.to_owned(),
                funded_balance,
                by_partner,
                max_partner_to_tier1: None,
                co_lent_to_total_loans: None,
                breaches: None,
            };
            if let Some(figures) = institutions.0.get(institution) {
                judge(&mut row, figures);
            }
            row
        })
        .collect();
    CoLending { furnishers, institutions }
}

/// An institution's ratios against its supervisory figures, and the limits it is over (judged
/// on the exact ratios, not the rounded ones).
fn judge(row: &mut FundingInstitution, figures: &super::InstitutionFigures) {
    let mut breaches = Vec::new();
    if !figures.tier1_capital.is_empty() {
        let mut ratios = BTreeMap::new();
        for (currency, capital) in &figures.tier1_capital {
            let capital = u128::from(*capital);
            let largest = row
                .by_partner
                .iter()
                .filter_map(|(partner, amounts)| amounts.get(currency).map(|amount| (partner, *amount)))
                .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)));
            let (partner, amount) = largest.map_or((None, 0), |(partner, amount)| (Some(partner.clone()), amount));
            let Some(ratio) = share(amount, capital) else { continue };
            ratios.insert(*currency, ratio);
            if amount * 4 > capital {
                breaches.push(Breach {
                    measure: "max_partner_to_tier1",
                    currency: *currency,
                    value: ratio,
                    limit: limits::PARTNER_TO_TIER1,
                    partner,
                });
            }
        }
        row.max_partner_to_tier1 = Some(ratios);
    }
    if !figures.total_loans.is_empty() {
        let mut ratios = BTreeMap::new();
        for (currency, loans) in &figures.total_loans {
            let loans = u128::from(*loans);
            let lent: u128 = row.by_partner.values().filter_map(|amounts| amounts.get(currency)).sum();
            let Some(ratio) = share(lent, loans) else { continue };
            ratios.insert(*currency, ratio);
            if lent * 2 > loans {
                breaches.push(Breach {
                    measure: "co_lent_to_total_loans",
                    currency: *currency,
                    value: ratio,
                    limit: limits::CO_LENT_TO_TOTAL_LOANS,
                    partner: None,
                });
            }
        }
        row.co_lent_to_total_loans = Some(ratios);
    }
    if row.max_partner_to_tier1.is_some() || row.co_lent_to_total_loans.is_some() {
        row.breaches = Some(breaches);
    }
}

fn borrowers(tally: &Tally, policy: &Policy) -> Borrowers {
    let sums = &tally.borrowers;
    let counted = sums.by_lenders_open.iter().filter(|(_, bucket)| bucket.subjects > 0);
    Borrowers {
        subjects: sums.subjects,
        by_lenders_open: counted.clone().map(|(bucket, sums)| (*bucket, sums.subjects)).collect(),
        delinquent_share_by_lenders_open: counted
            .map(|(bucket, sums)| (*bucket, share(u128::from(sums.delinquent), u128::from(sums.subjects)).unwrap_or(0.0)))
            .collect(),
        stacking_subjects: sums.stacking_subjects,
        over_microloan_cap: policy
            .microloan_cap_minor
            .keys()
            .map(|currency| (*currency, sums.over_microloan_cap.get(currency).copied().unwrap_or(0)))
            .collect(),
    }
}

fn credit_risk(tally: &Tally, month: YearMonth) -> CreditRisk {
    // Every pair with an account in the snapshot or a vintage in the window.
    let mut pairs: BTreeSet<(&str, &'static str, Product)> = BTreeSet::new();
    let risk_pairs = tally.risk.keys().map(|(f, p)| (f, *p));
    for (furnisher, product) in risk_pairs.chain(tally.vintages.keys().map(|(f, p, _)| (f, *p))) {
        pairs.insert((furnisher.as_str(), product.as_str(), product));
    }
    let rows = pairs
        .into_iter()
        .map(|(furnisher, _, product)| {
            let key = (furnisher.to_owned(), product);
            let sums = tally.risk.get(&key).cloned().unwrap_or_default();
            let mut roll: BTreeMap<Bucket, BTreeMap<Bucket, u64>> = BTreeMap::new();
            for ((from, to), n) in &sums.roll {
                roll.entry(*from).or_default().insert(*to, *n);
            }
            let open = u128::from(sums.open_accounts);
            let vintages = tally
                .vintages
                .iter()
                .filter(|((f, p, _), _)| f == furnisher && *p == product)
                .map(|((_, _, opened), vintage)| {
                    let mut serious = 0;
                    let ever_90_plus = (0..=month.months_since(*opened))
                        .map(|k| {
                            serious += vintage.first_serious.get(&opened.plus(k)).copied().unwrap_or(0);
                            share(u128::from(serious), u128::from(vintage.accounts)).unwrap_or(0.0)
                        })
                        .collect();
                    Vintage { opened: *opened, accounts: vintage.accounts, ever_90_plus }
                })
                .collect();
            RiskRow {
                furnisher: furnisher.to_owned(),
                product,
                open_accounts: sums.open_accounts,
                rate_30_plus: share(u128::from(sums.open_30_plus), open),
                rate_90_plus: share(u128::from(sums.open_90_plus), open),
                roll,
                vintages,
            }
        })
        .collect();
    let furnishers = tally
        .furnishers
        .iter()
        .map(|(furnisher, sums)| FurnisherAccounts {
            furnisher: furnisher.clone(),
            accounts_in_snapshot: sums.accounts_in_snapshot,
            stale_accounts: sums.stale_accounts,
        })
        .collect();
    CreditRisk { rows, furnishers }
}
