//! `supervise`: the supervisor's view of a month, as tables on a terminal, the spec's JSON
//! document, or CSV files for spreadsheets; `--list` the drill-down (people, each an audited
//! read).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::Path;

use anyhow::Context;
use registry_core::model::Currency;
use registry_core::report::money;
use registry_core::supervision::document::{Borrowers, CoLending, CreditRisk, Market};
use registry_core::supervision::tally::Amounts;
use registry_core::supervision::{Document, limits};
use registry_service::audit::{Access, AccessAction};
use registry_service::supervision::BorrowerListing;

use crate::cli::SuperviseArgs;
use crate::commands::{open_registry, print_json};
use crate::config::Config;
use crate::failure::CommandResult;
use crate::progress;

/// HHI above which a market is highly concentrated (US 2023 merger guidelines; docs/supervision.md).
const HHI_HIGHLY_CONCENTRATED: u64 = 1_800;

pub fn run(config: &Config, args: SuperviseArgs) -> CommandResult {
    let registry = open_registry(config)?;
    let bar = progress::count_bar(0, "scanning");
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    if let Some(list) = args.list {
        let access = Access::command_line(AccessAction::DrillDown, None);
        let listing = registry.supervision_list(&access, args.month, list, &progress)?;
        bar.finish_and_clear();
        return if args.json { print_json(&listing) } else { print_listing(&listing) };
    }
    let document = registry.supervise(args.month, &args.section, &progress)?;
    bar.finish_and_clear();
    if let Some(dir) = &args.csv {
        write_csv(dir, &document)?;
        eprintln!("wrote the tables as CSV files into {}", dir.display());
    }
    if args.json {
        return print_json(&document);
    }
    let style = Style { terminal: std::io::stdout().is_terminal() };
    print!(
        "{}",
        render(&document, registry.supervision_policy().min_own_share_bp, &registry.supervision_policy().microloan_cap_minor, style)
    );
    Ok(())
}

/// How a breach stands out: bold red on a terminal, a `!` everywhere (never colour alone).
#[derive(Clone, Copy)]
struct Style {
    terminal: bool,
}

