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
pub mod quality;
pub mod report;
pub mod score;
pub mod serve;
pub mod submission;
pub mod supervise;

use std::sync::Arc;

use anyhow::Context;
use registry_service::Registry;
use registry_service::clock::SystemClock;

use crate::config::Config;
use crate::failure::Failure;

/// Opens the configured registry (creating it on first use).
pub fn open_registry(config: &Config) -> Result<Arc<Registry>, Failure> {
    match Registry::open(config.registry.clone(), Arc::new(SystemClock)) {
        Ok(registry) => Ok(Arc::new(registry)),
        // A setting that names a file it cannot use (the score model, the institutions): the
        // operator's to fix, said as such.
        Err(error @ registry_service::ServiceError::InvalidInput(_)) => Err(error.into()),
        Err(error) => {
            Err(Failure::Internal(anyhow::Error::new(error).context(format!("opening the registry in {}", config.describe_store()))))
        }
    }
}

/// Prints a value as the one JSON document on stdout.
pub fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).context("serialising the output")?;
    println!("{text}");
    Ok(())
}
