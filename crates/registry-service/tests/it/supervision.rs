//! Supervision through the store, on both backends: the spec's worked example to the unit, a
//! correction, both backends alike on a synthetic market, and the drill-down's audited reads.

use std::path::Path;

use registry_core::report::{SubjectKey, YearMonth};
use registry_core::supervision::{BorrowerList, Section};
use registry_service::Registry;
use registry_service::audit::{Access, AccessAction, AccessEntry};
use registry_synth::Params;
use serde_json::{Value, json};

use crate::{Backend, examples, ingest, on_both_backends, open_on};

on_both_backends!(
    the_spec_example_gives_its_expected_document,
    a_correction_replaces_what_the_month_counts,
    each_person_a_drill_down_lists_is_an_audited_read,
);

fn month(text: &str) -> YearMonth {
    YearMonth::parse(text).unwrap()
}

fn document(registry: &Registry, month_text: &str, sections: &[Section]) -> Value {
    serde_json::to_value(registry.supervise(month(month_text), sections, &|_, _| {}).unwrap()).unwrap()
}

/// Ingests `shared/spec/examples/supervision` in the order of its `order.txt`.
fn ingest_the_spec_example(registry: &Registry) {
    let dir = examples().join("supervision");
    for line in std::fs::read_to_string(dir.join("order.txt")).unwrap().lines().filter(|l| !l.trim().is_empty()) {
        let (furnisher, file) = line.split_once(' ').unwrap();
        ingest(registry, furnisher, &std::fs::read(dir.join(file)).unwrap());
    }
}

fn the_spec_example_gives_its_expected_document(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = open_on(backend, dir.path()) else { return };
    ingest_the_spec_example(&registry);
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(examples().join("supervision/2021-07.expected.json")).unwrap()).unwrap();
    assert_eq!(document(&registry, "2021-07", &[]), expected);
    // One section: that key and the month only.
    assert_eq!(document(&registry, "2021-07", &[Section::CoLending]), json!({"month": "2021-07", "co_lending": expected["co_lending"]}));
}

const LI: &str =
    r#"{"role":"primary","id_type":"cn_rid","id":"110105198001011238","family_name":"Li","given_name":"Wei","birth_date":"1980-01-01"}"#;

fn a_correction_replaces_what_the_month_counts(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = open_on(backend, dir.path()) else { return };
    let line = |balance: u64, status: &str| {
        format!(
            r#"{{"account":"M1","as_of":"2021-07-31","product":"microloan","opened":"2021-07-02","currency":"CNY","original_amount":40000000,"term_months":12,"balance":{balance},"past_due":0,"status":"{status}","subjects":[{LI}]}}"#
        ) + "\n"
    };
    ingest(&registry, "payplat", line(35_000_000, "current").as_bytes());
    let before = document(&registry, "2021-07", &[]);
    assert_eq!(before["market"]["rows"][0]["balance_open"], 35_000_000);
    assert_eq!(before["borrowers"]["over_microloan_cap"], json!({"CNY": 1}));
    // The furnisher corrects the balance: the month counts the corrected record only.
    ingest(&registry, "payplat", line(25_000_000, "current").as_bytes());
    let after = document(&registry, "2021-07", &[]);
    assert_eq!(after["market"]["rows"][0]["balance_open"], 25_000_000);
    assert_eq!(after["market"]["rows"][0]["accounts_open"], 1);
    assert_eq!(after["borrowers"]["over_microloan_cap"], json!({"CNY": 0}));
}

fn supervisor() -> Access {
    Access {
        actor: registry_service::audit::Actor { key_id: Some("sup1".into()), name: "central-bank".into(), role: "supervisor".into() },
        action: AccessAction::DrillDown,
        purpose: None,
        consent_id: None,
    }
}

