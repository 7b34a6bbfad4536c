//! The one store test suite. Every backend runs every case (`backend_suite!`), so the backends
//! cannot drift apart in behaviour.

use registry_core::furnishing::{FileErrorCode, FileRejection, Format, RecordError, RecordErrorCode};
use registry_core::model::{AccountFacts, AmountMinor, Currency, Date, Dispute, FundingShare, FurnisherId, IdType, Product, Role, Status};
use std::ops::ControlFlow;

use registry_core::report::SubjectKey;
use registry_store::{BatchItem, Begin, KeyedHash, NewSubmission, SealedRecord, SealedSubject, SqliteStore, Store, SubmissionStatus};

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn furnisher(name: &str) -> FurnisherId {
    FurnisherId::parse(name).unwrap()
}

fn submission(furnisher_name: &str, content: &str) -> NewSubmission {
    NewSubmission {
        submission_id: format!("sub-{furnisher_name}-{content}"),
        furnisher: furnisher(furnisher_name),
        file_name: Some(format!("{content}.jsonl")),
        content_sha256: content.to_string(),
        byte_count: 100,
        received_at: "2022-03-01T00:00:00Z".into(),
        format: if content.ends_with('m') { Format::Metro2 } else { Format::JsonLines },
    }
}

fn hash(n: u8) -> KeyedHash {
    [n; 32]
}

fn subject(n: u8, role: Role) -> SealedSubject {
    SealedSubject {
        role,
        id_type: IdType::CnRid,
        id_hash: hash(n),
        id_sealed: vec![n, 1].into(),
        identity_hash: hash(n + 100),
        identity_sealed: vec![n, 2].into(),
    }
}

fn record(line: u64, account: &str, as_of: &str, balance: u64, subjects: Vec<SealedSubject>) -> BatchItem {
    BatchItem::Accepted(SealedRecord {
        line,
        facts: AccountFacts {
            account: account.into(),
            as_of: d(as_of),
            product: Product::Microloan,
            opened: d("2020-01-01"),
            closed: None,
            currency: Currency::from_code("CNY").unwrap(),
            credit_limit: None,
            original_amount: Some(AmountMinor(500000)),
            term_months: Some(12),
            scheduled_payment: None,
            actual_payment: Some(AmountMinor(10)),
            balance: AmountMinor(balance),
            past_due: AmountMinor(0),
            status: Status::Current,
            payment_history: "000".into(),
            first_delinquency: None,
            last_payment: Some(d("2021-01-02")),
            special_comment: Some("AU".into()),
            dispute: Dispute::Disputed,
            funding: vec![
                FundingShare { institution: "a".into(), share_bp: 3000 },
                FundingShare { institution: "b".into(), share_bp: 7000 },
            ],
            reporter_id: Some("RPT-0001".into()),
        },
        subjects,
    })
}

fn rejected(line: u64) -> BatchItem {
    BatchItem::Rejected(vec![
        RecordError { line, field: "balance".into(), code: RecordErrorCode::WrongType, message: "m1".into() },
        RecordError { line, field: "as_of".into(), code: RecordErrorCode::InvalidDate, message: "m2".into() },
    ])
}

fn apply(store: &dyn Store, sub: &NewSubmission, items: &[BatchItem], record_count: u64) -> registry_store::SubmissionSummary {
    let Begin::Started(mut writer) = store.begin_submission(sub).unwrap() else { panic!("unexpected duplicate") };
    writer.write_batch(std::sync::Arc::new(items.to_vec())).unwrap();
    writer.commit(record_count).unwrap()
}

pub fn migrations_can_run_again(store: &dyn Store) {
    store.migrate().unwrap();
    store.migrate().unwrap();
    store.ping().unwrap();
}

pub fn meta_is_set_once(store: &dyn Store) {
    assert_eq!(store.meta("fingerprint").unwrap(), None);
    assert_eq!(store.meta_init("fingerprint", "one").unwrap(), "one");
    assert_eq!(store.meta_init("fingerprint", "two").unwrap(), "one");
    assert_eq!(store.meta("fingerprint").unwrap().as_deref(), Some("one"));
}

