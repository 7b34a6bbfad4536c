//! The production backend: PostgreSQL, through a pool of connections. The schema
//! (`migrations/postgres`) is laid out for Citus: everything about a subject is keyed by
//! `subject_key`, a shared account's records are stored with each of its subjects, and a
//! report reads one subject's rows only (docs/scale-out.md).
//!
//! A submission is one transaction on one connection, serialised with other submissions by a
//! transaction-scoped advisory lock (the same one-writer rule as SQLite, so both backends give
//! the same keys for the same files). Each batch is applied set by set: one query finds the
//! batch's accounts, one its existing records, one or two its people, and the rows are written
//! with binary `COPY`.

use std::collections::{HashMap, HashSet};
use std::ops::{ControlFlow, Range};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Row, Statement};
use registry_core::furnishing::{FileErrorCode, FileRejection, Format, RecordError, RecordErrorCode};
use registry_core::model::{AmountMinor, Date, FurnisherId, IdType};
use registry_core::report::{AccountHistory, StoredRecord, SubjectKey};

use crate::codec::{self, StoredLink};
use crate::writing::{LookupCaches, subjects_signature};
use crate::{
    BatchCounts, BatchItem, Begin, DumpRow, KeyedHash, NewSubmission, RecordVersion, SealedLink, SealedRecord, Store, StoreError,
    StoreResult, StoredIdentity, StoredSubject, SubmissionStatus, SubmissionSummary, SubmissionWriter,
};

/// Schema migrations, applied in order; `schema_migration` lists those applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_initial.sql"),
    include_str!("../migrations/postgres/0002_governance.sql"),
    include_str!("../migrations/postgres/0003_consent.sql"),
    include_str!("../migrations/postgres/0004_key_names.sql"),
];

/// Advisory lock keys (any two constants unlikely to clash with another application's).
const MIGRATION_LOCK: i64 = 0x6372_6d69_6772_6174; // "crmigrat"
const WRITER_LOCK: i64 = 0x6372_7772_6974_6572; // "crwriter"

/// A submission that stored at least this many records refreshes the planner's statistics.
const ANALYZE_AFTER_RECORDS: u64 = 10_000;

/// How often a read is tried when the connection drops or the database asks for a retry.
const READ_ATTEMPTS: u32 = 3;

/// The record columns after `subject_key, account_key, as_of`, in table order.
const RECORD_COLUMNS: &str = "subject_key, account_key, as_of, primary_copy, submission_key, line, product, opened, closed, \
     currency, credit_limit, original_amount, term_months, scheduled_payment, actual_payment, balance, past_due, status, \
     payment_history, first_delinquency, last_payment, special_comment, dispute, subjects, funding, reporter_id";

/// `RECORD_COLUMNS` of the table aliased `r`.
static RECORD_COLUMNS_R: LazyLock<String> = LazyLock::new(|| codec::qualified(RECORD_COLUMNS, "r"));
/// How many `RECORD_COLUMNS` there are (one type each).
const RECORD_COLUMN_COUNT: usize = RECORD_TYPES.len();
/// A subject's records with their accounts' names, for a report: built once, not per report.
static SUBJECT_RECORDS_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {}, m.furnisher, m.account FROM subject_account m \
         JOIN record r ON r.subject_key = m.subject_key AND r.account_key = m.account_key \
         WHERE m.subject_key = $1 ORDER BY r.account_key, r.as_of",
        *RECORD_COLUMNS_R
    )
});

const RECORD_TYPES: &[Type] = &[
    Type::INT8,
    Type::INT8,
    Type::INT4,
    Type::BOOL,
    Type::INT8,
    Type::INT8,
    Type::TEXT,
    Type::INT4,
    Type::INT4,
    Type::TEXT,
    Type::INT8,
    Type::INT8,
    Type::INT4,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::INT4,
    Type::INT4,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
];

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

pub struct PostgresStore {
    pool: r2d2::Pool<Manager>,
    settings: PostgresSettings,
}

pub(crate) type Pooled = r2d2::PooledConnection<Manager>;

/// Opens the pool's connections (what r2d2_postgres does, plus a statement cache per connection).
pub(crate) struct Manager {
    config: postgres::Config,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Connection, postgres::Error> {
        Ok(Connection { client: self.config.connect(NoTls)?, prepared: HashMap::new() })
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.client.is_closed()
    }
}

/// A database connection with the statements it has prepared. The report reads and the batch
/// statements run thousands of times per connection; preparing them on every use cost a round
/// trip and a parse each (a third of a report's latency, a tenth of a first load's server time).
pub(crate) struct Connection {
    client: Client,
    /// SQL text → its statement on this connection. Only constant SQL goes here, so it stays
    /// small.
    prepared: HashMap<String, Statement>,
}

