//! The pages over HTTP, as a browser without JavaScript uses them: sign-in, sessions and their
//! cookies, CSRF, languages, and each role's pages calling the same service as the API.

use std::collections::BTreeMap;

use registry_core::model::IdType;
use registry_service::keys::PrincipalRole;

use super::{TestServer, example};

const SUBJECT_ID: &str = "11010519491231002X";

/// A cookie jar and a client that does not follow redirects.
struct Browser<'s> {
    server: &'s TestServer,
    agent: ureq::Agent,
    cookies: BTreeMap<String, String>,
    /// Every `Set-Cookie` seen, whole (for the flags).
    set_cookies: Vec<String>,
    accept_language: &'static str,
}

struct Page {
    status: u16,
    location: Option<String>,
    text: String,
}

impl Page {
    /// The value of the first hidden `csrf` field.
    fn csrf(&self) -> String {
        let at = self.text.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
        self.text[at..at + 64].to_owned()
    }
}

impl<'s> Browser<'s> {
    fn new(server: &'s TestServer, accept_language: &'static str) -> Browser<'s> {
        let agent: ureq::Agent =
            ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).max_idle_connections(0).build().into();
        Browser { server, agent, cookies: BTreeMap::new(), set_cookies: Vec::new(), accept_language }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn take(&mut self, response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Page {
        let mut response = response.expect("the server answers");
        for value in response.headers().get_all("set-cookie") {
            let value = value.to_str().unwrap().to_owned();
            let (pair, _) = value.split_once(';').unwrap_or((&value, ""));
            let (name, cookie) = pair.split_once('=').unwrap();
            if value.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), cookie.to_owned());
            }
            self.set_cookies.push(value);
        }
        let status = response.status().as_u16();
        let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        Page { status, location, text: response.body_mut().read_to_string().unwrap() }
    }

    fn get(&mut self, path: &str) -> Page {
        let request = self
            .agent
            .get(&format!("{}{path}", self.server.base))
            .header("cookie", &self.cookie_header())
            .header("accept-language", self.accept_language);
        self.take(request.call())
    }

    fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body: String = fields
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    v.bytes()
                        .map(|b| if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                            (b as char).to_string()
                        } else {
                            format!("%{b:02X}")
                        })
                        .collect::<String>()
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        let request = self
            .agent
            .post(&format!("{}{path}", self.server.base))
            .header("cookie", &self.cookie_header())
            .header("accept-language", self.accept_language)
            .header("content-type", "application/x-www-form-urlencoded");
        self.take(request.send(body.as_bytes()))
    }

    /// Signs in with `key` and lands on the role's page.
    fn sign_in(&mut self, key: &str) -> Page {
        let form = self.get("/");
        let csrf = form.csrf();
        let signed = self.post("/sign-in", &[("key", key), ("csrf", &csrf)]);
        assert_eq!(signed.status, 303, "{}", signed.text);
        let to = signed.location.clone().unwrap();
        self.get(&to)
    }
}

