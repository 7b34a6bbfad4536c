//! Consent, inquiries, freezes and disputes on both backends, with a clock the tests move.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use registry_core::model::IdType;
use registry_core::report::{AlertKind, Audience, Report, SubjectKey};
use registry_service::clock::ManualClock;
use registry_service::keys::{Principal, PrincipalRole};
use registry_service::rights::{DisputeOutcome, FlagKind, InquiryRequest, InquirySubject, Refusal};
use registry_service::{Registry, ServiceError};

use crate::{Backend, Opened, examples, furnisher, ingest, on_both_backends, open_on_with};

on_both_backends!(
    a_consent_is_granted_used_expired_and_revoked,
    inquiries_without_a_match_say_nothing_about_who_exists,
    a_freeze_stops_new_credit_inquiries_only_while_in_force,
    a_dispute_is_answered_or_its_deadline_acts_per_jurisdiction,
);

const ID: &str = "11010519491231002X";

struct Setup {
    registry: Opened,
    clock: Arc<ManualClock>,
    subject: SubjectKey,
    bank_a: Principal,
    bank_b: Principal,
    _dir: tempfile::TempDir,
}

fn setup(backend: Backend, jurisdiction: &str) -> Option<Setup> {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2022, 6, 30, 12, 0, 0).unwrap()));
    let registry = open_on_with(backend, dir.path(), clock.clone(), jurisdiction)?;
    ingest(&registry, "payplat", &std::fs::read(examples().join("spec-example.jsonl")).unwrap());
    let subject = registry.find_subject(IdType::CnRid, ID).unwrap().unwrap();
    let principal = |name: &str| {
        let key = registry.create_key(PrincipalRole::Lender, name, None).unwrap().key;
        registry.authenticate(&key).unwrap().unwrap()
    };
    let (bank_a, bank_b) = (principal("bank-a"), principal("bank-b"));
    Some(Setup { registry, clock, subject, bank_a, bank_b, _dir: dir })
}

fn request(consent_id: &str, purpose: &str) -> InquiryRequest {
    InquiryRequest {
        subject: InquirySubject {
            id_type: IdType::CnRid,
            id: ID.into(),
            family_name: "Wang".into(),
            given_name: "Fang".into(),
            birth_date: "1949-12-31".parse().unwrap(),
        },
        purpose: purpose.into(),
        consent_id: consent_id.into(),
    }
}

fn refusal(result: Result<Report, ServiceError>) -> Refusal {
    match result {
        Err(ServiceError::Refused(refusal, _)) => refusal,
        Err(other) => panic!("expected a refusal, got {other:?}"),
        Ok(_) => panic!("expected a refusal, got a report"),
    }
}

fn days(n: i64) -> chrono::Duration {
    chrono::Duration::days(n)
}

