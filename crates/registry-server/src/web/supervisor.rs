//! The supervisor's page: the month's measures (`shared/spec/supervision.md`) as charts drawn
//! on the server as inline SVG, each with its table and a CSV download. Aggregates only: no
//! person is named here (the drill-down lists stay with the API, each an audited read).
//! Roles: supervisor, operator.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use registry_core::report::YearMonth;
use std::collections::BTreeMap;

use registry_core::supervision::{Bucket, Document};
use serde::Deserialize;

use super::i18n::{Lang, amount, integer, percent, t};
use super::session::Page;
use super::{Frame, NONE, PageError, PageErrorKind, layout, path_of};
use crate::AppState;
use crate::caller::roles;

pub fn routes() -> Router<AppState> {
    Router::new().route("/supervision", get(page)).route("/supervision/{table}", get(csv_table))
}

#[derive(Deserialize)]
struct MonthQuery {
    month: Option<String>,
}

/// The month asked for, or the last whole month.
fn month_of(state: &AppState, lang: Lang, query: &MonthQuery) -> Result<YearMonth, PageError> {
    match query.month.as_deref().filter(|m| !m.is_empty()) {
        Some(text) => {
            YearMonth::parse(text).ok_or_else(|| PageError::new(lang, PageErrorKind::BadForm(format!("month {text:?}: YYYY-MM"))))
        }
        None => Ok(YearMonth::of(state.registry.today()).plus(-1)),
    }
}

async fn supervise(state: &AppState, lang: Lang, month: YearMonth) -> Result<Document, PageError> {
    state.run(move |registry| registry.supervise(month, &[], &|_, _| {})).await.map_err(|e| PageError::api(lang, e))
}

