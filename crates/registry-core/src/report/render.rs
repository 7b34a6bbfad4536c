//! The report as text for a terminal: the summary, then each account with its 24-month grid.

use std::fmt::Write;

use crate::model::{AmountMinor, Currency};
use crate::report::{AccountView, Report, Summary};

/// Renders `report` for reading in a terminal (80 columns).
pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    let subject = &report.subject;
    let _ = writeln!(out, "CREDIT REPORT  {}  as of {}", subject.registry_id, report.as_of);
    for id in &subject.identifiers {
        let _ = writeln!(out, "  Identifier   {} {}", id.id_type, id.id);
    }
    for name in &subject.names {
        let _ = writeln!(out, "  Name         {} {}  (reported by {})", name.family_name, name.given_name, name.reported_by.join(", "));
    }
    for birth in &subject.birth_dates {
        let _ = writeln!(out, "  Born         {}  (reported by {})", birth.birth_date, birth.reported_by.join(", "));
    }

    let _ = writeln!(out, "\nSUMMARY");
    render_summary(&mut out, &report.summary);

    if let Some(score) = &report.score {
        render_score(&mut out, score);
    }

    if !report.alerts.is_empty() {
        let _ = writeln!(out, "\nALERTS");
        for alert in &report.alerts {
            let place = match (&alert.furnisher, &alert.account) {
                (Some(f), Some(a)) => format!(" [{f} {a}]"),
                (Some(f), None) => format!(" [{f}]"),
                _ => String::new(),
            };
            let _ = writeln!(out, "  ! {}{place}", alert.message);
        }
    }

    let _ = writeln!(out, "\nACCOUNTS ({})", report.accounts.len());
    if report.accounts.is_empty() {
        let _ = writeln!(out, "  none on or before {}", report.as_of);
    }
    for account in &report.accounts {
        render_account(&mut out, account);
    }
    if !report.accounts.is_empty() {
        let _ = writeln!(
            out,
            "\n  Grid: 0 on time, 1-6 30 to 180 days late, G collection, H foreclosure,\n        J surrender, K repossession, L charged off, B/D/E no data or zero balance, . not reported"
        );
    }

    let _ = writeln!(out, "\nINQUIRIES (24 months): {}", report.inquiries.len());
    for inquiry in &report.inquiries {
        let _ = writeln!(out, "  {}  {}  {}", inquiry.date, inquiry.lender, inquiry.purpose);
    }
    out
}

/// The score section (its JSON shape is the application's `ReportScore`).
fn render_score(out: &mut String, score: &serde_json::Value) {
    let value = score["value"].as_i64().map_or_else(|| "—".to_owned(), |v| v.to_string());
    let _ = writeln!(out, "\nSCORE  {value}  (model {}; higher is safer)", score["model_id"].as_str().unwrap_or("?"));
    for reason in score["reasons"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "  {}  {}  (−{:.0} points)",
            reason["code"].as_str().unwrap_or(""),
            reason["reason"].as_str().unwrap_or(""),
            reason["points_lost"].as_f64().unwrap_or(0.0)
        );
    }
}

fn render_summary(out: &mut String, s: &Summary) {
    let _ = writeln!(out, "  Accounts             {} total, {} open at {} lender(s)", s.accounts_total, s.accounts_open, s.lenders_open);
    let _ = writeln!(out, "  Open balance         {}", per_currency(&s.balance_open));
    let _ = writeln!(out, "  Revolving limit      {}", per_currency(&s.revolving_limit));
    let utilization: Vec<String> = s
        .revolving_utilization
        .iter()
        .map(|(c, u)| match u {
            Some(u) => format!("{c} {:.2}%", u * 100.0),
            None => format!("{c} n/a"),
        })
        .collect();
    let _ = writeln!(out, "  Utilisation          {}", if utilization.is_empty() { "none".into() } else { utilization.join(", ") });
    let _ = writeln!(out, "  Past due             {}", per_currency(&s.past_due_total));
    let _ = writeln!(out, "  Late months (24m)    30-59: {}   60-89: {}   90+: {}", s.late_30_59_24m, s.late_60_89_24m, s.late_90_plus_24m);
    let _ = writeln!(out, "  Derogatory accounts  {}", s.derogatory_accounts);
    let _ = writeln!(out, "  Applications (6m)    {}", s.inquiries_6m);
}

fn per_currency(amounts: &std::collections::BTreeMap<Currency, u128>) -> String {
    if amounts.is_empty() {
        return "none".into();
    }
    amounts.iter().map(|(c, a)| money(*c, *a)).collect::<Vec<_>>().join(", ")
}

fn render_account(out: &mut String, a: &AccountView) {
    let _ = writeln!(
        out,
        "\n  {} {}  {} ({})  opened {}{}",
        a.furnisher,
        a.account,
        a.product,
        a.role,
        a.opened,
        a.closed.map(|c| format!(", closed {c}")).unwrap_or_default()
    );
    let mut line =
        format!("    {}  {}  balance {}  past due {}", a.as_of, a.status, amount(a.currency, a.balance), amount(a.currency, a.past_due));
    if let Some(limit) = a.credit_limit {
        let _ = write!(line, "  limit {}", amount(a.currency, limit));
    }
    if let Some(original) = a.original_amount {
        let _ = write!(line, "  original {}", amount(a.currency, original));
    }
    let _ = writeln!(out, "{line}");
    if !a.funding.is_empty() {
        let shares: Vec<String> = a.funding.iter().map(|f| format!("{} {:.2}%", f.institution, f64::from(f.share_bp) / 100.0)).collect();
        let _ = writeln!(out, "    funded by {}", shares.join(", "));
    }
    if a.dispute != crate::model::Dispute::None {
        let _ = writeln!(out, "    dispute: {}", a.dispute);
    }
    let (Some(first), Some(last)) = (a.payment_grid.first(), a.payment_grid.last()) else { return };
    let initials: String = a.payment_grid.iter().map(|m| month_initial(m.month.month())).collect::<Vec<_>>().join(" ");
    let ratings: String =
        a.payment_grid.iter().map(|m| m.rating.map_or('.', super::super::model::Rating::as_char).to_string()).collect::<Vec<_>>().join(" ");
    let _ = writeln!(out, "    {} to {}", first.month, last.month);
    let _ = writeln!(out, "    {initials}");
    let _ = writeln!(out, "    {ratings}");
}

fn month_initial(month: u32) -> String {
    ["J", "F", "M", "A", "M", "J", "J", "A", "S", "O", "N", "D"][(month as usize + 11) % 12].to_string()
}

fn amount(currency: Currency, value: AmountMinor) -> String {
    money(currency, u128::from(value.0))
}

/// `CNY 1,234.56`: minor units shown in major units with the currency's own decimals.
pub fn money(currency: Currency, minor: u128) -> String {
    let exponent = u32::from(currency.exponent().unwrap_or(0));
    let scale = 10u128.pow(exponent);
    let (major, fraction) = (minor / scale, minor % scale);
    let digits = major.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if exponent == 0 {
        format!("{currency} {grouped}")
    } else {
        format!("{currency} {grouped}.{fraction:0width$}", width = exponent as usize)
    }
}
