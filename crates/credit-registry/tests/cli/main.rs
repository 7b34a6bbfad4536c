//! The real binary, as a user and CI run it: exit statuses, JSON documents, faults.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_credit-registry");

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/examples")
}

/// Runs the binary with a data directory of its own.
fn run(data: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env_remove("CREDIT_REGISTRY_DATA")
        .env_remove("CREDIT_REGISTRY_CONFIG")
        .output()
        .expect("the binary runs")
}

fn json_of(output: &Output) -> Value {
    let text = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {text}\nstderr: {}", String::from_utf8_lossy(&output.stderr)))
}

fn status(output: &Output) -> i32 {
    output.status.code().expect("exited normally")
}

#[test]
fn help_version_and_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["--help"][..], &["--version"], &["ingest", "--help"], &["report", "--help"]] {
        let output = run(dir.path(), args);
        assert_eq!(status(&output), 0, "{args:?}");
    }
    let help = String::from_utf8(run(dir.path(), &["ingest", "--help"]).stdout).unwrap();
    assert!(help.contains("--furnisher") && help.contains("--json") && help.contains("--data-dir"), "{help}");
    for args in [&["--frobnicate"][..], &["ingest"], &["ingest", "--furnisher", "bad id", "x.jsonl"], &["report", "--id", "1"], &[]] {
        assert_eq!(status(&run(dir.path(), args)), 64, "{args:?}");
    }
    let output = run(dir.path(), &["report", "--as-of", "2021-02-30", "--registry-id", "S1", "--json"]);
    assert_eq!(status(&output), 64);
    assert_eq!(json_of(&output)["error"]["code"], "usage");
    let output = run(dir.path(), &["report", "--id-type", "ssn", "--id", "000000000", "--json"]);
    assert_eq!((status(&output), json_of(&output)["error"]["code"].as_str()), (2, Some("subject_not_found")));
}

#[test]
fn ingest_and_report_the_spec_examples() {
    let dir = tempfile::tempdir().unwrap();
    for (stem, furnisher) in [("spec-example", "payplat"), ("history-example", "bankx")] {
        let file = examples().join(format!("{stem}.jsonl"));
        let output = run(dir.path(), &["ingest", "--furnisher", furnisher, file.to_str().unwrap(), "--json"]);
        assert_eq!(status(&output), 0, "{}", String::from_utf8_lossy(&output.stderr));
        let document = json_of(&output);
        let entry = &document["files"][0];
        assert_eq!(entry["status"], "applied");
        assert_eq!(entry["rejected"], 0);
        assert!(entry["submission_id"].as_str().unwrap().starts_with("sub_"));
        assert_eq!(entry["errors"], serde_json::json!([]));

        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(examples().join(format!("{stem}.summary.json"))).unwrap()).unwrap();
        let id_type = expected["subject"]["id_type"].as_str().unwrap();
        let id = expected["subject"]["id"].as_str().unwrap();
        let as_of = expected["as_of"].as_str().unwrap();
        // Global options go before or after the subcommand.
        let output = Command::new(BIN)
            .args(["--data-dir", dir.path().to_str().unwrap(), "report", "--id-type", id_type, "--id", id, "--as-of", as_of, "--json"])
            .output()
            .unwrap();
        assert_eq!(status(&output), 0);
        assert_eq!(json_of(&output)["summary"], expected["summary"], "{stem}");
        let text = run(dir.path(), &["report", "--id-type", id_type, "--id", id, "--as-of", as_of]);
        let text = String::from_utf8(text.stdout).unwrap();
        assert!(text.contains("SUMMARY") && text.contains("ACCOUNTS"), "{text}");
        assert!(!text.contains(id), "the identifier is masked in the text report");
    }
    // The same file again changes nothing.
    let file = examples().join("spec-example.jsonl");
    let output = run(dir.path(), &["ingest", "--furnisher", "payplat", file.to_str().unwrap(), "--json"]);
    assert_eq!(json_of(&output)["files"][0]["status"], "duplicate");
}

#[test]
fn rejected_files_and_missing_subjects_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("truncated.jsonl");
    let text = std::fs::read_to_string(examples().join("spec-example.jsonl")).unwrap().replace("\"records\":2", "\"records\":9");
    std::fs::write(&broken, text).unwrap();
    let good = examples().join("history-example.jsonl");
    let missing = dir.path().join("missing.jsonl");
    let output = run(
        dir.path(),
        &["ingest", "--furnisher", "payplat", broken.to_str().unwrap(), good.to_str().unwrap(), missing.to_str().unwrap(), "--json"],
    );
    assert_eq!(status(&output), 2);
    let files = json_of(&output)["files"].as_array().unwrap().clone();
    let statuses: Vec<&str> = files.iter().map(|f| f["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["rejected", "applied", "rejected"]);
    assert_eq!(files[0]["error"]["code"], "trailer_mismatch");
    assert_eq!(files[2]["error"]["code"], "file_unreadable");

    let output = run(dir.path(), &["report", "--id-type", "cn_rid", "--id", "11010519491231002X", "--json"]);
    assert_eq!(status(&output), 2);
    assert_eq!(json_of(&output)["error"]["code"], "subject_not_found");
    let output = run(dir.path(), &["report", "--registry-id", "S999999", "--json"]);
    assert_eq!(status(&output), 2);
}

#[test]
fn a_file_on_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["ingest", "--furnisher", "payplat", "-", "--json", "--data-dir", dir.path().to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &std::fs::read(examples().join("spec-example.jsonl")).unwrap()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(json_of(&output)["files"][0]["accepted"], 2);
}

fn generate(dir: &Path, out: &Path, args: &[&str]) {
    let mut all = vec!["generate", "--out", out.to_str().unwrap(), "--end-month", "2026-10"];
    all.extend_from_slice(args);
    let output = run(dir, &all);
    assert_eq!(status(&output), 0, "{}", String::from_utf8_lossy(&output.stderr));
}

fn manifest(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn a_generated_population_with_broken_records_provokes_every_rule() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("population");
    generate(dir.path(), &out, &["--subjects", "120", "--months", "6", "--invalid-share", "1"]);
    // Metro 2's own problems too (unreadable records exist only there).
    let metro2 = dir.path().join("metro2");
    generate(dir.path(), &metro2, &["--subjects", "40", "--months", "2", "--invalid-share", "1", "--format", "metro2"]);
    let mut codes = BTreeSet::new();
    for out in [&out, &metro2] {
        for file in manifest(out)["files"].as_array().unwrap() {
            let path = out.join(file["path"].as_str().unwrap());
            let output = run(dir.path(), &["ingest", "--furnisher", file["furnisher"].as_str().unwrap(), path.to_str().unwrap(), "--json"]);
            assert_eq!(status(&output), 0, "{}", String::from_utf8_lossy(&output.stdout));
            for error in json_of(&output)["files"][0]["errors"].as_array().unwrap() {
                codes.insert(error["code"].as_str().unwrap().to_string());
            }
        }
    }
    let all: BTreeSet<String> = registry_core::furnishing::RecordErrorCode::ALL.iter().map(|c| c.as_str().to_string()).collect();
    let missing: Vec<&String> = all.difference(&codes).collect();
    assert!(missing.is_empty(), "never provoked: {missing:?}");
}

#[test]
fn the_demo_runs_from_an_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &["demo", "--subjects", "400", "--months", "6", "--end-month", "2026-10", "--no-serve"]);
    assert_eq!(status(&output), 0, "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("applied") && text.contains("records accepted"), "{text}");
    assert!(text.contains("report --data-dir"), "{text}");
    // The supervisor's view: its command, and the co-lending breach the market is made to show.
    assert!(text.contains("supervise --data-dir") && text.contains("--month 2026-10"), "{text}");
    assert!(text.contains("bank-river: co-lending with payplat at") && text.contains("over the 25% limit"), "{text}");
    // The findings the evaluators stored at ingest, on the defects the generator planted.
    let findings = text.split("Data quality").nth(1).and_then(|rest| rest.split_whitespace().find_map(|w| w.parse::<u64>().ok()));
    assert!(findings.is_some_and(|n| n > 0), "{text}");
    assert!(text.contains("quality scorecard --data-dir"), "{text}");
    // The registry id it prints gives a report.
    let registry_id = text
        .split_whitespace()
        .find(|w| w.starts_with('S') && w.len() == 10 && w[1..].bytes().all(|b| b.is_ascii_digit()))
        .expect("a registry id");
    let output = run(dir.path(), &["report", "--registry-id", registry_id, "--json"]);
    assert_eq!(status(&output), 0);
    assert!(json_of(&output)["summary"]["accounts_total"].as_u64().unwrap() > 0);
    // Again: reuses the population and recognises every file.
    let again = run(dir.path(), &["demo", "--subjects", "400", "--months", "6", "--end-month", "2026-10", "--no-serve"]);
    assert!(String::from_utf8(again.stdout).unwrap().contains("0 applied"));
}

