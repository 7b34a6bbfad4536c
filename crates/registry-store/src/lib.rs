//! The storage boundary: the `Store` trait every backend implements, the rows that cross it,
//! and its two backends: the embedded SQLite file (`sqlite/`) and PostgreSQL (`postgres/`, laid
//! out for Citus, behind the `postgres` feature). Both pass the same suite (`tests/suite.rs`).
//!
//! The store never sees a national identifier or a name in the clear: callers pass keyed
//! hashes for look-up and sealed (encrypted) blobs for display, and get the same blobs back.

mod codec;
pub mod governance;
#[cfg(feature = "postgres")]
pub mod postgres;
mod scan;
pub mod sqlite;
#[cfg(feature = "postgres")]
pub mod testing;
mod writing;

use std::collections::BTreeMap;
use std::ops::{ControlFlow, Range};
use std::sync::Arc;

use registry_core::furnishing::{FileRejection, Format, RecordError};
use registry_core::model::{AccountFacts, Date, FurnisherId, IdType, Role};
use registry_core::quality::Finding;
use registry_core::report::{AccountHistory, StoredRecord, SubjectKey, SubjectLink, YearMonth};
use registry_core::supervision::{BorrowerList, BorrowerView, Policy, Tally};
use serde::Serialize;

pub use codec::{RecordColumns, blank_unscanned};
pub use governance::Governance;
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
pub use sqlite::{SqliteGovernance, SqliteStore};

/// Connection and behaviour settings of the PostgreSQL backend.
#[derive(Clone, Debug)]
pub struct PostgresSettings {
    /// `postgres://user@host:port/database` (libpq-style key=value strings work too).
    pub url: String,
    /// Connections in the pool: one per concurrent request or submission.
    pub pool_size: u32,
    /// How long a caller waits for a free connection before `Unavailable`.
    pub pool_wait_ms: u64,
    /// Any one statement is cancelled after this long.
    pub statement_timeout_ms: u64,
    /// How long a submission waits for another one to finish before `Busy`.
    pub lock_wait_ms: u64,
}

impl PostgresSettings {
    pub fn new(url: impl Into<String>) -> PostgresSettings {
        PostgresSettings { url: url.into(), pool_size: 8, pool_wait_ms: 30_000, statement_timeout_ms: 120_000, lock_wait_ms: 600_000 }
    }
}

/// A registry's data and its governance tables, on one backend.
pub type Stores = (Arc<dyn Store>, Arc<dyn Governance>);

/// The registry and its governance tables in the PostgreSQL database `settings` names (one
/// database holds both). Fails at once if the URL is malformed or the server cannot be
/// reached; in a build without the `postgres` feature, says so.
pub fn open_postgres(settings: PostgresSettings) -> StoreResult<Stores> {
    #[cfg(feature = "postgres")]
    {
        let store = Arc::new(PostgresStore::open(settings)?);
        Ok((store.clone(), store))
    }
    #[cfg(not(feature = "postgres"))]
    {
        let _ = settings;
        Err(StoreError::NotBuiltIn("PostgreSQL"))
    }
}

/// Loads a dumped registry (`SqliteStore::dump`, `SqliteGovernance::dump`) into the empty
/// PostgreSQL database `settings` names, migrating it first: `copy`'s far end. Returns the
/// rows read.
pub fn load_into_postgres(settings: PostgresSettings, rows: &mut dyn Iterator<Item = StoreResult<DumpRow>>) -> StoreResult<u64> {
    #[cfg(feature = "postgres")]
    {
        let destination = PostgresStore::open(settings)?;
        destination.migrate()?;
        destination.load(rows)
    }
    #[cfg(not(feature = "postgres"))]
    {
        let _ = (settings, rows);
        Err(StoreError::NotBuiltIn("PostgreSQL"))
    }
}

/// Keyed hash of a national identifier or of an identity (HMAC-SHA-256 output).
pub type KeyedHash = [u8; 32];

