//! Data quality over HTTP: a furnisher's scorecard and findings, the supervisor's overview.

use registry_service::keys::PrincipalRole;

use super::TestServer;

/// A record that passes validation but that evaluators flag: status `current` with a date of
/// first delinquency.
const FLAGGED: &str = r#"{"account":"Q-1","as_of":"2021-06-30","product":"credit_card","opened":"2020-01-01","currency":"CNY","credit_limit":500000,"balance":1000,"past_due":0,"status":"current","first_delinquency":"2021-03-01","subjects":[{"role":"primary","id_type":"cn_rid","id":"11010519491231002X","family_name":"Wang","given_name":"Fang","birth_date":"1949-12-31"}]}"#;

#[test]
fn a_furnisher_sees_its_findings_and_the_supervisor_every_furnishers() {
    let server = TestServer::start();
    let reply = server.submit("payplat", format!("{FLAGGED}\n").as_bytes());
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.body["quality_hits"]["STATUS-DOFD-1"], 1, "the submission's result says what the evaluators found: {}", reply.text);

    let own = server.key(PrincipalRole::Furnisher, "payplat");
    let reply = server.get_as(Some(&own), "/v1/furnishers/payplat/quality?month=2021-06");
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["total"], 1);
    let finding = &reply.body["findings"][0];
    assert_eq!(
        (finding["evaluator"].as_str(), finding["account"].as_str(), finding["as_of"].as_str()),
        (Some("STATUS-DOFD-1"), Some("Q-1"), Some("2021-06-30"))
    );
    assert!(!reply.text.contains("11010519491231002X") && !reply.text.contains("Wang"), "findings name no person: {}", reply.text);
    assert_eq!(reply.body["scorecard"]["high_findings"], 1);
    assert_eq!(reply.body["scorecard"]["evaluators"][0]["months"][0]["per_10000"], 10000.0);

    let supervisor = server.key(PrincipalRole::Supervisor, "pboc");
    let reply = server.get_as(Some(&supervisor), "/v1/quality?limit=1");
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["overview"]["furnishers"][0]["furnisher"], "payplat");
    for (path, code) in [("/v1/quality?month=June", "invalid_request"), ("/v1/quality?limit=0", "invalid_request")] {
        let reply = server.get_as(Some(&supervisor), path);
        assert_eq!((reply.status, reply.body["error"]["code"].as_str()), (400, Some(code)), "{path}");
    }
}
