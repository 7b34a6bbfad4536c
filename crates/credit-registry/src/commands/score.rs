//! `score …`: scorecards trained on labelled CSV files or on the registry's own history,
//! evaluated, compared over time, applied to every subject, and described in model cards.

use std::io::{self, BufWriter, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use anyhow::Context;
use registry_score::attributes::CATALOGUE;
use registry_score::evaluation;
use registry_score::{Dataset, Monotone, Scorecard};
use registry_service::ErrorCode;
use registry_service::audit::{Access, AccessAction};
use registry_service::disclosure::Destination;
use registry_service::training::{self, TrainingOptions};
use serde_json::json;

use crate::cli::ScoreCommand;
use crate::commands::{open_registry, print_json};
use crate::config::Config;
use crate::failure::{CommandResult, Failure};
use crate::progress;

fn data_error(e: registry_score::ScoreError) -> Failure {
    match e {
        registry_score::ScoreError::Data(message) => Failure::new(ErrorCode::InvalidData, message),
        other @ registry_score::ScoreError::Io { .. } => Failure::Internal(other.into()),
    }
}

fn read_model(path: &Path) -> Result<Scorecard, Failure> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Scorecard::from_json(&text).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))
}

/// `MODEL.json` → `MODEL.card.md`.
fn card_path(model: &Path) -> PathBuf {
    model.with_extension("card.md")
}