async fn page(
    State(state): State<AppState>,
    caller: Page<roles::OperatorOrSupervisor>,
    uri: Uri,
    Query(query): Query<MonthQuery>,
) -> Result<Response, PageError> {
    let lang = caller.signed.lang;
    let month = month_of(&state, lang, &query)?;
    let document = supervise(&state, lang, month).await?;
    let path = path_of(&uri);
    let frame = Frame::of(&caller.signed, &path);
    let csv = |table: &str| format!("/supervision/{table}.csv?month={month}");
    let body = html! {
        h1 { (t(lang, "supervision-title")) " · " (month) }
        form.inline method="get" action="/supervision" {
            label for="month" { (t(lang, "supervision-month")) }
            input #month name="month" type="month" value=(month.to_string());
            input type="hidden" name="lang" value=(lang.tag());
            button type="submit" { (t(lang, "supervision-show")) }
        }
        @if let Some(market) = &document.market {
            section aria-labelledby="market-h" {
                h2 #market-h { (t(lang, "supervision-market")) }
                @for (i, product) in market.products.iter().enumerate() {
                    @let id = format!("market-{i}");
                    h3 #(id) { (t(lang, &format!("product-{}", product.product.as_str()))) " · " (product.currency) " · "
                        (t(lang, "supervision-hhi")) " " (product.hhi.map_or_else(|| NONE.to_owned(), |h| integer(lang, h.into()))) }
                    @let bars: Vec<(String, f64)> = product.shares.iter().map(|(f, s)| (f.clone(), *s)).collect();
                    (bar_chart(&id, &bars, |v| percent(lang, v)))
                    (table(lang, &[t(lang, "supervision-institution"), t(lang, "supervision-share")], bars.iter().map(|(f, s)| vec![f.clone(), percent(lang, *s)])))
                }
                p { a href=(csv("market")) download { (t(lang, "supervision-download")) } }
            }
        }
        @if let Some(co) = &document.co_lending {
            section aria-labelledby="co-h" {
                h2 #co-h { (t(lang, "supervision-co-lending")) }
                @let rows: Vec<(String, f64, String)> = co.furnishers.iter().filter_map(|f| {
                    let (currency, lent) = f.co_lent_balance.iter().next()?;
                    let own = f.own_balance.get(currency).copied().unwrap_or(0);
                    (*lent > 0).then(|| (f.furnisher.clone(), own as f64 / *lent as f64, amount(lang, *lent, *currency)))
                }).collect();
                (bar_chart("co-h", &rows.iter().map(|(f, s, _)| (f.clone(), *s)).collect::<Vec<_>>(), |v| percent(lang, v)))
                (table(lang, &[t(lang, "supervision-institution"), t(lang, "supervision-share"), t(lang, "account-balance")],
                    rows.iter().map(|(f, s, b)| vec![f.clone(), percent(lang, *s), b.clone()])))
                p { a href=(csv("co_lending")) download { (t(lang, "supervision-download")) } }
            }
        }
        @if let Some(borrowers) = &document.borrowers {
            section aria-labelledby="borrowers-h" {
                h2 #borrowers-h { (t(lang, "supervision-borrowers")) }
                @let total = borrowers.subjects.max(1) as f64;
                @let rows: Vec<(String, u64)> = borrowers.by_lenders_open.iter().map(|(bucket, n)| (label_of(bucket), *n)).collect();
                (bar_chart("borrowers-h", &rows.iter().map(|(b, n)| (b.clone(), *n as f64 / total)).collect::<Vec<_>>(), |v| percent(lang, v)))
                (table(lang, &[t(lang, "supervision-lenders"), t(lang, "supervision-people"), t(lang, "supervision-delinquency")],
                    rows.iter().map(|(b, n)| vec![b.clone(), integer(lang, (*n).into()),
                        borrowers.delinquent_share_by_lenders_open.iter().find(|(k, _)| label_of(k) == *b).map_or_else(|| NONE.to_owned(), |(_, s)| percent(lang, *s))])))
                p { a href=(csv("borrowers")) download { (t(lang, "supervision-download")) } }
            }
        }
        @if let Some(risk) = &document.credit_risk {
            section aria-labelledby="risk-h" {
                h2 #risk-h { (t(lang, "supervision-delinquency")) }
                @let rows: Vec<(String, f64)> = risk.rows.iter().filter_map(|r| Some((format!("{} · {}", r.furnisher, t(lang, &format!("product-{}", r.product.as_str()))), r.rate_30_plus?))).collect();
                (bar_chart("risk-h", &rows, |v| percent(lang, v)))
                (table(lang, &[t(lang, "supervision-institution"), "30+".to_owned(), "90+".to_owned()],
                    risk.rows.iter().map(|r| vec![format!("{} · {}", r.furnisher, t(lang, &format!("product-{}", r.product.as_str()))),
                        r.rate_30_plus.map_or_else(|| NONE.to_owned(), |v| percent(lang, v)), r.rate_90_plus.map_or_else(|| NONE.to_owned(), |v| percent(lang, v))])))
                @if let Some(largest) = risk.rows.iter().max_by_key(|r| r.open_accounts) {
                    h3 #vintage-h { (t(lang, "supervision-vintages")) " · " (largest.furnisher) " · " (t(lang, &format!("product-{}", largest.product.as_str()))) }
                    (vintage_chart("vintage-h", largest_vintages(&largest.vintages)))
                    (table(lang, &[t(lang, "supervision-month"), t(lang, "supervision-accounts"), t(lang, "supervision-ever-90")],
                        largest.vintages.iter().rev().map(|v| vec![v.opened.to_string(), integer(lang, v.accounts.into()),
                            v.ever_90_plus.last().map_or_else(|| NONE.to_owned(), |x| percent(lang, *x))])))
                    h3 #roll-h { (t(lang, "supervision-roll")) " · " (largest.furnisher) " · " (t(lang, &format!("product-{}", largest.product.as_str()))) }
                    (roll_table(lang, &largest.roll))
                }
                p { a href=(csv("credit_risk")) download { (t(lang, "supervision-download")) } }
            }
        }
    };
    Ok(layout(&frame, &t(lang, "supervision-title"), body).into_response())
}

/// Roll rates: of the accounts in each bucket last month (rows), the share in each bucket this
/// month (columns).
fn roll_table(lang: Lang, roll: &BTreeMap<Bucket, BTreeMap<Bucket, u64>>) -> Markup {
    let mut to: Vec<Bucket> = roll.values().flat_map(|row| row.keys().copied()).collect();
    to.sort();
    to.dedup();
    html! {
        table.data aria-labelledby="roll-h" {
            thead { tr { td {} @for b in &to { th scope="col" { (bucket_name(lang, *b)) } } } }
            tbody { @for (from, row) in roll {
                @let total = row.values().sum::<u64>().max(1) as f64;
                tr { th scope="row" { (bucket_name(lang, *from)) } @for b in &to {
                    td { (row.get(b).map_or_else(|| NONE.to_owned(), |n| percent(lang, *n as f64 / total))) }
                } }
            } }
        }
    }
}

