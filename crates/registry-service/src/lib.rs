//! The registry as an application, shared by the command line and the HTTP server: opens a
//! data directory (keys, store, archive), ingests furnishing files and builds reports.
//!
//! Knows nothing about HTTP or terminals. Personal data is sealed on its way into the store and
//! opened only to build a report.

pub mod archive;
pub mod audit;
pub mod clock;
pub mod disclosure;
pub mod document;
pub mod error;
pub mod export;
pub mod ingest;
pub mod keys;
pub mod profile;
pub mod quality;
pub mod retention;
pub mod rights;
pub mod scoring;
pub mod supervision;
pub mod training;
pub mod vault;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use registry_core::identity::check_id;
use registry_core::model::{Date, FurnisherId, IdType, NationalId, Pii, ReportedIdentity, Timestamp};
use registry_core::report::{Audience, Report, ReportedBy, SubjectFile, SubjectKey, build_report};
use registry_store::{
    DumpRow, Governance, PostgresSettings, RecordVersion, SqliteGovernance, SqliteStore, Store, StoreError, Stores, SubmissionSummary,
};

use crate::archive::Archive;
use crate::audit::Access;
use crate::clock::Clock;
use crate::disclosure::Unlogged;
use crate::profile::Profile;
use crate::vault::{Keys, Purpose, SecretKey, Vault};

pub use error::{ErrorCode, ServiceError};
pub(crate) use error::{io_error, visit_error};
pub use ingest::{IngestOptions, IngestOutcome, IngestProgress, NoProgress};

/// File names inside a data directory.
pub const DATABASE_FILE: &str = "registry.db";
/// The embedded registry's API keys and access log, beside the registry (its own write lock).
pub const GOVERNANCE_FILE: &str = "governance.db";
pub const KEYS_FILE: &str = "keys.toml";
pub const ARCHIVE_DIR: &str = "archive";

/// Meta entry holding the fingerprint of the keys a registry was created with.
const KEY_FINGERPRINT: &str = "key_fingerprint";

/// Everything the application needs to open a registry; built by the binary from its
/// configuration layers.
#[derive(Clone, Debug)]
pub struct RegistrySettings {
    pub data_dir: PathBuf,
    /// Keys from configuration. When `None`, the data directory's own `keys.toml` is used,
    /// generated on first use.
    pub keys: Option<Keys>,
    pub line_bytes_max: usize,
    pub archive_retention_days: u32,
    /// How long a writer waits for another process's submission to finish.
    pub lock_wait_ms: u64,
    /// `None`: the embedded store in the data directory. Some: PostgreSQL (the data directory
    /// then holds only the archive), whose keys must come from configuration.
    pub postgres: Option<PostgresSettings>,
    /// The jurisdiction profile (`cn`, `us`, `eu-nl`): purposes, dispute deadline, retention.
    pub jurisdiction: String,
    /// The scorecard that scores reports; `None`: the model shipped with the registry.
    pub score_model: Option<PathBuf>,
    /// The supervision policy and the institutions' supervisory figures.
    pub supervision: supervision::SupervisionSettings,
}

impl RegistrySettings {
    pub fn new(data_dir: impl Into<PathBuf>) -> RegistrySettings {
        RegistrySettings {
            data_dir: data_dir.into(),
            keys: None,
            line_bytes_max: registry_core::furnishing::LINE_BYTES_MAX_DEFAULT,
            archive_retention_days: 90,
            lock_wait_ms: 600_000,
            postgres: None,
            jurisdiction: profile::DEFAULT_PROFILE.to_owned(),
            score_model: None,
            supervision: supervision::SupervisionSettings::default(),
        }
    }
}

/// Creates a directory (and parents) readable only by its owner.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

pub struct Registry {
    store: Arc<dyn Store>,
    governance: Arc<dyn Governance>,
    log_signer: SigningKey,
    profile: Profile,
    vault: Vault,
    archive: Archive,
    settings: RegistrySettings,
    clock: Arc<dyn Clock>,
    score_model: scoring::ScoreModel,
    /// The institutions' supervisory figures (`supervision.institutions_file`).
    institutions: registry_core::supervision::Institutions,
}