impl Style {
    fn flag(self, text: &str) -> String {
        if self.terminal { format!("\x1b[1;31m{text} !\x1b[0m") } else { format!("{text} !") }
    }
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

fn amounts(amounts: &Amounts) -> String {
    if amounts.is_empty() {
        return "-".into();
    }
    amounts.iter().map(|(currency, minor)| money(*currency, *minor)).collect::<Vec<_>>().join(", ")
}

fn ratios(ratios: &BTreeMap<Currency, f64>) -> String {
    ratios.iter().map(|(currency, ratio)| format!("{currency} {}", percent(*ratio))).collect::<Vec<_>>().join(", ")
}

/// The document as tables: shares as percentages, amounts in major units with their currency,
/// breaches marked.
fn render(document: &Document, min_own_share_bp: u32, caps: &BTreeMap<Currency, u64>, style: Style) -> String {
    let month = document.month;
    let mut out = format!(
        "Supervision of {month}: every account as its latest record on or before {} shows it, if that record is from {} to {month}\n",
        month.last_day(),
        month.plus(-2)
    );
    if let Some(market) = &document.market {
        render_market(&mut out, market, style);
    }
    if let Some(co_lending) = &document.co_lending {
        render_co_lending(&mut out, co_lending, min_own_share_bp, style);
    }
    if let Some(borrowers) = &document.borrowers {
        render_borrowers(&mut out, borrowers, caps, style);
    }
    if let Some(risk) = &document.credit_risk {
        render_credit_risk(&mut out, risk);
    }
    out
}

fn render_market(out: &mut String, market: &Market, style: Style) {
    let _ = writeln!(out, "\nMarket: who lends what");
    let _ = writeln!(
        out,
        "  {:<16} {:<17} {:>8} {:>22} {:>20} {:>20} {:>20} {:>6} {:>20}",
        "furnisher", "product", "open", "open balance", "past due", "balance 30+", "balance 90+", "new", "new amount"
    );
    for row in &market.rows {
        let _ = writeln!(
            out,
            "  {:<16} {:<17} {:>8} {:>22} {:>20} {:>20} {:>20} {:>6} {:>20}",
            row.furnisher,
            row.product.as_str(),
            row.accounts_open,
            money(row.currency, row.balance_open),
            money(row.currency, row.past_due),
            money(row.currency, row.balance_30_plus),
            money(row.currency, row.balance_90_plus),
            row.originations,
            money(row.currency, row.originated_amount)
        );
    }
    let _ = writeln!(out, "\n  Concentration of the open balance (HHI above {HHI_HIGHLY_CONCENTRATED}: highly concentrated)");
    let _ = writeln!(out, "  {:<17} {:>22} {:>8} {:>9}  shares", "product", "open balance", "HHI", "top");
    for product in &market.products {
        let hhi = match product.hhi {
            Some(hhi) if hhi > HHI_HIGHLY_CONCENTRATED => style.flag(&hhi.to_string()),
            Some(hhi) => hhi.to_string(),
            None => "-".into(),
        };
        let shares: Vec<String> = product.shares.iter().map(|(furnisher, share)| format!("{furnisher} {}", percent(*share))).collect();
        let _ = writeln!(
            out,
            "  {:<17} {:>22} {:>8} {:>9}  {}",
            product.product.as_str(),
            money(product.currency, product.balance_open),
            hhi,
            product.top_share.map_or("-".into(), percent),
            shares.join(", ")
        );
    }
}

fn render_co_lending(out: &mut String, co_lending: &CoLending, min_own_share_bp: u32, style: Style) {
    let minimum = percent(f64::from(min_own_share_bp) / 10_000.0);
    let _ = writeln!(out, "\nCo-lending: who really funds the loans (each loan's furnisher must fund at least {minimum} of it)");
    if co_lending.furnishers.is_empty() {
        let _ = writeln!(out, "  no open co-lent loans");
    }
    for row in &co_lending.furnishers {
        let below = if row.loans_below_min_own_share > 0 {
            style.flag(&format!("{} loans below {minimum}, {}", row.loans_below_min_own_share, amounts(&row.balance_below_min_own_share)))
        } else {
            "none below the minimum".into()
        };
        let _ = writeln!(
            out,
            "  {}: {} loans, {}; funded itself {}, by partners {}; {below}",
            row.furnisher,
            row.co_lent_loans,
            amounts(&row.co_lent_balance),
            amounts(&row.own_balance),
            amounts(&row.partner_balance)
        );
        if let Some(ratio) = &row.own_balance_to_tier1 {
            let _ = writeln!(out, "    its own loans per unit of its tier-1 capital: {}", ratios(ratio));
        }
    }
    let _ = writeln!(
        out,
        "\n  Funding institutions (limits: one partner {} of tier-1 capital, all partners {} of total loans)",
        percent(limits::PARTNER_TO_TIER1),
        percent(limits::CO_LENT_TO_TOTAL_LOANS)
    );
    for row in &co_lending.institutions {
        let partners: Vec<String> = row.by_partner.iter().map(|(partner, sums)| format!("{partner} {}", amounts(sums))).collect();
        let _ = writeln!(
            out,
            "  {}: funds {}{}",
            row.institution,
            amounts(&row.funded_balance),
            if partners.is_empty() { String::new() } else { format!(" (of partners' loans: {})", partners.join("; ")) }
        );
        if let Some(ratio) = &row.max_partner_to_tier1 {
            let _ = writeln!(out, "    largest partner ÷ tier-1 capital: {}", ratios(ratio));
        }
        if let Some(ratio) = &row.co_lent_to_total_loans {
            let _ = writeln!(out, "    co-lent ÷ total loans: {}", ratios(ratio));
        }
        for breach in row.breaches.iter().flatten() {
            let partner = breach.partner.as_deref().map(|p| format!(" (with {p})")).unwrap_or_default();
            let text = format!(
                "BREACH {} {} {}{partner}, limit {}",
                breach.measure,
                breach.currency,
                percent(breach.value),
                percent(breach.limit)
            );
            let _ = writeln!(out, "    {}", style.flag(&text));
        }
    }
}

fn render_borrowers(out: &mut String, borrowers: &Borrowers, caps: &BTreeMap<Currency, u64>, style: Style) {
    let _ = writeln!(out, "\nBorrowers: who borrows from many");
    let _ = writeln!(out, "  people with an open account: {}", borrowers.subjects);
    let _ = writeln!(out, "  {:>8} {:>10} {:>14}", "lenders", "people", "delinquent");
    for (bucket, people) in &borrowers.by_lenders_open {
        let delinquent = borrowers.delinquent_share_by_lenders_open.get(bucket).copied().unwrap_or(0.0);
        let _ = writeln!(out, "  {:>8} {:>10} {:>14}", bucket.as_str(), people, percent(delinquent));
    }
    let stacking = borrowers.stacking_subjects.to_string();
    let _ = writeln!(
        out,
        "  opened accounts at 2 or more lenders in the last 30 days: {}",
        if borrowers.stacking_subjects > 0 { style.flag(&stacking) } else { stacking }
    );
    for (currency, over) in &borrowers.over_microloan_cap {
        let cap = caps.get(currency).map_or_else(String::new, |cap| format!(" ({})", money(*currency, u128::from(*cap))));
        let count = if *over > 0 { style.flag(&over.to_string()) } else { over.to_string() };
        let _ = writeln!(out, "  over the microloan cap{cap}: {count}");
    }
    if borrowers.stacking_subjects > 0 || borrowers.over_microloan_cap.values().any(|n| *n > 0) {
        let _ = writeln!(out, "  (who they are: --list stacking, --list over_microloan_cap; each person listed is logged)");
    }
}

fn render_credit_risk(out: &mut String, risk: &CreditRisk) {
    let _ = writeln!(out, "\nCredit risk: where it goes wrong");
    let _ = writeln!(
        out,
        "  {:<16} {:<17} {:>8} {:>8} {:>8}  roll from last month (then > now: accounts)",
        "furnisher", "product", "open", "30+", "90+"
    );
    for row in &risk.rows {
        let roll: Vec<String> = row
            .roll
            .iter()
            .flat_map(|(from, to)| to.iter().filter(move |(now, _)| *now != from).map(move |(now, n)| format!("{from}>{now}: {n}")))
            .collect();
        let _ = writeln!(
            out,
            "  {:<16} {:<17} {:>8} {:>8} {:>8}  {}",
            row.furnisher,
            row.product.as_str(),
            row.open_accounts,
            row.rate_30_plus.map_or("-".into(), percent),
            row.rate_90_plus.map_or("-".into(), percent),
            if roll.is_empty() { "no changes".into() } else { roll.join(", ") }
        );
    }
    let _ = writeln!(out, "\n  Vintages: ever 90+ or derogatory, by months on book (latest shown last)");
    for row in &risk.rows {
        for vintage in &row.vintages {
            let at = |k: usize| vintage.ever_90_plus.get(k).map_or("-".into(), |s| percent(*s));
            let _ = writeln!(
                out,
                "  {:<16} {:<17} {} {:>6} accounts  3 months {:>6}  6 months {:>6}  12 months {:>6}  now {:>6}",
                row.furnisher,
                row.product.as_str(),
                vintage.opened,
                vintage.accounts,
                at(3),
                at(6),
                at(12),
                vintage.ever_90_plus.last().map_or("-".into(), |s| percent(*s))
            );
        }
    }
    let _ = writeln!(out, "\n  {:<16} {:>12} {:>8}", "furnisher", "in snapshot", "stale");
    for row in &risk.furnishers {
        let _ = writeln!(out, "  {:<16} {:>12} {:>8}", row.furnisher, row.accounts_in_snapshot, row.stale_accounts);
    }
}

fn print_listing(listing: &BorrowerListing) -> CommandResult {
    println!("{} people on the {} list of {} (each read is in the access log)", listing.subjects.len(), listing.list, listing.month);
    for person in &listing.subjects {
        let owed: Vec<String> = person.microloan_balance.iter().map(|(currency, minor)| money(*currency, *minor)).collect();
        println!(
            "  {}  {} open lenders{}  microloans {}  opened in the last 30 days at: {}",
            person.registry_id,
            person.lenders_open,
            if person.delinquent { ", delinquent" } else { "" },
            if owed.is_empty() { "-".into() } else { owed.join(", ") },
            if person.recently_opened_at.is_empty() { "-".into() } else { person.recently_opened_at.join(", ") }
        );
    }
    Ok(())
}

/// One CSV file per table, in long form where the document nests (shares, roll, vintages), so
/// a spreadsheet can pivot them. Amounts in minor units, as in the JSON.
fn write_csv(dir: &Path, document: &Document) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let file = |name: &str| -> anyhow::Result<csv::Writer<std::fs::File>> {
        let path = dir.join(name);
        csv::Writer::from_path(&path).with_context(|| format!("writing {}", path.display()))
    };
    if let Some(market) = &document.market {
        let mut rows = file("market.csv")?;
        rows.write_record([
            "furnisher",
            "product",
            "currency",
            "accounts_open",
            "balance_open",
            "past_due",
            "originations",
            "originated_amount",
            "balance_30_plus",
            "balance_90_plus",
        ])?;
        for r in &market.rows {
            rows.serialize((
                &r.furnisher,
                r.product.as_str(),
                r.currency.code(),
                r.accounts_open,
                r.balance_open,
                r.past_due,
                r.originations,
                r.originated_amount,
                r.balance_30_plus,
                r.balance_90_plus,
            ))?;
        }
        rows.flush()?;
        let mut shares = file("market_shares.csv")?;
        shares.write_record(["product", "currency", "balance_open", "hhi", "top_share", "furnisher", "share"])?;
        for p in &market.products {
            for (furnisher, share) in &p.shares {
                shares.serialize((p.product.as_str(), p.currency.code(), p.balance_open, p.hhi, p.top_share, furnisher, share))?;
            }
            if p.shares.is_empty() {
                shares.serialize((p.product.as_str(), p.currency.code(), p.balance_open, p.hhi, p.top_share, "", ""))?;
            }
        }
        shares.flush()?;
    }
    if let Some(co) = &document.co_lending {
        let mut rows = file("co_lending_furnishers.csv")?;
        rows.write_record([
            "furnisher",
            "currency",
            "co_lent_loans",
            "co_lent_balance",
            "own_balance",
            "partner_balance",
            "loans_below_min_own_share",
            "balance_below_min_own_share",
            "own_balance_to_tier1",
        ])?;
        for r in &co.furnishers {
            for currency in r.co_lent_balance.keys() {
                let get = |amounts: &Amounts| amounts.get(currency).copied().unwrap_or(0);
                let ratio = r.own_balance_to_tier1.as_ref().and_then(|ratios| ratios.get(currency).copied());
                rows.serialize((
                    &r.furnisher,
                    currency.code(),
                    r.co_lent_loans,
                    get(&r.co_lent_balance),
                    get(&r.own_balance),
                    get(&r.partner_balance),
                    r.loans_below_min_own_share,
                    get(&r.balance_below_min_own_share),
                    ratio,
                ))?;
            }
        }
        rows.flush()?;
        let mut rows = file("co_lending_institutions.csv")?;
        rows.write_record(["institution", "currency", "partner", "funded_balance"])?;
        for r in &co.institutions {
            for (currency, amount) in &r.funded_balance {
                rows.serialize((&r.institution, currency.code(), "(all)", amount))?;
            }
            for (partner, sums) in &r.by_partner {
                for (currency, amount) in sums {
                    rows.serialize((&r.institution, currency.code(), partner, amount))?;
                }
            }
        }
        rows.flush()?;
        let mut rows = file("co_lending_breaches.csv")?;
        rows.write_record(["institution", "measure", "currency", "value", "limit", "partner"])?;
        for r in &co.institutions {
            for b in r.breaches.iter().flatten() {
                rows.serialize((&r.institution, b.measure, b.currency.code(), b.value, b.limit, &b.partner))?;
            }
        }
        rows.flush()?;
    }
    if let Some(b) = &document.borrowers {
        let mut rows = file("borrowers.csv")?;
        rows.write_record(["lenders_open", "subjects", "delinquent_share"])?;
        for (bucket, people) in &b.by_lenders_open {
            rows.serialize((bucket.as_str(), people, b.delinquent_share_by_lenders_open.get(bucket)))?;
        }
        rows.flush()?;
        let mut rows = file("borrowers_totals.csv")?;
        rows.write_record(["measure", "currency", "subjects"])?;
        rows.serialize(("subjects", "", b.subjects))?;
        rows.serialize(("stacking_subjects", "", b.stacking_subjects))?;
        for (currency, n) in &b.over_microloan_cap {
            rows.serialize(("over_microloan_cap", currency.code(), n))?;
        }
        rows.flush()?;
    }
    if let Some(risk) = &document.credit_risk {
        let mut rows = file("credit_risk.csv")?;
        rows.write_record(["furnisher", "product", "open_accounts", "rate_30_plus", "rate_90_plus"])?;
        let mut roll = file("credit_risk_roll.csv")?;
        roll.write_record(["furnisher", "product", "from", "to", "accounts"])?;
        let mut vintages = file("credit_risk_vintages.csv")?;
        vintages.write_record(["furnisher", "product", "opened", "accounts", "months_on_book", "ever_90_plus"])?;
        for r in &risk.rows {
            rows.serialize((&r.furnisher, r.product.as_str(), r.open_accounts, r.rate_30_plus, r.rate_90_plus))?;
            for (from, to) in &r.roll {
                for (now, n) in to {
                    roll.serialize((&r.furnisher, r.product.as_str(), from.as_str(), now.as_str(), n))?;
                }
            }
            for v in &r.vintages {
                for (k, share) in v.ever_90_plus.iter().enumerate() {
                    vintages.serialize((&r.furnisher, r.product.as_str(), v.opened.to_string(), v.accounts, k, share))?;
                }
            }
        }
        rows.flush()?;
        roll.flush()?;
        vintages.flush()?;
        let mut rows = file("credit_risk_furnishers.csv")?;
        rows.write_record(["furnisher", "accounts_in_snapshot", "stale_accounts"])?;
        for r in &risk.furnishers {
            rows.serialize((&r.furnisher, r.accounts_in_snapshot, r.stale_accounts))?;
        }
        rows.flush()?;
    }
    Ok(())
}
