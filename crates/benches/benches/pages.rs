//! The consumer's report page for a subject with 10 accounts × 24 monthly records: rendering
//! the HTML from the report (templates, formatting, the message catalogue) in each language,
//! and the page's weight. The report itself is `report.rs`'s.

use std::hint::black_box;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use registry_core::model::{FurnisherId, IdType};
use registry_core::report::Audience;
use registry_server::web::consumer::report_view;
use registry_server::web::i18n::Lang;
use registry_server::web::{Frame, layout};
use registry_service::clock::FixedClock;
use registry_service::{IngestOptions, NoProgress, Registry, RegistrySettings};

mod common;

use common::{ID, history_file};

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let clock = FixedClock(Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap());
    let registry = Registry::open(RegistrySettings::new(dir.path()), Arc::new(clock)).unwrap();
    let furnisher = FurnisherId::parse("bank").unwrap();
    registry.ingest(&furnisher, None, &mut history_file().as_bytes(), &IngestOptions::default(), &NoProgress).unwrap();
    let subject = registry.find_subject(IdType::CnRid, ID).unwrap().unwrap();
    let report = registry.report_unlogged(subject, Some("2026-11-01".parse().unwrap()), Audience::Subject).unwrap().unwrap();
    assert_eq!(report.accounts.len(), 10);

    let render = |lang: Lang| {
        let frame = Frame {
            lang,
            path: "/me",
            signed_in: Some(("Wang Fang", registry_service::keys::PrincipalRole::Consumer, "0".repeat(64).leak())),
        };
        layout(&frame, "report", report_view(lang, &report, true)).0
    };
    for lang in Lang::ALL {
        eprintln!("report page, {}: {} bytes of HTML", lang.tag(), render(lang).len());
    }
    let mut group = c.benchmark_group("report_page_10_accounts");
    for lang in Lang::ALL {
        group.bench_function(lang.tag(), |b| b.iter(|| render(black_box(lang))));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
