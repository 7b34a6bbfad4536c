//! API keys and the access log on both backends: key lifecycle, every read logged, and
//! tampering with the stored log (an entry altered, removed, moved) named by `verify_log`.

use registry_core::model::IdType;
use registry_core::report::{Audience, SubjectKey};
use registry_service::audit::{Access, AccessAction, Actor};
use registry_service::keys::PrincipalRole;
use registry_service::{Registry, ServiceError};

use crate::{Backend, examples, ingest, on_both_backends, open_on};

on_both_backends!(
    keys_are_created_authenticated_and_revoked,
    every_read_is_logged_and_the_log_verifies,
    tampering_with_the_log_is_named,
    a_log_longer_than_a_page_verifies_and_names_a_change_deep_in_it,
);

const SUBJECT_ID: &str = "11010519491231002X";

fn keys_are_created_authenticated_and_revoked(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = open_on(backend, dir.path()) else { return };
    ingest(&registry, "payplat", &std::fs::read(examples().join("spec-example.jsonl")).unwrap());

    let lender = registry.create_key(PrincipalRole::Lender, "bank-a", None).unwrap();
    assert!(lender.key.starts_with(&format!("crk_{}_", lender.info.key_id)));
    let principal = registry.authenticate(&lender.key).unwrap().unwrap();
    assert_eq!((principal.role, principal.name.as_str(), principal.subject), (PrincipalRole::Lender, "bank-a", None));

    let consumer = registry.create_key(PrincipalRole::Consumer, "me", Some((IdType::CnRid, SUBJECT_ID))).unwrap();
    let subject = registry.find_subject(IdType::CnRid, SUBJECT_ID).unwrap();
    assert_eq!(registry.authenticate(&consumer.key).unwrap().unwrap().subject, subject);

    assert!(refused(registry.create_key(PrincipalRole::Consumer, "me", None)).contains("--subject"));
    // A valid identifier the registry has not seen (the history example's, not ingested here).
    assert!(refused(registry.create_key(PrincipalRole::Consumer, "x", Some((IdType::CnRid, "320102198706153316")))).contains("no subject"));
    assert!(
        refused(registry.create_key(PrincipalRole::Consumer, "x", Some((IdType::CnRid, "110105194912310021")))).contains("not a valid")
    );
    assert!(refused(registry.create_key(PrincipalRole::Lender, "x", Some((IdType::CnRid, SUBJECT_ID)))).contains("only a consumer"));
    assert!(refused(registry.create_key(PrincipalRole::Furnisher, "Not An Id!", None)).contains("furnisher id"));
    assert!(refused(registry.create_key(PrincipalRole::Operator, "", None)).contains("1 to 100"));

    // Anything but the exact live key is nobody.
    let tampered = format!("{}x", lender.key);
    for presented in [tampered.as_str(), "crk_", "Bearer", "", "crk_zzzzzzzzzzzzzzzz_abc", &lender.key[..lender.key.len() - 1]] {
        assert_eq!(registry.authenticate(presented).unwrap(), None, "{presented:?}");
    }
    registry.revoke_key(&lender.info.key_id).unwrap();
    assert_eq!(registry.authenticate(&lender.key).unwrap(), None);
    assert!(refused(registry.revoke_key(&lender.info.key_id)).contains("already revoked"));
    assert!(refused(registry.revoke_key("0000000000000000")).contains("no key"));

    let listed = registry.keys().unwrap();
    assert_eq!(listed.len(), 2);
    let revoked: Vec<bool> = listed.iter().map(|k| k.revoked_at.is_some()).collect();
    let lender_at = listed.iter().position(|k| k.key_id == lender.info.key_id).unwrap();
    assert_eq!(revoked.iter().filter(|r| **r).count(), 1);
    assert!(revoked[lender_at], "the lender's key is the revoked one");
    assert!(!format!("{listed:?}").contains(&lender.key[21..]), "a listing never shows a secret");
}