pub fn a_submission_is_applied_once(store: &dyn Store) {
    let sub = submission("bankx", "c1");
    let summary = apply(store, &sub, &[record(1, "A1", "2022-01-31", 100, vec![subject(1, Role::Primary)]), rejected(2)], 2);
    assert_eq!(summary.status, SubmissionStatus::Applied);
    assert_eq!((summary.record_count, summary.accepted_count, summary.rejected_count), (2, 1, 1));
    let found = store.find_applied(&furnisher("bankx"), "c1").unwrap().unwrap();
    assert_eq!(found, summary);
    assert_eq!(store.submission(&furnisher("bankx"), &sub.submission_id).unwrap(), Some(summary.clone()));
    // Another furnisher cannot read it.
    assert_eq!(store.submission(&furnisher("banky"), &sub.submission_id).unwrap(), None);
    // The same content again is recognised under the lock.
    let again = NewSubmission { submission_id: "other-id".into(), ..sub.clone() };
    match store.begin_submission(&again).unwrap() {
        Begin::Duplicate(existing) => assert_eq!(existing.submission_id, sub.submission_id),
        Begin::Started(_) => panic!("duplicate content was started again"),
    }
    // The same bytes from another furnisher are that furnisher's own submission.
    assert!(matches!(store.begin_submission(&submission("banky", "c1")).unwrap(), Begin::Started(_)));
}

pub fn rejections_come_back_in_file_order(store: &dyn Store) {
    let sub = submission("bankx", "c2");
    apply(store, &sub, &[rejected(3), record(4, "A1", "2022-01-31", 1, vec![subject(1, Role::Primary)]), rejected(9)], 3);
    let mut seen = Vec::new();
    store
        .for_each_rejection(&sub.submission_id, &mut |e| {
            seen.push((e.line, e.field, e.code));
            Ok(std::ops::ControlFlow::Continue(()))
        })
        .unwrap();
    assert_eq!(
        seen,
        vec![
            (3, "balance".to_string(), RecordErrorCode::WrongType),
            (3, "as_of".to_string(), RecordErrorCode::InvalidDate),
            (9, "balance".to_string(), RecordErrorCode::WrongType),
            (9, "as_of".to_string(), RecordErrorCode::InvalidDate),
        ]
    );
}

pub fn an_unfinished_submission_leaves_nothing(store: &dyn Store) {
    let sub = submission("bankx", "c3");
    {
        let Begin::Started(mut writer) = store.begin_submission(&sub).unwrap() else { panic!() };
        writer.write_batch(std::sync::Arc::new(vec![record(1, "A1", "2022-01-31", 100, vec![subject(1, Role::Primary)])])).unwrap();
        // Dropped without commit.
    }
    assert!(store.find_applied(&furnisher("bankx"), "c3").unwrap().is_none());
    assert!(store.submission(&furnisher("bankx"), &sub.submission_id).unwrap().is_none());
    assert!(store.find_subject(&hash(1)).unwrap().is_none());
    // And the same content can then be applied.
    apply(store, &sub, &[record(1, "A1", "2022-01-31", 100, vec![subject(1, Role::Primary)])], 1);
    assert!(store.find_subject(&hash(1)).unwrap().is_some());
}

pub fn a_repeated_key_in_one_file_is_rejected(store: &dyn Store) {
    let sub = submission("bankx", "c4");
    let summary = apply(
        store,
        &sub,
        &[
            record(1, "A1", "2022-01-31", 100, vec![subject(1, Role::Primary)]),
            record(2, "A1", "2022-01-31", 999, vec![subject(1, Role::Primary)]),
        ],
        2,
    );
    assert_eq!((summary.accepted_count, summary.rejected_count), (1, 1));
    let mut seen = Vec::new();
    store
        .for_each_rejection(&sub.submission_id, &mut |e| {
            seen.push(e);
            Ok(std::ops::ControlFlow::Continue(()))
        })
        .unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].line, seen[0].code), (2, RecordErrorCode::DuplicateRecord));
    assert!(seen[0].message.contains("line 1"), "{}", seen[0].message);
    let versions = store.record_versions(&furnisher("bankx"), "A1").unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].facts.balance, AmountMinor(100));
}

