//! Access governance over HTTP: who may call what, rate limits, and the consumer's view of
//! their own accesses with proofs checked by an independent implementation of RFC 9162.

use base64::Engine;
use registry_core::model::IdType;
use registry_server::ServerSettings;
use registry_service::keys::PrincipalRole;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{TestServer, example};

/// A subject of the spec example, for consumer keys.
const SUBJECT_ID: &str = "11010519491231002X";

/// Who calls: each role's key, another furnisher's, a revoked one, none, a made-up one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Operator,
    OwnFurnisher,
    OtherFurnisher,
    Lender,
    Consumer,
    Supervisor,
    Revoked,
    NoKey,
    Forged,
}

const EVERYONE: [Who; 9] = [
    Who::Operator,
    Who::OwnFurnisher,
    Who::OtherFurnisher,
    Who::Lender,
    Who::Consumer,
    Who::Supervisor,
    Who::Revoked,
    Who::NoKey,
    Who::Forged,
];

struct Keys {
    operator: String,
    own_furnisher: String,
    other_furnisher: String,
    lender: String,
    consumer: String,
    supervisor: String,
    revoked: String,
}

impl Keys {
    fn of(&self, who: Who) -> Option<&str> {
        match who {
            Who::Operator => Some(&self.operator),
            Who::OwnFurnisher => Some(&self.own_furnisher),
            Who::OtherFurnisher => Some(&self.other_furnisher),
            Who::Lender => Some(&self.lender),
            Who::Consumer => Some(&self.consumer),
            Who::Supervisor => Some(&self.supervisor),
            Who::Revoked => Some(&self.revoked),
            Who::NoKey => None,
            Who::Forged => Some("crk_0123456789abcdef_not-a-real-secret"),
        }
    }
}

fn keys(server: &TestServer) -> Keys {
    let revoked = server.registry.create_key(PrincipalRole::Operator, "gone", None).unwrap();
    server.registry.revoke_key(&revoked.info.key_id).unwrap();
    Keys {
        operator: server.operator.clone(),
        own_furnisher: server.key(PrincipalRole::Furnisher, "payplat"),
        other_furnisher: server.key(PrincipalRole::Furnisher, "otherbank"),
        lender: server.key(PrincipalRole::Lender, "bank-a"),
        consumer: server.registry.create_key(PrincipalRole::Consumer, "me", Some((IdType::CnRid, SUBJECT_ID))).unwrap().key,
        supervisor: server.key(PrincipalRole::Supervisor, "pboc"),
        revoked: revoked.key,
    }
}