impl Connection {
    fn statement(&mut self, sql: &str) -> StoreResult<Statement> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).map_err(map_err)?;
        self.prepared.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    pub(crate) fn prepared_query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Vec<Row>> {
        let statement = self.statement(sql)?;
        self.client.query(&statement, params).map_err(map_err)
    }

    pub(crate) fn prepared_query_opt(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Option<Row>> {
        let statement = self.statement(sql)?;
        self.client.query_opt(&statement, params).map_err(map_err)
    }

    pub(crate) fn prepared_execute(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<u64> {
        let statement = self.statement(sql)?;
        self.client.execute(&statement, params).map_err(map_err)
    }
}

impl std::ops::Deref for Connection {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl std::ops::DerefMut for Connection {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// Maps a driver error to the boundary's kinds.
pub(crate) fn map_err(error: postgres::Error) -> StoreError {
    if let Some(db) = error.as_db_error() {
        let code = db.code();
        if *code == SqlState::LOCK_NOT_AVAILABLE {
            return StoreError::Busy;
        }
        if *code == SqlState::QUERY_CANCELED {
            return StoreError::Unavailable("a statement ran past the statement timeout".into());
        }
        if is_transient_code(code) {
            return StoreError::Unavailable(format!("the database asked for a retry ({})", code.code()));
        }
        return StoreError::Database(Box::new(error));
    }
    if error.is_closed() || std::error::Error::source(&error).is_some_and(<dyn std::error::Error + 'static>::is::<std::io::Error>) {
        return StoreError::Unavailable("the connection to the database was lost".into());
    }
    StoreError::Database(Box::new(error))
}

/// Errors after which the same statement may succeed on a new attempt.
fn is_transient_code(code: &SqlState) -> bool {
    [
        SqlState::T_R_SERIALIZATION_FAILURE,
        SqlState::T_R_DEADLOCK_DETECTED,
        SqlState::ADMIN_SHUTDOWN,
        SqlState::CRASH_SHUTDOWN,
        SqlState::CANNOT_CONNECT_NOW,
        SqlState::CONNECTION_FAILURE,
        SqlState::CONNECTION_EXCEPTION,
        SqlState::TOO_MANY_CONNECTIONS,
    ]
    .contains(code)
}

fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Corrupt(what.into())
}

impl PostgresStore {
    /// Connects (lazily: the pool opens connections as they are needed) to the database at
    /// `settings.url`. Fails at once if the URL is malformed or the server cannot be reached.
    pub fn open(settings: PostgresSettings) -> StoreResult<PostgresStore> {
        let mut config: postgres::Config =
            settings.url.parse().map_err(|e: postgres::Error| StoreError::Unavailable(format!("the database URL is not valid: {e}")))?;
        config.options(&format!("-c statement_timeout={}", settings.statement_timeout_ms));
        config.connect_timeout(Duration::from_millis(settings.pool_wait_ms.max(1000)));
        config.application_name("credit-registry");
        let manager = Manager { config };
        let pool = r2d2::Pool::builder()
            .max_size(settings.pool_size.max(1))
            .min_idle(Some(0))
            .connection_timeout(Duration::from_millis(settings.pool_wait_ms.max(1)))
            // A quiet pool must not log connection errors on its own; callers report them.
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build_unchecked(manager);
        let store = PostgresStore { pool, settings };
        store.ping()?;
        Ok(store)
    }

    pub fn settings(&self) -> &PostgresSettings {
        &self.settings
    }

    pub(crate) fn connection(&self) -> StoreResult<Pooled> {
        self.pool.get().map_err(|e| {
            StoreError::Unavailable(format!(
                "no database connection within {} ms ({} in the pool): {e}",
                self.settings.pool_wait_ms, self.settings.pool_size
            ))
        })
    }

    /// Runs a read on a pooled connection, again on a fresh connection if it failed in a way a
    /// retry can cure. Reads change nothing, so a retry cannot apply anything twice.
    pub(crate) fn read<T>(&self, mut work: impl FnMut(&mut Connection) -> StoreResult<T>) -> StoreResult<T> {
        let mut attempt = 1;
        loop {
            let outcome = self.connection().and_then(|mut conn| work(&mut conn));
            match outcome {
                Err(StoreError::Unavailable(_)) if attempt < READ_ATTEMPTS => {
                    std::thread::sleep(Duration::from_millis(50 << attempt));
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

const SUBMISSION_COLUMNS: &str = "submission_id, furnisher, file_name, content_sha256, byte_count, received_at, \
     status, record_count, accepted_count, rejected_count, error_code, error_message, format";

fn submission_from_row(row: &Row) -> StoreResult<SubmissionSummary> {
    let get_u64 = |i: usize| row.try_get::<_, i64>(i).map(|v| v as u64).map_err(map_err);
    let status: String = row.try_get(6).map_err(map_err)?;
    let error_code: Option<String> = row.try_get(10).map_err(map_err)?;
    let error_message: Option<String> = row.try_get(11).map_err(map_err)?;
    let format: String = row.try_get(12).map_err(map_err)?;
    Ok(SubmissionSummary {
        submission_id: row.try_get(0).map_err(map_err)?,
        furnisher: row.try_get(1).map_err(map_err)?,
        file_name: row.try_get(2).map_err(map_err)?,
        content_sha256: row.try_get(3).map_err(map_err)?,
        byte_count: get_u64(4)?,
        received_at: row.try_get(5).map_err(map_err)?,
        status: if status == "applied" { SubmissionStatus::Applied } else { SubmissionStatus::Rejected },
        record_count: get_u64(7)?,
        accepted_count: get_u64(8)?,
        rejected_count: get_u64(9)?,
        error: match (error_code, error_message) {
            (Some(code), Some(message)) => Some(FileRejection { code: code.parse().unwrap_or(FileErrorCode::InvalidJson), message }),
            _ => None,
        },
        format: format.parse().unwrap_or(Format::JsonLines),
    })
}

/// Inserts a submission's row (with zero counts; an applied one's are set at commit). `key`:
/// a key to keep (a copied registry's), else the next from the sequence.
fn insert_submission(
    conn: &mut Client,
    submission: &NewSubmission,
    status: SubmissionStatus,
    record_count: u64,
    rejection: Option<&FileRejection>,
    key: Option<i64>,
) -> StoreResult<i64> {
    let row = conn
        .query_one(
            "INSERT INTO submission (furnisher, submission_key, submission_id, file_name, content_sha256, byte_count, \
             received_at, status, record_count, accepted_count, rejected_count, error_code, error_message, format) \
             VALUES ($1, coalesce($12, nextval('submission_key_seq')), $2, $3, $4, $5, $6, $7, $8, 0, 0, $9, $10, $11) \
             RETURNING submission_key",
            &[
                &submission.furnisher.as_str(),
                &submission.submission_id,
                &submission.file_name,
                &submission.content_sha256,
                &(submission.byte_count as i64),
                &submission.received_at,
                &if status == SubmissionStatus::Applied { "applied" } else { "rejected" },
                &(record_count as i64),
                &rejection.map(|r| r.code.as_str()),
                &rejection.map(|r| r.message.as_str()),
                &submission.format.as_str(),
                &key,
            ],
        )
        .map_err(map_err)?;
    Ok(row.get(0))
}

fn find_applied_on(conn: &mut Client, furnisher: &str, content_sha256: &str) -> StoreResult<Option<SubmissionSummary>> {
    conn.query_opt(
        &format!("SELECT {SUBMISSION_COLUMNS} FROM submission WHERE furnisher = $1 AND content_sha256 = $2 AND status = 'applied'"),
        &[&furnisher, &content_sha256],
    )
    .map_err(map_err)?
    .map(|row| submission_from_row(&row))
    .transpose()
}

/// Runs `work` inside a transaction on `conn`, committing if it succeeds.
pub(crate) fn in_transaction<T>(
    conn: &mut Connection,
    begin: &str,
    work: impl FnOnce(&mut Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    conn.batch_execute(begin).map_err(map_err)?;
    match work(conn) {
        Ok(value) => {
            conn.batch_execute("COMMIT").map_err(map_err)?;
            Ok(value)
        }
        Err(e) => {
            let _ = conn.batch_execute("ROLLBACK");
            Err(e)
        }
    }
}

impl Store for PostgresStore {
    fn migrate(&self) -> StoreResult<()> {
        let supported = MIGRATIONS.len() as i64;
        let mut conn = self.connection()?;
        // The lock first: two servers starting at once queue up here, and the second finds
        // nothing left to do. DDL is transactional in PostgreSQL, so a failed migration
        // leaves the schema as it was.
        in_transaction(&mut conn, "BEGIN", |conn| {
            conn.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).map_err(map_err)?;
            conn.batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_migration (version bigint PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
            )
            .map_err(map_err)?;
            let version: i64 = conn.query_one("SELECT coalesce(max(version), 0) FROM schema_migration", &[]).map_err(map_err)?.get(0);
            if version > supported {
                return Err(StoreError::SchemaTooNew { found: version, supported });
            }
            for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
                conn.batch_execute(sql).map_err(map_err)?;
                conn.execute("INSERT INTO schema_migration (version) VALUES ($1)", &[&(index as i64 + 1)]).map_err(map_err)?;
            }
            Ok(())
        })
    }

    fn meta(&self, name: &str) -> StoreResult<Option<String>> {
        self.read(|conn| Ok(conn.query_opt("SELECT value FROM meta WHERE name = $1", &[&name]).map_err(map_err)?.map(|r| r.get(0))))
    }

    fn meta_init(&self, name: &str, value: &str) -> StoreResult<String> {
        self.read(|conn| {
            conn.execute("INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", &[&name, &value])
                .map_err(map_err)?;
            Ok(conn.query_one("SELECT value FROM meta WHERE name = $1", &[&name]).map_err(map_err)?.get(0))
        })
    }

    fn begin_submission(&self, submission: &NewSubmission) -> StoreResult<Begin<'_>> {
        let mut conn = self.connection()?;
        conn.batch_execute("BEGIN").map_err(map_err)?;
        let started = (|| {
            // SET LOCAL: the wait applies to this transaction's lock only.
            conn.batch_execute(&format!("SET LOCAL lock_timeout = {}", self.settings.lock_wait_ms)).map_err(map_err)?;
            conn.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITER_LOCK]).map_err(map_err)?;
            conn.batch_execute("SET LOCAL lock_timeout = 0").map_err(map_err)?;
            if let Some(applied) = find_applied_on(&mut conn, submission.furnisher.as_str(), &submission.content_sha256)? {
                return Ok(Err(applied));
            }
            insert_submission(&mut conn, submission, SubmissionStatus::Applied, 0, None, None).map(Ok)
        })();
        match started {
            Ok(Ok(submission_key)) => Ok(Begin::Started(Box::new(PgSubmission {
                conn,
                state: PgWriterState {
                    submission_key,
                    submission: submission.clone(),
                    rejection_seq: 0,
                    counts: BatchCounts::default(),
                    cached: LookupCaches::default(),
                },
                committed: false,
            }))),
            Ok(Err(applied)) => {
                conn.batch_execute("ROLLBACK").map_err(map_err)?;
                Ok(Begin::Duplicate(applied))
            }
            Err(e) => {
                let _ = conn.batch_execute("ROLLBACK");
                Err(e)
            }
        }
    }

    fn record_rejected_file(
        &self,
        submission: &NewSubmission,
        record_count: u64,
        rejection: &FileRejection,
    ) -> StoreResult<SubmissionSummary> {
        let mut conn = self.connection()?;
        insert_submission(&mut conn, submission, SubmissionStatus::Rejected, record_count, Some(rejection), None)?;
        Ok(submission.summary(SubmissionStatus::Rejected, record_count, BatchCounts::default(), Some(rejection.clone())))
    }

    fn find_applied(&self, furnisher: &FurnisherId, content_sha256: &str) -> StoreResult<Option<SubmissionSummary>> {
        self.read(|conn| find_applied_on(conn, furnisher.as_str(), content_sha256))
    }

    fn submission(&self, furnisher: &FurnisherId, submission_id: &str) -> StoreResult<Option<SubmissionSummary>> {
        self.read(|conn| {
            conn.query_opt(
                &format!("SELECT {SUBMISSION_COLUMNS} FROM submission WHERE furnisher = $1 AND submission_id = $2"),
                &[&furnisher.as_str(), &submission_id],
            )
            .map_err(map_err)?
            .map(|row| submission_from_row(&row))
            .transpose()
        })
    }

    fn for_each_rejection(&self, submission_id: &str, visit: &mut dyn FnMut(RecordError) -> ControlFlow<()>) -> StoreResult<()> {
        let mut conn = self.connection()?;
        let Some(row) = conn
            .query_opt("SELECT furnisher, submission_key FROM submission WHERE submission_id = $1", &[&submission_id])
            .map_err(map_err)?
        else {
            return Ok(());
        };
        let (furnisher, submission_key): (String, i64) = (row.get(0), row.get(1));
        // Streamed: the rows arrive as they are read, however many there are.
        let params: [&(dyn ToSql + Sync); 2] = [&furnisher, &submission_key];
        let mut rows = conn
            .query_raw("SELECT line, field, code, message FROM rejection WHERE furnisher = $1 AND submission_key = $2 ORDER BY seq", params)
            .map_err(map_err)?;
        while let Some(row) = rows.next().map_err(map_err)? {
            let code: String = row.try_get(2).map_err(map_err)?;
            let error = RecordError {
                line: row.try_get::<_, i64>(0).map_err(map_err)? as u64,
                field: row.try_get(1).map_err(map_err)?,
                code: code.parse().map_err(|()| corrupt(format!("unknown rejection code {code:?}")))?,
                message: row.try_get(3).map_err(map_err)?,
            };
            if visit(error).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn record_versions(&self, furnisher: &FurnisherId, account: &str) -> StoreResult<Vec<RecordVersion>> {
        let columns = &*RECORD_COLUMNS_R;
        self.read(|conn| {
            let Some(row) = conn
                .query_opt(
                    "SELECT account_key, members FROM account WHERE account = $1 AND furnisher = $2",
                    &[&account, &furnisher.as_str()],
                )
                .map_err(map_err)?
            else {
                return Ok(Vec::new());
            };
            let (account_key, members): (i64, Vec<i64>) = (row.get(0), row.get(1));
            // Each version from its first subject's copy; `members` holds every subject the
            // account ever had, so every shard that has its records.
            let rows = conn
                .query(
                    &format!(
                        "SELECT * FROM ( \
                           SELECT {columns}, s.submission_id, NULL::text AS replaced_by_id, 1 AS current, 0::bigint AS seq \
                           FROM record r JOIN submission s ON s.furnisher = $3 AND s.submission_key = r.submission_key \
                           WHERE r.subject_key = ANY($1) AND r.account_key = $2 AND r.primary_copy \
                         UNION ALL \
                           SELECT {columns}, s.submission_id, x.submission_id, 0, r.history_key \
                           FROM record_history r JOIN submission s ON s.furnisher = $3 AND s.submission_key = r.submission_key \
                           JOIN submission x ON x.furnisher = $3 AND x.submission_key = r.replaced_by \
                           WHERE r.subject_key = ANY($1) AND r.account_key = $2 AND r.primary_copy \
                         ) v ORDER BY as_of, current, seq"
                    ),
                    &[&members, &account_key, &furnisher.as_str()],
                )
                .map_err(map_err)?;
            let after = RECORD_COLUMN_COUNT;
            rows.iter()
                .map(|row| {
                    let (facts, _) = record_from_row(row, account)?;
                    Ok(RecordVersion {
                        facts,
                        line: row.try_get::<_, i64>(5).map_err(map_err)? as u64,
                        submission_id: row.try_get(after).map_err(map_err)?,
                        replaced_by: row.try_get(after + 1).map_err(map_err)?,
                    })
                })
                .collect()
        })
    }

    fn for_each_record(
        &self,
        furnisher: &FurnisherId,
        from: Date,
        to: Date,
        visit: &mut dyn FnMut(StoredRecord) -> ControlFlow<()>,
    ) -> StoreResult<()> {
        let mut conn = self.connection()?;
        in_transaction(&mut conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", |conn| {
            let columns = &*RECORD_COLUMNS_R;
            let from = codec::date_number(from) as i32;
            let to = codec::date_number(to) as i32;
            let furnisher = furnisher.as_str();
            let params: [&(dyn ToSql + Sync); 3] = [&furnisher, &from, &to];
            let mut rows = conn
                .query_raw(
                    &format!(
                        "SELECT {columns}, m.account FROM subject_account m \
                         JOIN record r ON r.subject_key = m.subject_key AND r.account_key = m.account_key \
                         WHERE m.furnisher = $1 AND r.as_of BETWEEN $2 AND $3 AND r.primary_copy \
                         ORDER BY m.account, r.as_of"
                    ),
                    params,
                )
                .map_err(map_err)?;
            let account_at = RECORD_COLUMN_COUNT;
            while let Some(row) = rows.next().map_err(map_err)? {
                let account: String = row.try_get(account_at).map_err(map_err)?;
                let (facts, subjects) = record_from_row(&row, &account)?;
                if visit(StoredRecord { facts, subjects }).is_break() {
                    break;
                }
            }
            Ok(())
        })
    }

    fn sealed_link(&self, subject: SubjectKey, identity: i64) -> StoreResult<Option<SealedLink>> {
        self.read(|conn| {
            let Some(row) = conn
                .query_opt(
                    "SELECT s.id_type, s.id_sealed, i.identity_sealed FROM subject s \
                     JOIN identity i ON i.subject_key = s.subject_key \
                     WHERE s.subject_key = $1 AND i.identity_key = $2",
                    &[&subject.0, &identity],
                )
                .map_err(map_err)?
            else {
                return Ok(None);
            };
            let id_type: String = row.get(0);
            let id_type = id_type.parse().map_err(|()| corrupt(format!("unknown id_type {id_type:?}")))?;
            Ok(Some(SealedLink { id_type, id_sealed: row.get(1), identity_sealed: row.get(2) }))
        })
    }

    fn find_subject(&self, id_hash: &KeyedHash) -> StoreResult<Option<SubjectKey>> {
        self.read(|conn| {
            Ok(conn
                .query_opt("SELECT subject_key FROM subject_lookup WHERE id_hash = $1", &[&&id_hash[..]])
                .map_err(map_err)?
                .map(|r| SubjectKey(r.get(0))))
        })
    }

    fn subject(&self, subject: SubjectKey) -> StoreResult<Option<StoredSubject>> {
        self.read(|conn| in_transaction(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", |conn| read_subject(conn, subject)))
    }

    fn furnishers(&self) -> StoreResult<Vec<FurnisherId>> {
        self.read(|conn| {
            conn.prepared_query("SELECT DISTINCT furnisher FROM account ORDER BY furnisher", &[])?
                .iter()
                .map(|row| {
                    let name: String = row.try_get(0).map_err(map_err)?;
                    FurnisherId::parse(&name).map_err(|_| corrupt(format!("stored furnisher id {name:?} is not valid")))
                })
                .collect()
        })
    }

    fn purge_account(&self, furnisher: &FurnisherId, account: &str) -> StoreResult<u64> {
        let mut conn = self.connection()?;
        in_transaction(&mut conn, "BEGIN", |conn| {
            conn.prepared_execute("SELECT pg_advisory_xact_lock($1)", &[&WRITER_LOCK])?;
            let Some(row) = conn.prepared_query_opt(
                "SELECT account_key, members FROM account WHERE furnisher = $1 AND account = $2",
                &[&furnisher.as_str(), &account],
            )?
            else {
                return Ok(0);
            };
            let (key, members): (i64, Vec<i64>) = (row.get(0), row.get(1));
            // Each subject's copies live in that subject's rows (one shard each on Citus).
            conn.prepared_execute("DELETE FROM record_history WHERE subject_key = ANY($1) AND account_key = $2", &[&members, &key])?;
            let purged = conn.prepared_query(
                "DELETE FROM record WHERE subject_key = ANY($1) AND account_key = $2 RETURNING primary_copy",
                &[&members, &key],
            )?;
            conn.prepared_execute("DELETE FROM subject_account WHERE subject_key = ANY($1) AND account_key = $2", &[&members, &key])?;
            conn.prepared_execute("DELETE FROM account WHERE furnisher = $1 AND account = $2", &[&furnisher.as_str(), &account])?;
            Ok(purged.iter().filter(|row| row.get::<_, bool>(0)).count() as u64)
        })
    }

    fn for_each_subject_accounts(
        &self,
        keys: Range<i64>,
        visit: &mut dyn FnMut(SubjectKey, Vec<AccountHistory>) -> ControlFlow<()>,
    ) -> StoreResult<()> {
        let mut conn = self.connection()?;
        in_transaction(&mut conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", |conn| {
            let columns = &*RECORD_COLUMNS_R;
            // Each subject's own copies of its records (co-located by subject once distributed).
            let params: [&(dyn ToSql + Sync); 2] = [&keys.start, &keys.end];
            let mut rows = conn
                .query_raw(
                    &format!(
                        "SELECT {columns}, m.furnisher, m.account FROM subject_account m \
                         JOIN record r ON r.subject_key = m.subject_key AND r.account_key = m.account_key \
                         WHERE m.subject_key >= $1 AND m.subject_key < $2 \
                         ORDER BY m.subject_key, r.account_key, r.as_of"
                    ),
                    params,
                )
                .map_err(map_err)?;
            let furnisher_at = RECORD_COLUMN_COUNT;
            let mut grouped = codec::SubjectRows::new(visit);
            while let Some(row) = rows.next().map_err(map_err)? {
                let (mut facts, subjects) = record_from_row(&row, row.try_get(furnisher_at + 1).map_err(map_err)?)?;
                codec::blank_unscanned(&mut facts);
                let furnisher = || row.try_get(furnisher_at).map_err(map_err);
                let record = StoredRecord { facts, subjects };
                if grouped.push(row.try_get(0).map_err(map_err)?, row.try_get(1).map_err(map_err)?, furnisher, record)?.is_break() {
                    return Ok(());
                }
            }
            grouped.finish();
            Ok(())
        })
    }

    fn compact(&self) -> StoreResult<u64> {
        let mut conn = self.connection()?;
        in_transaction(&mut conn, "BEGIN", |conn| {
            conn.prepared_execute("SELECT pg_advisory_xact_lock($1)", &[&WRITER_LOCK])?;
            // A rewrite of the whole table outlasts any statement timeout set for requests.
            // By the primary key: a subject's records side by side (per shard, on Citus).
            conn.batch_execute("SET LOCAL statement_timeout = 0; CLUSTER record USING record_pkey; ANALYZE record").map_err(map_err)?;
            let row = conn.prepared_query_opt("SELECT count(*) FROM record WHERE primary_copy", &[])?;
            Ok(row.map_or(0, |r| r.get::<_, i64>(0) as u64))
        })
    }

    fn subject_key_max(&self) -> StoreResult<Option<i64>> {
        self.read(|conn| Ok(conn.prepared_query_opt("SELECT max(subject_key) FROM subject", &[])?.and_then(|row| row.get(0))))
    }

    fn ping(&self) -> StoreResult<()> {
        self.read(|conn| conn.batch_execute("SELECT 1").map_err(map_err))
    }
}

/// One subject's whole file, from that subject's rows only (one shard once distributed).
fn read_subject(conn: &mut Connection, subject: SubjectKey) -> StoreResult<Option<StoredSubject>> {
    let Some(row) = conn.prepared_query_opt("SELECT id_type, id_sealed FROM subject WHERE subject_key = $1", &[&subject.0])? else {
        return Ok(None);
    };
    let id_type: String = row.get(0);
    let id_type: IdType = id_type.parse().map_err(|()| corrupt(format!("unknown id_type {id_type:?}")))?;
    let id_sealed: Vec<u8> = row.get(1);

    let identities = conn
        .prepared_query(
            "SELECT identity_key, furnisher, identity_sealed FROM identity WHERE subject_key = $1 ORDER BY identity_key",
            &[&subject.0],
        )?
        .iter()
        .map(|r| StoredIdentity { key: r.get(0), furnisher: r.get(1), sealed: r.get(2) })
        .collect();

    let rows = conn.prepared_query(SUBJECT_RECORDS_SQL.as_str(), &[&subject.0])?;
    let furnisher_at = RECORD_COLUMN_COUNT;
    let mut accounts: Vec<AccountHistory> = Vec::new();
    let mut current_account: Option<i64> = None;
    for row in &rows {
        let account_key: i64 = row.get(1);
        let account: String = row.try_get(furnisher_at + 1).map_err(map_err)?;
        let (facts, links) = record_from_row(row, &account)?;
        if current_account != Some(account_key) {
            current_account = Some(account_key);
            accounts.push(AccountHistory { furnisher: row.try_get(furnisher_at).map_err(map_err)?, records: Vec::new() });
        }
        if let Some(history) = accounts.last_mut() {
            history.records.push(StoredRecord { facts, subjects: links });
        }
    }
    Ok(Some(StoredSubject { subject, id_type, id_sealed, identities, accounts }))
}

/// Reads a row that starts with the `RECORD_COLUMNS`.
fn record_from_row(row: &Row, account: &str) -> StoreResult<(registry_core::model::AccountFacts, Vec<registry_core::report::SubjectLink>)> {
    let int4 = |i: usize| row.try_get::<_, i32>(i).map(i64::from).map_err(map_err);
    let opt_int4 = |i: usize| row.try_get::<_, Option<i32>>(i).map(|v| v.map(i64::from)).map_err(map_err);
    let int8 = |i: usize| row.try_get::<_, i64>(i).map_err(map_err);
    let opt_int8 = |i: usize| row.try_get::<_, Option<i64>>(i).map_err(map_err);
    let text = |i: usize| row.try_get::<_, String>(i).map_err(map_err);
    let opt_text = |i: usize| row.try_get::<_, Option<String>>(i).map_err(map_err);
    // Borrowed from the row: parsed in place, no copy per coded column.
    let code = |i: usize| row.try_get::<_, &str>(i).map(std::borrow::Cow::Borrowed).map_err(map_err);
    let opt_code = |i: usize| row.try_get::<_, Option<&str>>(i).map(|v| v.map(std::borrow::Cow::Borrowed)).map_err(map_err);
    codec::RecordColumns {
        account: account.to_owned(),
        as_of: int4(2)?,
        product: code(6)?,
        opened: int4(7)?,
        closed: opt_int4(8)?,
        currency: code(9)?,
        credit_limit: opt_int8(10)?,
        original_amount: opt_int8(11)?,
        term_months: opt_int4(12)?,
        scheduled_payment: opt_int8(13)?,
        actual_payment: opt_int8(14)?,
        balance: int8(15)?,
        past_due: int8(16)?,
        status: code(17)?,
        payment_history: text(18)?,
        first_delinquency: opt_int4(19)?,
        last_payment: opt_int4(20)?,
        special_comment: opt_text(21)?,
        dispute: code(22)?,
        subjects: code(23)?,
        funding: opt_code(24)?,
        reporter_id: opt_text(25)?,
    }
    .into_facts()
}

struct PgSubmission {
    conn: Pooled,
    state: PgWriterState,
    committed: bool,
}

/// Everything a submission writer remembers besides its connection.
struct PgWriterState {
    submission_key: i64,
    submission: NewSubmission,
    rejection_seq: i64,
    counts: BatchCounts,
    cached: LookupCaches,
}

/// An account as stored (or as this batch leaves it).
#[derive(Clone)]
struct AccountState {
    key: i64,
    subjects_sig: Vec<u8>,
    subjects: Arc<str>,
    /// The distinct subjects of `subjects`, first listed first: who gets a copy of a record.
    copies: Arc<[i64]>,
    members: Vec<i64>,
    /// Whether the account row must be inserted (true) or updated (`changed`).
    new: bool,
    changed: bool,
}

/// What one accepted record of a batch turned out to be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    New,
    /// Replaces a record an earlier submission stored.
    Correction,
    /// The same key came earlier in this submission, on this line.
    DuplicateOf(u64),
}

/// Rejection rows waiting for `COPY`.
struct RejectionRow {
    seq: i64,
    error: RecordError,
}

impl PgWriterState {
    fn push_rejections(&mut self, rows: &mut Vec<RejectionRow>, errors: &[RecordError]) {
        for error in errors {
            self.rejection_seq += 1;
            rows.push(RejectionRow { seq: self.rejection_seq, error: error.clone() });
        }
    }

    fn write_batch(&mut self, conn: &mut Connection, items: &[BatchItem]) -> StoreResult<BatchCounts> {
        let furnisher = self.submission.furnisher.as_str().to_owned();
        let records: Vec<&SealedRecord> = items
            .iter()
            .filter_map(|item| match item {
                BatchItem::Accepted(record) => Some(record),
                BatchItem::Rejected(_) => None,
            })
            .collect();

        // 1. The batch's accounts, in one query.
        let numbers: Vec<&str> = unique(records.iter().map(|r| r.facts.account.as_str()));
        let mut accounts: HashMap<String, AccountState> = HashMap::with_capacity(numbers.len());
        for row in conn.prepared_query(
            "SELECT account, account_key, subjects_sig, subjects, members FROM account WHERE furnisher = $1 AND account = ANY($2)",
            &[&furnisher, &numbers],
        )? {
            let subjects: String = row.get(3);
            let copies = copies_of(&subjects)?.into();
            accounts.insert(
                row.get(0),
                AccountState {
                    key: row.get(1),
                    subjects_sig: row.get(2),
                    subjects: subjects.into(),
                    copies,
                    members: row.get(4),
                    new: false,
                    changed: false,
                },
            );
        }
        // Every subject each account ever had, as the batch found it: where its rows live.
        let members_before: HashMap<i64, Vec<i64>> = accounts.values().map(|a| (a.key, a.members.clone())).collect();

        // 2. Which of the batch's keys are stored already (and by which submission).
        let existing = Self::existing_records(conn, &records, &accounts)?;

        // 3. Classify in file order: a repeat of a key earlier in this submission is rejected
        //    before anyone is looked up or created, so it leaves no trace.
        let mut seen: HashMap<(&str, Date), u64> = HashMap::new();
        let mut kinds = Vec::with_capacity(records.len());
        for record in &records {
            let facts = &record.facts;
            let kind = if let Some(&line) = seen.get(&(facts.account.as_str(), facts.as_of)) {
                Kind::DuplicateOf(line)
            } else {
                match accounts.get(&facts.account).and_then(|a| existing.get(&(a.key, codec::date_number(facts.as_of) as i32))) {
                    Some(&(submission_key, line)) if submission_key == self.submission_key => Kind::DuplicateOf(line as u64),
                    Some(_) => Kind::Correction,
                    None => Kind::New,
                }
            };
            if !matches!(kind, Kind::DuplicateOf(_)) {
                seen.insert((facts.account.as_str(), facts.as_of), record.line);
            }
            kinds.push(kind);
        }

        // 4. The people of records whose account does not already name them, in bulk.
        let signatures: Vec<[u8; 16]> = records.iter().map(|r| subjects_signature(r)).collect();
        //    An account whose people change anywhere in the batch may change back later in it, so
        //    all its records' people are resolved.
        let changing: HashSet<&str> = records
            .iter()
            .zip(&kinds)
            .zip(&signatures)
            .filter(|((record, kind), signature)| {
                !matches!(kind, Kind::DuplicateOf(_)) && accounts.get(&record.facts.account).is_none_or(|a| a.subjects_sig != signature[..])
            })
            .map(|((record, _), _)| record.facts.account.as_str())
            .collect();
        let needs_people: Vec<&SealedRecord> = records
            .iter()
            .zip(&kinds)
            .filter(|(record, kind)| !matches!(kind, Kind::DuplicateOf(_)) && changing.contains(record.facts.account.as_str()))
            .map(|(record, _)| *record)
            .collect();
        let subject_keys = self.resolve_subjects(conn, &needs_people)?;
        let identity_keys = self.resolve_identities(conn, &needs_people, &subject_keys)?;

        // 5. Walk the batch in order, as SQLite applies it record by record.
        let new_accounts = unique(
            records
                .iter()
                .zip(&kinds)
                .filter(|(r, k)| !matches!(k, Kind::DuplicateOf(_)) && !accounts.contains_key(&r.facts.account))
                .map(|(r, _)| r.facts.account.as_str()),
        )
        .len();
        let mut account_keys = next_keys(conn, "account_key_seq", new_accounts)?.into_iter();
        let mut rejections = Vec::new();
        let mut memberships: Vec<(i64, i64, String)> = Vec::new();
        let mut corrections: Vec<(i64, i32)> = Vec::new();
        let mut rows: Vec<RecordRow<'_>> = Vec::with_capacity(records.len() * 2);
        let mut counts = BatchCounts::default();
        let mut accepted = records.iter().zip(&kinds).zip(&signatures);
        for item in items {
            let record = match item {
                BatchItem::Rejected(errors) => {
                    self.push_rejections(&mut rejections, errors);
                    counts.rejected += 1;
                    continue;
                }
                BatchItem::Accepted(record) => record,
            };
            let ((_, kind), signature) = accepted.next().ok_or_else(|| corrupt("batch walk out of step"))?;
            let facts = &record.facts;
            if let Kind::DuplicateOf(first_line) = *kind {
                self.push_rejections(
                    &mut rejections,
                    &[RecordError {
                        line: record.line,
                        field: String::new(),
                        code: RecordErrorCode::DuplicateRecord,
                        message: format!(
                            "account {:?} as of {} already appears on line {first_line} of this file",
                            facts.account, facts.as_of
                        ),
                    }],
                );
                counts.rejected += 1;
                continue;
            }
            if !accounts.contains_key(&facts.account) {
                let key = account_keys.next().ok_or_else(|| corrupt("ran out of allocated account keys"))?;
                let new = AccountState {
                    key,
                    subjects_sig: Vec::new(),
                    subjects: "".into(),
                    copies: Arc::new([]),
                    members: Vec::new(),
                    new: true,
                    changed: true,
                };
                accounts.insert(facts.account.clone(), new);
            }
            let account = accounts.get_mut(&facts.account).ok_or_else(|| corrupt("an account vanished from the batch"))?;
            if account.subjects_sig != signature[..] {
                let mut links = Vec::with_capacity(record.subjects.len());
                for subject in &record.subjects {
                    let subject_key = *subject_keys.get(&subject.id_hash).ok_or_else(|| corrupt("a subject was not resolved"))?;
                    let identity =
                        *identity_keys.get(&(subject_key, subject.identity_hash)).ok_or_else(|| corrupt("an identity was not resolved"))?;
                    links.push(StoredLink { subject: subject_key, role: subject.role, identity });
                    if !account.members.contains(&subject_key) {
                        account.members.push(subject_key);
                    }
                    if self.cached.memberships.get(&(subject_key, account.key)).is_none() {
                        self.cached.memberships.insert((subject_key, account.key), ());
                        memberships.push((subject_key, account.key, facts.account.clone()));
                    }
                }
                account.subjects = codec::encode_links(&links).into();
                account.copies = unique(links.iter().map(|l| l.subject)).into();
                account.subjects_sig = signature.to_vec();
                account.changed = true;
            }
            let as_of = codec::date_number(facts.as_of) as i32;
            if *kind == Kind::Correction {
                corrections.push((account.key, as_of));
            }
            for (index, &subject_key) in account.copies.iter().enumerate() {
                rows.push(RecordRow {
                    subject_key,
                    account_key: account.key,
                    as_of,
                    primary: index == 0,
                    record,
                    subjects: account.subjects.clone(),
                });
            }
            counts.accepted += 1;
        }

        // 6. Write: replaced versions to the history first, then accounts, memberships, the
        //    records (grouped by subject, the future shard key) and the rejections.
        self.move_to_history(conn, &corrections, &members_before)?;
        write_accounts(conn, &furnisher, &accounts)?;
        if !memberships.is_empty() {
            let (subject_keys, account_keys, numbers): (Vec<i64>, Vec<i64>, Vec<String>) = unzip3(memberships);
            conn.prepared_execute(
                "INSERT INTO subject_account (subject_key, account_key, furnisher, account) \
                 SELECT s, a, $4, n FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS t(s, a, n) ON CONFLICT DO NOTHING",
                &[&subject_keys, &account_keys, &numbers, &furnisher],
            )?;
        }
        rows.sort_by_key(|row| (row.subject_key, row.account_key, row.as_of));
        self.copy_records(conn, &rows)?;
        self.copy_rejections(conn, &furnisher, &rejections)?;

        self.counts.accepted += counts.accepted;
        self.counts.rejected += counts.rejected;
        Ok(counts)
    }

    /// `(account_key, as_of)` → `(submission_key, line)` of the batch's keys already stored,
    /// probing every subject each account ever had (where its copies live).
    fn existing_records(
        conn: &mut Connection,
        records: &[&SealedRecord],
        accounts: &HashMap<String, AccountState>,
    ) -> StoreResult<HashMap<(i64, i32), (i64, i64)>> {
        let (mut subject_keys, mut account_keys, mut dates) = (Vec::new(), Vec::new(), Vec::new());
        for record in records {
            if let Some(account) = accounts.get(&record.facts.account) {
                for &member in &account.members {
                    subject_keys.push(member);
                    account_keys.push(account.key);
                    dates.push(codec::date_number(record.facts.as_of) as i32);
                }
            }
        }
        let mut existing = HashMap::new();
        if subject_keys.is_empty() {
            return Ok(existing);
        }
        for row in conn.prepared_query(
            "SELECT r.account_key, r.as_of, r.submission_key, r.line FROM record r \
                 JOIN unnest($1::bigint[], $2::bigint[], $3::integer[]) AS k(s, a, d) \
                   ON r.subject_key = k.s AND r.account_key = k.a AND r.as_of = k.d",
            &[&subject_keys, &account_keys, &dates],
        )? {
            existing.insert((row.get(0), row.get(1)), (row.get(2), row.get(3)));
        }
        Ok(existing)
    }

    /// Finds or creates the subject of every identifier on `records`, in order of first
    /// appearance (so new subjects get keys in file order, as in SQLite).
    /// Returns them for this batch: the cache may forget entries as it fills, the batch's map
    /// does not.
    fn resolve_subjects(&mut self, conn: &mut Connection, records: &[&SealedRecord]) -> StoreResult<HashMap<KeyedHash, i64>> {
        let mut resolved: HashMap<KeyedHash, i64> = HashMap::new();
        let mut wanted: Vec<&crate::SealedSubject> = Vec::new();
        let mut asked = HashSet::new();
        for subject in records.iter().flat_map(|r| &r.subjects) {
            match self.cached.subjects.get(&subject.id_hash) {
                Some(key) => {
                    resolved.insert(subject.id_hash, key);
                }
                None if asked.insert(subject.id_hash) => wanted.push(subject),
                None => {}
            }
        }
        if wanted.is_empty() {
            return Ok(resolved);
        }
        let hashes: Vec<&[u8]> = wanted.iter().map(|s| &s.id_hash[..]).collect();
        let mut found: HashMap<Vec<u8>, i64> = HashMap::new();
        for row in conn.prepared_query("SELECT id_hash, subject_key FROM subject_lookup WHERE id_hash = ANY($1)", &[&hashes])? {
            found.insert(row.get(0), row.get(1));
        }
        let missing: Vec<&crate::SealedSubject> = wanted.iter().copied().filter(|s| !found.contains_key(&s.id_hash[..])).collect();
        let keys = next_keys(conn, "subject_key_seq", missing.len())?;
        if !missing.is_empty() {
            let hashes: Vec<&[u8]> = missing.iter().map(|s| &s.id_hash[..]).collect();
            let types: Vec<&str> = missing.iter().map(|s| s.id_type.as_str()).collect();
            let sealed: Vec<&[u8]> = missing.iter().map(|s| &s.id_sealed[..]).collect();
            conn.prepared_execute(
                "INSERT INTO subject_lookup (id_hash, subject_key) SELECT * FROM unnest($1::bytea[], $2::bigint[])",
                &[&hashes, &keys],
            )?;
            conn.prepared_execute(
                "INSERT INTO subject (subject_key, id_type, id_sealed) SELECT * FROM unnest($1::bigint[], $2::text[], $3::bytea[])",
                &[&keys, &types, &sealed],
            )?;
        }
        for (subject, key) in missing.iter().zip(&keys) {
            found.insert(subject.id_hash.to_vec(), *key);
        }
        for subject in wanted {
            let key = *found.get(&subject.id_hash[..]).ok_or_else(|| corrupt("a subject look-up lost a row"))?;
            self.cached.subjects.insert(subject.id_hash, key);
            resolved.insert(subject.id_hash, key);
        }
        Ok(resolved)
    }

    /// Finds or creates each (subject, reported identity) on `records` for this furnisher.
    fn resolve_identities(
        &mut self,
        conn: &mut Connection,
        records: &[&SealedRecord],
        subjects: &HashMap<KeyedHash, i64>,
    ) -> StoreResult<HashMap<(i64, KeyedHash), i64>> {
        let mut resolved: HashMap<(i64, KeyedHash), i64> = HashMap::new();
        let mut wanted: Vec<(i64, &crate::SealedSubject)> = Vec::new();
        let mut asked = HashSet::new();
        for subject in records.iter().flat_map(|r| &r.subjects) {
            let subject_key = *subjects.get(&subject.id_hash).ok_or_else(|| corrupt("a subject was not resolved"))?;
            let key = (subject_key, subject.identity_hash);
            match self.cached.identities.get(&key) {
                Some(identity) => {
                    resolved.insert(key, identity);
                }
                None if asked.insert(key) => wanted.push((subject_key, subject)),
                None => {}
            }
        }
        if wanted.is_empty() {
            return Ok(resolved);
        }
        let furnisher = self.submission.furnisher.as_str();
        let subject_keys: Vec<i64> = wanted.iter().map(|(k, _)| *k).collect();
        let hashes: Vec<&[u8]> = wanted.iter().map(|(_, s)| &s.identity_hash[..]).collect();
        let mut found: HashMap<(i64, Vec<u8>), i64> = HashMap::new();
        for row in conn.prepared_query(
            "SELECT i.subject_key, i.identity_hash, i.identity_key FROM identity i \
                 JOIN unnest($1::bigint[], $2::bytea[]) AS k(s, h) ON i.subject_key = k.s AND i.identity_hash = k.h \
                 WHERE i.furnisher = $3",
            &[&subject_keys, &hashes, &furnisher],
        )? {
            found.insert((row.get(0), row.get(1)), row.get(2));
        }
        let missing: Vec<(i64, &crate::SealedSubject)> =
            wanted.iter().copied().filter(|(k, s)| !found.contains_key(&(*k, s.identity_hash.to_vec()))).collect();
        let keys = next_keys(conn, "identity_key_seq", missing.len())?;
        if !missing.is_empty() {
            let subject_keys: Vec<i64> = missing.iter().map(|(k, _)| *k).collect();
            let hashes: Vec<&[u8]> = missing.iter().map(|(_, s)| &s.identity_hash[..]).collect();
            let sealed: Vec<&[u8]> = missing.iter().map(|(_, s)| &s.identity_sealed[..]).collect();
            conn.prepared_execute(
                "INSERT INTO identity (subject_key, identity_key, furnisher, identity_hash, identity_sealed) \
                 SELECT s, i, $5, h, x FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bytea[]) AS t(s, i, h, x)",
                &[&subject_keys, &keys, &hashes, &sealed, &furnisher],
            )?;
        }
        for ((subject_key, subject), key) in missing.iter().zip(&keys) {
            found.insert((*subject_key, subject.identity_hash.to_vec()), *key);
        }
        for (subject_key, subject) in wanted {
            let key =
                *found.get(&(subject_key, subject.identity_hash.to_vec())).ok_or_else(|| corrupt("an identity look-up lost a row"))?;
            self.cached.identities.insert((subject_key, subject.identity_hash), key);
            resolved.insert((subject_key, subject.identity_hash), key);
        }
        Ok(resolved)
    }

    /// Moves every copy of each corrected record to the history, marked as replaced by this
    /// submission.
    fn move_to_history(&self, conn: &mut Connection, corrections: &[(i64, i32)], members: &HashMap<i64, Vec<i64>>) -> StoreResult<()> {
        if corrections.is_empty() {
            return Ok(());
        }
        let (mut subject_keys, mut account_keys, mut dates) = (Vec::new(), Vec::new(), Vec::new());
        for (account_key, as_of) in corrections {
            for &member in members.get(account_key).map(Vec::as_slice).unwrap_or_default() {
                subject_keys.push(member);
                account_keys.push(*account_key);
                dates.push(*as_of);
            }
        }
        let columns = &*RECORD_COLUMNS_R;
        conn.prepared_execute(
            &format!(
                "INSERT INTO record_history ({RECORD_COLUMNS}, replaced_by, history_key) \
                 SELECT {columns}, $4, nextval('history_key_seq') FROM record r \
                 JOIN unnest($1::bigint[], $2::bigint[], $3::integer[]) WITH ORDINALITY AS k(s, a, d, n) \
                   ON r.subject_key = k.s AND r.account_key = k.a AND r.as_of = k.d ORDER BY k.n"
            ),
            &[&subject_keys, &account_keys, &dates, &self.submission_key],
        )?;
        conn.prepared_execute(
            "DELETE FROM record r USING unnest($1::bigint[], $2::bigint[], $3::integer[]) AS k(s, a, d) \
             WHERE r.subject_key = k.s AND r.account_key = k.a AND r.as_of = k.d",
            &[&subject_keys, &account_keys, &dates],
        )?;
        Ok(())
    }

    fn copy_records(&self, conn: &mut Connection, rows: &[RecordRow<'_>]) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let sink = conn.copy_in(&format!("COPY record ({RECORD_COLUMNS}) FROM STDIN BINARY")).map_err(map_err)?;
        let mut writer = BinaryCopyInWriter::new(sink, RECORD_TYPES);
        for row in rows {
            let facts = &row.record.facts;
            let funding = (!facts.funding.is_empty()).then(|| codec::encode_funding(&facts.funding));
            let values = RecordValues::from_facts(
                facts,
                row.account_key,
                self.submission_key,
                row.record.line as i64,
                &row.subjects,
                funding.as_deref(),
            );
            values.write(&mut writer, row.subject_key, row.primary, &[])?;
        }
        writer.finish().map_err(map_err)?;
        Ok(())
    }

    fn copy_rejections(&self, conn: &mut Connection, furnisher: &str, rows: &[RejectionRow]) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let sink = conn
            .copy_in("COPY rejection (furnisher, submission_key, seq, line, field, code, message) FROM STDIN BINARY")
            .map_err(map_err)?;
        let mut writer =
            BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::INT8, Type::INT8, Type::INT8, Type::TEXT, Type::TEXT, Type::TEXT]);
        for row in rows {
            writer
                .write(&[
                    &furnisher,
                    &self.submission_key,
                    &row.seq,
                    &(row.error.line as i64),
                    &row.error.field,
                    &row.error.code.as_str(),
                    &row.error.message,
                ])
                .map_err(map_err)?;
        }
        writer.finish().map_err(map_err)?;
        Ok(())
    }
}

/// The distinct subjects of an encoded `subjects` list, first listed first: the subjects a
/// record is stored with (the first one's copy is the primary).
fn copies_of(subjects: &str) -> StoreResult<Vec<i64>> {
    Ok(unique(codec::decode_links(subjects)?.into_iter().map(|l| l.subject)))
}

/// A record's values in `RECORD_COLUMNS` order, borrowed, except the subject a copy belongs
/// to: the one list of what a `record` or `record_history` row holds, for ingest and for load.
struct RecordValues<'a> {
    account_key: i64,
    as_of: i32,
    submission_key: i64,
    line: i64,
    product: &'a str,
    opened: i32,
    closed: Option<i32>,
    currency: &'a str,
    credit_limit: Option<i64>,
    original_amount: Option<i64>,
    term_months: Option<i32>,
    scheduled_payment: Option<i64>,
    actual_payment: Option<i64>,
    balance: i64,
    past_due: i64,
    status: &'a str,
    payment_history: &'a str,
    first_delinquency: Option<i32>,
    last_payment: Option<i32>,
    special_comment: Option<&'a str>,
    dispute: &'a str,
    subjects: &'a str,
    funding: Option<&'a str>,
    reporter_id: Option<&'a str>,
}

impl<'a> RecordValues<'a> {
    fn from_facts(
        facts: &'a registry_core::model::AccountFacts,
        account_key: i64,
        submission_key: i64,
        line: i64,
        subjects: &'a str,
        funding: Option<&'a str>,
    ) -> RecordValues<'a> {
        let amount = |a: Option<AmountMinor>| a.map(|a| a.0 as i64);
        let date = |d: Option<Date>| d.map(|d| codec::date_number(d) as i32);
        RecordValues {
            account_key,
            as_of: codec::date_number(facts.as_of) as i32,
            submission_key,
            line,
            product: facts.product.as_str(),
            opened: codec::date_number(facts.opened) as i32,
            closed: date(facts.closed),
            currency: facts.currency.code(),
            credit_limit: amount(facts.credit_limit),
            original_amount: amount(facts.original_amount),
            term_months: facts.term_months.map(i32::from),
            scheduled_payment: amount(facts.scheduled_payment),
            actual_payment: amount(facts.actual_payment),
            balance: facts.balance.0 as i64,
            past_due: facts.past_due.0 as i64,
            status: facts.status.as_str(),
            payment_history: &facts.payment_history,
            first_delinquency: date(facts.first_delinquency),
            last_payment: date(facts.last_payment),
            special_comment: facts.special_comment.as_deref(),
            dispute: facts.dispute.as_str(),
            subjects,
            funding,
            reporter_id: facts.reporter_id.as_deref(),
        }
    }

    /// A dumped record as it was stored (dates YYYYMMDD fit an integer).
    fn from_columns(c: &'a crate::RecordColumns<'_>, account_key: i64, submission_key: i64, line: i64) -> RecordValues<'a> {
        let int4 = |v: i64| v as i32;
        RecordValues {
            account_key,
            as_of: int4(c.as_of),
            submission_key,
            line,
            product: &c.product,
            opened: int4(c.opened),
            closed: c.closed.map(int4),
            currency: &c.currency,
            credit_limit: c.credit_limit,
            original_amount: c.original_amount,
            term_months: c.term_months.map(int4),
            scheduled_payment: c.scheduled_payment,
            actual_payment: c.actual_payment,
            balance: c.balance,
            past_due: c.past_due,
            status: &c.status,
            payment_history: &c.payment_history,
            first_delinquency: c.first_delinquency.map(int4),
            last_payment: c.last_payment.map(int4),
            special_comment: c.special_comment.as_deref(),
            dispute: &c.dispute,
            subjects: &c.subjects,
            funding: c.funding.as_deref(),
            reporter_id: c.reporter_id.as_deref(),
        }
    }

    /// Writes the copy of `subject_key`, then the `extra` columns a history row adds.
    fn write(
        &self,
        writer: &mut BinaryCopyInWriter<'_>,
        subject_key: i64,
        primary: bool,
        extra: &[&(dyn ToSql + Sync)],
    ) -> StoreResult<()> {
        let columns: [&(dyn ToSql + Sync); RECORD_COLUMN_COUNT] = [
            &subject_key,
            &self.account_key,
            &self.as_of,
            &primary,
            &self.submission_key,
            &self.line,
            &self.product,
            &self.opened,
            &self.closed,
            &self.currency,
            &self.credit_limit,
            &self.original_amount,
            &self.term_months,
            &self.scheduled_payment,
            &self.actual_payment,
            &self.balance,
            &self.past_due,
            &self.status,
            &self.payment_history,
            &self.first_delinquency,
            &self.last_payment,
            &self.special_comment,
            &self.dispute,
            &self.subjects,
            &self.funding,
            &self.reporter_id,
        ];
        if extra.is_empty() {
            return writer.write(&columns).map_err(map_err);
        }
        let all: Vec<&(dyn ToSql + Sync)> = columns.iter().chain(extra).copied().collect();
        writer.write(&all).map_err(map_err)
    }
}