/// Opens the configured store and brings its schema to this build's version, without keys
/// (what `credit-registry migrate` does before the first server starts).
pub fn migrate_store(settings: &RegistrySettings) -> Result<(), ServiceError> {
    create_private_dir(&settings.data_dir).map_err(io_error("creating the data directory failed"))?;
    open_store(settings).map(drop)
}

/// Rewrites the stored records in account order (`Store::compact`), without keys: it reads
/// nothing personal. Returns the records rewritten.
pub fn compact_store(settings: &RegistrySettings) -> Result<u64, ServiceError> {
    create_private_dir(&settings.data_dir).map_err(io_error("creating the data directory failed"))?;
    let (store, _) = open_store(settings)?;
    Ok(store.compact()?)
}

/// Opens the configured store (the embedded file in the data directory, or PostgreSQL) and
/// brings its schema to this build's version. The data directory must exist.
fn open_store(settings: &RegistrySettings) -> Result<Stores, ServiceError> {
    let lock_wait = Duration::from_millis(settings.lock_wait_ms);
    let (store, governance): Stores = match &settings.postgres {
        None => (
            Arc::new(SqliteStore::open(&settings.data_dir.join(DATABASE_FILE), lock_wait)?),
            Arc::new(SqliteGovernance::open(&settings.data_dir.join(GOVERNANCE_FILE), lock_wait)?),
        ),
        Some(postgres) => registry_store::open_postgres(PostgresSettings { lock_wait_ms: settings.lock_wait_ms, ..postgres.clone() })?,
    };
    store.migrate()?;
    governance.migrate_governance()?;
    Ok((store, governance))
}

/// What `copy_to_postgres` moved.
#[derive(Debug)]
pub struct CopySummary {
    pub rows: u64,
    /// The source registry's keys: the destination's servers must be configured with them.
    pub keys: Keys,
}

/// Copies the embedded registry of `from.data_dir` into the empty PostgreSQL database `to`, in
/// one transaction, keys unchanged (so every identifier and report reads the same), with its
/// governance data (API keys, the access log, consents, inquiries, flags, disputes). The file
/// archive stays in the data directory, which a PostgreSQL registry keeps using.
pub fn copy_to_postgres(from: &RegistrySettings, to: PostgresSettings) -> Result<CopySummary, ServiceError> {
    let database = from.data_dir.join(DATABASE_FILE);
    if !database.exists() {
        return Err(ServiceError::NotFound(format!("{} holds no registry to copy", from.data_dir.display())));
    }
    let keys = load_keys(from, true)?;
    let source = SqliteStore::open(&database, Duration::from_millis(from.lock_wait_ms))?;
    source.migrate()?;
    let governance_file = from.data_dir.join(GOVERNANCE_FILE);
    let governance = if governance_file.exists() {
        let governance = SqliteGovernance::open(&governance_file, Duration::from_millis(from.lock_wait_ms))?;
        governance.migrate_governance()?;
        Some(governance)
    } else {
        None
    };
    // The dump streams on its own thread into the load's single transaction: memory holds a
    // bounded queue, not the registry.
    let (sender, receiver) = std::sync::mpsc::sync_channel(4096);
    let rows = std::thread::scope(|scope| {
        let source = &source;
        // `move`: the sender ends with the dump, which ends the load's input.
        let dumping = scope.spawn(move || {
            let send = |row| sender.send(row).map_err(|_| StoreError::Unavailable("the copy's destination stopped reading".into()));
            source.dump(&mut |row| send(row))?;
            // Keys, the access log, consents, inquiries, flags and disputes travel with it.
            if let Some(governance) = &governance {
                governance.dump(&mut |row| send(DumpRow::Governance(row)))?;
            }
            Ok::<(), StoreError>(())
        });
        let loaded = registry_store::load_into_postgres(to, &mut receiver.iter().map(Ok));
        drop(receiver);
        let dumped = dumping.join().map_err(|_| ServiceError::Internal("the dump thread panicked".into()))?;
        // The load's error is the cause when both failed (a closed channel stops the dump).
        let rows = loaded?;
        dumped?;
        Ok::<u64, ServiceError>(rows)
    })?;
    Ok(CopySummary { rows, keys })
}