pub fn a_correction_replaces_and_keeps_history(store: &dyn Store) {
    apply(store, &submission("bankx", "c5"), &[record(1, "A1", "2022-01-31", 100, vec![subject(1, Role::Primary)])], 1);
    apply(store, &submission("bankx", "c6"), &[record(7, "A1", "2022-01-31", 250, vec![subject(1, Role::Primary)])], 1);
    let versions = store.record_versions(&furnisher("bankx"), "A1").unwrap();
    let seen: Vec<(u64, Option<&str>, &str)> =
        versions.iter().map(|v| (v.facts.balance.0, v.replaced_by.as_deref(), v.submission_id.as_str())).collect();
    assert_eq!(seen, vec![(100, Some("sub-bankx-c6"), "sub-bankx-c5"), (250, None, "sub-bankx-c6")]);
    assert_eq!(versions[1].line, 7);
    let key = store.find_subject(&hash(1)).unwrap().unwrap();
    let stored = store.subject(key).unwrap().unwrap();
    assert_eq!(stored.accounts.len(), 1);
    assert_eq!(stored.accounts[0].records.len(), 1);
    assert_eq!(stored.accounts[0].records[0].facts.balance, AmountMinor(250));
}

pub fn subjects_are_shared_across_furnishers(store: &dyn Store) {
    apply(
        store,
        &submission("bankx", "c7"),
        &[
            record(1, "A1", "2022-01-31", 1, vec![subject(1, Role::Primary), subject(2, Role::Joint)]),
            record(2, "A1", "2022-02-28", 2, vec![subject(1, Role::Primary), subject(2, Role::Joint)]),
        ],
        2,
    );
    apply(store, &submission("banky", "c8"), &[record(1, "B1", "2022-01-31", 3, vec![subject(2, Role::Primary)])], 1);
    let one = store.find_subject(&hash(1)).unwrap().unwrap();
    let two = store.find_subject(&hash(2)).unwrap().unwrap();
    assert_ne!(one, two);
    let stored = store.subject(two).unwrap().unwrap();
    assert_eq!(stored.id_type, IdType::CnRid);
    assert_eq!(stored.id_sealed, vec![2, 1]);
    // One identity per furnisher that reported it.
    let mut furnishers: Vec<&str> = stored.identities.iter().map(|i| i.furnisher.as_str()).collect();
    furnishers.sort_unstable();
    assert_eq!(furnishers, ["bankx", "banky"]);
    assert!(stored.identities.iter().all(|i| i.sealed == vec![2, 2]));
    let mut accounts: Vec<(String, usize)> = stored.accounts.iter().map(|a| (a.furnisher.clone(), a.records.len())).collect();
    accounts.sort();
    assert_eq!(accounts, vec![("bankx".to_string(), 2), ("banky".to_string(), 1)]);
    let bankx = stored.accounts.iter().find(|a| a.furnisher == "bankx").unwrap();
    let links: Vec<(i64, Role)> = bankx.records[0].subjects.iter().map(|l| (l.subject, l.role)).collect();
    assert_eq!(links, vec![(one.0, Role::Primary), (two.0, Role::Joint)]);
    // The subject's link names one of its identities.
    let joint_link = bankx.records[0].subjects[1];
    assert!(stored.identities.iter().any(|i| i.key == joint_link.identity && i.furnisher == "bankx"));
    // Every field survives the round trip.
    let BatchItem::Accepted(original) = record(1, "A1", "2022-01-31", 1, vec![]) else { unreachable!() };
    assert_eq!(bankx.records[0].facts, original.facts);
    assert!(store.find_subject(&hash(9)).unwrap().is_none());
}