/// Every endpoint with every caller: allowed ones get past authorisation (whatever the
/// endpoint then says), the others get exactly 401 or 403.
#[test]
fn every_endpoint_admits_exactly_its_roles() {
    let server = TestServer::start();
    assert_eq!(server.submit("payplat", &example("spec-example.jsonl")).status, 201);
    let keys = keys(&server);
    let report_body = format!(r#"{{"id_type":"cn_rid","id":"{SUBJECT_ID}"}}"#);
    type Call<'a> = (&'a str, &'a str, Vec<Who>);
    let calls: Vec<Call> = vec![
        ("GET", "/metrics", vec![Who::Operator, Who::Supervisor]),
        ("POST", "/v1/furnishers/payplat/submissions", vec![Who::Operator, Who::OwnFurnisher]),
        ("GET", "/v1/furnishers/payplat/submissions/none", vec![Who::Operator, Who::OwnFurnisher]),
        ("POST", "/v1/reports", vec![Who::Operator]),
        ("GET", "/v1/subjects/S000000001/report", vec![Who::Operator]),
        ("GET", "/v1/me/report", vec![Who::Consumer]),
        ("GET", "/v1/me/accesses", vec![Who::Consumer]),
        ("GET", "/v1/me/accesses/0/proof", vec![Who::Consumer]),
        ("POST", "/v1/inquiries", vec![Who::Lender]),
        ("GET", "/v1/me/consents", vec![Who::Consumer]),
        ("POST", "/v1/me/consents", vec![Who::Consumer]),
        ("DELETE", "/v1/me/consents/cns_1_000000000000000000000000", vec![Who::Consumer]),
        ("GET", "/v1/me/disputes", vec![Who::Consumer]),
        ("POST", "/v1/me/disputes", vec![Who::Consumer]),
        ("GET", "/v1/me/flags", vec![Who::Consumer]),
        ("POST", "/v1/me/freeze", vec![Who::Consumer]),
        ("DELETE", "/v1/me/freeze", vec![Who::Consumer]),
        ("POST", "/v1/me/fraud-alert", vec![Who::Consumer]),
        ("DELETE", "/v1/me/fraud-alert", vec![Who::Consumer]),
        ("GET", "/v1/furnishers/payplat/disputes", vec![Who::Operator, Who::OwnFurnisher]),
        ("POST", "/v1/furnishers/payplat/disputes/dsp_x/resolution", vec![Who::Operator, Who::OwnFurnisher]),
        ("GET", "/v1/log/head", vec![Who::Operator, Who::OwnFurnisher, Who::OtherFurnisher, Who::Lender, Who::Consumer, Who::Supervisor]),
        (
            "GET",
            "/v1/log/consistency?from=1&to=1",
            vec![Who::Operator, Who::OwnFurnisher, Who::OtherFurnisher, Who::Lender, Who::Consumer, Who::Supervisor],
        ),
        ("GET", "/v1/supervision/market?month=2021-07", vec![Who::Operator, Who::Supervisor]),
        ("GET", "/v1/supervision/borrowers/stacking?month=2021-07", vec![Who::Operator, Who::Supervisor]),
        ("GET", "/v1/furnishers/payplat/quality", vec![Who::Operator, Who::OwnFurnisher]),
        ("GET", "/v1/quality", vec![Who::Operator, Who::Supervisor]),
    ];
    for (method, path, allowed) in &calls {
        for who in EVERYONE {
            let key = keys.of(who);
            let reply = match *method {
                "GET" => server.get_as(key, path),
                "DELETE" => server.delete_as(key, path),
                // A small body: a refusal answers before reading it.
                _ if path.contains("submissions") => server.post_as(key, path, b"{}\n"),
                _ => server.post_as(key, path, report_body.as_bytes()),
            };
            let expected = if allowed.contains(&who) {
                None
            } else if matches!(who, Who::NoKey | Who::Revoked | Who::Forged) {
                Some((401, "unauthenticated"))
            } else {
                Some((403, "forbidden"))
            };
            match expected {
                None => assert!(
                    reply.status != 401 && reply.status != 403,
                    "{method} {path} as {who:?}: expected to be let in, got {} {}",
                    reply.status,
                    reply.text
                ),
                Some((status, code)) => {
                    assert_eq!(reply.status, status, "{method} {path} as {who:?}: {}", reply.text);
                    assert_eq!(reply.body["error"]["code"], code, "{method} {path} as {who:?}");
                }
            }
        }
    }
    // Public: no key needed.
    assert_eq!(server.get_as(None, "/health").status, 200);
    assert_eq!(server.get_as(None, "/openapi.json").status, 200);
}

#[test]
fn a_key_over_its_rate_limit_gets_429_with_retry_after() {
    let server = TestServer::start_with(ServerSettings { rate_limit_per_minute: 3, ..ServerSettings::default() });
    let lender = server.key(PrincipalRole::Lender, "bank-a");
    for _ in 0..3 {
        assert_ne!(server.get_as(Some(&lender), "/v1/log/head").status, 429);
    }
    let mut request = server.agent.get(&format!("{}/v1/log/head", server.base));
    request = request.header("authorization", &format!("Bearer {lender}"));
    let response = request.call().unwrap();
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry_after), "Retry-After {retry_after}");
    // Another key has its own bucket.
    assert_ne!(server.get_as(Some(&server.operator), "/v1/log/head").status, 429);
}

/// RFC 9162 §2.1.3.2, written out here independently of the registry's ct-merkle.
fn verify_inclusion(leaf: [u8; 32], index: u64, size: u64, path: &[[u8; 32]], root: [u8; 32]) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn, mut r) = (index, size - 1, leaf);
    for p in path {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == root
}