/// The message of a refusal (bad input or not found).
fn refused<T: std::fmt::Debug>(result: Result<T, ServiceError>) -> String {
    match result {
        Err(ServiceError::InvalidInput(message) | ServiceError::NotFound(message)) => message,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn read(registry: &Registry, subject: SubjectKey, action: AccessAction) {
    let access = Access { actor: Actor::command_line(), action, purpose: None, consent_id: None };
    assert!(registry.read_report(&access, subject, None, Audience::Masked).unwrap().is_some());
}

fn every_read_is_logged_and_the_log_verifies(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = open_on(backend, dir.path()) else { return };
    assert_eq!(registry.verify_log().unwrap().unwrap().entries, 0);
    ingest(&registry, "payplat", &std::fs::read(examples().join("spec-example.jsonl")).unwrap());
    let subject = registry.find_subject(IdType::CnRid, SUBJECT_ID).unwrap().unwrap();
    // Nothing read, nothing logged: a subject that does not exist.
    let access = Access { actor: Actor::command_line(), action: AccessAction::DrillDown, purpose: None, consent_id: None };
    assert!(registry.read_report(&access, SubjectKey(999_999), None, Audience::Masked).unwrap().is_none());
    for _ in 0..9 {
        read(&registry, subject, AccessAction::DrillDown);
    }
    let accesses = registry.subject_accesses(subject).unwrap();
    assert_eq!(accesses.iter().map(|a| a.seq).collect::<Vec<_>>(), (0..9).collect::<Vec<_>>());
    assert_eq!(accesses[0].at, "2022-06-30T12:00:00Z");
    assert_eq!(accesses[0].actor.name, "command-line");
    let verified = registry.verify_log().unwrap().unwrap();
    assert_eq!((verified.entries, verified.tree_heads), (9, 9));
    assert_eq!(Some(registry.tree_head(None).unwrap().unwrap().root), verified.root);
    for seq in 0..9 {
        registry_service::audit::check_inclusion(&registry.inclusion_proof(seq, None).unwrap()).unwrap();
        registry_service::audit::check_inclusion(&registry.inclusion_proof(seq, Some(9.max(seq + 1))).unwrap()).unwrap();
    }
    assert!(matches!(registry.inclusion_proof(9, None), Err(ServiceError::NotFound(_))));
}

/// Runs SQL on the registry's governance tables, wherever they are.
fn tamper(registry: &Registry, sql: &str) {
    if let Some(settings) = &registry.settings().postgres {
        let mut client = ::postgres::Client::connect(&settings.url, ::postgres::NoTls).unwrap();
        client.batch_execute(sql).unwrap();
    } else {
        let conn = rusqlite::Connection::open(registry.settings().data_dir.join(registry_service::GOVERNANCE_FILE)).unwrap();
        conn.execute_batch(sql).unwrap();
    }
}

fn tampering_with_the_log_is_named(backend: Backend) {
    let cases = [
        ("altered", "UPDATE access_log SET entry = replace(entry, 'drill_down', 'self_view') WHERE seq = 4", 4, "does not match"),
        ("removed", "DELETE FROM access_log WHERE seq = 4", 4, "entry 4 is missing"),
        (
            "reordered",
            "UPDATE access_log SET seq = -1 WHERE seq = 3; UPDATE access_log SET seq = 3 WHERE seq = 5; UPDATE access_log SET seq = 5 WHERE seq = -1",
            3,
            "stored as entry 3",
        ),
        ("cut short", "DELETE FROM access_log WHERE seq >= 6", 6, "were removed"),
        ("a head re-signed with a made-up root", "UPDATE tree_head SET root = tree_head.signature WHERE size = 8", 7, ""),
    ];
    for (what, sql, seq, problem) in cases {
        let dir = tempfile::tempdir().unwrap();
        let Some(registry) = open_on(backend, dir.path()) else { return };
        ingest(&registry, "payplat", &std::fs::read(examples().join("spec-example.jsonl")).unwrap());
        let subject = registry.find_subject(IdType::CnRid, SUBJECT_ID).unwrap().unwrap();
        for _ in 0..8 {
            read(&registry, subject, AccessAction::DrillDown);
        }
        assert!(registry.verify_log().unwrap().is_ok());
        // The root is 32 bytes; a signature is 64: give the made-up root the right length.
        let sql = if what.starts_with("a head") {
            match backend {
                Backend::Sqlite => sql.replace("tree_head.signature", "substr(tree_head.signature, 1, 32)"),
                Backend::Postgres => sql.replace("tree_head.signature", "substring(tree_head.signature from 1 for 32)"),
            }
        } else {
            sql.to_string()
        };
        tamper(&registry, &sql);
        let fault = registry.verify_log().unwrap().expect_err(what);
        assert_eq!(fault.seq, seq, "{what}: {fault:?}");
        assert!(fault.problem.contains(problem), "{what}: {}", fault.problem);
    }
}

/// `verify_log` reads the log a page (2,048 entries) at a time and compares stored subtrees
/// between pages: a log longer than a page verifies, and a change in its second page is found.
fn a_log_longer_than_a_page_verifies_and_names_a_change_deep_in_it(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = open_on(backend, dir.path()) else { return };
    let access = Access { actor: Actor::command_line(), action: AccessAction::Export, purpose: None, consent_id: None };
    for _ in 0..2_100 {
        registry.log_access(&access, Some(SubjectKey(7))).unwrap();
    }
    let verified = registry.verify_log().unwrap().unwrap();
    assert_eq!(verified.entries, 2_100);
    registry_service::audit::check_inclusion(&registry.inclusion_proof(2_077, None).unwrap()).unwrap();
    tamper(&registry, "UPDATE access_log SET entry = replace(entry, 'export', 'self_view') WHERE seq = 2077");
    let fault = registry.verify_log().unwrap().unwrap_err();
    assert_eq!(fault.seq, 2_077, "{fault:?}");
}