/// What a backend failed at. Driver errors are mapped to these in one function per backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer holds the database longer than the configured wait.
    #[error("the database is busy with another writer; try again")]
    Busy,
    /// The data does not have the shape this build expects (a bug or a foreign database).
    #[error("stored data is not what this version expects: {0}")]
    Corrupt(String),
    /// The database was migrated by a newer build.
    #[error("the database schema is at version {found}, newer than this build's {supported}; upgrade credit-registry")]
    SchemaTooNew { found: i64, supported: i64 },
    /// The database cannot be reached, dropped the connection, ran out of connections or time,
    /// or asked for a retry. Whatever was in progress was rolled back: nothing was applied.
    #[error("the database is unavailable: {0}; nothing was changed, try again")]
    Unavailable(String),
    /// A registry cannot be copied into a database that already holds one.
    #[error("the destination database already holds a registry; copy needs an empty one")]
    NotEmpty,
    /// This build was made without the backend (`cargo build --no-default-features`).
    #[error("this build of credit-registry has no {0} support; build it with the `postgres` feature (the default)")]
    NotBuiltIn(&'static str),
    /// A stream's visitor failed (`Visit`); its error is inside.
    #[error(transparent)]
    Visitor(VisitError),
    #[error("database error")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What a visitor of a stream says after each item: go on (`Continue`), stop early (`Break`), or
/// fail. A failure stops the stream too, and the store's method returns it, unchanged inside
/// `StoreError::Visitor`, once its read is closed: the caller's own error needs no side channel.
pub type Visit = Result<ControlFlow<()>, VisitError>;

/// Reads, from one snapshot, what the store holds before records are stored
/// (`Store::prior_lookup`).
pub trait PriorLookup: Send {
    /// For each record key `(account, as_of)` about to be stored: whether a record with that
    /// key is stored already (the new one corrects it), the account's latest record dated
    /// before it, and another of its records in the same month.
    fn prior_records(&mut self, keys: &[(&str, Date)]) -> StoreResult<Vec<PriorRecords>>;
}

/// What the store holds before a record is stored, for the evaluators (`PriorLookup`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PriorRecords {
    /// A record with the same key is stored: the new one corrects it.
    pub exists: bool,
    /// The account's latest record dated before the new one.
    pub previous: Option<AccountFacts>,
    /// The date of another stored record of the account in the new one's month, if any.
    pub same_month: Option<Date>,
}

impl PriorRecords {
    /// Takes in one of the account's stored records, in any order, for the new record dated
    /// `as_of`: its own key's, the latest before it, another in its month.
    pub fn note(&mut self, as_of: Date, record: AccountFacts) {
        if record.as_of == as_of {
            self.exists = true;
            return;
        }
        if YearMonth::of(record.as_of) == YearMonth::of(as_of) {
            self.same_month.get_or_insert(record.as_of);
        }
        if record.as_of < as_of && self.previous.as_ref().is_none_or(|p| record.as_of > p.as_of) {
            self.previous = Some(record);
        }
    }
}

/// Which findings: a furnisher's, records dated `from` to `to` (inclusive); all when `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FindingScope {
    pub furnisher: Option<FurnisherId>,
    pub from: Option<Date>,
    pub to: Option<Date>,
    /// Only this evaluator's, or only high-severity ones.
    pub evaluator: Option<String>,
    pub high_only: bool,
}

/// A page of a listing: `limit` items after the first `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub offset: u64,
    pub limit: u64,
}

/// Findings of one evaluator on one furnisher's records of one month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingCount {
    pub furnisher: String,
    pub month: YearMonth,
    pub evaluator: String,
    pub hits: u64,
}

/// One furnisher's current records of one month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordCount {
    pub furnisher: String,
    pub month: YearMonth,
    pub records: u64,
}

/// One furnisher's report of a subject: its sealed identity and, for a finding to name, an
/// account of the subject's at that furnisher with its latest record's date.
#[derive(Clone, Debug)]
pub struct IdentityReport {
    pub furnisher: String,
    pub identity_sealed: Vec<u8>,
    pub account: String,
    pub as_of: Date,
}

/// What a long pass reports as it goes: (work done, work in all), in the pass's own units.
pub type ScanProgress<'p> = dyn Fn(u64, u64) + Sync + 'p;

/// A visitor of a stream of `T`s.
pub type Visitor<'v, T> = dyn FnMut(T) -> Visit + 'v;

/// A visitor's own error, carried through the store's method.
pub type VisitError = Box<dyn std::error::Error + Send + Sync>;

/// A submission about to be applied (or recorded as rejected).
#[derive(Clone, Debug)]
pub struct NewSubmission {
    pub submission_id: String,
    pub furnisher: FurnisherId,
    pub file_name: Option<String>,
    pub content_sha256: String,
    pub byte_count: u64,
    /// RFC 3339, UTC.
    pub received_at: String,
    pub format: Format,
}