#[test]
fn serve_answers_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, address, _stderr, _) = serve(dir.path(), "info");
    let mut response = ureq::get(&format!("http://{address}/health")).call().unwrap();
    assert!(response.body_mut().read_to_string().unwrap().contains("\"ok\""));
    unsafe_kill(child.id(), "TERM");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

/// Each request is logged once answered: its id (the `x-request-id` it was given), method,
/// route template, status and latency.
#[test]
fn serve_logs_each_request_with_its_id_route_status_and_latency() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, address, mut stderr, _) = serve(dir.path(), "info");
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let response = agent.get(&format!("http://{address}/v1/subjects/S000000042/report")).call().unwrap();
    let id = response.headers().get("x-request-id").unwrap().to_str().unwrap().to_owned();
    unsafe_kill(child.id(), "TERM");
    child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let line = rest.lines().find(|line| line.contains(&id)).unwrap_or_else(|| panic!("no log line names request {id}: {rest}"));
    for part in ["route=/v1/subjects/{registry_id}/report", "status=401", "latency_ms="] {
        assert!(line.contains(part), "{part} in {line}");
    }
    assert!(!line.contains("S000000042"), "the route's template, not the path: {line}");
}

/// Starts `serve` on a free port with the given log filter: the child, its address, the rest of
/// its stderr and the lines it printed up to the address. The caller stops and waits for it.
#[allow(clippy::zombie_processes)]
fn serve(data: &Path, log: &str) -> (std::process::Child, String, BufReader<std::process::ChildStderr>, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", data.to_str().unwrap()])
        .env("CREDIT_REGISTRY_LOG", log)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let (mut line, mut printed) = (String::new(), String::new());
    loop {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "serve exited early");
        printed.push_str(&line);
        if let Some(rest) = line.split("http://").nth(1) {
            let address = rest.split_whitespace().next().unwrap().to_string();
            return (child, address, stderr, printed);
        }
    }
}

fn unsafe_kill(pid: u32, signal: &str) {
    let ok = Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status().unwrap();
    assert!(ok.success());
}

/// A large single-furnisher file for the fault tests.
fn big_file(dir: &Path) -> (PathBuf, Value) {
    let out = dir.join("big");
    generate(dir, &out, &["--subjects", "12000", "--months", "1", "--invalid-share", "0", "--layout", "combined"]);
    let manifest = manifest(&out);
    let file = &manifest["files"][0];
    (out.join(file["path"].as_str().unwrap()), file.clone())
}

fn first_subject_of(file: &Path) -> (String, String) {
    let text = std::fs::read_to_string(file).unwrap();
    let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let subject = &first["subjects"][0];
    (subject["id_type"].as_str().unwrap().to_string(), subject["id"].as_str().unwrap().to_string())
}

#[test]
fn a_killed_ingest_leaves_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (file, entry) = big_file(dir.path());
    let data = dir.path().join("registry");
    // Create the registry first, so the kill lands in the ingest, not in set-up.
    assert_eq!(status(&run(&data, &["report", "--registry-id", "S1", "--json"])), 2);
    let mut child = Command::new(BIN)
        .args(["ingest", "--furnisher", "big", file.to_str().unwrap(), "--json", "--data-dir", data.to_str().unwrap()])
        .env("CREDIT_REGISTRY_LOG", "registry_service=debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Kill once the submission's transaction has written a few batches of records.
    let mut log = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let mut batches = 0;
    while batches < 3 {
        line.clear();
        assert!(log.read_line(&mut line).unwrap() > 0, "the ingest ended before writing three batches");
        batches += usize::from(line.contains("batch written"));
    }
    // A reader is not held up by the submission being written, and sees none of it.
    let report = run(&data, &["report", "--registry-id", "S1", "--json"]);
    assert_eq!(status(&report), 2, "part of an uncommitted submission is visible");
    assert!(child.try_wait().unwrap().is_none(), "the ingest finished before it could be killed; make the file bigger");
    unsafe_kill(child.id(), "KILL");
    child.wait().unwrap();

    // Nothing of it is visible, and the store takes the same file again whole.
    let (id_type, id) = first_subject_of(&file);
    let after = run(&data, &["report", "--id-type", &id_type, "--id", &id, "--json"]);
    assert_eq!(status(&after), 2, "a killed submission left records behind: {}", String::from_utf8_lossy(&after.stdout));
    let output = run(&data, &["ingest", "--furnisher", "big", file.to_str().unwrap(), "--json"]);
    assert_eq!(status(&output), 0);
    let document = json_of(&output);
    assert_eq!(document["files"][0]["status"], "applied");
    assert_eq!(document["files"][0]["accepted"], entry["records"]);
    assert_eq!(status(&run(&data, &["report", "--id-type", &id_type, "--id", &id, "--json"])), 0);
}