pub fn every_subject_streams_as_it_reads_alone(store: &dyn Store) {
    apply(
        store,
        &submission("bankx", "c11"),
        &[
            record(1, "A1", "2022-01-31", 1, vec![subject(1, Role::Primary), subject(2, Role::Joint)]),
            record(2, "A1", "2022-02-28", 2, vec![subject(1, Role::Primary), subject(2, Role::Joint)]),
            record(3, "A2", "2022-01-31", 3, vec![subject(3, Role::Primary)]),
        ],
        3,
    );
    apply(store, &submission("banky", "c12"), &[record(1, "B1", "2022-01-31", 4, vec![subject(2, Role::Primary)])], 1);
    let mut streamed = Vec::new();
    store
        .for_each_subject_accounts(0..i64::MAX, &mut |key, accounts| {
            streamed.push((key, accounts));
            Ok(ControlFlow::Continue(()))
        })
        .unwrap();
    let keys: Vec<SubjectKey> = streamed.iter().map(|(k, _)| *k).collect();
    assert_eq!(keys.len(), 3);
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "by subject key: {keys:?}");
    // What a scan leaves out (`blank_unscanned`) is left out of the comparison.
    let view = |accounts: &[registry_core::report::AccountHistory]| {
        let scanned = |facts: &registry_core::model::AccountFacts| {
            let mut facts = facts.clone();
            registry_store::blank_unscanned(&mut facts);
            facts
        };
        let mut view: Vec<(String, Vec<registry_core::model::AccountFacts>)> =
            accounts.iter().map(|a| (a.furnisher.clone(), a.records.iter().map(|r| scanned(&r.facts)).collect())).collect();
        view.sort_by(|a, b| (&a.0, &a.1[0].account).cmp(&(&b.0, &b.1[0].account)));
        view
    };
    for (key, accounts) in &streamed {
        let alone = store.subject(*key).unwrap().unwrap();
        assert_eq!(view(accounts), view(&alone.accounts), "subject {key:?}");
    }
    // Breaking stops the walk.
    let mut seen = 0;
    store
        .for_each_subject_accounts(0..i64::MAX, &mut |_, _| {
            seen += 1;
            Ok(ControlFlow::Break(()))
        })
        .unwrap();
    assert_eq!(seen, 1);
    // A range of keys: only those subjects.
    let max = store.subject_key_max().unwrap().unwrap();
    assert_eq!(max, keys[2].0);
    let mut ranged = Vec::new();
    store
        .for_each_subject_accounts(keys[1].0..max, &mut |key, _| {
            ranged.push(key);
            Ok(ControlFlow::Continue(()))
        })
        .unwrap();
    assert_eq!(ranged, vec![keys[1]]);
}

/// A visitor's own error stops a stream and comes back out of the store's method unchanged,
/// also when it fails on a scan's last subject.
pub fn a_visitors_error_comes_back_out(store: &dyn Store) {
    apply(
        store,
        &submission("bankx", "c13"),
        &[
            record(1, "A1", "2022-01-31", 1, vec![subject(1, Role::Primary)]),
            record(2, "A2", "2022-01-31", 2, vec![subject(2, Role::Primary)]),
        ],
        2,
    );
    #[derive(Debug)]
    struct Refused(usize);
    impl std::fmt::Display for Refused {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "refused at item {}", self.0)
        }
    }
    impl std::error::Error for Refused {}
    let refused_at = |error: registry_store::StoreError| match error {
        registry_store::StoreError::Visitor(inner) => inner.downcast::<Refused>().map(|r| r.0).ok(),
        _ => None,
    };
    for fail_at in [1, 2] {
        let mut seen = 0;
        let error = store
            .for_each_subject_accounts(0..i64::MAX, &mut |_, _| {
                seen += 1;
                if seen == fail_at { Err(Box::new(Refused(seen))) } else { Ok(ControlFlow::Continue(())) }
            })
            .unwrap_err();
        assert_eq!((refused_at(error), seen), (Some(fail_at), fail_at), "a scan failing on subject {fail_at} of 2");
    }
    let error =
        store.for_each_record(&furnisher("bankx"), d("2022-01-01"), d("2022-12-31"), &mut |_| Err(Box::new(Refused(1)))).unwrap_err();
    assert_eq!(refused_at(error), Some(1));
}

