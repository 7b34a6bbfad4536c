//! `score train` and `score evaluate`: scorecards from labelled CSV files.

use std::path::Path;

use anyhow::Context;
use registry_score::{BoostSettings, Dataset, Monotone, Scaling, Scorecard};
use serde_json::json;

use crate::cli::ScoreCommand;
use crate::commands::print_json;
use crate::failure::{CommandResult, Failure};

fn data_error(e: registry_score::ScoreError) -> Failure {
    match e {
        registry_score::ScoreError::Data(message) => Failure::Usage { code: "invalid_data", message },
        other => Failure::Internal(other.into()),
    }
}

fn monotone_of(names: &[String], specs: &[String]) -> Result<Vec<Monotone>, Failure> {
    let mut monotone = vec![Monotone::Free; names.len()];
    for spec in specs {
        let (name, direction) = spec.split_once(':').ok_or_else(|| Failure::usage(format!("--monotone takes COL:increasing or COL:decreasing, not {spec:?}")))?;
        let at = names.iter().position(|n| n == name).ok_or_else(|| Failure::usage(format!("--monotone names {name:?}, which is not an attribute")))?;
        monotone[at] = match direction {
            "increasing" => Monotone::Increasing,
            "decreasing" => Monotone::Decreasing,
            other => return Err(Failure::usage(format!("{other:?} is not a direction (increasing, decreasing)"))),
        };
    }
    Ok(monotone)
}

pub fn run(command: ScoreCommand) -> CommandResult {
    match command {
        ScoreCommand::Train { data, target, ignore, monotone, folds, out, json } => {
            let dataset = Dataset::read_csv(&data, &target, &ignore).map_err(data_error)?;
            let monotone = monotone_of(&dataset.names, &monotone)?;
            let settings = BoostSettings::default();
            let started = std::time::Instant::now();
            let cv = folds.map(|k| registry_score::cross_validate(&dataset, &target, &monotone, &settings, k));
            let model_id = format!("{}-{}", Path::new(&data).file_stem().and_then(|s| s.to_str()).unwrap_or("model"), target);
            let card = registry_score::train(&dataset, &target, &monotone, &settings, Scaling::default(), &model_id);
            let text = serde_json::to_string_pretty(&card).context("writing the model")?;
            std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
            let seconds = started.elapsed().as_secs_f64();
            let training = registry_score::performance(&card.raw_points(&dataset).map_err(Failure::usage)?, &dataset.target);
            if json {
                return print_json(&json!({"model": out, "rows": dataset.rows(), "attributes": dataset.names, "training": training, "cross_validation": cv, "seconds": seconds}));
            }
            println!("trained {} on {} rows, {} attributes, in {seconds:.1} s: {}", model_id, dataset.rows(), dataset.names.len(), out.display());
            println!("  on the training rows: AUC {:.4}, Gini {:.4}, KS {:.4}", training.auc, training.gini, training.ks);
            if let Some(folds) = cv {
                for (i, fold) in folds.iter().enumerate() {
                    println!("  fold {}: AUC {:.4}, KS {:.4} ({} rows)", i + 1, fold.auc, fold.ks, fold.rows);
                }
                let mean = |f: fn(&registry_score::Performance) -> f64| folds.iter().map(f).sum::<f64>() / folds.len() as f64;
                println!("  cross-validated: AUC {:.4}, KS {:.4}", mean(|p| p.auc), mean(|p| p.ks));
            }
            Ok(())
        }
        ScoreCommand::Evaluate { model, data, target, json } => {
            let text = std::fs::read_to_string(&model).with_context(|| format!("reading {}", model.display()))?;
            let card: Scorecard = serde_json::from_str(&text).map_err(|e| Failure::usage(format!("{} is not a scorecard: {e}", model.display())))?;
            card.check().map_err(Failure::usage)?;
            let dataset = Dataset::read_csv(&data, &target, &[]).map_err(data_error)?;
            let points = card.raw_points(&dataset).map_err(Failure::usage)?;
            let performance = registry_score::performance(&points, &dataset.target);
            if json {
                return print_json(&performance);
            }
            println!("{}: AUC {:.4}, Gini {:.4}, KS {:.4} on {} rows", card.model_id, performance.auc, performance.gini, performance.ks, performance.rows);
            Ok(())
        }
    }
}