/// One copy of a record, for one of its subjects.
struct RecordRow<'r> {
    subject_key: i64,
    account_key: i64,
    as_of: i32,
    primary: bool,
    record: &'r SealedRecord,
    subjects: Arc<str>,
}

/// Inserts the batch's new accounts and updates the changed ones.
fn write_accounts(conn: &mut Connection, furnisher: &str, accounts: &HashMap<String, AccountState>) -> StoreResult<()> {
    for new in [true, false] {
        let changed: Vec<(&String, &AccountState)> = accounts.iter().filter(|(_, a)| a.changed && a.new == new).collect();
        if changed.is_empty() {
            continue;
        }
        let numbers: Vec<&str> = changed.iter().map(|(n, _)| n.as_str()).collect();
        let keys: Vec<i64> = changed.iter().map(|(_, a)| a.key).collect();
        let signatures: Vec<&[u8]> = changed.iter().map(|(_, a)| a.subjects_sig.as_slice()).collect();
        let subjects: Vec<&str> = changed.iter().map(|(_, a)| &*a.subjects).collect();
        // Arrays of arrays must be rectangular in PostgreSQL: members travel as text.
        let members: Vec<String> =
            changed.iter().map(|(_, a)| format!("{{{}}}", a.members.iter().map(i64::to_string).collect::<Vec<_>>().join(","))).collect();
        let sql = if new {
            "INSERT INTO account (account, furnisher, account_key, subjects_sig, subjects, members) \
             SELECT n, $6, k, s, j, m::bigint[] FROM unnest($1::text[], $2::bigint[], $3::bytea[], $4::text[], $5::text[]) AS t(n, k, s, j, m)"
        } else {
            "UPDATE account SET subjects_sig = t.s, subjects = t.j, members = t.m::bigint[] \
             FROM unnest($1::text[], $2::bigint[], $3::bytea[], $4::text[], $5::text[]) AS t(n, k, s, j, m) \
             WHERE account.account = t.n AND account.furnisher = $6"
        };
        conn.prepared_execute(sql, &[&numbers, &keys, &signatures, &subjects, &members, &furnisher])?;
    }
    Ok(())
}