impl NewSubmission {
    /// This submission's outcome with the given status and counts.
    pub fn summary(
        &self,
        status: SubmissionStatus,
        record_count: u64,
        counts: BatchCounts,
        error: Option<FileRejection>,
    ) -> SubmissionSummary {
        SubmissionSummary {
            submission_id: self.submission_id.clone(),
            furnisher: self.furnisher.to_string(),
            file_name: self.file_name.clone(),
            content_sha256: self.content_sha256.clone(),
            byte_count: self.byte_count,
            received_at: self.received_at.clone(),
            status,
            record_count,
            accepted_count: counts.accepted,
            rejected_count: counts.rejected,
            error,
            format: self.format,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionStatus {
    Applied,
    Rejected,
}

/// A stored submission's outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SubmissionSummary {
    pub submission_id: String,
    pub furnisher: String,
    pub file_name: Option<String>,
    pub content_sha256: String,
    pub byte_count: u64,
    pub received_at: String,
    pub status: SubmissionStatus,
    pub record_count: u64,
    pub accepted_count: u64,
    pub rejected_count: u64,
    pub error: Option<FileRejection>,
    /// The file's format; for Metro 2, a rejection's `line` is the record number (the header
    /// is record 1).
    pub format: Format,
}

/// One person on a record, protected: hashes to find them, sealed blobs to show them. The
/// blobs are shared (`Arc`): a person on many records is sealed once.
#[derive(Clone, Debug)]
pub struct SealedSubject {
    pub role: Role,
    pub id_type: IdType,
    pub id_hash: KeyedHash,
    pub id_sealed: Arc<[u8]>,
    /// Keyed hash of the reported identity (names, birth date, contact), for deduplication.
    pub identity_hash: KeyedHash,
    pub identity_sealed: Arc<[u8]>,
}

/// An accepted record ready to store.
#[derive(Clone, Debug)]
pub struct SealedRecord {
    pub line: u64,
    pub facts: AccountFacts,
    pub subjects: Vec<SealedSubject>,
}

/// One line's outcome, in file order.
#[derive(Clone, Debug)]
// Records travel by value, a batch at a time; boxing the large variant would add an
// allocation per record.
#[allow(clippy::large_enum_variant)]
pub enum BatchItem {
    Accepted(SealedRecord),
    Rejected(Vec<RecordError>),
}

/// How many lines of a batch ended accepted and rejected (the store rejects a record whose
/// key already appeared in the same submission).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchCounts {
    pub accepted: u64,
    pub rejected: u64,
}

/// One stored version of a record: what a submission said about an account on a date.
#[derive(Clone, Debug)]
pub struct RecordVersion {
    pub facts: AccountFacts,
    /// Who the version names, in its roles.
    pub subjects: Vec<SubjectLink>,
    pub submission_id: String,
    pub line: u64,
    /// The submission whose correction replaced this version; `None` for the current one.
    pub replaced_by: Option<String>,
}

/// One identity (names, birth date, contact) a furnisher reported for a subject, sealed.
#[derive(Clone, Debug)]
pub struct StoredIdentity {
    /// What records' subject links refer to.
    pub key: i64,
    pub furnisher: String,
    pub sealed: Vec<u8>,
}

/// Everything stored about a subject, sealed parts still sealed.
#[derive(Clone, Debug)]
pub struct StoredSubject {
    pub subject: SubjectKey,
    pub id_type: IdType,
    pub id_sealed: Vec<u8>,
    /// Every identity reported for the subject.
    pub identities: Vec<StoredIdentity>,
    /// Every account the subject was ever listed on, with all its current records.
    pub accounts: Vec<AccountHistory>,
}

/// A subject as one record names them, sealed: their identifier and the identity the record
/// reported.
#[derive(Clone, Debug)]
pub struct SealedLink {
    pub id_type: IdType,
    pub id_sealed: Vec<u8>,
    pub identity_sealed: Vec<u8>,
}

/// One row of a registry, backend-neutral, for moving a registry between backends
/// (`SqliteStore::dump` → `PostgresStore::load`). Keys are carried as they are, so reports and
/// keys stay the same.
#[derive(Debug)]
// Records travel by value, a batch at a time; boxing the large variant would add an
// allocation per record.
#[allow(clippy::large_enum_variant)]
pub enum DumpRow {
    Meta {
        name: String,
        value: String,
    },
    Submission {
        key: i64,
        summary: SubmissionSummary,
    },
    Rejection {
        submission_key: i64,
        seq: i64,
        error: RecordError,
    },
    Subject {
        key: i64,
        id_hash: Vec<u8>,
        id_type: String,
        id_sealed: Vec<u8>,
    },
    Identity {
        key: i64,
        subject_key: i64,
        furnisher: String,
        identity_hash: Vec<u8>,
        sealed: Vec<u8>,
    },
    /// `members`: every subject ever on the account.
    Account {
        key: i64,
        furnisher: String,
        account: String,
        subjects_sig: Vec<u8>,
        subjects: String,
        members: Vec<i64>,
    },
    Membership {
        subject_key: i64,
        account_key: i64,
        furnisher: String,
        account: String,
    },
    /// A current record (`replaced: None`) or a replaced version: (replacing submission key,
    /// order of replacement).
    Record {
        account_key: i64,
        submission_key: i64,
        line: i64,
        columns: RecordColumns<'static>,
        replaced: Option<(i64, i64)>,
    },
    /// API keys, the access log, consents, inquiries, flags, disputes.
    Governance(governance::GovernanceRow),
}

/// The outcome of starting a submission.
pub enum Begin<'s> {
    Started(Box<dyn SubmissionWriter + 's>),
    /// The same furnisher already applied byte-identical content: nothing to do.
    Duplicate(SubmissionSummary),
}

/// A submission being applied: one transaction. Dropping it without `commit` rolls back.
pub trait SubmissionWriter {
    /// Applies a batch of lines in file order. A backend may hold a batch back and apply it
    /// with the next ones (PostgreSQL does, so each round trip carries more); `commit` applies
    /// whatever is held. The counts are those of the lines applied by this call.
    fn write_batch(&mut self, items: std::sync::Arc<Vec<BatchItem>>) -> StoreResult<BatchCounts>;