fn each_person_a_drill_down_lists_is_an_audited_read(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = open_on(backend, dir.path()) else { return };
    // Li borrows 350,000 yuan on two platforms' microloans, both opened in July: over the cap,
    // and stacking.
    for (furnisher, account, balance, opened) in
        [("payplat", "P1", 20_000_000, "2021-07-03"), ("quickloan", "Q1", 15_000_000, "2021-07-20")]
    {
        let line = format!(
            r#"{{"account":"{account}","as_of":"2021-07-31","product":"microloan","opened":"{opened}","currency":"CNY","original_amount":{balance},"term_months":12,"balance":{balance},"past_due":0,"status":"current","subjects":[{LI}]}}"#
        ) + "\n";
        ingest(&registry, furnisher, line.as_bytes());
    }
    ingest_the_spec_example(&registry);
    let aggregates_logged_nothing = registry.verify_log().unwrap().map_or(0, |v| v.entries);
    document(&registry, "2021-07", &[]);
    assert_eq!(registry.verify_log().unwrap().map_or(0, |v| v.entries), aggregates_logged_nothing, "aggregates name no one");

    for list in [BorrowerList::OverMicroloanCap, BorrowerList::Stacking] {
        let listing = registry.supervision_list(&supervisor(), month("2021-07"), list, &|_, _| {}).unwrap();
        let value = serde_json::to_value(&listing).unwrap();
        assert_eq!(value["subjects"].as_array().unwrap().len(), 1, "{list}: {value}");
        let listed = &value["subjects"][0];
        // Li also owes the spec example's A1 (100,000 fen, payplat, opened in July).
        assert_eq!(listed["microloan_balance"], json!({"CNY": 35_100_000}), "{list}");
        assert_eq!(listed["recently_opened_at"], json!(["payplat", "quickloan"]), "{list}");
        let subject = SubjectKey::parse_registry_id(listed["registry_id"].as_str().unwrap()).unwrap();
        let seen: Vec<AccessEntry> = registry.subject_accesses(subject).unwrap();
        let last = seen.last().unwrap();
        assert_eq!(
            (last.actor.name.as_str(), last.action, last.purpose.as_deref()),
            ("central-bank", AccessAction::DrillDown, Some("supervision")),
            "the person sees who looked and why"
        );
    }
    assert_eq!(registry.verify_log().unwrap().unwrap().entries, aggregates_logged_nothing + 2);
}

/// The same synthetic market on both backends gives the same document, month by month.
#[test]
fn both_backends_give_the_same_measures_of_a_synthetic_market() {
    let files = tempfile::tempdir().unwrap();
    let params = Params { seed: 11, warmup_months: 18, invalid_share: 0.02, ..Params::new(400, 6, YearMonth::parse("2022-05").unwrap()) };
    let manifest = registry_synth::generate(&params, files.path(), &mut |_| {}).unwrap();
    let ingest_all = |registry: &Registry, dir: &Path| {
        for file in &manifest.files {
            ingest(registry, &file.furnisher, &std::fs::read(dir.join(&file.path)).unwrap());
        }
    };
    let (sqlite_dir, postgres_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sqlite = open_on(Backend::Sqlite, sqlite_dir.path()).unwrap();
    let Some(postgres) = open_on(Backend::Postgres, postgres_dir.path()) else { return };
    ingest_all(&sqlite, files.path());
    ingest_all(&postgres, files.path());
    for month_text in ["2022-03", "2022-05", "2022-08"] {
        let embedded = document(&sqlite, month_text, &[]);
        assert!(embedded["borrowers"]["subjects"].as_u64().unwrap() > 0 || month_text == "2022-08", "{month_text}: a market");
        assert_eq!(document(&postgres, month_text, &[]), embedded, "{month_text}");
        for list in [BorrowerList::OverMicroloanCap, BorrowerList::Stacking] {
            let listed = |registry: &Registry| {
                serde_json::to_value(registry.supervision_list(&supervisor(), month(month_text), list, &|_, _| {}).unwrap()).unwrap()
            };
            assert_eq!(listed(&postgres), listed(&sqlite), "{month_text} {list}");
        }
    }
}