#[test]
fn two_ingesting_processes_at_once_both_apply_whole() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("population");
    generate(dir.path(), &out, &["--subjects", "1500", "--months", "2", "--invalid-share", "0", "--layout", "combined"]);
    let manifest = manifest(&out);
    let files: Vec<(PathBuf, u64)> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (out.join(f["path"].as_str().unwrap()), f["records"].as_u64().unwrap()))
        .collect();
    let data = dir.path().join("registry");
    assert_eq!(status(&run(&data, &["report", "--registry-id", "S1"])), 2);
    let children: Vec<_> = files
        .iter()
        .map(|(path, _)| {
            Command::new(BIN)
                .args(["ingest", "--furnisher", "all", path.to_str().unwrap(), "--json", "--data-dir", data.to_str().unwrap()])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (child, (_, records)) in children.into_iter().zip(&files) {
        let output = child.wait_with_output().unwrap();
        assert_eq!(status(&output), 0, "{}", String::from_utf8_lossy(&output.stderr));
        let document = json_of(&output);
        assert_eq!(document["files"][0]["status"], "applied");
        assert_eq!(document["files"][0]["accepted"].as_u64(), Some(*records));
    }
}

fn metro2_samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/metro2")
}

#[test]
fn metro2_validate_lists_every_problem_and_exits_by_validity() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("population");
    generate(dir.path(), &out, &["--subjects", "30", "--months", "1", "--format", "metro2", "--invalid-share", "0"]);
    let file = manifest(&out)["files"][0]["path"].as_str().unwrap().to_string();
    let clean = out.join(&file);
    let output = run(dir.path(), &["metro2", "validate", clean.to_str().unwrap()]);
    assert_eq!(status(&output), 0, "{}", String::from_utf8_lossy(&output.stdout));
    assert!(String::from_utf8_lossy(&output.stdout).contains(": valid: "));

    // moov-io's sample: valid format, three consistency problems of its one account.
    let moov = metro2_samples().join("moov-io/unpacked_fixed_file.dat");
    let output = run(dir.path(), &["metro2", "validate", moov.to_str().unwrap(), "--json", "--threads", "2"]);
    assert_eq!(status(&output), 2);
    let document = json_of(&output);
    assert_eq!(document["valid"], false);
    assert_eq!(document["summary"]["data_records"], 1);
    let problems = document["problems"].as_array().unwrap();
    let located: Vec<(u64, &str, &str, &str)> = problems
        .iter()
        .map(|p| (p["record"].as_u64().unwrap(), p["segment"].as_str().unwrap(), p["field"].as_str().unwrap(), p["rule"].as_str().unwrap()))
        .collect();
    assert_eq!(
        located,
        [
            (2, "base", "date_opened", "date_order"),
            (2, "base", "current_balance", "balance_on_paid_account"),
            (2, "base", "date_closed", "date_order")
        ]
    );
    assert_eq!((problems[0]["offset"].as_u64(), problems[0]["value"].as_str()), (Some(545), Some("11222019")));

    // The CFPB's placeholder record lengths: rejected strictly, read leniently.
    let cfpb = metro2_samples().join("cfpb/m2_file_small.txt");
    let strict = json_of(&run(dir.path(), &["metro2", "validate", cfpb.to_str().unwrap(), "--json"]));
    assert_eq!(strict["problems"][0]["rule"], "invalid_descriptor");
    let lenient = json_of(&run(dir.path(), &["metro2", "validate", cfpb.to_str().unwrap(), "--json", "--lenient"]));
    assert_eq!((lenient["summary"]["data_records"].as_u64(), lenient["summary"]["file_problems"].as_u64()), (Some(3), Some(0)));

    let output = run(dir.path(), &["metro2", "validate", "/no/such/file", "--json"]);
    assert_eq!((status(&output), json_of(&output)["error"]["code"].as_str()), (2, Some("file_unreadable")));
}

#[test]
fn metro2_files_are_ingested_by_content_and_exported_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("population");
    generate(dir.path(), &out, &["--subjects", "60", "--months", "2", "--format", "metro2", "--invalid-share", "0.05"]);
    let manifest = manifest(&out);
    // The first month's biggest file (a first month holds no corrections of an earlier one).
    let files = manifest["files"].as_array().unwrap();
    let first_month = files[0]["month"].as_str().unwrap();
    let first = files.iter().filter(|f| f["month"] == first_month).max_by_key(|f| f["records"].as_u64()).unwrap();
    let (furnisher, path) = (first["furnisher"].as_str().unwrap(), out.join(first["path"].as_str().unwrap()));
    let output = run(dir.path(), &["ingest", "--furnisher", furnisher, path.to_str().unwrap(), "--json"]);
    assert_eq!(status(&output), 0);
    let document = json_of(&output);
    let file = &document["files"][0];
    assert_eq!((file["format"].as_str(), file["records"].as_u64()), (Some("metro2"), first["records"].as_u64()));
    let rejected = file["rejected"].as_u64().unwrap();
    assert!(rejected > 0, "some records were broken on purpose");
    for error in file["errors"].as_array().unwrap() {
        let field = error["field"].as_str().unwrap();
        assert!(field.starts_with("base") || field.starts_with('J'), "errors name Metro 2 segments and fields: {field}");
    }
    // Text output counts records, not lines.
    let again = run(dir.path(), &["ingest", "--furnisher", furnisher, path.to_str().unwrap(), "--format", "metro2"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("duplicate"));

    let month = first["month"].as_str().unwrap();
    let exported = dir.path().join("exported.metro2");
    let output =
        run(dir.path(), &["export", "--furnisher", furnisher, "--as-of", &format!("{month}-15"), "--out", exported.to_str().unwrap()]);
    assert_eq!(status(&output), 0, "{}", String::from_utf8_lossy(&output.stderr));
    let check = run(dir.path(), &["metro2", "validate", exported.to_str().unwrap(), "--json"]);
    assert_eq!(status(&check), 0, "{}", String::from_utf8_lossy(&check.stdout));
    let accepted = file["accepted"].as_u64().unwrap();
    assert_eq!(json_of(&check)["summary"]["data_records"].as_u64(), Some(accepted));

    // JSON Lines of the Chinese market cannot be Metro 2: named, exit 2, no file left behind.
    let spec = examples().join("spec-example.jsonl");
    run(dir.path(), &["ingest", "--furnisher", "payplat", spec.to_str().unwrap()]);
    let refused = dir.path().join("refused.metro2");
    let output =
        run(dir.path(), &["export", "--furnisher", "payplat", "--as-of", "2021-06-30", "--out", refused.to_str().unwrap(), "--json"]);
    assert_eq!((status(&output), json_of(&output)["error"]["code"].as_str()), (2, Some("not_expressible")));
    assert!(!refused.exists());
    let output = run(dir.path(), &["export", "--furnisher", "payplat", "--as-of", "2021-06-30", "--format", "jsonl"]);
    assert_eq!(status(&output), 0);
    assert!(String::from_utf8_lossy(&output.stdout).ends_with("{\"trailer\":{\"records\":2}}\n"));

    // Metro 2 is the US market's.
    let output = run(dir.path(), &["generate", "--out", dir.path().join("x").to_str().unwrap(), "--format", "metro2", "--market", "cn"]);
    assert_eq!(status(&output), 64);
}