    /// Makes the whole submission visible at once, with its final counts.
    fn commit(self: Box<Self>, record_count: u64) -> StoreResult<SubmissionSummary>;
}

/// The storage boundary. Implementations are shared between threads; every method is
/// blocking (call from a blocking thread in async code).
pub trait Store: Send + Sync {
    /// Brings the schema to this build's version; safe to run again and concurrently.
    fn migrate(&self) -> StoreResult<()>;

    fn meta(&self, name: &str) -> StoreResult<Option<String>>;

    /// Sets `name` unless it is set already; returns the value now stored.
    fn meta_init(&self, name: &str, value: &str) -> StoreResult<String>;

    /// Takes the write lock and starts applying a submission, unless the same furnisher has
    /// already applied the same content (checked under the lock).
    fn begin_submission(&self, submission: &NewSubmission) -> StoreResult<Begin<'_>>;

    /// Records a file rejected whole (nothing of it applied) that held `records` records.
    fn record_rejected_file(&self, submission: &NewSubmission, records: u64, rejection: &FileRejection) -> StoreResult<SubmissionSummary>;

    /// An applied submission of this exact content by this furnisher, if any.
    fn find_applied(&self, furnisher: &FurnisherId, content_sha256: &str) -> StoreResult<Option<SubmissionSummary>>;

    fn submission(&self, furnisher: &FurnisherId, submission_id: &str) -> StoreResult<Option<SubmissionSummary>>;

    /// The furnisher's latest `limit` submissions, applied or rejected whole, newest first.
    fn recent_submissions(&self, furnisher: &FurnisherId, limit: u32) -> StoreResult<Vec<SubmissionSummary>>;

