//! The consumer's pages: their report (printable), who read their file (each read checked
//! against the signed log), consents, disputes, freeze and fraud alert. Role: consumer.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use registry_core::governance::FlagKind;
use registry_core::model::{Date, Rating};
use registry_core::report::{Audience, Report};
use registry_service::audit::{Access, AccessAction, check_inclusion};
use serde::Deserialize;

use super::i18n::{Lang, amount, date, integer, month, percent, t, t_with};
use super::session::{Checked, MyPage, see_other};
use super::{Frame, NONE, PageError, PageErrorKind, layout, path_of, with_lang};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me", get(report))
        .route("/me/accesses", get(accesses))
        .route("/me/consents", get(consents).post(grant_consent))
        .route("/me/consents/revoke", axum::routing::post(revoke_consent))
        .route("/me/disputes", get(disputes).post(open_dispute))
        .route("/me/protection", get(protection).post(change_protection))
}

async fn report(State(state): State<AppState>, me: MyPage, uri: Uri) -> Result<Response, PageError> {
    let lang = me.signed.lang;
    let subject = me.subject;
    let access = Access { actor: me.signed.principal.actor(), action: AccessAction::SelfView, purpose: None, consent_id: None };
    let audience = if state.registry.profile().consumer.sees_full_report { Audience::Subject } else { Audience::Masked };
    let report =
        state.run(move |registry| registry.read_report(&access, subject, None, audience)).await.map_err(|e| PageError::api(lang, e))?;
    let path = path_of(&uri);
    let frame = Frame::of(&me.signed, &path);
    let body = if let Some(report) = &report {
        html! {
            div.title-row {
                h1 { (t(lang, "report-title")) }
                button.print type="button" data-print hidden { (t(lang, "report-print")) }
            }
            (report_view(lang, report, true))
        }
    } else {
        html! { h1 { (t(lang, "report-title")) } p { (t(lang, "no-report")) } }
    };
    Ok(layout(&frame, &t(lang, "report-title"), body).into_response())
}

