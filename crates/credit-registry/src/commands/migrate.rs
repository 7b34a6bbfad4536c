//! `migrate` (the schema, on its own) and `registry-keys` (a new key pair for configuration).

use anyhow::Context;
use registry_service::vault::Keys;

use crate::cli::{MigrateArgs, RegistryKeysArgs};
use crate::commands::print_json;
use crate::config::Config;
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