pub fn run(config: &Config, command: ScoreCommand) -> CommandResult {
    match command {
        ScoreCommand::Train {
            data,
            target,
            ignore,
            monotone,
            from_registry,
            as_of,
            horizon_months,
            sample_out,
            folds,
            model_id,
            out,
            json,
        } => {
            let started = std::time::Instant::now();
            let set = if from_registry {
                let as_of = as_of.ok_or_else(|| Failure::usage("--from-registry needs --as-of DATE"))?;
                let registry = open_registry(config)?;
                let access = Access::command_line(AccessAction::ScoreBatch, Some(format!("development sample as of {as_of}")));
                let bar = progress::counter("sampling");
                let set = registry.registry_training_set(
                    &access,
                    as_of,
                    horizon_months,
                    sample_out.as_deref().map(Destination::File),
                    &|sampled| bar.set_position(sampled),
                )?;
                bar.finish_and_clear();
                set
            } else {
                let (Some(data), Some(target)) = (data, target) else {
                    return Err(Failure::usage("give --data FILE.csv and --target COLUMN, or --from-registry --as-of DATE"));
                };
                training::csv_training_set(&data, &target, &ignore)?
            };
            for warning in &set.warnings {
                eprintln!("warning: {warning}");
            }
            let card = training::train(&set, &TrainingOptions { monotone, folds, model_id })?;
            let (dataset, model_id) = (&set.dataset, &card.model_id);
            let text = serde_json::to_string_pretty(&card).context("writing the model")?;
            std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
            std::fs::write(card_path(&out), registry_score::card::render(&card))
                .with_context(|| format!("writing {}", card_path(&out).display()))?;
            let seconds = started.elapsed().as_secs_f64();
            let facts = card.card.as_ref().expect("train fills the card");
            if json {
                return print_json(&json!({
                    "model": out, "card": card_path(&out), "kind": card.kind, "rows": dataset.rows(), "bad_rate": facts.bad_rate,
                    "attributes": card.attribute_names(), "candidates": facts.candidates, "validation": facts.validation,
                    "training": facts.training, "seconds": seconds,
                }));
            }
            println!(
                "trained {} on {} rows ({:.2} % bad), {} attributes, in {seconds:.1} s",
                model_id,
                dataset.rows(),
                100.0 * facts.bad_rate,
                dataset.names.len()
            );
            println!("  compared on {}:", facts.validation);
            for candidate in &facts.candidates {
                let kept = if candidate.kind == card.kind { "  ← kept" } else { "" };
                println!("    {:<46} AUC {:.4}, KS {:.4}{kept}", candidate.kind.describe(), candidate.auc, candidate.ks);
                if candidate.folds.len() > 1 {
                    for (i, fold) in candidate.folds.iter().enumerate() {
                        println!("      fold {}: AUC {:.4}, KS {:.4} ({} rows)", i + 1, fold.auc, fold.ks, fold.rows);
                    }
                }
            }
            println!("  on the training rows: AUC {:.4}, Gini {:.4}, KS {:.4}", facts.training.auc, facts.training.gini, facts.training.ks);
            println!("  model: {}\n  card:  {}", out.display(), card_path(&out).display());
            Ok(())
        }
        ScoreCommand::Evaluate { model, data, target, band_width, json } => {
            let card = read_model(&model)?;
            let dataset = Dataset::read_csv(&data, &target, &[]).map_err(data_error)?;
            let points = card.raw_points(&dataset).map_err(Failure::usage)?;
            let performance = registry_score::performance(&points, &dataset.target);
            let scores: Vec<i64> = points.iter().map(|&p| card.clamp(p)).collect();
            let bands = evaluation::bands(&scores, &dataset.target, card.scaling.min_score, card.scaling.max_score, band_width);
            let predicted: Vec<f64> = points.iter().map(|&p| card.probability_of_bad(p)).collect();
            let calibration = evaluation::calibration(&predicted, &dataset.target, 10);
            if json {
                return print_json(&json!({
                    "auc": performance.auc, "gini": performance.gini, "ks": performance.ks, "rows": performance.rows,
                    "bands": bands, "calibration": calibration,
                }));
            }
            println!(
                "{}: AUC {:.4}, Gini {:.4}, KS {:.4} on {} rows\n",
                card.model_id, performance.auc, performance.gini, performance.ks, performance.rows
            );
            println!("{:>9}  {:>8}  {:>7}  {:>8}", "score", "rows", "bads", "bad rate");
            for band in &bands {
                println!("{:>4}–{:<4}  {:>8}  {:>7}  {:>7.2} %", band.from, band.to - 1, band.rows, band.bads, 100.0 * band.bad_rate);
            }
            println!("\ncalibration (tenths of the rows, safest first):\n{:>8}  {:>10}  {:>9}", "rows", "predicted", "observed");
            for group in &calibration {
                println!("{:>8}  {:>8.2} %  {:>7.2} %", group.rows, 100.0 * group.predicted_bad_rate, 100.0 * group.observed_bad_rate);
            }
            Ok(())
        }
        ScoreCommand::Stability { expected, actual, model, band_width, json } => {
            let card = model.as_deref().map(read_model).transpose()?;
            let scores_of = |path: &Path| -> Result<Vec<i64>, Failure> {
                Ok(if let Some(card) = &card {
                    let columns = Dataset::read_columns(path, &card.attribute_names()).map_err(data_error)?;
                    card.points_of_columns(&columns.iter().collect::<Vec<_>>()).into_iter().map(|p| card.clamp(p)).collect()
                } else {
                    let columns = Dataset::read_columns(path, &["score".to_owned()]).map_err(data_error)?;
                    columns[0]
                        .iter()
                        .enumerate()
                        .map(|(i, v)| {
                            v.map(|s| s.round() as i64)
                                .ok_or_else(|| Failure::usage(format!("{}: line {}: no score", path.display(), i + 2)))
                        })
                        .collect::<Result<_, _>>()?
                })
            };
            let (expected_scores, actual_scores) = (scores_of(&expected)?, scores_of(&actual)?);
            if expected_scores.is_empty() || actual_scores.is_empty() {
                return Err(Failure::usage("both samples need at least one row"));
            }
            let (min, max) = card.as_ref().map_or((300, 900), |c| (c.scaling.min_score, c.scaling.max_score));
            let (psi, table) = evaluation::stability(&expected_scores, &actual_scores, min, max, band_width);
            let verdict = if psi < 0.1 {
                "stable"
            } else if psi < 0.25 {
                "a shift worth watching"
            } else {
                "a shift that calls for review"
            };
            if json {
                return print_json(
                    &json!({"psi": psi, "verdict": verdict, "expected_rows": expected_scores.len(), "actual_rows": actual_scores.len(), "bands": table}),
                );
            }
            println!("population stability index {psi:.4}: {verdict} ({} rows against {})\n", actual_scores.len(), expected_scores.len());
            println!("{:>9}  {:>8}  {:>8}  {:>7}", "score", "expected", "actual", "psi");
            for band in &table {
                println!(
                    "{:>4}–{:<4}  {:>6.2} %  {:>6.2} %  {:>7.4}",
                    band.from,
                    band.to - 1,
                    100.0 * band.expected_share,
                    100.0 * band.actual_share,
                    band.psi
                );
            }
            Ok(())
        }
        ScoreCommand::Batch { as_of, out, attributes: with_attributes, json } => batch(config, as_of, out, with_attributes, json),
        ScoreCommand::Card { model } => {
            print!("{}", registry_score::card::render(&read_model(&model)?));
            Ok(())
        }
        ScoreCommand::Attributes => {
            println!("{:<5} {:<32} {:<10} definition", "code", "attribute", "monotone");
            for a in &CATALOGUE {
                let monotone = match a.monotone {
                    Monotone::Free => "free",
                    Monotone::Increasing => "risk ↑",
                    Monotone::Decreasing => "risk ↓",
                };
                println!("{:<5} {:<32} {:<10} {}", a.code, a.name, monotone, a.description);
            }
            Ok(())
        }
    }
}