fn a_consent_is_granted_used_expired_and_revoked(backend: Backend) {
    let Some(Setup { registry, clock, subject, bank_a, bank_b, .. }) = setup(backend, "cn") else { return };
    let expires = "2022-07-10".parse().unwrap();
    let consent = registry.grant_consent(subject, "bank-a", "credit_application", expires).unwrap();
    assert_eq!(consent.status, "active");

    // Used: the full report, the inquiry on the file (not counting itself), the access logged.
    let report = registry.inquire(&bank_a, &request(&consent.consent_id, "credit_application")).unwrap();
    assert_eq!(report.accounts.len(), 2);
    assert_eq!(report.summary.inquiries_6m, 0, "an inquiry does not count itself");
    assert!(report.subject.identifiers[0].id.contains('*'), "identifiers are masked to a lender");
    let again = registry.inquire(&bank_a, &request(&consent.consent_id, "credit_application")).unwrap();
    assert_eq!(again.summary.inquiries_6m, 1);
    let own = registry.report_unlogged(subject, None, Audience::Subject).unwrap().unwrap();
    assert_eq!(
        own.inquiries.iter().map(|i| (i.lender.as_str(), i.purpose.as_str())).collect::<Vec<_>>(),
        [("bank-a", "credit_application"); 2]
    );
    let logged = registry.subject_accesses(subject).unwrap();
    assert_eq!(logged.len(), 2);
    assert_eq!(logged[0].actor.name, "bank-a");
    assert_eq!(logged[0].purpose.as_deref(), Some("credit_application"));
    assert_eq!(logged[0].consent_id.as_deref(), Some(consent.consent_id.as_str()));

    // Another lender, another purpose: the consent does not cover them.
    assert_eq!(refusal(registry.inquire(&bank_b, &request(&consent.consent_id, "credit_application"))), Refusal::ConsentRequired);
    assert_eq!(refusal(registry.inquire(&bank_a, &request(&consent.consent_id, "account_review"))), Refusal::ConsentRequired);
    assert!(matches!(registry.inquire(&bank_a, &request(&consent.consent_id, "marketing")), Err(ServiceError::InvalidInput(_))));

    // A purpose that sees the summary only.
    let review = registry.grant_consent(subject, "bank-a", "account_review", expires).unwrap();
    let summary = registry.inquire(&bank_a, &request(&review.consent_id, "account_review")).unwrap();
    assert!(summary.accounts.is_empty() && summary.inquiries.is_empty());
    assert_eq!(summary.summary.accounts_total, 2);

    // Expired: the day after its last day.
    clock.advance(days(10));
    assert!(registry.inquire(&bank_a, &request(&consent.consent_id, "credit_application")).is_ok(), "usable on its last day");
    clock.advance(days(1));
    assert_eq!(refusal(registry.inquire(&bank_a, &request(&consent.consent_id, "credit_application"))), Refusal::ConsentRequired);
    let statuses: Vec<String> = registry.consents(subject).unwrap().into_iter().map(|c| c.status.to_string()).collect();
    assert_eq!(statuses, ["expired", "expired"]);

    // Revoked: refused at once.
    let fresh = registry.grant_consent(subject, "bank-a", "credit_application", "2023-01-01".parse().unwrap()).unwrap();
    assert!(registry.inquire(&bank_a, &request(&fresh.consent_id, "credit_application")).is_ok());
    registry.revoke_consent(subject, &fresh.consent_id).unwrap();
    assert_eq!(refusal(registry.inquire(&bank_a, &request(&fresh.consent_id, "credit_application"))), Refusal::ConsentRequired);
    assert!(matches!(registry.revoke_consent(subject, &fresh.consent_id), Err(ServiceError::InvalidInput(_))));
    assert!(matches!(registry.revoke_consent(SubjectKey(subject.0 + 1), &fresh.consent_id), Err(ServiceError::NotFound(_))));

    // What cannot be granted.
    let today = "2022-07-11".parse().unwrap();
    for (lender, purpose, expires) in [
        ("bank-z", "credit_application", today),
        ("bank-a", "marketing", today),
        ("bank-a", "credit_application", "2022-07-10".parse().unwrap()),
    ] {
        assert!(
            matches!(registry.grant_consent(subject, lender, purpose, expires), Err(ServiceError::InvalidInput(_))),
            "{lender} {purpose} {expires}"
        );
    }
}

fn inquiries_without_a_match_say_nothing_about_who_exists(backend: Backend) {
    let Some(Setup { registry, subject, bank_a, .. }) = setup(backend, "cn") else { return };
    let consent = registry.grant_consent(subject, "bank-a", "credit_application", "2022-12-31".parse().unwrap()).unwrap();
    // Without a valid consent the answer is the same for a subject who exists and one who does not.
    let mut stranger = request("cns_1_000000000000000000000000", "credit_application");
    stranger.subject.id = "320102198706153316".into();
    for (what, attempt) in [
        ("made-up consent, existing subject", request("cns_1_000000000000000000000000", "credit_application")),
        ("made-up consent, unknown subject", stranger),
        ("not a consent id", request("hello", "credit_application")),
    ] {
        assert_eq!(refusal(registry.inquire(&bank_a, &attempt)), Refusal::ConsentRequired, "{what}");
    }
    // With one: any detail that does not match is the same not-found.
    let mut wrong_birth = request(&consent.consent_id, "credit_application");
    wrong_birth.subject.birth_date = "1949-12-30".parse().unwrap();
    let mut wrong_family = request(&consent.consent_id, "credit_application");
    wrong_family.subject.family_name = "Li".into();
    let mut wrong_id = request(&consent.consent_id, "credit_application");
    wrong_id.subject.id = "320102198706153316".into();
    let mut invalid_id = request(&consent.consent_id, "credit_application");
    invalid_id.subject.id = "110105194912310021".into();
    for (what, attempt) in
        [("birth date", wrong_birth), ("family name", wrong_family), ("identifier", wrong_id), ("invalid identifier", invalid_id)]
    {
        assert_eq!(refusal(registry.inquire(&bank_a, &attempt)), Refusal::SubjectNotFound, "{what}");
    }
    // Case and given name do not matter.
    let mut loose = request(&consent.consent_id, "credit_application");
    loose.subject.family_name = " WANG ".into();
    loose.subject.given_name = "F.".into();
    assert!(registry.inquire(&bank_a, &loose).is_ok());
    assert_eq!(registry.subject_accesses(subject).unwrap().len(), 1, "refused inquiries read nothing and log nothing");
}