impl Registry {
    /// Opens the registry in `settings.data_dir`, creating it (and its keys) on first use and
    /// migrating its schema.
    pub fn open(settings: RegistrySettings, clock: Arc<dyn Clock>) -> Result<Registry, ServiceError> {
        create_private_dir(&settings.data_dir).map_err(io_error("creating the data directory failed"))?;
        // Before the store: an embedded registry's keys file is refused if missing only once
        // the database exists, so whether it existed must be seen before opening creates it.
        let keys = match &settings.postgres {
            None => load_keys(&settings, settings.data_dir.join(DATABASE_FILE).exists())?,
            // Every server of a PostgreSQL registry must hash and seal alike: the keys cannot
            // live in one server's data directory.
            Some(_) => settings.keys.clone().ok_or_else(|| {
                ServiceError::Keys(
                    "a PostgreSQL registry takes its keys from configuration (identifier_hash_key and data_encryption_key, \
                     the same on every server); `credit-registry registry-keys` prints a new pair"
                        .into(),
                )
            })?,
        };
        let profile = Profile::named(&settings.jurisdiction)?;
        let (store, governance) = open_store(&settings)?;
        let log_signer = SigningKey::from_bytes(
            keys.log_signing_key
                .as_ref()
                .ok_or_else(|| {
                    ServiceError::Keys(
                        "configure log_signing_key (the key that signs the access log); `credit-registry registry-keys` prints one".into(),
                    )
                })?
                .as_bytes(),
        );
        let vault = Vault::new(&keys);
        let fingerprint = vault.fingerprint();
        if store.meta_init(KEY_FINGERPRINT, &fingerprint)? != fingerprint {
            return Err(ServiceError::Keys(
                "the configured keys are not the keys this registry was created with; its identifiers cannot be read".into(),
            ));
        }
        let archive = Archive::open(&settings.data_dir.join(ARCHIVE_DIR), settings.archive_retention_days)
            .map_err(io_error("opening the archive failed"))?;
        let score_model = match &settings.score_model {
            Some(path) => scoring::ScoreModel::load(path)?,
            None => scoring::ScoreModel::shipped(),
        };
        let institutions = match &settings.supervision.institutions_file {
            Some(path) => supervision::read_institutions(path)?,
            None => registry_core::supervision::Institutions::default(),
        };
        Ok(Registry { store, governance, log_signer, profile, vault, archive, settings, clock, score_model, institutions })
    }

    pub fn settings(&self) -> &RegistrySettings {
        &self.settings
    }

    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// The store itself, for tests that look beneath the registry (the `testing` feature).
    #[cfg(feature = "testing")]
    pub fn store(&self) -> &dyn Store {
        &*self.store
    }

    /// Appends an entry to the access log as a read would, for tests of the log itself (the
    /// `testing` feature). Returns its number.
    #[cfg(feature = "testing")]
    pub fn log_access(&self, access: &Access, subject: Option<SubjectKey>) -> Result<u64, ServiceError> {
        Ok(self.log_reads(access, subject.as_slice())?[0])
    }

    /// Whether the store answers (`/health`).
    pub fn ping(&self) -> Result<(), ServiceError> {
        Ok(self.store.ping()?)
    }

    pub fn submission(&self, furnisher: &FurnisherId, submission_id: &str) -> Result<Option<SubmissionSummary>, ServiceError> {
        Ok(self.store.submission(furnisher, submission_id)?)
    }

