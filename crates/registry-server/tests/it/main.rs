//! The real server on a free port, a fresh registry per test, one helper per endpoint.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use registry_server::ServerSettings;
use registry_service::clock::SystemClock;
use registry_service::keys::PrincipalRole;
use registry_service::{Registry, RegistrySettings};
use serde_json::{Value, json};

mod browser;
mod governance;
mod quality;
mod supervision;
mod web;

struct TestServer {
    base: String,
    registry: Arc<Registry>,
    /// An operator key, sent by `get` and `post`.
    operator: String,
    agent: ureq::Agent,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
    _database: Option<registry_store::testing::TestDatabase>,
}

struct Reply {
    status: u16,
    body: Value,
    text: String,
    /// The request id the server gave the request (`x-request-id`).
    request_id: Option<String>,
}

impl TestServer {
    fn start() -> TestServer {
        TestServer::start_with(ServerSettings::default())
    }

    fn start_with(settings: ServerSettings) -> TestServer {
        TestServer::start_on(settings, None, |_| {})
    }

    /// A server over a registry on PostgreSQL when `database` is given (else embedded), its
    /// settings as `configure` leaves them.
    fn start_on(
        settings: ServerSettings,
        database: Option<registry_store::testing::TestDatabase>,
        configure: impl FnOnce(&mut RegistrySettings),
    ) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut registry_settings = RegistrySettings::new(dir.path());
        if let Some(database) = &database {
            registry_settings.postgres = Some(registry_store::PostgresSettings::new(database.url()));
            registry_settings.keys = Some(registry_service::vault::Keys::generate().unwrap());
        }
        configure(&mut registry_settings);
        let registry = Arc::new(Registry::open(registry_settings, Arc::new(SystemClock)).unwrap());
        let operator = registry.create_key(PrincipalRole::Operator, "test-operator", None).unwrap().key;
        let serving = registry.clone();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel::<SocketAddr>();
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                registry_server::serve(serving, settings, listener, async move {
                    let _ = stop.await;
                })
                .await
                .unwrap();
            });
        });
        let addr = addr_rx.recv().unwrap();
        // A connection per request: a refusal answers before reading the request's body, and
        // the server then closes the connection, which a pooled client might try to reuse.
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_idle_connections(0)
            .max_idle_connections_per_host(0)
            .build()
            .into();
        TestServer {
            base: format!("http://{addr}"),
            registry,
            operator,
            agent,
            shutdown: Some(shutdown),
            thread: Some(thread),
            _dir: dir,
            _database: database,
        }
    }

    fn reply(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
        let mut response = response.expect("the server answers");
        let status = response.status().as_u16();
        let request_id = response.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let text = response.body_mut().read_to_string().unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, body, text, request_id }
    }

    fn get(&self, path: &str) -> Reply {
        self.get_as(Some(&self.operator), path)
    }

    fn post(&self, path: &str, body: &[u8]) -> Reply {
        self.post_as(Some(&self.operator), path, body)
    }

    /// A request with `key` (or none) as its bearer key.
    fn get_as(&self, key: Option<&str>, path: &str) -> Reply {
        let mut request = self.agent.get(&format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.header("authorization", &format!("Bearer {key}"));
        }
        Self::reply(request.call())
    }

    fn post_as(&self, key: Option<&str>, path: &str, body: &[u8]) -> Reply {
        let mut request = self.agent.post(&format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.header("authorization", &format!("Bearer {key}"));
        }
        Self::reply(request.send(body))
    }

    fn delete_as(&self, key: Option<&str>, path: &str) -> Reply {
        let mut request = self.agent.delete(&format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.header("authorization", &format!("Bearer {key}"));
        }
        Self::reply(request.call())
    }

    fn key(&self, role: PrincipalRole, name: &str) -> String {
        self.registry.create_key(role, name, None).unwrap().key
    }

    fn submit(&self, furnisher: &str, file: &[u8]) -> Reply {
        self.post(&format!("/v1/furnishers/{furnisher}/submissions?file_name=test.jsonl"), file)
    }

    fn report(&self, request: Value) -> Reply {
        self.post("/v1/reports", request.to_string().as_bytes())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn example(name: &str) -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/examples").join(name)).unwrap()
}

fn expected_summary(name: &str) -> Value {
    serde_json::from_slice(&example(name)).unwrap()
}

#[test]
fn health_answers() {
    let server = TestServer::start();
    let reply = server.get("/health");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["status"], "ok");
}

