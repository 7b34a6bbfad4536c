//! `migrate` (the schema, on its own), `registry-keys` (a new key pair for configuration) and
//! `copy` (an embedded registry into PostgreSQL) and `compact` (records back in account order):
//! the commands for setting up and keeping a backend.

use anyhow::Context;
use registry_service::vault::Keys;

use registry_store::PostgresSettings;

use crate::cli::{CopyArgs, MigrateArgs, RegistryKeysArgs};
use crate::commands::print_json;
use crate::config::{Config, check_database_url};
use registry_service::ErrorCode;

use crate::failure::Failure;

pub fn run(config: &Config, args: MigrateArgs) -> Result<(), Failure> {
    registry_service::migrate_store(&config.registry).with_context(|| format!("migrating {}", config.describe_store()))?;
    if args.json {
        print_json(&serde_json::json!({"migrated": true}))
    } else {
        println!("{} is at this build's schema version", config.describe_store());
        Ok(())
    }
}

pub fn compact(config: &Config, args: MigrateArgs) -> Result<(), Failure> {
    let started = std::time::Instant::now();
    let spinner = crate::progress::counter("compacting");
    let records = registry_service::compact_store(&config.registry).with_context(|| format!("compacting {}", config.describe_store()))?;
    spinner.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        return print_json(&serde_json::json!({"records": records, "seconds": seconds}));
    }
    println!("rewrote {records} records in account order in {seconds:.1} s");
    Ok(())
}

pub fn registry_keys(args: RegistryKeysArgs) -> Result<(), Failure> {
    let keys = Keys::generate().context("generating keys")?;
    if args.json {
        return print_json(&keys);
    }
    println!("# credit-registry keys: put these lines in config.toml on every server of the registry,");
    println!("# keep them secret and keep a copy (without them no identifier can be read).");
    print!("{}", toml::to_string(&keys).context("writing the keys")?);
    Ok(())
}

pub fn copy(config: &Config, args: CopyArgs) -> Result<(), Failure> {
    check_database_url("--to", &args.to)?;
    let mut from = config.registry.clone();
    from.data_dir.clone_from(&args.from);
    from.postgres = None;
    let to =
        PostgresSettings { url: args.to.clone(), ..config.registry.postgres.clone().unwrap_or_else(|| PostgresSettings::new(&args.to)) };
    let copied = match registry_service::copy_to_postgres(&from, to) {
        Ok(copied) => copied,
        Err(error) if error.code() == ErrorCode::Internal => {
            return Err(anyhow::Error::from(error).context(format!("copying {} to PostgreSQL", args.from.display())).into());
        }
        Err(error) => return Err(error.into()),
    };
    if args.json {
        return print_json(&serde_json::json!({"rows": copied.rows, "keys": copied.keys}));
    }
    println!("copied {} rows from {} into PostgreSQL, in one transaction", copied.rows, args.from.display());
    println!("# configure every server of the PostgreSQL registry with these keys (config.toml):");
    print!("{}", toml::to_string(&copied.keys).context("writing the keys")?);
    Ok(())
}