    /// Calls `visit` with each rejection of a submission, in file order, until it stops.
    /// Streams: memory does not grow with the number of rejections.
    fn for_each_rejection(&self, submission_id: &str, visit: &mut Visitor<'_, RecordError>) -> StoreResult<()>;

    /// Every version of every record of one account, current and replaced, oldest `as_of`
    /// first and, within a date, in the order they were stored.
    fn record_versions(&self, furnisher: &FurnisherId, account: &str) -> StoreResult<Vec<RecordVersion>>;

    /// Calls `visit` with each current record of `furnisher` dated `from` to `to` (inclusive),
    /// by account number then date, until it stops. Streams, in one read snapshot.
    fn for_each_record(&self, furnisher: &FurnisherId, from: Date, to: Date, visit: &mut Visitor<'_, StoredRecord>) -> StoreResult<()>;

    /// The sealed identifier of `subject` and the sealed identity `identity` (a record's
    /// subject link), if both exist.
    fn sealed_link(&self, subject: SubjectKey, identity: i64) -> StoreResult<Option<SealedLink>>;

    fn find_subject(&self, id_hash: &KeyedHash) -> StoreResult<Option<SubjectKey>>;

    /// Every furnisher with at least one account, by id.
    fn furnishers(&self) -> StoreResult<Vec<FurnisherId>>;

    /// Deletes an account and every version of its records, in one transaction (serialised
    /// with submissions): what retention does once its negative information has expired.
    /// Returns how many current records went (0 if there is no such account).
    fn purge_account(&self, furnisher: &FurnisherId, account: &str) -> StoreResult<u64>;

    fn subject(&self, subject: SubjectKey) -> StoreResult<Option<StoredSubject>>;

    /// Calls `visit` with every subject whose key is in `keys` and who has an account, by
    /// subject key, with the accounts and current records `subject` would return less what no
    /// summary, grid or score reads (`blank_unscanned`), in one read snapshot, until it stops.
    /// Streams: one subject in memory at a time. What batch scoring and training read, a range
    /// of keys per thread.
    fn for_each_subject_accounts(
        &self,
        keys: Range<i64>,
        visit: &mut dyn FnMut(SubjectKey, Vec<AccountHistory>) -> Visit,
    ) -> StoreResult<()>;

    /// Rewrites the current records in account order (on PostgreSQL, `CLUSTER` by subject), so
    /// that an account's records, appended a month apart, sit side by side again: what makes a
    /// whole-registry scan (batch scoring) and report reads touch neighbouring rows. Serialised
    /// with submissions, which wait for it; readers go on. Returns the records rewritten.
    fn compact(&self) -> StoreResult<u64>;

    /// The greatest subject key in use, if any subject exists.
    fn subject_key_max(&self) -> StoreResult<Option<i64>>;

    /// The supervision tally of `month` (`registry_core::supervision`): every account's and
    /// every borrower's counts and sums by group, judged by `policy`. The embedded store scans
    /// each subject's accounts on every core; PostgreSQL aggregates in the database.
    /// `progress` hears (work done, work in all) as it goes.
    fn supervision_tally(&self, month: YearMonth, policy: &Policy, progress: &ScanProgress<'_>) -> StoreResult<Tally>;

    /// What the data-quality evaluators compare `furnisher`'s records with at ingest: one read
    /// transaction for a submission (a snapshot on SQLite and PostgreSQL; on Citus each
    /// worker's own, so the ingest finishes its look-ups before it commits). Held for a
    /// submission, closed when dropped.
    fn prior_lookup(&self, furnisher: &FurnisherId) -> StoreResult<Box<dyn PriorLookup + '_>>;

    /// Stores what evaluating a submission found, in one transaction: the findings on the
    /// records it corrected (`corrected`) go, its `findings` are added (replacing any on the
    /// same record by the same evaluator), and its hits by evaluator are kept with it.
    fn store_submission_findings(
        &self,
        furnisher: &FurnisherId,
        submission_id: &str,
        corrected: &[(String, Date)],
        findings: &[Finding],
        hits: &BTreeMap<String, u64>,
    ) -> StoreResult<()>;

    /// Replaces, in one transaction, every finding in `scope` (`furnisher`, records dated
    /// `from` to `to`; all when `None`) by `findings`: what a whole-store evaluation found.
    fn replace_findings(&self, scope: &FindingScope, findings: &[Finding]) -> StoreResult<()>;

    /// A page of the findings in `scope` (by furnisher, date, account, evaluator), with how many
    /// there are in all.
    fn findings(&self, scope: &FindingScope, page: Page) -> StoreResult<(Vec<Finding>, u64)>;

    /// Findings by furnisher, month and evaluator, in `scope`.
    fn finding_counts(&self, scope: &FindingScope) -> StoreResult<Vec<FindingCount>>;

    /// Current records by furnisher and month, in `scope`: what hits are counted against.
    fn record_counts(&self, scope: &FindingScope) -> StoreResult<Vec<RecordCount>>;

    /// The hits by evaluator that evaluating submission `submission_id` found.
    fn submission_hits(&self, furnisher: &FurnisherId, submission_id: &str) -> StoreResult<BTreeMap<String, u64>>;

    /// Calls `visit` with every subject reported by two or more furnishers, by subject key, with
    /// each furnisher's sealed identities of them and an account of theirs at that furnisher
    /// with its latest record's date: what the identity evaluators read.
    fn for_each_identity_group(&self, visit: &mut dyn FnMut(SubjectKey, Vec<IdentityReport>) -> Visit) -> StoreResult<()>;

    /// The borrowers of `month` that `list` names, by subject key, each with the figures that
    /// put them on it: the supervisor's drill-down.
    fn supervision_borrowers(
        &self,
        month: YearMonth,
        policy: &Policy,
        list: BorrowerList,
        progress: &ScanProgress<'_>,
    ) -> StoreResult<Vec<(SubjectKey, BorrowerView)>>;

    /// Cheap liveness check.
    fn ping(&self) -> StoreResult<()>;
}