/// `count` fresh keys from a sequence, ascending.
fn next_keys(conn: &mut Connection, sequence: &str, count: usize) -> StoreResult<Vec<i64>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let mut keys: Vec<i64> = conn
        .prepared_query("SELECT nextval($1::text::regclass) FROM generate_series(1, $2::bigint)", &[&sequence, &(count as i64)])?
        .iter()
        .map(|r| r.get(0))
        .collect();
    keys.sort_unstable();
    Ok(keys)
}

/// The distinct items, in order of first appearance.
fn unique<T: Eq + std::hash::Hash + Copy>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    items.filter(|item| seen.insert(*item)).collect()
}

fn unzip3<A, B, C>(items: Vec<(A, B, C)>) -> (Vec<A>, Vec<B>, Vec<C>) {
    let mut out = (Vec::with_capacity(items.len()), Vec::with_capacity(items.len()), Vec::with_capacity(items.len()));
    for (a, b, c) in items {
        out.0.push(a);
        out.1.push(b);
        out.2.push(c);
    }
    out
}

impl SubmissionWriter for PgSubmission {
    fn write_batch(&mut self, items: &[BatchItem]) -> StoreResult<BatchCounts> {
        self.state.write_batch(&mut self.conn, items)
    }

    fn commit(mut self: Box<Self>, record_count: u64) -> StoreResult<SubmissionSummary> {
        let state = &self.state;
        self.conn
            .execute(
                "UPDATE submission SET record_count = $3, accepted_count = $4, rejected_count = $5 \
                 WHERE furnisher = $1 AND submission_key = $2",
                &[
                    &state.submission.furnisher.as_str(),
                    &state.submission_key,
                    &(record_count as i64),
                    &(state.counts.accepted as i64),
                    &(state.counts.rejected as i64),
                ],
            )
            .map_err(map_err)?;
        self.conn.batch_execute("COMMIT").map_err(map_err)?;
        self.committed = true;
        if self.state.counts.accepted >= ANALYZE_AFTER_RECORDS {
            // Until autovacuum catches up (a minute or more), the planner would judge the new
            // rows by stale statistics and read a subject's records with parallel workers: 8 ms
            // a report instead of 0.9 ms after a million-record load. The submission is
            // committed either way; if this fails, autovacuum does it later.
            let _ = self.conn.batch_execute("ANALYZE subject_lookup, subject, identity, account, subject_account, record");
        }
        Ok(self.state.submission.summary(SubmissionStatus::Applied, record_count, self.state.counts, None))
    }
}

