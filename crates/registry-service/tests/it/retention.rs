//! Retention per jurisdiction on both backends: accounts whose negative information is past
//! the profile's period are deleted, each with an access-log entry; nothing earlier, nothing
//! clean.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use registry_core::model::IdType;
use registry_core::report::Audience;
use registry_service::audit::AccessAction;
use registry_service::clock::ManualClock;

use crate::{Backend, examples, ingest, on_both_backends, open_on_with};

on_both_backends!(negative_information_is_deleted_when_its_retention_ends);

fn negative_information_is_deleted_when_its_retention_ends(backend: Backend) {
    // The history example: CC-A late in January 2022 and cured in February; MC-C charged off
    // (first delinquency 2021-02-01) and paid in February 2022, closed 2022-02-20; AL-B paid
    // off cleanly; XX-D deleted by its furnisher.
    let cases = [
        ("cn", vec![("2027-02-27", vec![]), ("2027-02-28", vec!["CC-A", "MC-C"])]),
        ("us", vec![("2028-07-30", vec![]), ("2028-07-31", vec!["MC-C"]), ("2029-07-04", vec!["CC-A"])]),
        ("eu-nl", vec![("2027-02-19", vec![]), ("2027-02-20", vec!["MC-C"]), ("2027-02-28", vec!["CC-A"])]),
    ];
    for (jurisdiction, steps) in cases {
        let dir = tempfile::tempdir().unwrap();
        let start = Utc.with_ymd_and_hms(2022, 6, 30, 12, 0, 0).unwrap();
        let clock = Arc::new(ManualClock::new(start));
        let Some(registry) = open_on_with(backend, dir.path(), clock.clone(), jurisdiction) else { return };
        ingest(&registry, "bankx", &std::fs::read(examples().join("history-example.jsonl")).unwrap());
        let subject = registry.find_subject(IdType::CnRid, "320102198706153316").unwrap().unwrap();
        let accounts = || -> Vec<String> {
            let report = registry.report_unlogged(subject, Some("2022-06-30".parse().unwrap()), Audience::Subject).unwrap().unwrap();
            let mut names: Vec<String> = report.accounts.iter().map(|a| a.account.clone()).collect();
            names.sort();
            names
        };
        assert_eq!(accounts(), ["AL-B", "CC-A", "MC-C"], "{jurisdiction}");
        let none = registry.run_retention().unwrap();
        assert_eq!((none.accounts_examined, none.accounts_purged), (4, 0), "{jurisdiction}: nothing has expired yet");

        let mut remaining = accounts();
        for (day, purged) in steps {
            let target = Utc.from_utc_datetime(&day.parse::<chrono::NaiveDate>().unwrap().and_hms_opt(12, 0, 0).unwrap());
            clock.advance(target - registry.clock().now());
            let outcome = registry.run_retention().unwrap();
            assert_eq!(outcome.accounts_purged, purged.len() as u64, "{jurisdiction} on {day}: {outcome:?}");
            remaining.retain(|a| !purged.contains(&a.as_str()));
            assert_eq!(accounts(), remaining, "{jurisdiction} on {day}");
        }
        assert_eq!(registry.run_retention().unwrap().accounts_purged, 0, "{jurisdiction}: a second run finds nothing");
        let purges: Vec<_> =
            registry.subject_accesses(subject).unwrap().into_iter().filter(|a| a.action == AccessAction::RetentionPurge).collect();
        assert_eq!(purges.len(), 2, "{jurisdiction}: one access-log entry per deletion");
        assert!(purges[0].purpose.as_deref().unwrap().contains(jurisdiction), "{:?}", purges[0].purpose);
        assert!(registry.verify_log().unwrap().is_ok());
        // The furnisher's history of a deleted account is gone too.
        assert!(registry.store().record_versions(&crate::furnisher("bankx"), "MC-C").unwrap().is_empty(), "{jurisdiction}");
    }
}