fn a_freeze_stops_new_credit_inquiries_only_while_in_force(backend: Backend) {
    let Some(Setup { registry, clock, subject, bank_a, .. }) = setup(backend, "cn") else { return };
    let application = registry.grant_consent(subject, "bank-a", "credit_application", "2023-12-31".parse().unwrap()).unwrap();
    let review = registry.grant_consent(subject, "bank-a", "account_review", "2023-12-31".parse().unwrap()).unwrap();
    let freeze = registry.place_flag(subject, FlagKind::Freeze, None).unwrap();
    assert_eq!((freeze.starts.to_string(), freeze.ends), ("2022-06-30".to_string(), None));
    assert!(matches!(registry.place_flag(subject, FlagKind::Freeze, None), Err(ServiceError::InvalidInput(_))));
    assert_eq!(refusal(registry.inquire(&bank_a, &request(&application.consent_id, "credit_application"))), Refusal::FileFrozen);
    let allowed = registry.inquire(&bank_a, &request(&review.consent_id, "account_review")).unwrap();
    assert!(allowed.alerts.iter().any(|a| a.kind == AlertKind::SecurityFreeze), "the freeze is on the report");

    clock.advance(days(3));
    registry.lift_flag(subject, FlagKind::Freeze).unwrap();
    assert!(matches!(registry.lift_flag(subject, FlagKind::Freeze), Err(ServiceError::NotFound(_))));
    let report = registry.inquire(&bank_a, &request(&application.consent_id, "credit_application")).unwrap();
    assert!(!report.alerts.iter().any(|a| a.kind == AlertKind::SecurityFreeze));
    // A report as of a day inside the freeze still shows it.
    let then = registry.report_unlogged(subject, Some("2022-07-01".parse().unwrap()), Audience::Subject).unwrap().unwrap();
    assert!(then.alerts.iter().any(|a| a.kind == AlertKind::SecurityFreeze));

    // A fraud alert runs a year by default.
    let alert = registry.place_flag(subject, FlagKind::FraudAlert, None).unwrap();
    assert_eq!(alert.ends.unwrap().to_string(), "2023-07-02");
    let report = registry.inquire(&bank_a, &request(&application.consent_id, "credit_application")).unwrap();
    assert!(report.alerts.iter().any(|a| a.kind == AlertKind::FraudAlert));
    clock.advance(days(366));
    let report = registry.report_unlogged(subject, None, Audience::Subject).unwrap().unwrap();
    assert!(!report.alerts.iter().any(|a| a.kind == AlertKind::FraudAlert), "expired after a year");
    assert_eq!(registry.flags(subject).unwrap().len(), 2);
    // A fraud alert with an end date can be lifted early too.
    registry.place_flag(subject, FlagKind::FraudAlert, None).unwrap();
    clock.advance(days(2));
    registry.lift_flag(subject, FlagKind::FraudAlert).unwrap();
    let report = registry.report_unlogged(subject, None, Audience::Subject).unwrap().unwrap();
    assert!(!report.alerts.iter().any(|a| a.kind == AlertKind::FraudAlert), "lifted");
    assert!(matches!(registry.lift_flag(subject, FlagKind::FraudAlert), Err(ServiceError::NotFound(_))));
}

fn open_disputes(registry: &Registry, subject: SubjectKey) -> Vec<String> {
    let report = registry.report_unlogged(subject, None, Audience::Subject).unwrap().unwrap();
    report.alerts.iter().filter(|a| a.kind == AlertKind::OpenDispute).map(|a| a.message.clone()).collect()
}

fn accounts(registry: &Registry, subject: SubjectKey) -> usize {
    registry.report_unlogged(subject, None, Audience::Subject).unwrap().unwrap().accounts.len()
}