impl Drop for PgSubmission {
    fn drop(&mut self) {
        if !self.committed {
            // If the connection is gone the server has rolled back already.
            let _ = self.conn.batch_execute("ROLLBACK");
        }
    }
}

impl PostgresStore {
    /// Loads a registry dumped from another backend into this empty database, in one
    /// transaction (all of it or none), keys unchanged. Returns the number of rows read.
    pub fn load(&self, rows: &mut dyn Iterator<Item = StoreResult<DumpRow>>) -> StoreResult<u64> {
        let mut conn = self.connection()?;
        in_transaction(&mut conn, "BEGIN", |conn| {
            conn.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITER_LOCK]).map_err(map_err)?;
            let used: bool = conn
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM submission) OR EXISTS (SELECT 1 FROM subject) OR EXISTS (SELECT 1 FROM meta) \
                     OR EXISTS (SELECT 1 FROM api_key) OR EXISTS (SELECT 1 FROM access_log)",
                    &[],
                )
                .map_err(map_err)?
                .get(0);
            if used {
                return Err(StoreError::NotEmpty);
            }
            let mut furnishers: HashMap<i64, String> = HashMap::new();
            let mut buffer: Vec<DumpRow> = Vec::with_capacity(LOAD_BATCH_ROWS);
            let mut count = 0u64;
            for row in rows {
                let row = row?;
                count += 1;
                if let DumpRow::Submission { key, summary } = &row {
                    furnishers.insert(*key, summary.furnisher.clone());
                }
                if buffer.len() >= LOAD_BATCH_ROWS || buffer.first().is_some_and(|first| load_table(first) != load_table(&row)) {
                    load_rows(conn, &buffer, &furnishers)?;
                    buffer.clear();
                }
                buffer.push(row);
            }
            load_rows(conn, &buffer, &furnishers)?;
            // New keys continue after the copied ones.
            conn.batch_execute(
                "SELECT setval('submission_key_seq', coalesce((SELECT max(submission_key) FROM submission), 0) + 1, false); \
                 SELECT setval('subject_key_seq', coalesce((SELECT max(subject_key) FROM subject), 0) + 1, false); \
                 SELECT setval('identity_key_seq', coalesce((SELECT max(identity_key) FROM identity), 0) + 1, false); \
                 SELECT setval('account_key_seq', coalesce((SELECT max(account_key) FROM account), 0) + 1, false); \
                 SELECT setval('history_key_seq', coalesce((SELECT max(history_key) FROM record_history), 0) + 1, false); \
                 SELECT setval('inquiry_id_seq', coalesce((SELECT max(inquiry_id) FROM inquiry), 0) + 1, false);",
            )
            .map_err(map_err)?;
            Ok(count)
        })
    }
}