/// A report as a page shows it, to its subject or to a lender: summary, alerts, score and
/// reasons, each account with its 24-month grid.
pub fn report_view(lang: Lang, report: &Report, own: bool) -> Markup {
    let summary = &report.summary;
    let money = |values: &std::collections::BTreeMap<registry_core::model::Currency, u128>| -> String {
        if values.is_empty() {
            return amount(lang, 0, registry_core::model::Currency::from_code("CNY").expect("CNY"));
        }
        values.iter().map(|(currency, minor)| amount(lang, *minor, *currency)).collect::<Vec<_>>().join(" + ")
    };
    let score = report.score.as_ref();
    html! {
        p.as-of { (t_with(lang, "report-as-of", &[("date", date(lang, report.as_of).into())])) }
        dl.identity {
            dt { (t(lang, "report-registry-id")) } dd { (report.subject.registry_id) }
            @if own {
                dt { (t(lang, "report-names")) }
                dd { @for name in &report.subject.names {
                    span.name { (name.family_name) " " (name.given_name) } " "
                    span.by { "(" (t_with(lang, "report-reported-by", &[("furnishers", name.reported_by.join(", ").into())])) ")" } br;
                } }
            }
        }
        @if !report.alerts.is_empty() {
            section.alerts aria-labelledby="alerts-h" {
                h2 #alerts-h { (t(lang, "alerts-title")) }
                ul { @for alert in &report.alerts {
                    li { (t(lang, &format!("alert-{}", serde_json::to_value(alert.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())))
                        @if let (Some(f), Some(a)) = (&alert.furnisher, &alert.account) { " (" (f) ", " (a) ")" } }
                } }
            }
        }
        section.summary aria-labelledby="summary-h" {
            h2 #summary-h { (t(lang, "summary-title")) }
            dl.figures {
                div { dt { (t(lang, "summary-accounts-open")) } dd { (integer(lang, summary.accounts_open.into())) " / " (integer(lang, summary.accounts_total.into())) } }
                div { dt { (t(lang, "summary-lenders-open")) } dd { (integer(lang, summary.lenders_open.into())) } }
                div { dt { (t(lang, "summary-balance-open")) } dd { (money(&summary.balance_open)) } }
                div { dt { (t(lang, "summary-past-due")) } dd { (money(&summary.past_due_total)) } }
                div { dt { (t(lang, "summary-late")) } dd { (summary.late_30_59_24m) " · " (summary.late_60_89_24m) " · " (summary.late_90_plus_24m) } }
                div { dt { (t(lang, "summary-derogatory")) } dd { (summary.derogatory_accounts) } }
                div { dt { (t(lang, "summary-inquiries")) } dd { (summary.inquiries_6m) } }
            }
        }
        section.score aria-labelledby="score-h" {
            h2 #score-h { (t(lang, "score-title")) }
            @match score.and_then(|s| s.get("value")).and_then(serde_json::Value::as_i64) {
                Some(value) => {
                    p.points { (t_with(lang, "score-value", &[("score", value.into())])) }
                    @let reasons: Vec<&str> = score.and_then(|s| s.get("reasons")).and_then(|r| r.as_array()).map(|r| r.iter().filter_map(|x| x.get("code").and_then(|c| c.as_str())).collect()).unwrap_or_default();
                    @if !reasons.is_empty() {
                        h3 { (t(lang, "score-reasons")) }
                        ol.reasons { @for code in reasons { li { (t(lang, &format!("reason-{code}"))) } } }
                    }
                }
                None => p { (t(lang, "score-none")) },
            }
        }
        section.accounts aria-labelledby="accounts-h" {
            h2 #accounts-h { (t(lang, "accounts-title")) }
            @if report.accounts.is_empty() { p { (t(lang, "no-accounts")) } }
            @for account in &report.accounts {
                article.account {
                    h3 { (t_with(lang, "account-heading", &[("product", t(lang, &format!("product-{}", account.product.as_str())).into()), ("furnisher", account.furnisher.as_str().into())])) }
                    dl.facts {
                        div { dt { (t(lang, "account-number")) } dd { (account.account) } }
                        div { dt { (t(lang, "account-status")) } dd.status data-open=(account.open) { (t(lang, &format!("status-{}", account.status.as_str()))) } }
                        div { dt { (t(lang, "account-role")) } dd { (t(lang, &format!("account-role-{}", account.role.as_str()))) } }
                        div { dt { (t(lang, "account-opened")) } dd { (date(lang, account.opened)) } }
                        @if let Some(closed) = account.closed { div { dt { (t(lang, "account-closed")) } dd { (date(lang, closed)) } } }
                        div { dt { (t(lang, "account-balance")) } dd { (amount(lang, account.balance.0.into(), account.currency)) } }
                        @if let Some(limit) = account.credit_limit { div { dt { (t(lang, "account-limit")) } dd { (amount(lang, limit.0.into(), account.currency)) } } }
                        @if let Some(original) = account.original_amount { div { dt { (t(lang, "account-original")) } dd { (amount(lang, original.0.into(), account.currency)) } } }
                        @if account.past_due.0 > 0 { div { dt { (t(lang, "account-past-due")) } dd.bad { (amount(lang, account.past_due.0.into(), account.currency)) } } }
                        div { dt { (t(lang, "account-last-reported")) } dd { (date(lang, account.as_of)) } }
                        @if !account.funding.is_empty() {
                            div { dt { (t(lang, "account-funded-by")) } dd { @for (k, share) in account.funding.iter().enumerate() {
                                @if k > 0 { ", " } (share.institution) " " (percent(lang, f64::from(share.share_bp) / 10_000.0))
                            } } }
                        }
                        @if account.dispute == registry_core::model::Dispute::Disputed { div { dt { (t(lang, "account-disputed")) } dd { "✓" } } }
                    }
                    (grid(lang, &account.payment_grid))
                }
            }
            @if !report.accounts.is_empty() { (legend(lang)) }
        }
    }
}

/// The rating's legend key and colour class.
fn rating_key(rating: Option<Rating>) -> (&'static str, &'static str, &'static str) {
    use Rating::*;
    match rating {
        Some(Current) => ("rating-ok", "ok", "✓"),
        Some(Late30) => ("rating-late30", "late1", "30"),
        Some(Late60) => ("rating-late60", "late2", "60"),
        Some(Late90) => ("rating-late90", "late3", "90"),
        Some(Late120) => ("rating-late120", "late3", "120"),
        Some(Late150) => ("rating-late150", "late3", "150"),
        Some(Late180) => ("rating-late180", "late3", "180"),
        Some(NoHistoryBefore | NoHistory) => ("rating-no-history", "none", "–"),
        Some(ZeroBalance) => ("rating-zero-balance", "zero", "0"),
        Some(Collection) => ("rating-collection", "bad", "C"),
        Some(Foreclosure) => ("rating-foreclosure", "bad", "F"),
        Some(VoluntarySurrender) => ("rating-surrender", "bad", "S"),
        Some(Repossession) => ("rating-repossession", "bad", "R"),
        Some(ChargedOff) => ("rating-charged-off", "bad", "X"),
        None => ("rating-none", "empty", ""),
    }
}

/// The 24-month grid: coloured cells that also carry a symbol (colour is never the only
/// signal) and, for screen readers, each month and its rating in words.
fn grid(lang: Lang, months: &[registry_core::report::GridMonth]) -> Markup {
    html! {
        table.grid {
            caption { (t(lang, "grid-caption")) }
            thead { tr { @for m in months { th scope="col" abbr=(month(lang, m.month.year(), m.month.month())) {
                span aria-hidden="true" { (m.month.month()) }
                span.visually-hidden { (month(lang, m.month.year(), m.month.month())) }
            } } } }
            tbody { tr { @for m in months {
                @let (key, class, symbol) = rating_key(m.rating);
                td class=(format!("r-{class}")) title=(t(lang, key)) {
                    span aria-hidden="true" { (symbol) }
                    span.visually-hidden { (t(lang, key)) }
                }
            } } }
        }
    }
}

fn legend(lang: Lang) -> Markup {
    use Rating::*;
    let shown = [Some(Current), Some(Late30), Some(Late60), Some(Late90), Some(NoHistory), Some(ZeroBalance), Some(ChargedOff), None];
    html! {
        section.legend aria-labelledby="legend-h" {
            h3 #legend-h { (t(lang, "grid-legend")) }
            ul { @for rating in shown {
                @let (key, class, symbol) = rating_key(rating);
                li { span class=(format!("cell r-{class}")) aria-hidden="true" { (symbol) } " " (t(lang, key)) }
            } }
        }
    }
}

async fn accesses(State(state): State<AppState>, me: MyPage, uri: Uri) -> Result<Response, PageError> {
    let lang = me.signed.lang;
    let subject = me.subject;
    // Each entry's inclusion proof against the latest signed head, checked here as a consumer's
    // own software would (the same check `/v1/me/accesses/{seq}/proof` lets them make).
    let rows = state
        .run(move |registry| {
            let entries = registry.subject_accesses(subject)?;
            let mut rows = Vec::with_capacity(entries.len());
            for entry in entries {
                let verified = registry.inclusion_proof(entry.seq, None).is_ok_and(|proof| check_inclusion(&proof).is_ok());
                rows.push((entry, verified));
            }
            Ok::<_, registry_service::ServiceError>(rows)
        })
        .await
        .map_err(|e| PageError::api(lang, e))?;
    let path = path_of(&uri);
    let frame = Frame::of(&me.signed, &path);
    let body = html! {
        h1 { (t(lang, "accesses-title")) }
        p { (t(lang, "accesses-intro")) }
        @if rows.is_empty() { p { (t(lang, "accesses-none")) } } @else {
            table.data {
                thead { tr {
                    th scope="col" { (t(lang, "accesses-when")) }
                    th scope="col" { (t(lang, "accesses-who")) }
                    th scope="col" { (t(lang, "accesses-what")) }
                    th scope="col" { (t(lang, "accesses-purpose")) }
                    th scope="col" { (t(lang, "accesses-consent")) }
                    th scope="col" { (t(lang, "accesses-proof")) }
                } }
                tbody { @for (entry, verified) in rows.iter().rev() {
                    tr {
                        td { (entry.at.get(..16).unwrap_or(&entry.at).replace('T', " ")) }
                        td { (entry.actor.name) " (" (t(lang, &format!("role-{}", entry.actor.role))) ")" }
                        td { (t(lang, &format!("action-{}", serde_json::to_value(entry.action).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()))) }
                        td { (entry.purpose.as_deref().map_or_else(|| NONE.to_owned(), |p| purpose_name(lang, p))) }
                        td { (entry.consent_id.as_deref().unwrap_or(NONE)) }
                        td { @if *verified { span.ok { "✓ " (t(lang, "proof-verified")) } } @else { span.bad { "✗ " (t(lang, "proof-failed")) } } }
                    }
                } }
            }
        }
    };
    Ok(layout(&frame, &t(lang, "accesses-title"), body).into_response())
}

/// A purpose's name in `lang`; a purpose the catalogue does not know, as written.
fn purpose_name(lang: Lang, purpose: &str) -> String {
    let id = format!("purpose-{purpose}");
    let name = t(lang, &id);
    if name == id { purpose.to_owned() } else { name }
}

/// `?done=…&id=…&date=…` after a form: what the redirect reports.
#[derive(Deserialize, Default)]
struct Notice {
    done: Option<String>,
    id: Option<String>,
    date: Option<String>,
}

async fn consents(State(state): State<AppState>, me: MyPage, uri: Uri, Query(notice): Query<Notice>) -> Result<Response, PageError> {
    let lang = me.signed.lang;
    let subject = me.subject;
    let list = state.run(move |registry| registry.consents(subject)).await.map_err(|e| PageError::api(lang, e))?;
    let purposes: Vec<String> = state.registry.profile().purposes.iter().map(|p| p.id.clone()).collect();
    let path = path_of(&uri);
    let frame = Frame::of(&me.signed, &path);
    let csrf = &me.signed.csrf;
    let body = html! {
        h1 { (t(lang, "consents-title")) }
        p { (t(lang, "consents-intro")) }
        @if let Some(id) = (notice.done.as_deref() == Some("granted")).then_some(()).and(notice.id.as_ref()) {
            p.notice role="status" { (t_with(lang, "consent-granted", &[("id", id.as_str().into())])) }
        }
        @if notice.done.as_deref() == Some("revoked") { p.notice role="status" { (t(lang, "consent-revoked")) } }
        @if list.is_empty() { p { (t(lang, "consents-none")) } } @else {
            table.data {
                thead { tr {
                    th scope="col" { (t(lang, "consent-lender")) }
                    th scope="col" { (t(lang, "consent-purpose")) }
                    th scope="col" { (t(lang, "consent-expires")) }
                    th scope="col" { (t(lang, "consent-id")) }
                    th scope="col" { (t(lang, "consent-status")) }
                    td {}
                } }
                tbody { @for c in &list { tr {
                    td { (c.lender) }
                    td { (purpose_name(lang, &c.purpose)) }
                    td { (date(lang, c.expires)) }
                    td { code { (c.consent_id) } }
                    td { (t(lang, &format!("consent-state-{}", c.status.as_str()))) }
                    td { @if c.status == registry_core::governance::ConsentStatus::Active {
                        form method="post" action="/me/consents/revoke" {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="consent_id" value=(c.consent_id);
                            button type="submit" aria-label={ (t(lang, "consent-revoke")) ": " (c.lender) } { (t(lang, "consent-revoke")) }
                        }
                    } }
                } } }
            }
        }
        h2 #grant-h { (t(lang, "consents-grant")) }
        form.stack method="post" action="/me/consents" aria-labelledby="grant-h" {
            input type="hidden" name="csrf" value=(csrf);
            div.field { label for="lender" { (t(lang, "consent-lender")) } input #lender name="lender" required autocomplete="off"; }
            div.field { label for="purpose" { (t(lang, "consent-purpose")) }
                select #purpose name="purpose" { @for p in &purposes { option value=(p) { (purpose_name(lang, p)) } } } }
            div.field { label for="expires" { (t(lang, "consent-expires")) } input #expires name="expires" type="date" required; }
            button type="submit" { (t(lang, "consents-grant")) }
        }
    };
    Ok(layout(&frame, &t(lang, "consents-title"), body).into_response())
}

#[derive(Deserialize)]
struct ConsentForm {
    lender: String,
    purpose: String,
    expires: String,
}

async fn grant_consent(State(state): State<AppState>, me: MyPage, Checked(form): Checked<ConsentForm>) -> Result<Response, PageError> {
    let lang = me.signed.lang;
    let subject = me.subject;
    let expires = parse_date(lang, &form.expires)?;
    let consent = state
        .run(move |registry| registry.grant_consent(subject, form.lender.trim(), &form.purpose, expires))
        .await
        .map_err(|e| PageError::api(lang, e))?;
    Ok(see_other(&format!("{}&done=granted&id={}", with_lang("/me/consents", lang), consent.consent_id)))
}

#[derive(Deserialize)]
struct RevokeForm {
    consent_id: String,
}

async fn revoke_consent(State(state): State<AppState>, me: MyPage, Checked(form): Checked<RevokeForm>) -> Result<Response, PageError> {
    let lang = me.signed.lang;
    let subject = me.subject;
    state.run(move |registry| registry.revoke_consent(subject, &form.consent_id)).await.map_err(|e| PageError::api(lang, e))?;
    Ok(see_other(&format!("{}&done=revoked", with_lang("/me/consents", lang))))
}

fn parse_date(lang: Lang, text: &str) -> Result<Date, PageError> {
    Date::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| PageError::new(lang, PageErrorKind::BadForm(format!("{text:?}: YYYY-MM-DD"))))
}

async fn disputes(State(state): State<AppState>, me: MyPage, uri: Uri, Query(notice): Query<Notice>) -> Result<Response, PageError> {
    let lang = me.signed.lang;
    let subject = me.subject;
    let access = Access { actor: me.signed.principal.actor(), action: AccessAction::SelfView, purpose: None, consent_id: None };
    let (list, accounts) = state
        .run(move |registry| {
            let list = registry.subject_disputes(subject)?;
            // The accounts to dispute: the consumer's own report, a logged self-view.
            let accounts: Vec<(String, String)> = registry
                .read_report(&access, subject, None, Audience::Subject)?
                .map(|r| r.accounts.into_iter().map(|a| (a.furnisher, a.account)).collect())
                .unwrap_or_default();
            Ok::<_, registry_service::ServiceError>((list, accounts))
        })
        .await
        .map_err(|e| PageError::api(lang, e))?;
    let path = path_of(&uri);
    let frame = Frame::of(&me.signed, &path);
    let csrf = &me.signed.csrf;
    let body = html! {
        h1 { (t(lang, "disputes-title")) }
        p { (t(lang, "disputes-intro")) }
        @if let Some(d) = (notice.done.as_deref() == Some("dispute")).then_some(()).and(notice.date.as_ref()) {
            p.notice role="status" { (t_with(lang, "dispute-sent", &[("date", Date::parse_from_str(d, "%Y-%m-%d").map_or_else(|_| d.clone(), |x| date(lang, x)).into())])) }
        }
        @if list.is_empty() { p { (t(lang, "disputes-none")) } } @else {
            table.data {
                thead { tr {
                    th scope="col" { (t(lang, "dispute-account")) }
                    th scope="col" { (t(lang, "dispute-reason")) }
                    th scope="col" { (t(lang, "dispute-opened-on")) }
                    th scope="col" { (t(lang, "dispute-deadline")) }
                    th scope="col" { (t(lang, "dispute-status")) }
                } }
                tbody { @for d in &list { tr {
                    td { (d.furnisher) " · " (d.account) @if let Some(f) = &d.field { " · " (f) } }
                    td { (d.reason) }
                    td { (date(lang, d.opened_on)) }
                    td { (date(lang, d.deadline)) }
                    td { (t(lang, &format!("dispute-state-{}", d.status.as_str()))) }
                } } }
            }
        }
        @if !accounts.is_empty() {
            h2 #dispute-h { (t(lang, "dispute-open")) }
            form.stack method="post" action="/me/disputes" aria-labelledby="dispute-h" {
                input type="hidden" name="csrf" value=(csrf);
                div.field { label for="account" { (t(lang, "dispute-account")) }
                    select #account name="account" { @for (furnisher, account) in &accounts {
                        option value={ (furnisher) "|" (account) } { (furnisher) " · " (account) }
                    } } }
                div.field { label for="field" { (t(lang, "dispute-field")) } input #field name="field" autocomplete="off"; }
                div.field { label for="reason" { (t(lang, "dispute-reason")) } textarea #reason name="reason" required rows="3" {} }
                button type="submit" { (t(lang, "dispute-submit")) }
            }
        }
    };
    Ok(layout(&frame, &t(lang, "disputes-title"), body).into_response())
}

#[derive(Deserialize)]
struct DisputeForm {
    account: String,
    field: Option<String>,
    reason: String,
}

async fn open_dispute(State(state): State<AppState>, me: MyPage, Checked(form): Checked<DisputeForm>) -> Result<Response, PageError> {
    let lang = me.signed.lang;
    let subject = me.subject;
    let (furnisher, account) = form
        .account
        .split_once('|')
        .map(|(f, a)| (f.to_owned(), a.to_owned()))
        .ok_or_else(|| PageError::new(lang, PageErrorKind::BadForm("account".into())))?;
    let field = form.field.filter(|f| !f.trim().is_empty());
    let dispute = state
        .run(move |registry| registry.open_dispute(subject, &furnisher, &account, field.as_deref().map(str::trim), &form.reason))
        .await
        .map_err(|e| PageError::api(lang, e))?;
    Ok(see_other(&format!("{}&done=dispute&date={}", with_lang("/me/disputes", lang), dispute.deadline)))
}

async fn protection(State(state): State<AppState>, me: MyPage, uri: Uri, Query(notice): Query<Notice>) -> Result<Response, PageError> {
    let lang = me.signed.lang;
    let subject = me.subject;
    let flags = state.run(move |registry| registry.flags(subject)).await.map_err(|e| PageError::api(lang, e))?;
    let today = state.registry.today();
    let in_force = |kind: FlagKind| flags.iter().any(|f| f.kind == kind && f.in_force_on(today));
    let path = path_of(&uri);
    let frame = Frame::of(&me.signed, &path);
    let csrf = &me.signed.csrf;
    let body = html! {
        h1 { (t(lang, "protection-title")) }
        p { (t(lang, "protection-intro")) }
        @if notice.done.as_deref() == Some("flag") { p.notice role="status" { (t(lang, "flag-placed")) } }
        div.actions {
            @for (kind, place, lift) in [(FlagKind::Freeze, "freeze-place", "freeze-lift"), (FlagKind::FraudAlert, "fraud-alert-place", "fraud-alert-lift")] {
                form method="post" action="/me/protection" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="kind" value=(kind.as_str());
                    @if in_force(kind) {
                        input type="hidden" name="action" value="lift";
                        button type="submit" { (t(lang, lift)) }
                    } @else {
                        input type="hidden" name="action" value="place";
                        button type="submit" { (t(lang, place)) }
                    }
                }
            }
        }
        @if flags.is_empty() { p { (t(lang, "flags-none")) } } @else {
            table.data {
                thead { tr { th scope="col" {} th scope="col" { (t(lang, "flag-from")) } th scope="col" { (t(lang, "flag-until")) } } }
                tbody { @for f in &flags { tr {
                    th scope="row" { (t(lang, &format!("flag-kind-{}", f.kind.as_str()))) }
                    td { (date(lang, f.starts)) }
                    td { (f.ends.map_or_else(|| t(lang, "flag-until-lifted"), |e| date(lang, e))) }
                } } }
            }
        }
    };
    Ok(layout(&frame, &t(lang, "protection-title"), body).into_response())
}

#[derive(Deserialize)]
struct ProtectionForm {
    kind: String,
    action: String,
}

async fn change_protection(
    State(state): State<AppState>,
    me: MyPage,
    Checked(form): Checked<ProtectionForm>,
) -> Result<Response, PageError> {
    let lang = me.signed.lang;
    let subject = me.subject;
    let kind: FlagKind = form.kind.parse().map_err(|()| PageError::new(lang, PageErrorKind::BadForm("kind".into())))?;
    let place = match form.action.as_str() {
        "place" => true,
        "lift" => false,
        _ => return Err(PageError::new(lang, PageErrorKind::BadForm("action".into()))),
    };
    state
        .run(move |registry| if place { registry.place_flag(subject, kind, None).map(|_| ()) } else { registry.lift_flag(subject, kind) })
        .await
        .map_err(|e| PageError::api(lang, e))?;
    Ok(see_other(&format!("{}&done=flag", with_lang("/me/protection", lang))))
}