fn a_dispute_is_answered_or_its_deadline_acts_per_jurisdiction(backend: Backend) {
    for (jurisdiction, deadline, withheld_after_deadline) in [("cn", "2022-07-20", false), ("us", "2022-07-30", true)] {
        let Some(Setup { registry, clock, subject, .. }) = setup(backend, jurisdiction) else { return };
        let payplat = furnisher("payplat");
        assert!(matches!(registry.open_dispute(subject, "payplat", "NO-SUCH", None, "not mine"), Err(ServiceError::NotFound(_))));
        assert!(matches!(registry.open_dispute(subject, "payplat", "JB-778", Some("colour"), "wrong"), Err(ServiceError::InvalidInput(_))));
        assert!(matches!(registry.open_dispute(subject, "payplat", "JB-778", None, "  "), Err(ServiceError::InvalidInput(_))));
        let dispute = registry.open_dispute(subject, "payplat", "JB-778", Some("past_due"), "I paid in April").unwrap();
        assert_eq!(dispute.deadline.to_string(), deadline, "{jurisdiction}");
        assert_eq!(registry.furnisher_disputes(&payplat, true).unwrap(), vec![dispute.clone()]);
        let marked = open_disputes(&registry, subject);
        assert_eq!(marked.len(), 1);
        assert!(marked[0].contains(&format!("must answer by {deadline}")), "{}", marked[0]);

        // The deadline passes unanswered.
        clock.advance(days(if jurisdiction == "cn" { 21 } else { 31 }));
        let marked = open_disputes(&registry, subject);
        assert!(marked[0].contains("not answered"), "{jurisdiction}: {}", marked[0]);
        assert_eq!(accounts(&registry, subject), if withheld_after_deadline { 1 } else { 2 }, "{jurisdiction}");

        // Answered: off the queue and the report; the account is back.
        assert!(matches!(
            registry.resolve_dispute(&furnisher("otherbank"), &dispute.dispute_id, DisputeOutcome::Confirmed, ""),
            Err(ServiceError::NotFound(_))
        ));
        registry.resolve_dispute(&payplat, &dispute.dispute_id, DisputeOutcome::Corrected, "past due corrected").unwrap();
        assert!(matches!(
            registry.resolve_dispute(&payplat, &dispute.dispute_id, DisputeOutcome::Confirmed, ""),
            Err(ServiceError::InvalidInput(_))
        ));
        assert!(registry.furnisher_disputes(&payplat, true).unwrap().is_empty());
        let all = registry.furnisher_disputes(&payplat, false).unwrap();
        assert_eq!((all[0].status.as_str(), all[0].resolution.as_deref()), ("corrected", Some("past due corrected")));
        assert!(open_disputes(&registry, subject).is_empty());
        assert_eq!(accounts(&registry, subject), 2);
    }
}

/// On a Citus cluster (`CITUS_WORKERS` set): every step of an inquiry (the lender's consent, the
/// person's file, the inquiry's record, the access log's entry) runs on one shard. The second
/// registry's connections refuse any query that needs more than one
/// (`citus.multi_task_query_log_level`).
#[test]
fn on_citus_an_inquiry_is_routed_to_one_shard_at_each_step() {
    if std::env::var_os(registry_store::testing::CITUS_WORKERS_VAR).is_none() {
        eprintln!("CITUS_WORKERS is not set: not a Citus cluster, nothing to check");
        return;
    }
    let Some(database) = registry_store::testing::TestDatabase::create() else { return };
    let dir = tempfile::tempdir().unwrap();
    let keys = registry_service::vault::Keys::generate().unwrap();
    let settings = |url: &str| {
        let mut settings = registry_service::RegistrySettings::new(dir.path());
        settings.postgres = Some(registry_store::PostgresSettings::new(url));
        settings.keys = Some(keys.clone());
        settings
    };
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2022, 6, 30, 12, 0, 0).unwrap()));
    let registry = Registry::open(settings(database.url()), clock.clone()).unwrap();
    ingest(&registry, "payplat", &std::fs::read(examples().join("spec-example.jsonl")).unwrap());
    let subject = registry.find_subject(IdType::CnRid, ID).unwrap().unwrap();
    let key = registry.create_key(PrincipalRole::Lender, "bank-a", None).unwrap().key;
    let bank_a = registry.authenticate(&key).unwrap().unwrap();
    let consent = registry.grant_consent(subject, "bank-a", "credit_application", "2022-12-31".parse().unwrap()).unwrap();

    let strict =
        Registry::open(settings(&format!("{}?options=-c%20citus.multi_task_query_log_level%3Derror", database.url())), clock).unwrap();
    assert!(strict.quality_overview().is_err(), "a multi-shard query (counting every furnisher's records) should be refused");
    let report = strict.inquire(&bank_a, &request(&consent.consent_id, "credit_application")).unwrap();
    assert_eq!(report.accounts.len(), 2);
}
