//! One module per subcommand. Each takes the loaded configuration and its own arguments.

pub mod archive;
pub mod demo;
pub mod export;
pub mod generate;
pub mod history;
pub mod ingest;
pub mod keys;
pub mod metro2;
pub mod migrate;
pub mod report;
pub mod score;
pub mod serve;
pub mod submission;

use std::sync::Arc;

use anyhow::Context;
use registry_service::Registry;
use registry_service::clock::SystemClock;

use crate::config::Config;
use crate::failure::Failure;

/// Opens the configured registry (creating it on first use).
pub fn open_registry(config: &Config) -> Result<Arc<Registry>, Failure> {
    let registry = Registry::open(config.registry.clone(), Arc::new(SystemClock))
        .with_context(|| format!("opening the registry in {}", config.describe_store()))?;
    Ok(Arc::new(registry))
}

/// Prints a value as the one JSON document on stdout.
pub fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).context("serialising the output")?;
    println!("{text}");
    Ok(())
}