    /// The subject a national identifier belongs to, if the registry has seen it. An
    /// identifier that breaks its type's rules cannot belong to anyone: that is an input error.
    pub fn find_subject(&self, id_type: IdType, id: &str) -> Result<Option<SubjectKey>, ServiceError> {
        check_id(id_type, id).map_err(|_| ServiceError::InvalidInput(format!("that is not a valid {id_type} identifier")))?;
        Ok(self.store.find_subject(&self.vault.id_hash(id_type, id))?)
    }

    /// The subject's report as of `as_of` (default: today, UTC), for the reader `access` names;
    /// `None` if the subject is unknown. The read is logged before the report is handed over:
    /// if the access log cannot be written, the report is not given (when there is no such
    /// subject, nothing was read and nothing is logged).
    pub fn read_report(
        &self,
        access: &Access,
        subject: SubjectKey,
        as_of: Option<Date>,
        audience: Audience,
    ) -> Result<Option<Report>, ServiceError> {
        self.subject_report(subject, as_of, audience)?.map(|report| self.disclose(access, report)).transpose()
    }

    /// A subject's report, scored, not yet handed to anyone.
    fn subject_report(
        &self,
        subject: SubjectKey,
        as_of: Option<Date>,
        audience: Audience,
    ) -> Result<Option<Unlogged<Report>>, ServiceError> {
        let as_of = as_of.unwrap_or_else(|| self.clock.today());
        Ok(self.subject_file(subject, as_of)?.map(|file| {
            file.map(|file| {
                let mut report = build_report(&file, as_of, audience);
                self.add_score(&mut report);
                report
            })
        }))
    }

    /// Builds a subject's report without logging it: for tests, benchmarks and comparisons
    /// (the `testing` feature, which the binary never enables). Whatever hands a report to a
    /// person goes through `read_report`.
    #[cfg(feature = "testing")]
    pub fn report_unlogged(&self, subject: SubjectKey, as_of: Option<Date>, audience: Audience) -> Result<Option<Report>, ServiceError> {
        Ok(self.subject_report(subject, as_of, audience)?.map(Unlogged::unlogged_for_tests))
    }

    /// Everything held about a subject for a report as of `as_of`: the stored file, opened, with
    /// what the registry itself adds (inquiries, freezes, disputes, withheld accounts). The one
    /// place a subject's identifier and identities are opened.
    pub(crate) fn subject_file(&self, subject: SubjectKey, as_of: Date) -> Result<Option<Unlogged<SubjectFile>>, ServiceError> {
        let Some(stored) = self.store.subject(subject)? else { return Ok(None) };
        let id = String::from_utf8(self.vault.open(Purpose::Identifier, &stored.id_sealed)?)
            .map_err(|_| ServiceError::Internal("a sealed identifier is not text".into()))?;
        let identities = self.open_identities(&stored.identities)?;
        let identifier = NationalId { id_type: stored.id_type, id: Pii(id) };
        let file = self.registry_view(subject, as_of)?.into_file(subject, identifier, identities, stored.accounts);
        Ok(Some(Unlogged::new(file, vec![subject])))
    }

    fn open_identities(&self, sealed: &[registry_store::StoredIdentity]) -> Result<Vec<ReportedBy>, ServiceError> {
        let mut identities = Vec::with_capacity(sealed.len());
        for stored_identity in sealed {
            let plain = self.vault.open(Purpose::Identity, &stored_identity.sealed)?;
            let identity: ReportedIdentity = serde_json::from_slice(&plain)
                .map_err(|_| ServiceError::Internal("a sealed identity is not in the expected form".into()))?;
            identities.push(ReportedBy { key: stored_identity.key, furnisher: stored_identity.furnisher.clone(), identity });
        }
        Ok(identities)
    }

    /// Now, as the registry records times: UTC, to the second.
    pub(crate) fn now(&self) -> Timestamp {
        Timestamp::new(self.clock.now())
    }

    /// The jurisdiction profile in force.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Today, by the registry's clock (the one its rules use).
    pub fn today(&self) -> Date {
        self.clock.today()
    }

