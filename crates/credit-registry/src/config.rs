//! Configuration, read once in layers: defaults, then the TOML file, then environment
//! variables, then flags. docs/configuration.md lists every setting.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use registry_server::ServerSettings;
use registry_service::RegistrySettings;
use registry_service::vault::{Keys, SecretKey};
use registry_store::PostgresSettings;
use serde::Deserialize;

use crate::cli::GlobalArgs;
use crate::failure::Failure;

pub const DATA_DIR_DEFAULT: &str = "registry-data";
pub const LISTEN_DEFAULT: &str = "127.0.0.1:8080";
const CONFIG_FILE: &str = "config.toml";
/// Bounds of `line_bytes_max`: a record must fit; memory must stay bounded.
const LINE_BYTES_MIN: usize = 1024;
const LINE_BYTES_LIMIT: usize = 1 << 30;

/// The settings file. Every field is optional; unknown fields are errors (a typo must not
/// silently fall back to a default).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    listen: Option<String>,
    line_bytes_max: Option<usize>,
    archive_retention_days: Option<u32>,
    lock_wait_ms: Option<u64>,
    request_body_bytes_max: Option<u64>,
    rate_limit_per_minute: Option<u32>,
    jurisdiction: Option<String>,
    score_model: Option<std::path::PathBuf>,
    identifier_hash_key: Option<String>,
    data_encryption_key: Option<String>,
    log_signing_key: Option<String>,
    database_pool_size: Option<u32>,
    database_statement_timeout_ms: Option<u64>,
    supervision: Option<SupervisionFile>,
    /// Where the file was read from (not a setting): relative paths in it are relative to it.
    #[serde(skip)]
    directory: Option<PathBuf>,
}

/// `[supervision]`: the policy the measures are judged by, and the institutions' figures.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SupervisionFile {
    min_own_share_bp: Option<u32>,
    microloan_cap_minor: Option<std::collections::BTreeMap<registry_core::model::Currency, u64>>,
    /// The institutions file (TOML), relative to the configuration file.
    institutions: Option<PathBuf>,
}