/// Each request gets an id (sent back as `x-request-id`, on every log line of the request), and
/// each route's latency is a histogram in `/metrics`, named by the route's template.
#[test]
fn requests_carry_an_id_and_routes_their_latency() {
    let server = TestServer::start();
    let (first, second) = (server.get("/health"), server.get("/v1/subjects/S000000001/report"));
    let ids: Vec<&str> = [&first, &second].iter().filter_map(|r| r.request_id.as_deref()).collect();
    assert_eq!(ids.len(), 2, "every answer names its request");
    assert_ne!(ids[0], ids[1]);
    let metrics = server.get("/metrics").text;
    assert!(metrics.contains(r#"credit_registry_http_request_seconds_count{method="GET",route="/health"} 1"#), "{metrics}");
    assert!(
        metrics.contains(r#"credit_registry_http_request_seconds_count{method="GET",route="/v1/subjects/{registry_id}/report"} 1"#),
        "{metrics}"
    );
    assert!(!metrics.contains("S000000001"), "routes are named by their template, not the path");
}

#[test]
fn submit_then_report() {
    let server = TestServer::start();
    let submitted = server.submit("payplat", &example("spec-example.jsonl"));
    assert_eq!(submitted.status, 201, "{}", submitted.text);
    assert_eq!(submitted.body["status"], "applied");
    assert_eq!((submitted.body["records"].as_u64(), submitted.body["accepted"].as_u64()), (Some(2), Some(2)));
    assert_eq!(submitted.body["errors"], json!([]));
    assert_eq!(submitted.body["file"], "test.jsonl");

    let expected = expected_summary("spec-example.summary.json");
    let report = server.report(json!({"id_type": "cn_rid", "id": "11010519491231002X", "as_of": "2021-07-15"}));
    assert_eq!(report.status, 200, "{}", report.text);
    assert_eq!(report.body["summary"], expected["summary"]);
    assert_eq!(report.body["subject"]["identifiers"][0]["id"], "1101**********002X");
    assert!(!report.text.contains("11010519491231002X"), "the identifier is masked");
    assert_eq!(report.body["accounts"].as_array().unwrap().len(), 2);
    assert_eq!(report.body["accounts"][0]["payment_grid"].as_array().unwrap().len(), 24);

    // The same report by registry id.
    let registry_id = report.body["subject"]["registry_id"].as_str().unwrap();
    let by_id = server.get(&format!("/v1/subjects/{registry_id}/report?as_of=2021-07-15"));
    assert_eq!(by_id.status, 200);
    assert_eq!(by_id.body, report.body);

    let metrics = server.get("/metrics");
    assert!(metrics.text.contains("credit_registry_submissions_total{status=\"applied\"} 1"), "{}", metrics.text);
    assert!(metrics.text.contains("credit_registry_reports_total 2"), "{}", metrics.text);
}

#[test]
fn a_submission_reads_back_and_repeats_are_recognised() {
    let server = TestServer::start();
    let mut file = example("spec-example.jsonl");
    file.extend_from_slice(b"");
    let text = String::from_utf8(file).unwrap().replace("{\"trailer\":{\"records\":2}}", "{\"account\":\"X\"}");
    let submitted = server.submit("payplat", text.as_bytes());
    assert_eq!(submitted.status, 201);
    assert_eq!(submitted.body["rejected"], 1);
    let id = submitted.body["submission_id"].as_str().unwrap();
    let read = server.get(&format!("/v1/furnishers/payplat/submissions/{id}"));
    assert_eq!(read.status, 200);
    assert_eq!(read.body["errors"], submitted.body["errors"]);
    let codes: Vec<&str> = read.body["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert!(codes.iter().all(|c| *c == "missing_field"), "{codes:?}");
    assert_eq!(read.body["errors"][0]["line"], 3);

    let again = server.submit("payplat", text.as_bytes());
    assert_eq!(again.status, 200);
    assert_eq!(again.body["status"], "duplicate");
    assert_eq!(again.body["submission_id"], id);

    // Another furnisher cannot see it.
    let other = server.get(&format!("/v1/furnishers/bankx/submissions/{id}"));
    assert_eq!((other.status, other.body["error"]["code"].as_str()), (404, Some("submission_not_found")));
}

#[test]
fn every_rejection_comes_back_however_many() {
    let server = TestServer::start();
    // 5,000 rejections make a response of several chunks.
    let lines = "[\"not a record\"]\n".repeat(5000)
        + &String::from_utf8(example("spec-example.jsonl")).unwrap().replace("{\"trailer\":{\"records\":2}}", "");
    let reply = server.submit("payplat", lines.as_bytes());
    assert_eq!(reply.status, 201, "{}", &reply.text[..200.min(reply.text.len())]);
    assert_eq!(reply.body["accepted"], 2);
    let errors = reply.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 5000);
    assert_eq!(errors[4999]["line"], 5000);
    let id = reply.body["submission_id"].as_str().unwrap();
    let read = server.get(&format!("/v1/furnishers/payplat/submissions/{id}"));
    assert_eq!(read.body["errors"].as_array().unwrap().len(), 5000);
}

#[test]
fn a_truncated_file_is_rejected_whole() {
    let server = TestServer::start();
    let text = String::from_utf8(example("spec-example.jsonl")).unwrap().replace("\"records\":2", "\"records\":5");
    let reply = server.submit("payplat", text.as_bytes());
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert_eq!(reply.body["status"], "rejected");
    assert_eq!(reply.body["error"]["code"], "trailer_mismatch");
    let report = server.report(json!({"id_type": "cn_rid", "id": "11010519491231002X"}));
    assert_eq!((report.status, report.body["error"]["code"].as_str()), (404, Some("subject_not_found")));
    for garbage in [&b""[..], b"\xff\xfe\x00binary", b"{\"account\":"] {
        let reply = server.submit("payplat", garbage);
        assert_eq!(reply.status, 422, "{}", reply.text);
    }
}

#[test]
fn errors_are_json_with_stable_codes() {
    let server = TestServer::start();
    let cases: Vec<(Reply, u16, &str)> = vec![
        (server.submit("bad%20furnisher", b"x"), 400, "invalid_furnisher"),
        (server.get("/v1/nothing"), 404, "not_found"),
        (server.get("/v1/reports"), 405, "method_not_allowed"),
        (server.report(json!({"id_type": "ssn", "id": "000000000"})), 404, "subject_not_found"),
        (server.report(json!({"id_type": "ssn", "id": "123456789", "as_of": "+12021-01-01"})), 400, "invalid_request"),
        (server.get("/v1/subjects/S1/report?as_of=-262143-01-01"), 400, "invalid_request"),
        (server.get("/v1/subjects/%FF/report"), 400, "invalid_request"),
        (server.post("/v1/reports", &vec![b' '; 100 * 1024]), 413, "payload_too_large"),
        (server.report(json!({"id_type": "ssn", "id": "123456789"})), 404, "subject_not_found"),
        (server.report(json!({"id_type": "passport", "id": "1"})), 400, "invalid_request"),
        (server.report(json!({"id_type": "ssn", "id": "123456789", "extra": 1})), 400, "invalid_request"),
        (server.post("/v1/reports", b"not json"), 400, "invalid_request"),
        (server.get("/v1/subjects/S000000001/report?as_of=2021-02-30"), 400, "invalid_request"),
        (server.get("/v1/subjects/nope/report"), 404, "subject_not_found"),
        (server.get("/v1/furnishers/payplat/submissions/sub_x"), 404, "submission_not_found"),
        (server.post("/v1/furnishers/payplat/submissions?colour=red", b"x"), 400, "invalid_request"),
    ];
    for (reply, status, code) in cases {
        assert_eq!((reply.status, reply.body["error"]["code"].as_str()), (status, Some(code)), "{}", reply.text);
        assert!(reply.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[test]
fn an_oversized_upload_is_refused_and_leaves_nothing() {
    let server = TestServer::start_with(ServerSettings { request_body_bytes_max: 1000, ..ServerSettings::default() });
    let reply = server.submit("payplat", &example("history-example.jsonl"));
    assert_eq!((reply.status, reply.body["error"]["code"].as_str()), (413, Some("payload_too_large")), "{}", reply.text);
    let report = server.report(json!({"id_type": "cn_rid", "id": "320102198706153316"}));
    assert_eq!(report.status, 404);
}

#[test]
fn the_openapi_document_describes_every_route() {
    let server = TestServer::start();
    let reply = server.get("/openapi.json");
    assert_eq!(reply.status, 200);
    let paths = reply.body["paths"].as_object().unwrap();
    let mut operations: Vec<(String, String)> =
        paths.iter().flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |method| (method.clone(), path.clone()))).collect();
    operations.sort();
    assert_eq!(
        operations,
        vec![
            ("delete".to_string(), "/v1/me/consents/{consent_id}".to_string()),
            ("delete".into(), "/v1/me/fraud-alert".into()),
            ("delete".into(), "/v1/me/freeze".into()),
            ("get".into(), "/health".into()),
            ("get".into(), "/metrics".into()),
            ("get".into(), "/v1/furnishers/{furnisher}/disputes".into()),
            ("get".into(), "/v1/furnishers/{furnisher}/quality".into()),
            ("get".into(), "/v1/furnishers/{furnisher}/submissions/{submission_id}".into()),
            ("get".into(), "/v1/log/consistency".into()),
            ("get".into(), "/v1/log/head".into()),
            ("get".into(), "/v1/me/accesses".into()),
            ("get".into(), "/v1/me/accesses/{seq}/proof".into()),
            ("get".into(), "/v1/me/consents".into()),
            ("get".into(), "/v1/me/disputes".into()),
            ("get".into(), "/v1/me/flags".into()),
            ("get".into(), "/v1/me/report".into()),
            ("get".into(), "/v1/quality".into()),
            ("get".into(), "/v1/subjects/{registry_id}/report".into()),
            ("get".into(), "/v1/supervision/borrowers/{list}".into()),
            ("get".into(), "/v1/supervision/{section}".into()),
            ("post".into(), "/v1/furnishers/{furnisher}/disputes/{dispute_id}/resolution".into()),
            ("post".into(), "/v1/furnishers/{furnisher}/submissions".into()),
            ("post".into(), "/v1/inquiries".into()),
            ("post".into(), "/v1/me/consents".into()),
            ("post".into(), "/v1/me/disputes".into()),
            ("post".into(), "/v1/me/fraud-alert".into()),
            ("post".into(), "/v1/me/freeze".into()),
            ("post".into(), "/v1/reports".into()),
        ]
    );
    // Every documented operation is served (not the router's 404/405 fallbacks).
    for (method, path) in &operations {
        let concrete = path
            .replace("{furnisher}", "payplat")
            .replace("{submission_id}", "sub_1")
            .replace("{registry_id}", "S1")
            .replace("{seq}", "0")
            .replace("{consent_id}", "c")
            .replace("{dispute_id}", "d")
            .replace("{section}", "market")
            .replace("{list}", "stacking");
        let reply = match method.as_str() {
            "get" => server.get(&concrete),
            "delete" => server.delete_as(Some(&server.operator), &concrete),
            _ => server.post(&concrete, b"{}"),
        };
        let code = reply.body["error"]["code"].as_str().unwrap_or("");
        let message = reply.body["error"]["message"].as_str().unwrap_or("");
        assert!(!message.contains("no such endpoint") && code != "method_not_allowed", "{method} {path}: {}", reply.text);
    }
    // Response schemas are the real types.
    let schemas = reply.body["components"]["schemas"].as_object().unwrap();
    for name in ["Report", "Summary", "SubmissionDocument", "RecordError", "ErrorDocument", "Status", "Product"] {
        assert!(schemas.contains_key(name), "schema {name} missing");
    }
    assert!(schemas["Status"]["enum"].as_array().unwrap().contains(&json!("dpd30")));
}

fn metro2_sample(name: &str) -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/metro2").join(name)).unwrap()
}

#[test]
fn metro2_files_are_submitted_like_json_lines() {
    let server = TestServer::start();
    // Strict reading: moov-io's sample is read and its one inconsistent account rejected.
    let reply = server.submit("bankm", &metro2_sample("moov-io/unpacked_fixed_request.dat"));
    assert_eq!(reply.status, 201, "{}", reply.text);
    let document = &reply.body;
    assert_eq!(
        (document["format"].as_str(), document["records"].as_u64(), document["rejected"].as_u64()),
        (Some("metro2"), Some(1), Some(1))
    );
    assert_eq!(document["errors"][0]["field"], "base.date_opened");
    // The CFPB's sample has placeholder record lengths: rejected whole unless read leniently.
    let small = metro2_sample("cfpb/m2_file_small.txt");
    let reply = server.submit("bankc", &small);
    assert_eq!((reply.status, reply.body["error"]["code"].as_str()), (422, Some("invalid_framing")));
    let reply = server.post("/v1/furnishers/bankc/submissions?lenient=true&currency=USD", &small);
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.body["records"], 3);
    let reply = server.post("/v1/furnishers/bankc/submissions?currency=DOLLARS", &small);
    assert_eq!((reply.status, reply.body["error"]["code"].as_str()), (400, Some("invalid_request")));
}