/// RFC 9162 §2.1.4.2.
fn verify_consistency(first: u64, second: u64, path: &[[u8; 32]], first_root: [u8; 32], second_root: [u8; 32]) -> bool {
    if first == second {
        return path.is_empty() && first_root == second_root;
    }
    let mut path: Vec<[u8; 32]> = path.to_vec();
    if first.is_power_of_two() {
        path.insert(0, first_root);
    }
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let Some((&c, rest)) = path.split_first() else { return false };
    let (mut fr, mut sr) = (c, c);
    for p in rest {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node(p, &fr);
            sr = node(p, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node(&sr, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    fr == first_root && sr == second_root && sn == 0
}

fn node(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    Sha256::new_with_prefix([1u8]).chain_update(left).chain_update(right).finalize().into()
}

fn hash(text: &Value) -> [u8; 32] {
    base64::engine::general_purpose::STANDARD.decode(text.as_str().unwrap()).unwrap().try_into().unwrap()
}

#[test]
fn a_consumer_sees_every_read_of_their_data_and_can_prove_each() {
    let server = TestServer::start();
    assert_eq!(server.submit("payplat", &example("spec-example.jsonl")).status, 201);
    assert_eq!(server.submit("bank", &example("history-example.jsonl")).status, 201);
    let consumer = server.registry.create_key(PrincipalRole::Consumer, "me", Some((IdType::CnRid, SUBJECT_ID))).unwrap().key;
    let other =
        server.registry.create_key(PrincipalRole::Consumer, "someone else", Some((IdType::CnRid, "320102198706153316"))).unwrap().key;

    // The operator looks twice, the consumer once, someone else at their own file.
    let body = format!(r#"{{"id_type":"cn_rid","id":"{SUBJECT_ID}"}}"#);
    assert_eq!(server.report(serde_json::from_str(&body).unwrap()).status, 200);
    let mine = server.get_as(Some(&consumer), "/v1/me/report");
    assert_eq!(mine.status, 200, "{}", mine.text);
    assert_eq!(mine.body["subject"]["identifiers"][0]["id"], SUBJECT_ID, "a consumer's own report is unmasked");
    assert_eq!(server.get_as(Some(&other), "/v1/me/report").status, 200);
    let registry_id = mine.body["subject"]["registry_id"].as_str().unwrap().to_owned();
    assert_eq!(server.get(&format!("/v1/subjects/{registry_id}/report")).status, 200);

    let accesses = server.get_as(Some(&consumer), "/v1/me/accesses");
    assert_eq!(accesses.status, 200);
    let entries = accesses.body["accesses"].as_array().unwrap().clone();
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["drill_down", "self_view", "drill_down"], "{}", accesses.text);
    assert!(entries.iter().all(|e| e["subject"] == registry_id.as_str()));
    assert_eq!(entries[0]["actor"]["role"], "operator");

    let head = server.get_as(Some(&consumer), "/v1/log/head");
    assert_eq!(head.body["size"], 4);
    for entry in &entries {
        let seq = entry["seq"].as_u64().unwrap();
        let proof = server.get_as(Some(&consumer), &format!("/v1/me/accesses/{seq}/proof"));
        assert_eq!(proof.status, 200, "{}", proof.text);
        let text = proof.body["entry"].as_str().unwrap();
        assert_eq!(serde_json::from_str::<Value>(text).unwrap(), *entry, "the proven entry is the listed one");
        let leaf: [u8; 32] = Sha256::new_with_prefix([0u8]).chain_update(text.as_bytes()).finalize().into();
        assert_eq!(leaf, hash(&proof.body["leaf_hash"]));
        let path: Vec<[u8; 32]> = proof.body["path"].as_array().unwrap().iter().map(hash).collect();
        assert!(verify_inclusion(leaf, seq, 4, &path, hash(&head.body["root"])), "entry {seq}");
        assert!(!verify_inclusion(leaf, seq ^ 1, 4, &path, hash(&head.body["root"])), "a proof is for one position");
        let proof: registry_service::audit::InclusionProofDoc = serde_json::from_value(proof.body.clone()).unwrap();
        registry_service::audit::check_inclusion(&proof).unwrap();
    }
    // Another person's entry is not theirs to see.
    let others = server.get_as(Some(&other), "/v1/me/accesses").body["accesses"][0]["seq"].as_u64().unwrap();
    assert_eq!(server.get_as(Some(&consumer), &format!("/v1/me/accesses/{others}/proof")).status, 404);

    // Every head since the first is consistent with the latest.
    for from in 1..=4u64 {
        let proof = server.get_as(Some(&consumer), &format!("/v1/log/consistency?from={from}&to=4"));
        assert_eq!(proof.status, 200, "{}", proof.text);
        let path: Vec<[u8; 32]> = proof.body["path"].as_array().unwrap().iter().map(hash).collect();
        assert!(
            verify_consistency(from, 4, &path, hash(&proof.body["from_head"]["root"]), hash(&proof.body["to_head"]["root"])),
            "{from} → 4"
        );
    }
    assert_eq!(server.get_as(Some(&consumer), "/v1/log/consistency?from=3&to=2").status, 400);
    assert_eq!(server.get_as(Some(&consumer), "/v1/log/consistency?from=1&to=99").status, 404);
    assert!(matches!(server.registry.verify_log().unwrap(), Ok(v) if v.entries == 4));
}

#[test]
fn a_lender_inquires_under_consent_over_http() {
    let server = TestServer::start();
    assert_eq!(server.submit("payplat", &example("spec-example.jsonl")).status, 201);
    let consumer = server.registry.create_key(PrincipalRole::Consumer, "me", Some((IdType::CnRid, SUBJECT_ID))).unwrap().key;
    let lender = server.key(PrincipalRole::Lender, "bank-a");
    let inquiry = |consent: &str, birth_date: &str, purpose: &str| {
        let body = serde_json::json!({
            "subject": {"id_type": "cn_rid", "id": SUBJECT_ID, "family_name": "wang", "given_name": "Fang", "birth_date": birth_date},
            "purpose": purpose, "consent_id": consent,
        });
        server.post_as(Some(&lender), "/v1/inquiries", body.to_string().as_bytes())
    };
    let code = |reply: &super::Reply| (reply.status, reply.body["error"]["code"].as_str().unwrap_or("").to_string());

    assert_eq!(code(&inquiry("cns_1_000000000000000000000000", "1949-12-31", "credit_application")), (403, "consent_required".into()));
    let granted = server.post_as(
        Some(&consumer),
        "/v1/me/consents",
        br#"{"lender": "bank-a", "purpose": "credit_application", "expires": "2099-12-31"}"#,
    );
    assert_eq!(granted.status, 201, "{}", granted.text);
    let consent = granted.body["consent_id"].as_str().unwrap().to_owned();
    assert_eq!(
        server.post_as(Some(&consumer), "/v1/me/consents", br#"{"lender": "bank-a", "purpose": "x", "expires": "2099-12-31"}"#).status,
        400
    );

    let answered = inquiry(&consent, "1949-12-31", "credit_application");
    assert_eq!(answered.status, 200, "{}", answered.text);
    assert_eq!(answered.body["accounts"].as_array().unwrap().len(), 2);
    assert_eq!(code(&inquiry(&consent, "1950-01-01", "credit_application")), (404, "subject_not_found".into()));
    assert_eq!(code(&inquiry(&consent, "1949-12-31", "nonsense")), (400, "invalid_request".into()));

    assert_eq!(server.post_as(Some(&consumer), "/v1/me/freeze", b"").status, 201);
    assert_eq!(code(&inquiry(&consent, "1949-12-31", "credit_application")), (403, "file_frozen".into()));
    assert_eq!(server.delete_as(Some(&consumer), "/v1/me/freeze").status, 204);
    assert_eq!(inquiry(&consent, "1949-12-31", "credit_application").status, 200);

    let listed = server.get_as(Some(&consumer), "/v1/me/consents");
    assert_eq!(listed.body["consents"][0]["status"], "active");
    assert_eq!(server.delete_as(Some(&consumer), &format!("/v1/me/consents/{consent}")).status, 204);
    assert_eq!(code(&inquiry(&consent, "1949-12-31", "credit_application")), (403, "consent_required".into()));

    // The consumer sees both inquiries on their report and in their accesses.
    let mine = server.get_as(Some(&consumer), "/v1/me/report");
    assert_eq!(mine.body["inquiries"].as_array().unwrap().len(), 2);
    let accesses = server.get_as(Some(&consumer), "/v1/me/accesses");
    let inquiries: Vec<&Value> = accesses.body["accesses"].as_array().unwrap().iter().filter(|a| a["action"] == "inquiry").collect();
    assert_eq!(inquiries.len(), 2);
    assert_eq!(inquiries[0]["consent_id"], consent.as_str());

    // A dispute reaches the furnisher's queue and is answered there.
    let opened = server.post_as(
        Some(&consumer),
        "/v1/me/disputes",
        br#"{"furnisher": "payplat", "account": "JB-778", "field": "past_due", "reason": "paid"}"#,
    );
    assert_eq!(opened.status, 201, "{}", opened.text);
    let furnisher = server.key(PrincipalRole::Furnisher, "payplat");
    let queue = server.get_as(Some(&furnisher), "/v1/furnishers/payplat/disputes");
    assert_eq!(queue.body["disputes"][0]["dispute_id"], opened.body["dispute_id"]);
    let path = format!("/v1/furnishers/payplat/disputes/{}/resolution", opened.body["dispute_id"].as_str().unwrap());
    assert_eq!(server.post_as(Some(&furnisher), &path, br#"{"outcome": "confirmed", "note": "checked"}"#).status, 204);
    assert_eq!(server.get_as(Some(&furnisher), "/v1/furnishers/payplat/disputes").body["disputes"].as_array().unwrap().len(), 0);
    assert_eq!(server.get_as(Some(&consumer), "/v1/me/disputes").body["disputes"][0]["status"], "confirmed");
}
