//! The supervisor's endpoints over HTTP on both backends: each section as the spec's example
//! expects it, clear errors, and the drill-down's reads in the listed person's own accesses.

use registry_core::model::IdType;
use registry_server::ServerSettings;
use registry_service::keys::PrincipalRole;
use serde_json::{Value, json};

use super::TestServer;

fn supervision_example(name: &str) -> Vec<u8> {
    std::fs::read(std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/examples/supervision").join(name))
        .unwrap()
}

/// Li Wei of the spec example: a microloan of 1,000 yuan at payplat.
const LI: &str = "110105198001011238";

#[test]
fn supervision_over_http_on_both_backends() {
    let expected: Value = serde_json::from_slice(&supervision_example("2021-07.expected.json")).unwrap();
    let mut backends = vec![None];
    if let Some(database) = registry_store::testing::TestDatabase::create() {
        backends.push(Some(database));
    }
    for database in backends {
        let on = if database.is_some() { "postgres" } else { "sqlite" };
        // A cap of 500 yuan puts Li's microloan over it.
        let server = TestServer::start_on(ServerSettings::default(), database, |settings| {
            settings.supervision.policy.microloan_cap_minor.insert(registry_core::model::Currency::from_code("CNY").unwrap(), 50_000);
        });
        for line in String::from_utf8(supervision_example("order.txt")).unwrap().lines().filter(|l| !l.is_empty()) {
            let (furnisher, file) = line.split_once(' ').unwrap();
            assert_eq!(server.submit(furnisher, &supervision_example(file)).status, 201, "{on}");
        }
        let supervisor = server.key(PrincipalRole::Supervisor, "pboc");
        for section in ["market", "co_lending", "borrowers", "credit_risk"] {
            let reply = server.get_as(Some(&supervisor), &format!("/v1/supervision/{section}?month=2021-07"));
            assert_eq!(reply.status, 200, "{on} {section}: {}", reply.text);
            let mut wanted = json!({"month": "2021-07", section: expected[section]});
            if section == "borrowers" {
                wanted["borrowers"]["over_microloan_cap"] = json!({"CNY": 1});
            }
            assert_eq!(reply.body, wanted, "{on} {section}");
        }
        for (path, status, code) in [
            ("/v1/supervision/everything?month=2021-07", 404, "not_found"),
            ("/v1/supervision/market?month=July", 400, "invalid_request"),
            ("/v1/supervision/market", 400, "invalid_request"),
            ("/v1/supervision/borrowers/everyone?month=2021-07", 404, "not_found"),
        ] {
            let reply = server.get_as(Some(&supervisor), path);
            assert_eq!((reply.status, reply.body["error"]["code"].as_str()), (status, Some(code)), "{on} {path}: {}", reply.text);
        }

        // The drill-down names Li by registry id; Li sees the supervisor's read.
        let listed = server.get_as(Some(&supervisor), "/v1/supervision/borrowers/over_microloan_cap?month=2021-07");
        assert_eq!(listed.status, 200, "{on}: {}", listed.text);
        let subjects = listed.body["subjects"].as_array().unwrap();
        assert_eq!(subjects.len(), 1, "{on}: {}", listed.text);
        assert_eq!(subjects[0]["microloan_balance"], json!({"CNY": 100000}));
        let li = server.registry.create_key(PrincipalRole::Consumer, "li", Some((IdType::CnRid, LI))).unwrap().key;
        let accesses = server.get_as(Some(&li), "/v1/me/accesses");
        let entries = accesses.body["accesses"].as_array().unwrap();
        let read = entries.last().unwrap();
        assert_eq!(
            (read["actor"]["name"].as_str(), read["purpose"].as_str()),
            (Some("pboc"), Some("supervision")),
            "{on}: {}",
            accesses.text
        );
        assert_eq!(read["subject"], subjects[0]["registry_id"]);
    }
}