/// A bucket in words where it is one (`30`, `60`, `90+` read the same in every language).
fn bucket_name(lang: Lang, bucket: Bucket) -> String {
    match bucket {
        Bucket::Current | Bucket::Derogatory | Bucket::Closed => t(lang, &format!("bucket-{}", bucket.as_str())),
        _ => bucket.as_str().to_owned(),
    }
}

/// A code list's value as its spelling (`2-4`, `current`).
fn label_of<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn table(lang: Lang, headers: &[String], rows: impl Iterator<Item = Vec<String>>) -> Markup {
    html! {
        details.table {
            summary { (t(lang, "supervision-table")) }
            table.data {
                thead { tr { @for h in headers { th scope="col" { (h) } } } }
                tbody { @for row in rows { tr { @for (i, cell) in row.iter().enumerate() {
                    @if i == 0 { th scope="row" { (cell) } } @else { td { (cell) } }
                } } } }
            }
        }
    }
}

/// Horizontal bars of shares (0 to 1), labelled; the chart is an image named by `labelled_by`
/// and its numbers are in the table beside it.
fn bar_chart(labelled_by: &str, bars: &[(String, f64)], format: impl Fn(f64) -> String) -> Markup {
    const WIDTH: f64 = 760.0;
    const LABEL: f64 = 300.0;
    const ROW: f64 = 26.0;
    let height = ROW * bars.len().max(1) as f64 + 8.0;
    let max = bars.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max).max(1e-9);
    html! {
        svg.chart viewBox=(format!("0 0 {WIDTH} {height}")) role="img" aria-labelledby=(labelled_by) xmlns="http://www.w3.org/2000/svg" {
            @for (i, (label, value)) in bars.iter().enumerate() {
                @let y = 4.0 + ROW * i as f64;
                @let w = ((WIDTH - LABEL - 70.0) * value / max).max(1.0);
                text x=(LABEL - 6.0) y=(y + ROW * 0.65) text-anchor="end" class="label" { (label) }
                rect x=(LABEL) y=(y + 3.0) width=(format!("{w:.1}")) height=(ROW - 8.0) class="bar" {}
                text x=(LABEL + w + 6.0) y=(y + ROW * 0.65) class="value" { (format(*value)) }
            }
        }
    }
}

/// The six vintages with the most accounts, oldest first, as (opening month, curve).
fn largest_vintages(vintages: &[registry_core::supervision::document::Vintage]) -> Vec<(String, Vec<f64>)> {
    let mut by_size: Vec<&registry_core::supervision::document::Vintage> = vintages.iter().collect();
    by_size.sort_by_key(|v| std::cmp::Reverse(v.accounts));
    by_size.truncate(6);
    by_size.sort_by_key(|v| v.opened);
    by_size.into_iter().map(|v| (v.opened.to_string(), v.ever_90_plus.clone())).collect()
}

/// Vintage curves: each vintage's share ever 90+ days late by months on book, with a legend
/// in text (each line's colour and a dash pattern, so colour is not the only signal).
fn vintage_chart(labelled_by: &str, vintages: Vec<(String, Vec<f64>)>) -> Markup {
    const WIDTH: f64 = 640.0;
    const HEIGHT: f64 = 220.0;
    const PAD: f64 = 40.0;
    let months = vintages.iter().map(|(_, v)| v.len()).max().unwrap_or(1).max(2);
    let top = vintages.iter().flat_map(|(_, v)| v.iter().copied()).fold(0.0_f64, f64::max).max(0.01);
    let x = |k: usize| PAD + (WIDTH - 2.0 * PAD) * k as f64 / (months - 1) as f64;
    let y = |v: f64| HEIGHT - PAD - (HEIGHT - 2.0 * PAD) * v / top;
    let points = |curve: &[f64]| curve.iter().enumerate().map(|(k, v)| format!("{:.1},{:.1}", x(k), y(*v))).collect::<Vec<_>>().join(" ");
    html! {
        svg.chart viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-labelledby=(labelled_by) xmlns="http://www.w3.org/2000/svg" {
            line x1=(PAD) y1=(HEIGHT - PAD) x2=(WIDTH - PAD) y2=(HEIGHT - PAD) class="axis" {}
            line x1=(PAD) y1=(PAD) x2=(PAD) y2=(HEIGHT - PAD) class="axis" {}
            text x="4" y=(PAD) class="label-left" { (format!("{:.1}%", top * 100.0)) }
            text x="4" y=(HEIGHT - PAD) class="label-left" { "0" }
            text x=(WIDTH - PAD - 10.0) y=(HEIGHT - PAD + 16.0) class="label-left" { (months - 1) }
            @for (i, (_, curve)) in vintages.iter().enumerate() {
                polyline points=(points(curve)) class=(format!("line line-{}", i % 6)) {}
            }
        }
        ul.chart-legend { @for (i, (label, _)) in vintages.iter().enumerate() {
            li { svg.swatch width="28" height="10" aria-hidden="true" { line x1="0" y1="5" x2="28" y2="5" class=(format!("line line-{}", i % 6)) {} } " " (label) }
        } }
    }
}

