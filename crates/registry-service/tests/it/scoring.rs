//! Scores in the registry: on every report, the same in batch, and a development sample from
//! the registry's own history, on both backends.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use registry_core::model::{Date, FurnisherId};
use registry_core::report::{Audience, YearMonth};
use registry_score::attributes;
use registry_service::{IngestOptions, NoProgress, Registry, RegistrySettings, ServiceError};
use registry_synth::Params;

use super::{Backend, on_both_backends, open_on};

fn operator() -> registry_service::audit::Access {
    registry_service::audit::Access::command_line(registry_service::audit::AccessAction::ScoreBatch, None)
}

/// 300 people over 18 months of the Chinese market, ingested.
fn populated(registry: &Registry, dir: &std::path::Path) {
    let params = Params { seed: 9, ..Params::new(300, 18, YearMonth::parse("2022-05").unwrap()) };
    let files = dir.join("files");
    let manifest = registry_synth::generate(&params, &files, &mut |_| {}).unwrap();
    for file in &manifest.files {
        let bytes = std::fs::read(files.join(&file.path)).unwrap();
        let furnisher = FurnisherId::parse(&file.furnisher).unwrap();
        registry.ingest(&furnisher, Some(&file.path), &mut &bytes[..], &IngestOptions::default(), &NoProgress).unwrap();
    }
}

fn every_report_is_scored_and_batch_scores_agree(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = open_on(backend, dir.path()) else { return };
    populated(&registry, dir.path());
    let as_of: Date = "2022-05-31".parse().unwrap();
    let model_id = registry.score_model().card().model_id.clone();

    let mut batch = BTreeMap::new();
    registry
        .score_all(&operator(), as_of, &mut |subject, values, score| {
            assert_eq!(values.len(), attributes::CATALOGUE.len());
            batch.insert(subject, (score.value, score.reasons.iter().map(|r| r.code.clone()).collect::<Vec<_>>()));
            ControlFlow::Continue(())
        })
        .unwrap();
    assert!(batch.len() >= 250, "{} subjects scored", batch.len());
    let mut distinct = std::collections::BTreeSet::new();
    for (&subject, (value, codes)) in &batch {
        let report = registry.report_unlogged(subject, Some(as_of), Audience::Masked).unwrap().unwrap();
        let score = report.score.as_ref().expect("every report carries a score");
        assert_eq!(score["value"].as_i64(), Some(*value), "the batch score is the report's score ({subject:?})");
        assert_eq!(score["model_id"].as_str(), Some(model_id.as_str()));
        assert!(score["model_version"].as_str().unwrap().starts_with("sha256:"));
        let reasons = score["reasons"].as_array().unwrap();
        assert!(reasons.len() <= 4);
        let report_codes: Vec<String> = reasons.iter().map(|r| r["code"].as_str().unwrap().to_owned()).collect();
        assert_eq!(&report_codes, codes);
        let lost: Vec<f64> = reasons.iter().map(|r| r["points_lost"].as_f64().unwrap()).collect();
        assert!(lost.windows(2).all(|w| w[0] >= w[1]), "worst first: {lost:?}");
        for reason in reasons {
            let known = attributes::find(reason["attribute"].as_str().unwrap()).expect("a catalogue attribute");
            assert_eq!(reason["code"].as_str(), Some(known.code));
            assert_eq!(reason["reason"].as_str(), Some(known.reason));
        }
        assert!((300..=900).contains(value));
        distinct.insert(*value);
    }
    assert!(distinct.len() > 20, "scores spread out: {} distinct", distinct.len());
}

fn the_development_sample_labels_the_following_months(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = open_on(backend, dir.path()) else { return };
    populated(&registry, dir.path());
    let as_of: Date = "2021-11-30".parse().unwrap();
    let (mut rows, mut bads) = (0, 0);
    let sample = registry
        .development_sample(&operator(), as_of, 6, &mut |values, bad| {
            assert_eq!(values.len(), attributes::CATALOGUE.len());
            rows += 1;
            bads += usize::from(bad);
        })
        .unwrap();
    let (seen, counted) = (sample.subjects_seen, sample.rows);
    assert_eq!(counted, rows as u64);
    assert!(seen >= counted && rows > 200, "{seen} seen, {rows} rows");
    assert!(bads > 0 && bads < rows / 4, "{bads} bads of {rows}");
    for horizon in [0, 25] {
        let refused = registry.development_sample(&operator(), as_of, horizon, &mut |_, _| {}).unwrap_err();
        assert!(matches!(refused, ServiceError::InvalidInput(_)), "{refused}");
    }
}

on_both_backends!(every_report_is_scored_and_batch_scores_agree, the_development_sample_labels_the_following_months);

#[test]
fn a_configured_model_that_is_not_a_registry_scorecard_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.json");
    std::fs::write(&model, "{\"format\": \"something else\"}").unwrap();
    let mut settings = RegistrySettings::new(dir.path().join("data"));
    settings.score_model = Some(model.clone());
    let clock = registry_service::clock::FixedClock(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2022, 6, 30, 12, 0, 0).unwrap());
    let Err(error) = Registry::open(settings, std::sync::Arc::new(clock)) else { panic!("opened with a broken model") };
    assert!(error.to_string().contains("model.json"), "{error}");
}
