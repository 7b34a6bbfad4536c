//! The pages in a real browser: headless Chromium over WebDriver, driven by
//! `tests/browser/run.mjs` (selenium-webdriver and axe-core from npm, `npm ci` in that folder).
//! `.ci/run` installs what it needs and sets `BROWSER_TESTS=1`, which makes a missing browser a
//! failure; elsewhere the test says what is missing and passes without running.

use std::path::PathBuf;
use std::process::Command;

use registry_core::model::IdType;
use registry_service::keys::PrincipalRole;

use super::{TestServer, example};

#[test]
fn each_role_uses_its_pages_in_chromium() {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let scripts = here.join("tests/browser");
    let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let missing: Vec<&str> = [
        (!PathBuf::from(&chromedriver).exists()).then_some("chromedriver (Debian: chromium chromium-driver)"),
        (!scripts.join("node_modules/selenium-webdriver").exists()).then_some("tests/browser/node_modules (npm ci there)"),
        Command::new("node").arg("--version").output().is_err().then_some("node"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !missing.is_empty() {
        assert!(std::env::var_os("BROWSER_TESTS").is_none(), "BROWSER_TESTS is set but this is missing: {missing:?}");
        eprintln!("browser test not run; missing: {missing:?}");
        return;
    }
    let server = TestServer::start();
    assert_eq!(server.submit("payplat", &example("spec-example.jsonl")).status, 201);
    let subject_id = "11010519491231002X";
    let keys = serde_json::json!({
        "consumer": server.registry.create_key(PrincipalRole::Consumer, "Wang Fang", Some((IdType::CnRid, subject_id))).unwrap().key,
        "lender": server.key(PrincipalRole::Lender, "bank-a"),
        "furnisher": server.key(PrincipalRole::Furnisher, "payplat"),
        "supervisor": server.key(PrincipalRole::Supervisor, "pboc"),
        "subject_id": subject_id,
    });
    // A file the furnisher uploads from the page: one record to apply, one to reject.
    let upload = tempfile::tempdir().unwrap();
    let file = upload.path().join("payplat-2021-07.jsonl");
    let good = r#"{"account":"WEB-1","as_of":"2021-07-31","product":"microloan","opened":"2021-07-01","currency":"CNY","original_amount":100000,"term_months":6,"scheduled_payment":17000,"balance":100000,"past_due":0,"status":"current","payment_history":"","subjects":[{"role":"primary","id_type":"cn_rid","id":"11010519491231002X","family_name":"Wang","given_name":"Fang","birth_date":"1949-12-31"}]}"#;
    let bad = good.replace("WEB-1", "WEB-2").replace("\"current\"", "\"sideways\"");
    std::fs::write(&file, format!("{good}\n{bad}\n{{\"trailer\":{{\"records\":2}}}}\n")).unwrap();
    // Screenshots are the test's artifacts: look at them.
    let out = here.join("../../target/browser-screenshots");
    let run = Command::new("node")
        .arg(scripts.join("run.mjs"))
        .env("BASE", &server.base)
        .env("KEYS", keys.to_string())
        .env("OUT", &out)
        .env("CHROMEDRIVER", &chromedriver)
        .env("UPLOAD", &file)
        .output()
        .expect("node runs");
    assert!(
        run.status.success(),
        "the browser test failed:\n{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
}