pub fn compaction_changes_no_record(store: &dyn Store) {
    // Two accounts whose months arrive interleaved, one of them corrected.
    for (month, date) in ["2022-01-31", "2022-02-28", "2022-03-31"].iter().enumerate() {
        apply(
            store,
            &submission("bankx", &format!("m{month}")),
            &[
                record(1, "A1", date, 10 + month as u64, vec![subject(1, Role::Primary)]),
                record(2, "B2", date, 20 + month as u64, vec![subject(1, Role::Primary), subject(2, Role::Joint)]),
            ],
            2,
        );
    }
    apply(store, &submission("bankx", "fix"), &[record(1, "A1", "2022-02-28", 99, vec![subject(1, Role::Primary)])], 1);
    let everything = |store: &dyn Store| {
        let mut out = Vec::new();
        store
            .for_each_subject_accounts(0..i64::MAX, &mut |key, accounts| {
                let mut accounts: Vec<String> = accounts.iter().map(|a| format!("{} {:?}", a.furnisher, a.records)).collect();
                accounts.sort();
                out.push(format!("{key:?} {accounts:?}"));
                Ok(ControlFlow::Continue(()))
            })
            .unwrap();
        for account in ["A1", "B2"] {
            out.push(format!("{:?}", store.record_versions(&furnisher("bankx"), account).unwrap()));
        }
        out
    };
    let before = everything(store);
    assert_eq!(store.compact().unwrap(), 6, "six current records");
    assert_eq!(everything(store), before, "compaction moves rows, changes nothing");
    // Submissions go on as before: a new month, a correction of a compacted record.
    apply(
        store,
        &submission("bankx", "m3"),
        &[
            record(1, "A1", "2022-04-30", 13, vec![subject(1, Role::Primary)]),
            record(2, "A1", "2022-01-31", 77, vec![subject(1, Role::Primary)]),
        ],
        2,
    );
    let key = store.find_subject(&hash(1)).unwrap().unwrap();
    let stored = store.subject(key).unwrap().unwrap();
    let a1 = stored.accounts.iter().find(|a| a.records[0].facts.account == "A1").unwrap();
    let balances: Vec<u64> = a1.records.iter().map(|r| r.facts.balance.0).collect();
    assert_eq!(balances, [77, 99, 12, 13]);
    assert_eq!(store.compact().unwrap(), 7);
}

pub fn a_furnishers_records_are_read_by_date(store: &dyn Store) {
    apply(
        store,
        &submission("bankx", "c10"),
        &[
            record(1, "B2", "2022-02-28", 22, vec![subject(1, Role::Primary), subject(2, Role::Joint)]),
            record(2, "A1", "2022-01-31", 11, vec![subject(1, Role::Primary)]),
            record(3, "A1", "2022-02-28", 12, vec![subject(1, Role::Primary)]),
            record(4, "A1", "2022-03-31", 13, vec![subject(1, Role::Primary)]),
        ],
        4,
    );
    apply(store, &submission("banky", "c11"), &[record(1, "A1", "2022-02-28", 99, vec![subject(1, Role::Primary)])], 1);
    let mut seen = Vec::new();
    store
        .for_each_record(&furnisher("bankx"), d("2022-02-01"), d("2022-02-28"), &mut |r| {
            seen.push(r);
            Ok(std::ops::ControlFlow::Continue(()))
        })
        .unwrap();
    let keys: Vec<(&str, u64)> = seen.iter().map(|r| (r.facts.account.as_str(), r.facts.balance.0)).collect();
    assert_eq!(keys, [("A1", 12), ("B2", 22)], "by account, only bankx's, only February");
    // Each link leads to the subject's sealed identifier and the identity the record reported.
    let joint = seen[1].subjects[1];
    let link = store.sealed_link(registry_core::report::SubjectKey(joint.subject), joint.identity).unwrap().unwrap();
    assert_eq!((link.id_type, link.id_sealed, link.identity_sealed), (IdType::CnRid, vec![2, 1], vec![2, 2]));
    assert!(store.sealed_link(registry_core::report::SubjectKey(joint.subject), -1).unwrap().is_none());
    // A visitor may stop early.
    let mut count = 0;
    store
        .for_each_record(&furnisher("bankx"), d("2022-01-01"), d("2022-12-31"), &mut |_| {
            count += 1;
            Ok(std::ops::ControlFlow::Break(()))
        })
        .unwrap();
    assert_eq!(count, 1);
}

