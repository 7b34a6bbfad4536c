//! The lender's inquiry: the form, then the report as the purpose allows or a clear refusal.
//! Role: lender. The inquiry is the API's (`Registry::inquire`): the same consent, identity
//! and freeze checks, the same entry in the access log.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use registry_core::model::IdType;
use registry_core::report::Report;
use registry_service::rights::{InquiryRequest, InquirySubject};
use serde::Deserialize;

use super::consumer::report_view;
use super::i18n::{Lang, t};
use super::session::{Checked, Page};
use super::{Frame, PageError, layout, path_of};
use crate::AppState;
use crate::caller::roles;
use crate::error::{ApiError, ErrorCode};

pub fn routes() -> Router<AppState> {
    Router::new().route("/lender", get(form_page).post(inquire))
}

#[derive(Deserialize, Default, Clone)]
struct InquiryForm {
    id_type: String,
    id: String,
    family_name: String,
    given_name: String,
    birth_date: String,
    purpose: String,
    consent_id: String,
}

async fn form_page(State(state): State<AppState>, lender: Page<roles::Lender>, uri: Uri) -> Response {
    let path = path_of(&uri);
    let signed = &lender.signed;
    let body = form(signed.lang, &signed.csrf, &purposes(&state), &InquiryForm::default(), None);
    layout(&Frame::of(signed, &path), &t(signed.lang, "inquiry-title"), body).into_response()
}

fn purposes(state: &AppState) -> Vec<String> {
    state.registry.profile().purposes.iter().map(|p| p.id.clone()).collect()
}

async fn inquire(
    State(state): State<AppState>,
    lender: Page<roles::Lender>,
    uri: Uri,
    Checked(filled): Checked<InquiryForm>,
) -> Result<Response, PageError> {
    let lang = lender.signed.lang;
    let path = uri.path().to_owned();
    let frame = Frame::of(&lender.signed, &path);
    let title = t(lang, "inquiry-title");
    let refuse = |status: StatusCode, message: String| {
        let body = form(lang, &lender.signed.csrf, &purposes(&state), &filled, Some(&message));
        Ok((status, layout(&frame, &title, body)).into_response())
    };
    let request = match request_of(&filled) {
        Ok(request) => request,
        Err(problem) => {
            return refuse(StatusCode::BAD_REQUEST, super::i18n::t_with(lang, "refusal-invalid", &[("problem", problem.into())]));
        }
    };
    let principal = lender.signed.principal.clone();
    let answer: Result<Report, ApiError> = state.run(move |registry| registry.inquire(&principal, &request)).await;
    match answer {
        Ok(report) => {
            state.metrics.reports.inc();
            let body = html! {
                h1 { (t(lang, "inquiry-result")) }
                (report_view(lang, &report, false))
                p { a href="/lender" { (t(lang, "inquiry-title")) } }
            };
            Ok(layout(&frame, &t(lang, "inquiry-result"), body).into_response())
        }
        Err(e) => {
            let message = match e.code {
                ErrorCode::ConsentRequired => t(lang, "refusal-consent_required"),
                ErrorCode::SubjectNotFound => t(lang, "refusal-subject_not_found"),
                ErrorCode::FileFrozen => t(lang, "refusal-file_frozen"),
                ErrorCode::InvalidRequest | ErrorCode::InvalidData => {
                    super::i18n::t_with(lang, "refusal-invalid", &[("problem", e.message.clone().into())])
                }
                _ => return Err(PageError::api(lang, e)),
            };
            refuse(crate::error::status_of(e.code), message)
        }
    }
}

/// The form's fields as the API's request: the same types, so the same checks.
fn request_of(form: &InquiryForm) -> Result<InquiryRequest, String> {
    let id_type: IdType = form.id_type.parse().map_err(|()| format!("id_type {:?}", form.id_type))?;
    let birth_date =
        registry_core::model::Date::parse_from_str(form.birth_date.trim(), "%Y-%m-%d").map_err(|_| "birth_date: YYYY-MM-DD".to_owned())?;
    Ok(InquiryRequest {
        subject: InquirySubject {
            id_type,
            id: form.id.trim().to_owned(),
            family_name: form.family_name.trim().to_owned(),
            given_name: form.given_name.trim().to_owned(),
            birth_date,
        },
        purpose: form.purpose.clone(),
        consent_id: form.consent_id.trim().to_owned(),
    })
}

fn form(lang: Lang, csrf: &str, purposes: &[String], filled: &InquiryForm, refusal: Option<&str>) -> Markup {
    let field = |id: &str, label: &str, value: &str, kind: &str| {
        html! { div.field { label for=(id) { (t(lang, label)) } input id=(id) name=(id) type=(kind) value=(value) required autocomplete="off"; } }
    };
    html! {
        h1 { (t(lang, "inquiry-title")) }
        p { (t(lang, "inquiry-intro")) }
        @if let Some(message) = refusal { p.error role="alert" #refusal { (message) } }
        form.stack method="post" action="/lender" {
            input type="hidden" name="csrf" value=(csrf);
            div.field { label for="id_type" { (t(lang, "inquiry-id-type")) }
                select #id_type name="id_type" { @for id_type in IdType::ALL {
                    option value=(id_type.as_str()) selected[filled.id_type == id_type.as_str()] { (t(lang, &format!("id-type-{}", id_type.as_str()))) }
                } } }
            (field("id", "inquiry-id", &filled.id, "text"))
            (field("family_name", "inquiry-family-name", &filled.family_name, "text"))
            (field("given_name", "inquiry-given-name", &filled.given_name, "text"))
            (field("birth_date", "inquiry-birth-date", &filled.birth_date, "date"))
            div.field { label for="purpose" { (t(lang, "inquiry-purpose")) }
                select #purpose name="purpose" { @for p in purposes {
                    option value=(p) selected[filled.purpose == *p] { (t(lang, &format!("purpose-{p}"))) }
                } } }
            (field("consent_id", "inquiry-consent", &filled.consent_id, "text"))
            button type="submit" { (t(lang, "inquiry-submit")) }
        }
    }
}