    /// Every stored version of a furnisher's account (corrections included), for the reader
    /// `access` names: logged first, one entry for each person the versions name, so each sees
    /// the read among their accesses. `NotFound` (nothing logged) when there is no such account.
    pub fn account_history(&self, access: &Access, furnisher: &FurnisherId, account: &str) -> Result<Vec<RecordVersion>, ServiceError> {
        let versions = self.store.record_versions(furnisher, account)?;
        if versions.is_empty() {
            return Err(ServiceError::NotFound(format!("{furnisher} has no account {account:?}")));
        }
        let mut named: Vec<SubjectKey> = versions.iter().flat_map(|v| &v.subjects).map(|link| SubjectKey(link.subject)).collect();
        named.sort_unstable();
        named.dedup();
        self.disclose(access, Unlogged::new(versions, named))
    }

    /// Deletes archived files past their retention; returns how many.
    pub fn purge_archive(&self) -> Result<u64, ServiceError> {
        self.archive.purge_expired(self.clock.now().into()).map_err(io_error("purging the archive failed"))
    }
}

/// The keys to use: configured ones, else the data directory's own, generated on first use.
fn load_keys(settings: &RegistrySettings, database_existed: bool) -> Result<Keys, ServiceError> {
    if let Some(keys) = &settings.keys {
        return Ok(keys.clone());
    }
    let path = settings.data_dir.join(KEYS_FILE);
    match read_keys_file(&path) {
        // Written before the access log existed: add its signing key (nothing stored depends on
        // it yet). Should two processes do this at once, the file's final key is the one used.
        Ok(mut keys) if keys.log_signing_key.is_none() => {
            keys.log_signing_key = Some(SecretKey::generate().map_err(io_error("generating keys failed"))?);
            private_temp_file(&path, &keys_file_text(&keys))?
                .persist(&path)
                .map_err(|e| io_error("updating the keys file failed")(e.error))?;
            tracing::info!(path = %path.display(), "added a log signing key to the keys file");
            read_keys_file(&path)
        }
        Err(ServiceError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
            if database_existed {
                // New keys would make every stored identifier unreadable: refuse instead.
                return Err(ServiceError::Keys(format!(
                    "{} is missing but the registry already holds data; restore the keys file or configure the keys",
                    path.display()
                )));
            }
            let keys = Keys::generate().map_err(io_error("generating keys failed"))?;
            if write_new_private_file(&path, &keys_file_text(&keys))? {
                tracing::info!(path = %path.display(), "generated new registry keys");
                Ok(keys)
            } else {
                // Another process created the keys first: use theirs.
                read_keys_file(&path)
            }
        }
        other => other,
    }
}

fn read_keys_file(path: &Path) -> Result<Keys, ServiceError> {
    let text = fs::read_to_string(path).map_err(io_error("reading the keys file failed"))?;
    toml::from_str(&text).map_err(|e| ServiceError::Keys(format!("{} is not a valid keys file: {}", path.display(), e.message())))
}

fn keys_file_text(keys: &Keys) -> String {
    format!(
        "# credit-registry keys for this data directory. Keep them secret and keep a copy:\n\
         # without them the registry's identifiers and archived files cannot be read.\n{}",
        toml::to_string(keys).expect("keys serialise")
    )
}

/// `text` in a new file beside `path`, readable only by its owner, synced.
fn private_temp_file(path: &Path, text: &str) -> Result<tempfile::NamedTempFile, ServiceError> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    // tempfile creates files with mode 0600.
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(io_error("creating the keys file failed"))?;
    temp.write_all(text.as_bytes()).map_err(io_error("writing the keys file failed"))?;
    temp.as_file().sync_all().map_err(io_error("writing the keys file failed"))?;
    Ok(temp)
}

/// Writes a new file readable only by its owner, atomically: it appears whole or not at all.
/// Returns false, writing nothing, if the file already exists.
fn write_new_private_file(path: &Path, text: &str) -> Result<bool, ServiceError> {
    match private_temp_file(path, text)?.persist_noclobber(path) {
        Ok(_) => Ok(true),
        Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(io_error("creating the keys file failed")(e.error)),
    }
}