#[derive(Clone)]
pub struct Config {
    pub registry: RegistrySettings,
    pub server: ServerSettings,
    pub listen: SocketAddr,
    pub database_url: Option<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn parse_env<T: std::str::FromStr>(name: &str) -> Result<Option<T>, Failure> {
    env(name).map(|text| text.parse::<T>().map_err(|_| Failure::usage(format!("{name}={text:?} is not a valid value")))).transpose()
}

impl Config {
    pub fn load(global: &GlobalArgs) -> Result<Config, Failure> {
        let data_dir = global.data_dir.clone().unwrap_or_else(|| PathBuf::from(DATA_DIR_DEFAULT));
        let file = read_file_config(global.config.as_deref(), &data_dir)?;

        let mut registry = RegistrySettings::new(&data_dir);
        let mut server = ServerSettings::default();
        if let Some(v) = file.line_bytes_max {
            registry.line_bytes_max = v;
        }
        if let Some(v) = file.archive_retention_days {
            registry.archive_retention_days = v;
        }
        if let Some(v) = file.lock_wait_ms {
            registry.lock_wait_ms = v;
        }
        if let Some(v) = file.request_body_bytes_max {
            server.request_body_bytes_max = v;
        }
        if let Some(v) = file.rate_limit_per_minute {
            server.rate_limit_per_minute = v;
        }
        if let Some(v) = parse_env("CREDIT_REGISTRY_LINE_BYTES_MAX")? {
            registry.line_bytes_max = v;
        }
        if let Some(v) = parse_env("CREDIT_REGISTRY_ARCHIVE_RETENTION_DAYS")? {
            registry.archive_retention_days = v;
        }
        if let Some(v) = parse_env("CREDIT_REGISTRY_LOCK_WAIT_MS")? {
            registry.lock_wait_ms = v;
        }
        if let Some(v) = parse_env("CREDIT_REGISTRY_REQUEST_BODY_BYTES_MAX")? {
            server.request_body_bytes_max = v;
        }
        if let Some(v) = parse_env("CREDIT_REGISTRY_RATE_LIMIT_PER_MINUTE")? {
            server.rate_limit_per_minute = v;
        }
        if let Some(jurisdiction) = env("CREDIT_REGISTRY_JURISDICTION").or(file.jurisdiction) {
            registry_service::profile::Profile::named(&jurisdiction).map_err(|e| Failure::usage(format!("jurisdiction: {e}")))?;
            registry.jurisdiction = jurisdiction;
        }
        if let Some(path) = env("CREDIT_REGISTRY_SCORE_MODEL").map(std::path::PathBuf::from).or(file.score_model) {
            registry.score_model = Some(path);
        }
        if let Some(supervision) = file.supervision {
            let policy = &mut registry.supervision.policy;
            if let Some(v) = supervision.min_own_share_bp {
                if v > 10_000 {
                    return Err(Failure::usage("supervision.min_own_share_bp is in basis points, 0 to 10000"));
                }
                policy.min_own_share_bp = v;
            }
            if let Some(caps) = supervision.microloan_cap_minor {
                policy.microloan_cap_minor = caps;
            }
            registry.supervision.institutions_file =
                supervision.institutions.map(|path| file.directory.as_deref().map_or_else(|| path.clone(), |dir| dir.join(&path)));
        }
        if let Some(path) = env("CREDIT_REGISTRY_INSTITUTIONS") {
            registry.supervision.institutions_file = Some(PathBuf::from(path));
        }
        if server.rate_limit_per_minute == 0 {
            return Err(Failure::usage("rate_limit_per_minute must be at least 1"));
        }
        if !(LINE_BYTES_MIN..=LINE_BYTES_LIMIT).contains(&registry.line_bytes_max) {
            return Err(Failure::usage(format!("line_bytes_max must be from {LINE_BYTES_MIN} to {LINE_BYTES_LIMIT}")));
        }

        let identifier_key = env("CREDIT_REGISTRY_IDENTIFIER_HASH_KEY").or(file.identifier_hash_key);
        let encryption_key = env("CREDIT_REGISTRY_DATA_ENCRYPTION_KEY").or(file.data_encryption_key);
        let signing_key = env("CREDIT_REGISTRY_LOG_SIGNING_KEY").or(file.log_signing_key);
        registry.keys = match (identifier_key, encryption_key) {
            (None, None) if signing_key.is_some() => {
                return Err(Failure::usage("log_signing_key is configured with identifier_hash_key and data_encryption_key"));
            }
            (None, None) => None,
            (Some(id), Some(data)) => Some(Keys {
                identifier_hash_key: SecretKey::from_base64(&id).map_err(|e| Failure::usage(format!("identifier_hash_key: {e}")))?,
                data_encryption_key: SecretKey::from_base64(&data).map_err(|e| Failure::usage(format!("data_encryption_key: {e}")))?,
                log_signing_key: signing_key
                    .map(|k| SecretKey::from_base64(&k).map_err(|e| Failure::usage(format!("log_signing_key: {e}"))))
                    .transpose()?,
            }),
            _ => return Err(Failure::usage("configure both identifier_hash_key and data_encryption_key, or neither")),
        };

        let listen_text = file.listen.unwrap_or_else(|| LISTEN_DEFAULT.to_string());
        let listen =
            listen_text.parse().map_err(|_| Failure::usage(format!("listen = {listen_text:?} is not an address like 127.0.0.1:8080")))?;
        let database_url = global.database_url.clone().or(file.database_url);
        if let Some(url) = &database_url {
            check_database_url("database_url", url)?;
            let mut postgres = PostgresSettings::new(url.clone());
            if let Some(v) = parse_env("CREDIT_REGISTRY_DATABASE_POOL_SIZE")?.or(file.database_pool_size) {
                if v == 0 {
                    return Err(Failure::usage("database_pool_size must be at least 1"));
                }
                postgres.pool_size = v;
            }
            if let Some(v) = parse_env("CREDIT_REGISTRY_DATABASE_STATEMENT_TIMEOUT_MS")?.or(file.database_statement_timeout_ms) {
                postgres.statement_timeout_ms = v;
            }
            registry.postgres = Some(postgres);
        }
        Ok(Config { registry, server, listen, database_url })
    }

    /// Where the registry's data is, for messages (never the URL: it may hold a password).
    pub fn describe_store(&self) -> String {
        match &self.database_url {
            None => format!("the embedded store in {}", self.registry.data_dir.display()),
            Some(_) => "the PostgreSQL database of --database-url".to_string(),
        }
    }
}

/// Refuses anything but a PostgreSQL URL, naming the setting (`what`) it came from.
pub fn check_database_url(what: &str, url: &str) -> Result<(), Failure> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(())
    } else {
        Err(Failure::usage(format!("{what} must be a PostgreSQL URL: postgres://USER@HOST:PORT/DATABASE")))
    }
}

fn read_file_config(explicit: Option<&Path>, data_dir: &Path) -> Result<FileConfig, Failure> {
    let path = if let Some(path) = explicit {
        path.to_owned()
    } else {
        let default = data_dir.join(CONFIG_FILE);
        if !default.exists() {
            return Ok(FileConfig::default());
        }
        default
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Failure::usage(format!("cannot read the configuration file {}: {e}", path.display())))?;
    let mut config: FileConfig = toml::from_str(&text).map_err(|e| Failure::usage(format!("{}: {}", path.display(), e.message())))?;
    config.directory = path.parent().map(Path::to_path_buf);
    Ok(config)
}