/// The command line on PostgreSQL: keys from configuration, `migrate` twice, ingest and
/// report as on the embedded store, and `copy` of an embedded registry giving the same report.
#[test]
fn postgres_from_the_command_line_and_copy() {
    let Some(database) = registry_store::testing::TestDatabase::create() else { return };
    let Some(copy_target) = registry_store::testing::TestDatabase::create() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (embedded, on_postgres) = (dir.path().join("embedded"), dir.path().join("postgres"));
    let file = examples().join("history-example.jsonl");
    let report_args = ["report", "--id-type", "cn_rid", "--id", "320102198706153316", "--as-of", "2022-03-15", "--json"];

    // Without configured keys a PostgreSQL registry is refused, clearly.
    let output = run(&on_postgres, &["--database-url", database.url(), "ingest", "--furnisher", "bankx", file.to_str().unwrap()]);
    assert_eq!(status(&output), 1);
    assert!(String::from_utf8_lossy(&output.stderr).contains("registry-keys"), "{}", String::from_utf8_lossy(&output.stderr));

    let keys = run(&on_postgres, &["registry-keys"]);
    assert_eq!(status(&keys), 0);
    std::fs::create_dir_all(&on_postgres).unwrap();
    std::fs::write(on_postgres.join("config.toml"), &keys.stdout).unwrap();
    for _ in 0..2 {
        let output = run(&on_postgres, &["--database-url", database.url(), "migrate", "--json"]);
        assert_eq!(status(&output), 0, "{}", String::from_utf8_lossy(&output.stderr));
    }
    for data in [&embedded, &on_postgres] {
        let url_args: &[&str] = if data == &on_postgres { &["--database-url", database.url()] } else { &[] };
        let output = run(data, &[url_args, &["ingest", "--furnisher", "bankx", file.to_str().unwrap(), "--json"]].concat());
        assert_eq!(json_of(&output)["files"][0]["status"], "applied", "{}", String::from_utf8_lossy(&output.stderr));
    }
    let from_embedded = run(&embedded, &report_args);
    let from_postgres = run(&on_postgres, &[&["--database-url", database.url()], &report_args[..]].concat());
    assert_eq!(status(&from_postgres), 0, "{}", String::from_utf8_lossy(&from_postgres.stderr));
    assert_eq!(from_postgres.stdout, from_embedded.stdout);

    // copy: the embedded registry into another database, then read there with its keys.
    let output = run(dir.path(), &["copy", "--from", embedded.to_str().unwrap(), "--to", copy_target.url(), "--json"]);
    assert_eq!(status(&output), 0, "{}", String::from_utf8_lossy(&output.stderr));
    let copied = json_of(&output);
    assert!(copied["rows"].as_u64().unwrap() > 10, "{copied}");
    let copy_dir = dir.path().join("copied");
    std::fs::create_dir_all(&copy_dir).unwrap();
    let keys = &copied["keys"];
    let config = format!(
        "identifier_hash_key = {}\ndata_encryption_key = {}\nlog_signing_key = {}\n",
        keys["identifier_hash_key"], keys["data_encryption_key"], keys["log_signing_key"]
    );
    std::fs::write(copy_dir.join("config.toml"), config).unwrap();
    let from_copy = run(&copy_dir, &[&["--database-url", copy_target.url()], &report_args[..]].concat());
    assert_eq!(status(&from_copy), 0, "{}", String::from_utf8_lossy(&from_copy.stderr));
    assert_eq!(from_copy.stdout, from_embedded.stdout);
    // Twice: the destination is not empty any more.
    let output = run(dir.path(), &["copy", "--from", embedded.to_str().unwrap(), "--to", copy_target.url(), "--json"]);
    assert_eq!(status(&output), 2);
    assert_eq!(json_of(&output)["error"]["code"], "destination_not_empty");
}

#[test]
fn keys_and_the_audited_access_log_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = examples().join("spec-example.jsonl");
    assert_eq!(status(&run(dir.path(), &["ingest", "--furnisher", "payplat", file.to_str().unwrap()])), 0);

    let created =
        run(dir.path(), &["keys", "create", "--role", "consumer", "--name", "me", "--subject", "cn_rid:11010519491231002X", "--json"]);
    assert_eq!(status(&created), 0, "{}", String::from_utf8_lossy(&created.stderr));
    let created = json_of(&created);
    assert!(created["key"].as_str().unwrap().starts_with("crk_"));
    let key_id = created["key_id"].as_str().unwrap();
    assert_eq!(created["role"], "consumer");
    let plain = run(dir.path(), &["keys", "create", "--role", "lender", "--name", "bank-a"]);
    assert!(String::from_utf8_lossy(&plain.stdout).trim().starts_with("crk_"), "the key alone on stdout");
    for (args, code) in [
        (&["keys", "create", "--role", "king", "--name", "x"][..], 64),
        (&["keys", "create", "--role", "consumer", "--name", "x", "--subject", "11010519491231002X"], 64),
        (&["keys", "create", "--role", "consumer", "--name", "x", "--subject", "cn_rid:320102198706153316"], 2),
        (&["keys", "revoke", "0000000000000000"], 2),
    ] {
        let output = run(dir.path(), args);
        assert_eq!(status(&output), code, "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
    assert_eq!(status(&run(dir.path(), &["keys", "revoke", key_id])), 0);
    let listed = json_of(&run(dir.path(), &["keys", "list", "--json"]));
    let keys = listed["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    let consumer_key = keys.iter().find(|k| k["key_id"] == key_id).unwrap();
    assert!(consumer_key["revoked_at"].is_string());
    assert!(keys.iter().filter(|k| k["revoked_at"].is_string()).count() == 1);
    assert!(!listed.to_string().contains(created["key"].as_str().unwrap()), "a listing never shows a secret");

    // The operator's reads through the command line are logged; the log verifies.
    for _ in 0..3 {
        assert_eq!(status(&run(dir.path(), &["report", "--id-type", "cn_rid", "--id", "11010519491231002X", "--json"])), 0);
    }
    let verified = run(dir.path(), &["audit", "verify", "--json"]);
    assert_eq!(status(&verified), 0);
    assert_eq!(json_of(&verified)["entries"], 3);
    let head = json_of(&run(dir.path(), &["audit", "head"]));
    assert_eq!(head["size"], 3);
    // Nothing in the spec example has expired (its late microloan is not even settled).
    let retention = json_of(&run(dir.path(), &["retention", "run", "--json"]));
    assert_eq!((retention["accounts_examined"].as_u64(), retention["accounts_purged"].as_u64()), (Some(2), Some(0)));

    // Someone edits the log behind the registry's back: verify names the entry, exit 2.
    let conn = rusqlite::Connection::open(dir.path().join("governance.db")).unwrap();
    conn.execute("UPDATE access_log SET entry = replace(entry, 'command-line', 'nobody') WHERE seq = 1", []).unwrap();
    drop(conn);
    let tampered = run(dir.path(), &["audit", "verify", "--json"]);
    assert_eq!(status(&tampered), 2);
    let error = &json_of(&tampered)["error"];
    assert_eq!(error["code"], "log_tampered");
    assert!(error["message"].as_str().unwrap().starts_with("access log entry 1:"), "{error}");
}

#[test]
fn history_and_archive_get_are_logged_reads() {
    let dir = tempfile::tempdir().unwrap();
    let file = examples().join("spec-example.jsonl");
    assert_eq!(status(&run(dir.path(), &["ingest", "--furnisher", "payplat", file.to_str().unwrap()])), 0);
    let history = run(dir.path(), &["history", "--furnisher", "payplat", "--account", "HB-000123", "--json"]);
    assert_eq!(status(&history), 0, "{}", String::from_utf8_lossy(&history.stderr));
    let missing = run(dir.path(), &["history", "--furnisher", "payplat", "--account", "NO-SUCH", "--json"]);
    assert_eq!((status(&missing), json_of(&missing)["error"]["code"].as_str()), (2, Some("account_not_found")));

    let listed = json_of(&run(dir.path(), &["archive", "list", "--json"]));
    let hash = listed["files"][0]["content_sha256"].as_str().unwrap().to_owned();
    let back = dir.path().join("back.jsonl");
    let got = run(dir.path(), &["archive", "get", &hash, "--out", back.to_str().unwrap()]);
    assert_eq!(status(&got), 0, "{}", String::from_utf8_lossy(&got.stderr));
    assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(&file).unwrap());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&back).unwrap().permissions().mode() & 0o777, 0o600, "the decrypted file is its owner's only");
    }
    let nowhere = dir.path().join("nowhere");
    let expired = run(dir.path(), &["archive", "get", &"0".repeat(64), "--out", nowhere.to_str().unwrap()]);
    assert_eq!(status(&expired), 2);
    assert!(String::from_utf8_lossy(&expired.stderr).contains("no archived file"), "{}", String::from_utf8_lossy(&expired.stderr));
    assert!(!nowhere.exists());
    // Two reads logged (the history and the file), the failed ones not.
    assert_eq!(json_of(&run(dir.path(), &["audit", "verify", "--json"]))["entries"], 2);

    // The person sees the history read among their accesses.
    let consumer = run(dir.path(), &["keys", "create", "--role", "consumer", "--name", "me", "--subject", "cn_rid:11010519491231002X"]);
    let consumer = String::from_utf8_lossy(&consumer.stdout).trim().to_owned();
    let (mut child, address, _, _) = serve(dir.path(), "warn");
    let agent: ureq::Agent =
        ureq::Agent::config_builder().http_status_as_error(false).max_idle_connections(0).max_idle_connections_per_host(0).build().into();
    let mut response =
        agent.get(&format!("http://{address}/v1/me/accesses")).header("authorization", &format!("Bearer {consumer}")).call().unwrap();
    let accesses: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    unsafe_kill(child.id(), "TERM");
    child.wait().unwrap();
    let entries = accesses["accesses"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{accesses}");
    assert_eq!((entries[0]["action"].as_str(), entries[0]["purpose"].as_str()), (Some("drill_down"), Some("history of a payplat account")));
}