/// A value as CSV: empty when missing, the shortest exact text otherwise.
fn write_value(out: &mut impl Write, value: Option<f64>) -> io::Result<()> {
    match value {
        Some(v) => write!(out, "{v}"),
        None => Ok(()),
    }
}

fn batch(
    config: &Config,
    as_of: Option<registry_core::model::Date>,
    out: Option<PathBuf>,
    with_attributes: bool,
    json: bool,
) -> CommandResult {
    let registry = open_registry(config)?;
    let as_of = as_of.unwrap_or_else(|| registry.clock().today());
    let started = std::time::Instant::now();
    let sink: Box<dyn Write> = match &out {
        Some(path) => Box::new(std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?),
        None => Box::new(io::stdout().lock()),
    };
    let mut writer = BufWriter::with_capacity(1 << 20, sink);
    let mut header = String::from("registry_id,score,reason_1,reason_2,reason_3,reason_4");
    if with_attributes {
        for a in &CATALOGUE {
            header.push(',');
            header.push_str(a.name);
        }
    }
    writeln!(writer, "{header}").context("writing the scores")?;
    // The registry logs the run (one entry) before it reads the first subject.
    let access = Access::command_line(AccessAction::ScoreBatch, Some(format!("score batch as of {as_of}")));
    let bar = progress::counter("scoring");
    let mut scored = 0u64;
    let mut sum = 0i64;
    let mut write_error = None;
    registry.score_all(&access, as_of, &mut |subject, values, score| {
        let mut line = || -> io::Result<()> {
            write!(writer, "{},{}", subject.registry_id(), score.value)?;
            for i in 0..4 {
                write!(writer, ",{}", score.reasons.get(i).map_or("", |r| r.code.as_str()))?;
            }
            if with_attributes {
                for value in values {
                    writer.write_all(b",")?;
                    write_value(&mut writer, *value)?;
                }
            }
            writer.write_all(b"\n")
        };
        if let Err(e) = line() {
            write_error = Some(e);
            return ControlFlow::Break(());
        }
        scored += 1;
        sum += score.value;
        if scored.is_multiple_of(4096) {
            bar.set_position(scored);
        }
        ControlFlow::Continue(())
    })?;
    bar.finish_and_clear();
    if let Some(e) = write_error {
        return Err(anyhow::Error::from(e).context("writing the scores").into());
    }
    writer.flush().context("writing the scores")?;
    let seconds = started.elapsed().as_secs_f64();
    let per_minute = scored as f64 / seconds.max(1e-9) * 60.0;
    let model = registry.score_model();
    if json {
        return print_json(&json!({
            "as_of": as_of, "subjects": scored, "mean_score": sum as f64 / scored.max(1) as f64,
            "model_id": model.card().model_id, "seconds": seconds, "subjects_per_minute": per_minute,
            "out": out.as_ref().map(|p| p.display().to_string()),
        }));
    }
    eprintln!(
        "scored {scored} subjects as of {as_of} with {} in {seconds:.1} s ({per_minute:.0} a minute); mean score {:.0}",
        model.card().model_id,
        sum as f64 / scored.max(1) as f64
    );
    Ok(())
}