pub fn a_rejected_file_is_recorded(store: &dyn Store) {
    let metro2 = submission("bankx", "c12m");
    let summary = apply(store, &metro2, &[record(2, "A1", "2022-01-31", 100, vec![subject(1, Role::Primary)])], 1);
    assert_eq!(summary.format, Format::Metro2);
    assert_eq!(store.submission(&furnisher("bankx"), &metro2.submission_id).unwrap().unwrap().format, Format::Metro2);
    let sub = submission("bankx", "c9");
    let rejection = FileRejection::new(FileErrorCode::TrailerMismatch, "declares 3, holds 2");
    let summary = store.record_rejected_file(&sub, 2, &rejection).unwrap();
    assert_eq!(summary.status, SubmissionStatus::Rejected);
    assert_eq!(store.submission(&furnisher("bankx"), &sub.submission_id).unwrap(), Some(summary));
    // A rejected file does not count for idempotency.
    assert!(store.find_applied(&furnisher("bankx"), "c9").unwrap().is_none());
}

pub fn prior_records_are_what_was_stored_before(store: &dyn Store) {
    let person = || vec![subject(1, Role::Primary)];
    apply(
        store,
        &submission("bankx", "p1"),
        &[record(1, "A1", "2022-01-31", 100, person()), record(2, "A1", "2022-02-10", 95, person())],
        2,
    );
    apply(store, &submission("banky", "p2"), &[record(1, "A1", "2022-02-28", 1, person())], 1);
    let mut lookup = store.prior_lookup(&furnisher("bankx")).unwrap();
    let keys = [("A1", d("2022-02-28")), ("A1", d("2022-01-31")), ("Z9", d("2022-02-28"))];
    let prior = lookup.prior_records(&keys).unwrap();
    assert!(!prior[0].exists);
    assert_eq!(prior[0].previous.as_ref().map(|p| (p.as_of, p.balance.0)), Some((d("2022-02-10"), 95)), "bankx's own, not banky's");
    assert_eq!(prior[0].same_month, Some(d("2022-02-10")));
    assert!(prior[1].exists && prior[1].previous.is_none() && prior[1].same_month.is_none());
    assert_eq!(prior[2], registry_store::PriorRecords::default());
    assert!(lookup.prior_records(&[]).unwrap().is_empty());
    drop(lookup);
    // A record stored since is seen by the next look-up; one far older than the month before
    // is found too (the previous record may be years back).
    apply(store, &submission("bankx", "p3"), &[record(1, "A1", "2022-02-28", 90, person()), record(2, "B2", "2019-03-31", 7, person())], 2);
    let prior = store.prior_lookup(&furnisher("bankx")).unwrap().prior_records(&[keys[0], ("B2", d("2022-02-28"))]).unwrap();
    assert!(prior[0].exists);
    assert_eq!(prior[1].previous.as_ref().map(|p| (p.as_of, p.balance.0)), Some((d("2019-03-31"), 7)));
}

pub fn recent_submissions_come_newest_first(store: &dyn Store) {
    let person = || vec![subject(1, Role::Primary)];
    apply(store, &submission("bankx", "r1"), &[record(1, "A1", "2022-01-31", 100, person())], 1);
    let rejected =
        store.record_rejected_file(&submission("bankx", "r2"), 0, &FileRejection::new(FileErrorCode::TrailerMismatch, "no")).unwrap();
    apply(store, &submission("banky", "r3"), &[record(1, "A1", "2022-01-31", 100, person())], 1);
    apply(store, &submission("bankx", "r4"), &[record(1, "A1", "2022-02-28", 90, person())], 1);
    let recent = store.recent_submissions(&furnisher("bankx"), 10).unwrap();
    let ids: Vec<&str> = recent.iter().map(|s| s.content_sha256.as_str()).collect();
    assert_eq!(ids.len(), 3, "only bankx's");
    assert_eq!(recent[1].submission_id, rejected.submission_id);
    assert_eq!(recent[1].status, SubmissionStatus::Rejected);
    assert_eq!(store.recent_submissions(&furnisher("bankx"), 1).unwrap()[0].submission_id, recent[0].submission_id);
    assert!(recent[0].received_at >= recent[2].received_at);
}