/// Which table (current records and replaced versions apart) a dumped row goes to: a buffer
/// holds rows of one.
fn load_table(row: &DumpRow) -> (std::mem::Discriminant<DumpRow>, bool) {
    (std::mem::discriminant(row), matches!(row, DumpRow::Record { replaced: Some(_), .. }))
}

/// Rows of one kind written with one `COPY` (or insert, for the few meta and submission rows).
const LOAD_BATCH_ROWS: usize = 10_000;

fn load_rows(conn: &mut Connection, rows: &[DumpRow], furnishers: &HashMap<i64, String>) -> StoreResult<()> {
    let Some(first) = rows.first() else { return Ok(()) };
    let copy = |conn: &mut Client,
                sql: &str,
                types: &[Type],
                each: &mut dyn FnMut(&mut BinaryCopyInWriter<'_>, &DumpRow) -> StoreResult<()>|
     -> StoreResult<()> {
        let sink = conn.copy_in(sql).map_err(map_err)?;
        let mut writer = BinaryCopyInWriter::new(sink, types);
        for row in rows {
            each(&mut writer, row)?;
        }
        writer.finish().map_err(map_err)?;
        Ok(())
    };
    match first {
        DumpRow::Meta { .. } | DumpRow::Submission { .. } => {
            for row in rows {
                match row {
                    DumpRow::Meta { name, value } => {
                        conn.execute("INSERT INTO meta (name, value) VALUES ($1, $2)", &[name, value]).map_err(map_err)?;
                    }
                    DumpRow::Submission { key, summary } => {
                        let submission = NewSubmission {
                            submission_id: summary.submission_id.clone(),
                            furnisher: FurnisherId::parse(&summary.furnisher)
                                .map_err(|_| corrupt(format!("bad furnisher {:?}", summary.furnisher)))?,
                            file_name: summary.file_name.clone(),
                            content_sha256: summary.content_sha256.clone(),
                            byte_count: summary.byte_count,
                            received_at: summary.received_at.clone(),
                            format: summary.format,
                        };
                        insert_submission(conn, &submission, summary.status, summary.record_count, summary.error.as_ref(), Some(*key))?;
                        conn.execute(
                            "UPDATE submission SET accepted_count = $3, rejected_count = $4 WHERE furnisher = $1 AND submission_key = $2",
                            &[&summary.furnisher, key, &(summary.accepted_count as i64), &(summary.rejected_count as i64)],
                        )
                        .map_err(map_err)?;
                    }
                    _ => return Err(corrupt("a dump mixed row kinds")),
                }
            }
            Ok(())
        }
        DumpRow::Rejection { .. } => copy(
            conn,
            "COPY rejection (furnisher, submission_key, seq, line, field, code, message) FROM STDIN BINARY",
            &[Type::TEXT, Type::INT8, Type::INT8, Type::INT8, Type::TEXT, Type::TEXT, Type::TEXT],
            &mut |w, row| {
                let DumpRow::Rejection { submission_key, seq, error } = row else { return Err(corrupt("a dump mixed row kinds")) };
                let furnisher = furnishers.get(submission_key).ok_or_else(|| corrupt("a rejection of an unknown submission"))?;
                w.write(&[furnisher, submission_key, seq, &(error.line as i64), &error.field, &error.code.as_str(), &error.message])
                    .map_err(map_err)
            },
        ),
        DumpRow::Subject { .. } => {
            copy(conn, "COPY subject_lookup (id_hash, subject_key) FROM STDIN BINARY", &[Type::BYTEA, Type::INT8], &mut |w, row| {
                let DumpRow::Subject { key, id_hash, .. } = row else { return Err(corrupt("a dump mixed row kinds")) };
                w.write(&[id_hash, key]).map_err(map_err)
            })?;
            copy(
                conn,
                "COPY subject (subject_key, id_type, id_sealed) FROM STDIN BINARY",
                &[Type::INT8, Type::TEXT, Type::BYTEA],
                &mut |w, row| {
                    let DumpRow::Subject { key, id_type, id_sealed, .. } = row else { return Err(corrupt("a dump mixed row kinds")) };
                    w.write(&[key, id_type, id_sealed]).map_err(map_err)
                },
            )
        }
        DumpRow::Identity { .. } => copy(
            conn,
            "COPY identity (subject_key, identity_key, furnisher, identity_hash, identity_sealed) FROM STDIN BINARY",
            &[Type::INT8, Type::INT8, Type::TEXT, Type::BYTEA, Type::BYTEA],
            &mut |w, row| {
                let DumpRow::Identity { key, subject_key, furnisher, identity_hash, sealed } = row else {
                    return Err(corrupt("a dump mixed row kinds"));
                };
                w.write(&[subject_key, key, furnisher, identity_hash, sealed]).map_err(map_err)
            },
        ),
        DumpRow::Account { .. } => copy(
            conn,
            "COPY account (account, furnisher, account_key, subjects_sig, subjects, members) FROM STDIN BINARY",
            &[Type::TEXT, Type::TEXT, Type::INT8, Type::BYTEA, Type::TEXT, Type::INT8_ARRAY],
            &mut |w, row| {
                let DumpRow::Account { key, furnisher, account, subjects_sig, subjects, members } = row else {
                    return Err(corrupt("a dump mixed row kinds"));
                };
                w.write(&[account, furnisher, key, subjects_sig, subjects, members]).map_err(map_err)
            },
        ),
        DumpRow::Membership { .. } => copy(
            conn,
            "COPY subject_account (subject_key, account_key, furnisher, account) FROM STDIN BINARY",
            &[Type::INT8, Type::INT8, Type::TEXT, Type::TEXT],
            &mut |w, row| {
                let DumpRow::Membership { subject_key, account_key, furnisher, account } = row else {
                    return Err(corrupt("a dump mixed row kinds"));
                };
                w.write(&[subject_key, account_key, furnisher, account]).map_err(map_err)
            },
        ),
        DumpRow::Governance(_) => {
            for row in rows {
                let DumpRow::Governance(row) = row else { return Err(corrupt("a dump mixed row kinds")) };
                crate::pg_governance::insert_row(conn, row)?;
            }
            Ok(())
        }
        DumpRow::Record { replaced, .. } => {
            let history = replaced.is_some();
            let (sql, types) = if history {
                (
                    format!("COPY record_history ({RECORD_COLUMNS}, replaced_by, history_key) FROM STDIN BINARY"),
                    [RECORD_TYPES, &[Type::INT8, Type::INT8]].concat(),
                )
            } else {
                (format!("COPY record ({RECORD_COLUMNS}) FROM STDIN BINARY"), RECORD_TYPES.to_vec())
            };
            copy(conn, &sql, &types, &mut |w, row| {
                let DumpRow::Record { account_key, submission_key, line, columns: c, replaced } = row else {
                    return Err(corrupt("a dump mixed row kinds"));
                };
                if replaced.is_some() != history {
                    return Err(corrupt("a dump mixed current and replaced records"));
                }
                let (replaced_by, history_key) = replaced.unwrap_or_default();
                let extra: &[&(dyn ToSql + Sync)] = if history { &[&replaced_by, &history_key] } else { &[] };
                let values = RecordValues::from_columns(c, *account_key, *submission_key, *line);
                for (index, subject_key) in copies_of(&c.subjects)?.into_iter().enumerate() {
                    values.write(w, subject_key, index == 0, extra)?;
                }
                Ok(())
            })
        }
    }
}