/// `/supervision/{table}.csv?month=`: one table of the month as CSV, for spreadsheets.
async fn csv_table(
    State(state): State<AppState>,
    caller: Page<roles::OperatorOrSupervisor>,
    Path(table): Path<String>,
    Query(query): Query<MonthQuery>,
) -> Result<Response, PageError> {
    let lang = caller.signed.lang;
    let month = month_of(&state, lang, &query)?;
    let name = table.strip_suffix(".csv").ok_or_else(|| PageError::new(lang, PageErrorKind::NotFound))?.to_owned();
    let document = supervise(&state, lang, month).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let write =
        |out: &mut csv::Writer<Vec<u8>>, row: &[String]| out.write_record(row).map_err(|_| PageError::new(lang, PageErrorKind::Internal));
    match name.as_str() {
        "market" => {
            write(&mut out, &["product".into(), "currency".into(), "furnisher".into(), "share".into(), "hhi".into()])?;
            for product in document.market.iter().flat_map(|m| &m.products) {
                for (furnisher, share) in &product.shares {
                    let hhi = product.hhi.map(|h| h.to_string()).unwrap_or_default();
                    write(
                        &mut out,
                        &[product.product.as_str().into(), product.currency.to_string(), furnisher.clone(), share.to_string(), hhi],
                    )?;
                }
            }
        }
        "co_lending" => {
            write(
                &mut out,
                &[
                    "furnisher".into(),
                    "currency".into(),
                    "co_lent_loans".into(),
                    "co_lent_balance".into(),
                    "own_balance".into(),
                    "loans_below_min_own_share".into(),
                ],
            )?;
            for f in document.co_lending.iter().flat_map(|c| &c.furnishers) {
                for (currency, lent) in &f.co_lent_balance {
                    let own = f.own_balance.get(currency).copied().unwrap_or(0);
                    write(
                        &mut out,
                        &[
                            f.furnisher.clone(),
                            currency.to_string(),
                            f.co_lent_loans.to_string(),
                            lent.to_string(),
                            own.to_string(),
                            f.loans_below_min_own_share.to_string(),
                        ],
                    )?;
                }
            }
        }
        "borrowers" => {
            write(&mut out, &["lenders_open".into(), "people".into(), "delinquent_share".into()])?;
            if let Some(b) = &document.borrowers {
                for (bucket, n) in &b.by_lenders_open {
                    let share = b.delinquent_share_by_lenders_open.get(bucket).map(ToString::to_string).unwrap_or_default();
                    write(&mut out, &[label_of(bucket), n.to_string(), share])?;
                }
            }
        }
        "credit_risk" => {
            write(&mut out, &["furnisher".into(), "product".into(), "open_accounts".into(), "rate_30_plus".into(), "rate_90_plus".into()])?;
            for r in document.credit_risk.iter().flat_map(|c| &c.rows) {
                let rate = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
                write(
                    &mut out,
                    &[
                        r.furnisher.clone(),
                        r.product.as_str().into(),
                        r.open_accounts.to_string(),
                        rate(r.rate_30_plus),
                        rate(r.rate_90_plus),
                    ],
                )?;
            }
        }
        _ => return Err(PageError::new(lang, PageErrorKind::NotFound)),
    }
    let bytes = out.into_inner().map_err(|_| PageError::new(lang, PageErrorKind::Internal))?;
    let disposition = format!("attachment; filename=\"{name}-{month}.csv\"");
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response())
}