#[test]
fn sign_in_sessions_cookies_and_languages() {
    let server = TestServer::start();
    assert_eq!(server.submit("payplat", &example("spec-example.jsonl")).status, 201);
    let consumer = server.registry.create_key(PrincipalRole::Consumer, "me", Some((IdType::CnRid, SUBJECT_ID))).unwrap().key;

    // The language from Accept-Language, Chinese by default, `?lang=` remembered in a cookie.
    let mut browser = Browser::new(&server, "nl-BE,nl;q=0.9,en;q=0.5");
    let page = browser.get("/");
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("<html lang=\"nl\"") && page.text.contains("Aanmelden") && page.text.contains("name=\"key\""),
        "{}",
        page.text
    );
    assert!(Browser::new(&server, "fr").get("/").text.contains("<html lang=\"zh-CN\""));
    let page = browser.get("/?lang=en");
    assert!(page.text.contains("<html lang=\"en\"") && page.text.contains("Sign in"));
    assert_eq!(browser.cookies.get("lang").map(String::as_str), Some("en"));
    assert!(browser.get("/").text.contains("<html lang=\"en\""), "the cookie remembers the choice over Accept-Language");

    // A sign-in form posted without its page's token changes nothing.
    let mut forger = Browser::new(&server, "en");
    let forged = forger.post("/sign-in", &[("key", &consumer), ("csrf", &"0".repeat(64))]);
    assert_eq!(forged.status, 403);
    assert!(!forger.cookies.contains_key("session"));

    // A wrong key: back to the form, which says so.
    let form = browser.get("/");
    let wrong = browser.post("/sign-in", &[("key", "crk_nonsense"), ("csrf", &form.csrf())]);
    assert_eq!(wrong.status, 303);
    assert!(browser.get(&wrong.location.unwrap()).text.contains("That key is not valid"));

    // Signed in: the session cookie is HttpOnly, SameSite=Strict, expires, and is Secure only
    // over TLS.
    let me = browser.sign_in(&consumer);
    assert_eq!(me.status, 200, "{}", me.text);
    assert!(me.text.contains("Your credit report") && me.text.contains("S000000001"), "{}", me.text);
    let session_cookie = browser.set_cookies.iter().rev().find(|c| c.starts_with("session=") && !c.contains("Max-Age=0")).unwrap().clone();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"] {
        assert!(session_cookie.contains(flag), "{flag} in {session_cookie}");
    }
    assert!(!session_cookie.contains("Secure"));
    let tls = browser.agent.get(&format!("{}/?lang=en", server.base)).header("x-forwarded-proto", "https").call().unwrap();
    assert!(tls.headers().get_all("set-cookie").iter().all(|c| c.to_str().unwrap().contains("Secure")));

    // A form posted without the session's token is refused and changes nothing.
    let refused = browser.post("/me/consents", &[("lender", "bank-a"), ("purpose", "credit_application"), ("expires", "2099-12-31")]);
    assert_eq!(refused.status, 403);
    assert!(refused.text.contains("did not come from this site"));
    let wrong_token = browser.post(
        "/me/consents",
        &[("csrf", &"f".repeat(64)), ("lender", "bank-a"), ("purpose", "credit_application"), ("expires", "2099-12-31")],
    );
    assert_eq!(wrong_token.status, 403);
    assert!(server.registry.consents(server.registry.find_subject(IdType::CnRid, SUBJECT_ID).unwrap().unwrap()).unwrap().is_empty());

    // Another role's page: refused in words; without a session: to the sign-in form.
    assert_eq!(browser.get("/lender").status, 403);
    assert_eq!(Browser::new(&server, "en").get("/me").status, 303);

    // Signing out ends the session on the server, not only in the browser.
    let token = browser.cookies.get("session").unwrap().clone();
    let csrf = browser.get("/me").csrf();
    assert_eq!(browser.post("/sign-out", &[("csrf", &csrf)]).status, 303);
    assert!(!browser.cookies.contains_key("session"));
    browser.cookies.insert("session".into(), token);
    assert_eq!(browser.get("/me").status, 303, "the old session's cookie no longer works");
}