/// Every identifier, full name, birth date, phone number and street of a generated population.
fn personal_data_of(out: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for file in manifest(out)["files"].as_array().unwrap() {
        let text = std::fs::read_to_string(out.join(file["path"].as_str().unwrap())).unwrap();
        for line in text.lines() {
            let Ok(record) = serde_json::from_str::<Value>(line) else { continue };
            for subject in record["subjects"].as_array().into_iter().flatten() {
                for value in [&subject["id"], &subject["birth_date"], &subject["phone"], &subject["address"]["line1"]] {
                    if let Some(text) = value.as_str().filter(|t| t.len() >= 6) {
                        found.insert(text.to_string());
                    }
                }
                if let (Some(family), Some(given)) = (subject["family_name"].as_str(), subject["given_name"].as_str()) {
                    found.insert(format!("{family} {given}"));
                    found.insert(format!("{given} {family}"));
                }
            }
        }
    }
    found
}

#[test]
fn no_personal_data_in_any_log_line_or_error_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("population");
    generate(dir.path(), &out, &["--subjects", "150", "--months", "3", "--invalid-share", "0.05"]);
    let personal = personal_data_of(&out);
    assert!(personal.len() > 300, "{} personal values", personal.len());
    let data = dir.path().join("registry");
    let mut logged = String::new();
    let debug = |args: &[&str]| {
        let output = Command::new(BIN).args(args).arg("--data-dir").arg(&data).env("CREDIT_REGISTRY_LOG", "debug").output().unwrap();
        (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
    };

    // Every file through the command line, rejections and all (the result documents carry every
    // rejection's message).
    let manifest = manifest(&out);
    for file in manifest["files"].as_array().unwrap() {
        let path = out.join(file["path"].as_str().unwrap());
        let (_, stdout, stderr) = debug(&["ingest", "--furnisher", file["furnisher"].as_str().unwrap(), path.to_str().unwrap(), "--json"]);
        logged.push_str(&stdout);
        logged.push_str(&stderr);
    }
    let example = &manifest["examples"][0];
    let (id_type, id) = (example["id_type"].as_str().unwrap(), example["id"].as_str().unwrap());
    let (_, _, stderr) = debug(&["report", "--id-type", id_type, "--id", id]);
    logged.push_str(&stderr);
    let (_, stdout, stderr) = debug(&["report", "--id-type", id_type, "--id", "110105194912310021", "--json"]);
    logged.push_str(&stdout);
    logged.push_str(&stderr);
    let key = |role: &str, name: &str, subject: Option<String>| {
        let mut args = vec!["keys", "create", "--role", role, "--name", name];
        let subject_arg = subject.unwrap_or_default();
        if !subject_arg.is_empty() {
            args.extend(["--subject", subject_arg.as_str()]);
        }
        let (code, stdout, stderr) = debug(&args);
        assert_eq!(code, Some(0), "{stderr}");
        stdout.trim().to_string()
    };
    let (operator, lender) = (key("operator", "ops", None), key("lender", "bank-a", None));
    let consumer = key("consumer", "me", Some(format!("{id_type}:{id}")));

    // The server, asked every way that fails.
    let (mut child, address, mut stderr, first_lines) = serve(&data, "debug");
    logged.push_str(&first_lines);
    // A connection per request: refusals close theirs without reading the body.
    let agent: ureq::Agent =
        ureq::Agent::config_builder().http_status_as_error(false).max_idle_connections(0).max_idle_connections_per_host(0).build().into();
    let post = |key: &str, path: &str, body: String| {
        let mut response =
            agent.post(&format!("http://{address}{path}")).header("authorization", &format!("Bearer {key}")).send(body.as_bytes()).unwrap();
        response.body_mut().read_to_string().unwrap()
    };
    let wrong_person = serde_json::json!({"subject": {"id_type": id_type, "id": id, "family_name": "Nobody", "given_name": "X", "birth_date": "1900-01-01"},
        "purpose": "credit_application", "consent_id": "cns_1_000000000000000000000000"});
    let mut answers = vec![
        post(&operator, "/v1/reports", format!(r#"{{"id_type": "{id_type}", "id": "{id}x"}}"#)),
        post(&operator, "/v1/reports", format!(r#"{{"id_type": "{id_type}", "id": "{id}", "extra": "{id}"}}"#)),
        post(&lender, "/v1/inquiries", wrong_person.to_string()),
        post(&lender, "/v1/inquiries", format!(r#"{{"subject": "{id}"}}"#)),
        post(&consumer, "/v1/me/consents", format!(r#"{{"lender": "{id}", "purpose": "credit_application", "expires": "2099-01-01"}}"#)),
        post(&consumer, "/v1/me/disputes", format!(r#"{{"furnisher": "payplat", "account": "{id}", "reason": "{id}"}}"#)),
    ];
    let broken =
        std::fs::read_to_string(out.join(manifest["files"][0]["path"].as_str().unwrap())).unwrap().replace("\"current\"", "\"bogus\"");
    answers.push(post(&operator, "/v1/furnishers/payplat/submissions", broken));
    unsafe_kill(child.id(), "TERM");
    child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    logged.push_str(&rest);
    assert!(logged.lines().count() > 50, "debug logging produced {} lines", logged.lines().count());

    for (what, text) in [("log lines and command-line output", logged), ("API error messages", answers.join("\n"))] {
        // The operator's own command-line report prints the masked report on stdout (not kept
        // above); everything kept must name no one.
        let leaks: Vec<&String> = personal.iter().filter(|value| text.contains(value.as_str())).collect();
        assert!(leaks.is_empty(), "{what} contain personal data: {leaks:?}");
    }
}

#[test]
fn the_registry_trains_on_its_own_history_and_scores_everyone() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("population");
    generate(dir.path(), &out, &["--subjects", "400", "--months", "18", "--invalid-share", "0", "--seed", "5"]);
    for file in manifest(&out)["files"].as_array().unwrap() {
        let path = out.join(file["path"].as_str().unwrap());
        let output = run(dir.path(), &["ingest", "--furnisher", file["furnisher"].as_str().unwrap(), path.to_str().unwrap(), "--json"]);
        assert_eq!(status(&output), 0);
    }
    let model = dir.path().join("own.json");
    let sample = dir.path().join("sample.csv");
    let trained = run(
        dir.path(),
        &[
            "score",
            "train",
            "--from-registry",
            "--as-of",
            "2026-04-30",
            "--horizon-months",
            "6",
            "--out",
            model.to_str().unwrap(),
            "--sample-out",
            sample.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(status(&trained), 0, "{}", String::from_utf8_lossy(&trained.stderr));
    let trained = json_of(&trained);
    assert!(trained["rows"].as_u64().unwrap() > 300, "{trained}");
    let card = std::fs::read_to_string(dir.path().join("own.card.md")).unwrap();
    assert!(card.contains("attributes as of 2026-04-30") && card.contains("**sex**"), "the period and the profile's exclusions: {card}");
    // The sample is a labelled CSV of the catalogue: evaluate reads it.
    let evaluated = run(
        dir.path(),
        &["score", "evaluate", "--model", model.to_str().unwrap(), "--data", sample.to_str().unwrap(), "--target", "bad", "--json"],
    );
    assert_eq!(status(&evaluated), 0, "{}", String::from_utf8_lossy(&evaluated.stderr));
    assert!(json_of(&evaluated)["auc"].as_f64().unwrap() > 0.6);
    // Batch scores with the model in force (configured), one row per subject.
    std::fs::write(dir.path().join("config.toml"), format!("score_model = {:?}\n", model.to_str().unwrap())).unwrap();
    let scores = dir.path().join("scores.csv");
    let batch = run(dir.path(), &["score", "batch", "--as-of", "2026-10-31", "--out", scores.to_str().unwrap(), "--attributes", "--json"]);
    assert_eq!(status(&batch), 0, "{}", String::from_utf8_lossy(&batch.stderr));
    let batch = json_of(&batch);
    assert!(batch["model_id"].as_str().unwrap().starts_with("registry-2026-04-30"), "{batch}");
    let text = std::fs::read_to_string(&scores).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("registry_id,score,reason_1,reason_2,reason_3,reason_4,accounts_total,"));
    assert_eq!(lines.len() as u64 - 1, batch["subjects"].as_u64().unwrap());
    // The report carries the same score for the same date.
    let first: Vec<&str> = lines[1].split(',').collect();
    let report = run(dir.path(), &["report", "--registry-id", first[0], "--as-of", "2026-10-31", "--json"]);
    assert_eq!(status(&report), 0, "{}", String::from_utf8_lossy(&report.stderr));
    assert_eq!(json_of(&report)["score"]["value"].as_i64().unwrap().to_string(), first[1]);
    // Two batches a month apart: the stability index of their scores.
    let earlier = dir.path().join("earlier.csv");
    assert_eq!(status(&run(dir.path(), &["score", "batch", "--as-of", "2026-09-30", "--out", earlier.to_str().unwrap()])), 0);
    let stability =
        run(dir.path(), &["score", "stability", "--expected", earlier.to_str().unwrap(), "--actual", scores.to_str().unwrap(), "--json"]);
    assert_eq!(status(&stability), 0, "{}", String::from_utf8_lossy(&stability.stderr));
    assert!(json_of(&stability)["psi"].as_f64().unwrap() < 0.25, "a month apart, the same market");
    // Without history after the date there is nothing to learn from: said, exit 64.
    let empty = run(
        dir.path(),
        &["score", "train", "--from-registry", "--as-of", "2026-10-31", "--horizon-months", "12", "--out", model.to_str().unwrap()],
    );
    assert_eq!(status(&empty), 64, "{}", String::from_utf8_lossy(&empty.stderr));
}

#[test]
fn a_scorecard_is_trained_on_a_csv_and_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    // A small labelled file with a real signal: risk rises with `late`; `Id` is an identifier.
    let mut csv = String::from("Id,late,income,bad\n");
    for i in 0..3000u64 {
        let late = i % 5;
        let income = if i % 17 == 0 { "NA".to_string() } else { ((i * 7919) % 1000).to_string() };
        let bad = u8::from((i * 2654435761) % 100 < 4 + 12 * late);
        csv.push_str(&format!("{i},{late},{income},{bad}\n"));
    }
    let data = dir.path().join("train.csv");
    std::fs::write(&data, csv).unwrap();
    let model = dir.path().join("model.json");
    let args = [
        "score",
        "train",
        "--data",
        data.to_str().unwrap(),
        "--target",
        "bad",
        "--ignore",
        "Id",
        "--monotone",
        "late:increasing",
        "--folds",
        "3",
        "--out",
        model.to_str().unwrap(),
        "--json",
    ];
    let trained = run(dir.path(), &args);
    assert_eq!(status(&trained), 0, "{}", String::from_utf8_lossy(&trained.stderr));
    let trained = json_of(&trained);
    let candidates = trained["candidates"].as_array().unwrap();
    let kinds: Vec<&str> = candidates.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["boosted_additive", "woe_logistic"], "both fits are reported");
    assert!(candidates.iter().all(|c| c["folds"].as_array().unwrap().len() == 3));
    let card_text = std::fs::read_to_string(dir.path().join("model.card.md")).unwrap();
    assert!(card_text.contains("## Performance") && card_text.contains("**Id**: left out with --ignore"), "{card_text}");
    let card: Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    assert_eq!(card["format"], "credit-registry-scorecard");
    let late = card["attributes"].as_array().unwrap().iter().find(|a| a["name"] == "late").unwrap();
    let points: Vec<f64> = late["points"].as_array().unwrap()[1..].iter().map(|p| p.as_f64().unwrap()).collect();
    assert!(points.windows(2).all(|w| w[0] >= w[1]), "more delinquency never raises the score: {points:?}");
    let evaluated = run(
        dir.path(),
        &["score", "evaluate", "--model", model.to_str().unwrap(), "--data", data.to_str().unwrap(), "--target", "bad", "--json"],
    );
    assert_eq!(status(&evaluated), 0);
    let evaluated = json_of(&evaluated);
    for metric in ["auc", "gini", "ks"] {
        let value = evaluated[metric].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&value), "{metric} {value}");
    }
    assert!(evaluated["auc"].as_f64().unwrap() > 0.7, "{evaluated}");
    let bands = evaluated["bands"].as_array().unwrap();
    assert_eq!(bands.iter().map(|b| b["rows"].as_u64().unwrap()).sum::<u64>(), 3000);
    let calibration = evaluated["calibration"].as_array().unwrap();
    assert_eq!(calibration.len(), 10);
    let observed: Vec<f64> = calibration.iter().map(|g| g["observed_bad_rate"].as_f64().unwrap()).collect();
    assert!(observed[0] < observed[9], "the riskiest tenth goes bad more often: {observed:?}");
    // A sample against itself is perfectly stable; against a riskier one it is not.
    let stability = |actual: &Path| {
        let args = ["score", "stability", "--model", model.to_str().unwrap(), "--expected", data.to_str().unwrap(), "--actual"];
        run(dir.path(), &[&args[..], &[actual.to_str().unwrap(), "--json"]].concat())
    };
    let stable = stability(&data);
    assert_eq!(status(&stable), 0, "{}", String::from_utf8_lossy(&stable.stderr));
    assert_eq!(json_of(&stable)["psi"].as_f64(), Some(0.0));
    let risky = dir.path().join("risky.csv");
    let mut text = String::from("late,income\n");
    for i in 0..1000 {
        text.push_str(&format!("4,{}\n", i % 1000));
    }
    std::fs::write(&risky, text).unwrap();
    let shifted = stability(&risky);
    assert!(json_of(&shifted)["psi"].as_f64().unwrap() > 0.25);
    // Bad input: named, exit 64.
    let broken = dir.path().join("broken.csv");
    std::fs::write(&broken, "late,bad\n1,0\nx,1\n").unwrap();
    let output =
        run(dir.path(), &["score", "train", "--data", broken.to_str().unwrap(), "--target", "bad", "--out", model.to_str().unwrap()]);
    assert_eq!(status(&output), 64);
    assert!(String::from_utf8_lossy(&output.stderr).contains("line 3"), "{}", String::from_utf8_lossy(&output.stderr));
    let output = run(
        dir.path(),
        &[
            "score",
            "train",
            "--data",
            data.to_str().unwrap(),
            "--target",
            "bad",
            "--monotone",
            "late:sideways",
            "--out",
            model.to_str().unwrap(),
        ],
    );
    assert_eq!(status(&output), 64);
}

#[test]
fn supervision_from_the_command_line_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    let database = registry_store::testing::TestDatabase::create();
    let supervision = examples().join("supervision");
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(supervision.join("2021-07.expected.json")).unwrap()).unwrap();
    // bank-a's figures put its co-lending with payplat (1,040 yuan) over 25 % of its tier-1
    // capital (4,000 yuan), and a cap of 500 yuan puts Li's 1,000 yuan microloan over it.
    let institutions = "[bank-a]\ntier1_capital = { CNY = 400000 }\ntotal_loans = { CNY = 10000000 }\n";
    let policy = "[supervision]\nmicroloan_cap_minor = { CNY = 50000 }\ninstitutions = \"institutions.toml\"\n";

    let mut checked = 0;
    for data in [dir.path().join("embedded"), dir.path().join("postgres")] {
        let url_args: Vec<&str> = match (&database, data.ends_with("postgres")) {
            (_, false) => vec![],
            (Some(database), true) => vec!["--database-url", database.url()],
            (None, true) => continue,
        };
        let cli = |args: &[&str]| run(&data, &[&url_args[..], args].concat());
        std::fs::create_dir_all(&data).unwrap();
        if !url_args.is_empty() {
            std::fs::write(data.join("config.toml"), &run(&data, &["registry-keys"]).stdout).unwrap();
        }
        for line in std::fs::read_to_string(supervision.join("order.txt")).unwrap().lines().filter(|l| !l.is_empty()) {
            let (furnisher, file) = line.split_once(' ').unwrap();
            let output = cli(&["ingest", "--furnisher", furnisher, supervision.join(file).to_str().unwrap()]);
            assert_eq!(status(&output), 0, "{}", String::from_utf8_lossy(&output.stderr));
        }
        let output = cli(&["supervise", "--month", "2021-07", "--json"]);
        assert_eq!(status(&output), 0, "{}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(json_of(&output), expected, "{}", data.display());

        // Text: major units with the currency, shares as percentages.
        let text = String::from_utf8_lossy(&cli(&["supervise", "--month", "2021-07"]).stdout).into_owned();
        for expected in ["CNY 1,480.00", "payplat 100.0%", "1 loans below 30.0%, CNY 1,000.00 !", "current>30: 1"] {
            assert!(text.contains(expected), "{expected:?} in\n{text}");
        }
        // CSV: one file per table.
        let csv_dir = data.join("tables");
        assert_eq!(status(&cli(&["supervise", "--month", "2021-07", "--csv", csv_dir.to_str().unwrap()])), 0);
        let market = std::fs::read_to_string(csv_dir.join("market.csv")).unwrap();
        assert!(market.lines().any(|l| l == "payplat,microloan,CNY,2,148000,4000,1,100000,48000,0"), "{market}");
        assert!(std::fs::read_to_string(csv_dir.join("credit_risk_vintages.csv")).unwrap().lines().count() > 19);

        // The policy and the institutions' figures from configuration.
        std::fs::write(data.join("institutions.toml"), institutions).unwrap();
        let mut config = std::fs::read_to_string(data.join("config.toml")).unwrap_or_default();
        config.push_str(policy);
        std::fs::write(data.join("config.toml"), config).unwrap();
        let judged = json_of(&cli(&["supervise", "--month", "2021-07", "--section", "co_lending,borrowers", "--json"]));
        assert_eq!(judged.as_object().unwrap().len(), 3, "the month and two sections: {judged}");
        let bank = &judged["co_lending"]["institutions"][0];
        assert_eq!(bank["max_partner_to_tier1"], serde_json::json!({"CNY": 0.26}));
        assert_eq!(bank["breaches"][0]["measure"], "max_partner_to_tier1");
        assert_eq!(judged["borrowers"]["over_microloan_cap"], serde_json::json!({"CNY": 1}));

        // The drill-down names Li, and the read is in the access log.
        let listed = json_of(&cli(&["supervise", "--month", "2021-07", "--list", "over_microloan_cap", "--json"]));
        assert_eq!(listed["subjects"].as_array().unwrap().len(), 1, "{listed}");
        assert_eq!(listed["subjects"][0]["microloan_balance"], serde_json::json!({"CNY": 100000}));
        assert_eq!(json_of(&cli(&["audit", "verify", "--json"]))["entries"], 1);

        for (args, code) in [
            (&["supervise", "--month", "2021-13"][..], 64),
            (&["supervise", "--month", "2021-07", "--section", "everything"], 64),
            (&["supervise", "--month", "2021-07", "--list", "stacking", "--csv", "x"], 64),
        ] {
            assert_eq!(status(&cli(args)), code, "{args:?}");
        }
        std::fs::write(data.join("institutions.toml"), "[bank-a]\ntier1_capital = { CNY = \"lots\" }\n").unwrap();
        let broken = cli(&["supervise", "--month", "2021-07", "--json"]);
        assert_eq!(status(&broken), 64, "{}", String::from_utf8_lossy(&broken.stderr));
        assert!(json_of(&broken)["error"]["message"].as_str().unwrap().contains("institutions.toml"));
        checked += 1;
    }
    assert_eq!(checked, if database.is_some() { 2 } else { 1 });
}

#[test]
fn data_quality_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("market");
    generate(dir.path(), &out, &["--subjects", "300", "--months", "6", "--defect-share", "0.02"]);
    let manifest = manifest(&out);
    let planted: BTreeSet<(String, String, String)> = manifest["planted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["evaluator"].as_str().unwrap().into(), p["furnisher"].as_str().unwrap().into(), p["account"].as_str().unwrap().into()))
        .collect();
    assert!(planted.len() > 20, "{}", planted.len());
    // The supervisory institutions file, without which COLEND-2 judges no funder.
    let institutions = out.join(manifest["institutions"].as_str().unwrap());
    std::fs::write(dir.path().join("config.toml"), format!("[supervision]\ninstitutions = {:?}\n", institutions.to_str().unwrap()))
        .unwrap();

    // Each submission's result carries its hits by evaluator.
    let mut hits_at_ingest = 0;
    for file in manifest["files"].as_array().unwrap() {
        let path = out.join(file["path"].as_str().unwrap());
        let output = run(dir.path(), &["ingest", "--furnisher", file["furnisher"].as_str().unwrap(), path.to_str().unwrap(), "--json"]);
        assert_eq!(status(&output), 0, "{}", String::from_utf8_lossy(&output.stderr));
        let hits = json_of(&output)["files"][0]["quality_hits"].clone();
        hits_at_ingest +=
            hits.as_object().unwrap_or_else(|| panic!("quality_hits: {hits}")).values().map(|v| v.as_u64().unwrap()).sum::<u64>();
    }
    assert!(hits_at_ingest > 0);

    // The whole store, evaluated again: every planted account is found by its evaluator.
    let output = run(dir.path(), &["quality", "--json", "--limit", "100000"]);
    assert_eq!(status(&output), 0, "{}", String::from_utf8_lossy(&output.stderr));
    let document = json_of(&output);
    let found: BTreeSet<(String, String, String)> = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["evaluator"].as_str().unwrap().into(), f["furnisher"].as_str().unwrap().into(), f["account"].as_str().unwrap().into()))
        .collect();
    assert_eq!(document["total"].as_u64().unwrap(), found.len() as u64 + duplicates_of(&document), "{document}");
    let missed: Vec<_> = planted.difference(&found).collect();
    assert!(missed.is_empty(), "planted but not found: {missed:?}");
    // The stored findings are what the run found; a page of them.
    let stored = json_of(&run(dir.path(), &["quality", "--stored", "--json", "--limit", "5", "--offset", "2"]));
    assert_eq!(stored["total"], document["total"]);
    assert_eq!(stored["offset"], 2);
    assert_eq!(stored["findings"].as_array().unwrap().len(), 5);
    // The text lists counts by evaluator.
    let text = String::from_utf8(run(dir.path(), &["quality", "--stored"]).stdout).unwrap();
    assert!(text.starts_with(&format!("{} findings on ", document["total"])), "{text}");

    // Scorecards and the overview, ranked by high-severity hits per 10,000 records.
    let cards = json_of(&run(dir.path(), &["quality", "scorecard", "--json"]));
    assert!(!cards["scorecards"].as_array().unwrap().is_empty(), "{cards}");
    let rates: Vec<f64> =
        cards["overview"]["furnishers"].as_array().unwrap().iter().map(|f| f["high_per_10000"].as_f64().unwrap()).collect();
    assert!(rates.windows(2).all(|w| w[0] >= w[1]), "{rates:?}");
    let furnisher = cards["scorecards"][0]["furnisher"].as_str().unwrap().to_string();
    let one = json_of(&run(dir.path(), &["quality", "scorecard", "--furnisher", &furnisher, "--json"]));
    assert_eq!(one["scorecards"].as_array().unwrap().len(), 1);

    for (args, code) in [(&["quality", "--month", "2026-13"][..], 64), (&["quality", "--furnisher", "no such one!"], 64)] {
        assert_eq!(status(&run(dir.path(), args)), code, "{args:?}");
    }
}

/// Findings that share an evaluator and account (one per record date).
fn duplicates_of(document: &Value) -> u64 {
    let findings = document["findings"].as_array().unwrap();
    let distinct: BTreeSet<(&str, &str, &str)> = findings
        .iter()
        .map(|f| (f["evaluator"].as_str().unwrap(), f["furnisher"].as_str().unwrap(), f["account"].as_str().unwrap()))
        .collect();
    (findings.len() - distinct.len()) as u64
}

#[test]
fn the_published_catalogue_is_the_one_in_the_docs() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = json_of(&run(dir.path(), &["quality", "evaluators", "--json"]));
    let evaluators = catalogue["evaluators"].as_array().unwrap();
    assert!(evaluators.len() >= 40, "{}", evaluators.len());
    for evaluator in evaluators {
        for field in ["id", "category", "severity", "description", "source"] {
            assert!(evaluator[field].as_str().is_some_and(|s| !s.is_empty()), "{field} of {evaluator}");
        }
    }
    let markdown = String::from_utf8(run(dir.path(), &["quality", "evaluators", "--markdown"]).stdout).unwrap();
    let docs = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/data-quality.md")).unwrap();
    let section =
        docs.split("<!-- catalogue -->\n").nth(1).and_then(|rest| rest.split("<!-- /catalogue -->").next()).expect("the catalogue markers");
    assert_eq!(
        section, markdown,
        "docs/data-quality.md's catalogue is not what the code says: regenerate it with `credit-registry quality evaluators --markdown`"
    );
}