#[macro_export]
macro_rules! backend_suite {
    ($backend:ident, $make:expr) => {
        mod $backend {
            use super::*;
            $crate::backend_suite!(@cases $make;
                migrations_can_run_again, meta_is_set_once, a_submission_is_applied_once,
                rejections_come_back_in_file_order, an_unfinished_submission_leaves_nothing,
                a_repeated_key_in_one_file_is_rejected, a_correction_replaces_and_keeps_history,
                subjects_are_shared_across_furnishers, a_rejected_file_is_recorded,
                a_furnishers_records_are_read_by_date, every_subject_streams_as_it_reads_alone,
                a_visitors_error_comes_back_out, compaction_changes_no_record, prior_records_are_what_was_stored_before,
                recent_submissions_come_newest_first);
        }
    };
    (@cases $make:expr; $($case:ident),+) => {
        $(
            #[test]
            fn $case() {
                if let Some((_guard, store)) = $make {
                    super::$case(&*store);
                }
            }
        )+
    };
}

fn sqlite_store() -> Option<(tempfile::TempDir, Box<dyn Store>)> {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("registry.db"), std::time::Duration::from_secs(5)).unwrap();
    store.migrate().unwrap();
    Some((dir, Box::new(store)))
}

backend_suite!(sqlite, sqlite_store());

/// A store on a fresh PostgreSQL database, or `None` (the case passes trivially, saying so)
/// when `DATABASE_URL` is not set.
fn postgres_store() -> Option<(registry_store::testing::TestDatabase, Box<dyn Store>)> {
    let Some(database) = registry_store::testing::TestDatabase::create() else {
        eprintln!("DATABASE_URL is not set: skipping the PostgreSQL case");
        return None;
    };
    let store = registry_store::PostgresStore::open(registry_store::PostgresSettings::new(database.url())).unwrap();
    store.migrate().unwrap();
    Some((database, Box::new(store)))
}

backend_suite!(postgres, postgres_store());

/// On a Citus cluster (`CITUS_WORKERS` set, as `.ci/run`'s second run sets it): finding a
/// person and reading their whole file, the report's reads, are single-shard router queries.
/// The checking store's connections turn any query that needs more than one shard into an
/// error (`citus.multi_task_query_log_level`).
#[test]
fn on_citus_a_reports_reads_are_each_routed_to_one_shard() {
    if std::env::var_os(registry_store::testing::CITUS_WORKERS_VAR).is_none() {
        eprintln!("CITUS_WORKERS is not set: not a Citus cluster, nothing to check");
        return;
    }
    let Some(database) = registry_store::testing::TestDatabase::create() else { return };
    let store = registry_store::PostgresStore::open(registry_store::PostgresSettings::new(database.url())).unwrap();
    store.migrate().unwrap();
    let both = || vec![subject(1, Role::Primary), subject(2, Role::Joint)];
    apply(
        &store,
        &submission("bankx", "c1"),
        &[record(1, "A1", "2022-01-31", 100, both()), record(2, "B2", "2022-01-31", 5, vec![subject(1, Role::Primary)])],
        2,
    );
    apply(&store, &submission("banky", "c2"), &[record(1, "A1", "2022-02-28", 90, both())], 1);

    let strict_url = format!("{}?options=-c%20citus.multi_task_query_log_level%3Derror", database.url());
    let strict = registry_store::PostgresStore::open(registry_store::PostgresSettings::new(&strict_url)).unwrap();
    // The setting is in force: a query over every shard is refused.
    assert!(strict.furnishers().is_err(), "a multi-shard query should be refused on the checking store");
    let key = strict.find_subject(&hash(1)).unwrap().expect("the subject");
    let file = strict.subject(key).unwrap().expect("the subject's file");
    assert_eq!(file.accounts.len(), 3, "bankx's two accounts and banky's");
    let joint = strict.find_subject(&hash(2)).unwrap().expect("the joint borrower");
    assert_eq!(strict.subject(joint).unwrap().unwrap().accounts.len(), 2);
}