#[test]
fn a_consumer_consents_and_a_lender_inquires_with_it() {
    let server = TestServer::start();
    assert_eq!(server.submit("payplat", &example("spec-example.jsonl")).status, 201);
    let consumer = server.registry.create_key(PrincipalRole::Consumer, "me", Some((IdType::CnRid, SUBJECT_ID))).unwrap().key;
    let lender = server.key(PrincipalRole::Lender, "bank-a");

    let mut person = Browser::new(&server, "zh-CN");
    let report = person.sign_in(&consumer);
    assert!(report.text.contains("您的信用报告") && report.text.contains("近24个月还款记录"), "{}", report.text);
    assert!(report.text.contains('¥'), "amounts in yuan");

    let consents = person.get("/me/consents");
    let granted = person.post(
        "/me/consents",
        &[("csrf", &consents.csrf()), ("lender", "bank-a"), ("purpose", "credit_application"), ("expires", "2099-12-31")],
    );
    assert_eq!(granted.status, 303, "{}", granted.text);
    let page = person.get(&granted.location.unwrap());
    let at = page.text.find("请将此授权编号告知贷款机构：").expect("the consent id is shown") + "请将此授权编号告知贷款机构：".len();
    let consent_id: String = page.text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    assert!(consent_id.starts_with("cns_"), "{consent_id}");

    let mut bank = Browser::new(&server, "en");
    let form = bank.sign_in(&lender);
    assert!(form.text.contains("Inquiry") && form.text.contains("name=\"consent_id\""));
    let inquire = |bank: &mut Browser<'_>, consent: &str, birth_date: &str| {
        let csrf = bank.get("/lender").csrf();
        bank.post(
            "/lender",
            &[
                ("csrf", &csrf),
                ("id_type", "cn_rid"),
                ("id", SUBJECT_ID),
                ("family_name", "Wang"),
                ("given_name", "Fang"),
                ("birth_date", birth_date),
                ("purpose", "credit_application"),
                ("consent_id", consent),
            ],
        )
    };
    let refused = inquire(&mut bank, "cns_1_000000000000000000000000", "1949-12-31");
    assert_eq!(refused.status, 403);
    assert!(refused.text.contains("No valid consent"), "{}", refused.text);
    let mismatch = inquire(&mut bank, &consent_id, "1950-01-01");
    assert_eq!(mismatch.status, 404);
    assert!(mismatch.text.contains("do not match"));
    let answered = inquire(&mut bank, &consent_id, "1949-12-31");
    assert_eq!(answered.status, 200, "{}", answered.text);
    assert!(answered.text.contains("Report for the inquiry") && answered.text.contains("Payment history"), "{}", answered.text);

    // The person sees the inquiry in their accesses, verified against the signed log.
    let accesses = person.get("/me/accesses");
    assert!(accesses.text.contains("bank-a") && accesses.text.contains("查询") && accesses.text.contains("已核验"), "{}", accesses.text);
    assert!(!accesses.text.contains("未通过核验"));

    // A freeze from the page: the lender's next inquiry for new credit is refused.
    let protection = person.get("/me/protection");
    let frozen = person.post("/me/protection", &[("csrf", &protection.csrf()), ("kind", "freeze"), ("action", "place")]);
    assert_eq!(frozen.status, 303);
    assert!(person.get("/me/protection").text.contains("解除冻结"));
    let refused = inquire(&mut bank, &consent_id, "1949-12-31");
    assert_eq!(refused.status, 403);
    assert!(refused.text.contains("frozen"));

    // A dispute from the page reaches the furnisher's queue (the API's).
    let disputes = person.get("/me/disputes");
    let account = disputes.text.split("<option value=\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap().to_owned();
    let sent =
        person.post("/me/disputes", &[("csrf", &disputes.csrf()), ("account", &account), ("field", "balance"), ("reason", "I paid this")]);
    assert_eq!(sent.status, 303, "{}", sent.text);
    assert!(person.get(&sent.location.unwrap()).text.contains("异议已提交"));
    let queue = server.get("/v1/furnishers/payplat/disputes");
    assert_eq!(queue.body["disputes"][0]["reason"], "I paid this", "{}", queue.text);
}

#[test]
fn the_supervisor_sees_charts_and_downloads_tables_and_a_furnisher_its_rejections() {
    let server = TestServer::start();
    assert_eq!(server.submit("payplat", &example("spec-example.jsonl")).status, 201);
    let supervisor = server.key(PrincipalRole::Supervisor, "pboc");
    let mut browser = Browser::new(&server, "en");
    let page = browser.sign_in(&supervisor);
    assert_eq!(page.status, 200);
    let month = browser.get("/supervision?month=2021-06");
    assert_eq!(month.status, 200);
    assert!(month.text.matches("<svg class=\"chart\"").count() >= 3, "{}", month.text);
    assert!(month.text.contains("payplat") && month.text.contains("Market shares by product"));
    let csv = browser.get("/supervision/market.csv?month=2021-06");
    assert_eq!(csv.status, 200);
    assert!(csv.text.starts_with("product,currency,furnisher,share,hhi\n") && csv.text.contains("payplat"), "{}", csv.text);
    assert_eq!(browser.get("/supervision/everything.csv?month=2021-06").status, 404);
    assert_eq!(browser.get("/supervision?month=2021-13").status, 400);
    assert_eq!(browser.get("/furnisher").status, 403, "a supervisor is not a furnisher");

    // The furnisher's page lists the API's submission; its rejections come as CSV.
    let furnisher = server.key(PrincipalRole::Furnisher, "payplat");
    assert_eq!(server.submit("payplat", b"{\"account\":1}\n").status, 201);
    let mut bank = Browser::new(&server, "en");
    let list = bank.sign_in(&furnisher);
    assert!(list.text.contains("Submissions") && list.text.contains("Applied"), "{}", list.text);
    let link = list.text.split("href=\"/furnisher/submissions/").nth(1).and_then(|rest| rest.split('?').next()).unwrap().to_owned();
    let result = bank.get(&format!("/furnisher/submissions/{link}"));
    assert!(result.text.contains("Rejections") && result.text.contains("rejections.csv"), "{}", result.text);
    let csv = bank.get(&format!("/furnisher/submissions/{link}/rejections.csv"));
    assert!(csv.text.starts_with("line,field,code,message\n1,"), "{}", csv.text);
    assert_eq!(bank.get("/supervision").status, 403);
}
