//! The embedded backend: one SQLite file in WAL mode. One writer connection behind a mutex
//! (SQLite allows one writer at a time anyway) and a pool of readers, so reports are served
//! while a submission is being applied.

use std::ops::{ControlFlow, Range};
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use registry_core::furnishing::{FileErrorCode, FileRejection, Format, RecordError, RecordErrorCode};
use registry_core::model::{AccountFacts, AmountMinor, Date, FurnisherId, IdType};
use registry_core::report::{AccountHistory, StoredRecord, SubjectKey, SubjectLink};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::codec;
use crate::writing::{LookupCaches, subjects_signature};
use crate::{
    BatchCounts, BatchItem, Begin, DumpRow, KeyedHash, NewSubmission, RecordVersion, SealedLink, SealedRecord, Store, StoreError,
    StoreResult, StoredIdentity, StoredSubject, SubmissionStatus, SubmissionSummary, SubmissionWriter,
};

/// The column list of `record` and `record_history`, as a literal for `concat!`.
macro_rules! record_columns {
    () => {
        "account_key, as_of, submission_key, line, product, opened, closed, currency, \
         credit_limit, original_amount, term_months, scheduled_payment, actual_payment, balance, past_due, status, \
         payment_history, first_delinquency, last_payment, special_comment, dispute, subjects, funding, reporter_id"
    };
}

/// Schema migrations, applied in order; `PRAGMA user_version` holds the last one applied.
const MIGRATIONS: &[&str] = &[include_str!("../migrations/sqlite/0001_initial.sql"), include_str!("../migrations/sqlite/0002_metro2.sql")];

/// Page cache of the writer connection. Large enough that a big submission's index pages
/// stay in memory, small enough to keep an ingest well under its memory budget.
const WRITER_CACHE_KIB: i64 = 32 * 1024;
const READER_CACHE_KIB: i64 = 16 * 1024;
/// Size the WAL file is truncated to after a checkpoint.
const JOURNAL_BYTES_MAX: i64 = 64 << 20;

pub struct SqliteStore {
    path: PathBuf,
    // Dropped in this order: the read-only readers first, so the writer is the last connection
    // and checkpoints the WAL into the database file as it closes.
    readers: r2d2::Pool<SqliteConnectionManager>,
    writer: Mutex<Connection>,
}

/// Maps a driver error to the boundary's kinds (the embedded governance store's too).
pub(crate) fn map_err(error: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(failure, _) = &error
        && matches!(failure.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    {
        return StoreError::Busy;
    }
    StoreError::Database(Box::new(error))
}

fn pool_err(error: r2d2::Error) -> StoreError {
    StoreError::Database(Box::new(error))
}

fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Corrupt(what.into())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`. Writers wait up to
    /// `busy_timeout` for another process's write to finish.
    pub fn open(path: &Path, busy_timeout: Duration) -> StoreResult<SqliteStore> {
        let writer = Connection::open(path).map_err(map_err)?;
        // Personal data: readable by the owner only (SQLite gives its -wal and -shm files the
        // database file's mode).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| StoreError::Database(Box::new(e)))?;
        }
        configure(&writer, busy_timeout, WRITER_CACHE_KIB).map_err(map_err)?;
        // WAL lets readers read while a submission is being written, and makes a commit one
        // append; it is a property of the file, so set it once here.
        let mode: String = writer.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)).map_err(map_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(corrupt(format!("could not switch the database to WAL mode (got {mode})")));
        }
        let manager = SqliteConnectionManager::file(path)
            .with_flags(rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .with_init(move |c| configure(c, busy_timeout, READER_CACHE_KIB));
        let readers = r2d2::Pool::builder().max_size(8).min_idle(Some(0)).build(manager).map_err(pool_err)?;
        Ok(SqliteStore { path: path.to_owned(), readers, writer: Mutex::new(writer) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The writer connection, with any transaction a panicking holder left behind rolled back.
    fn writer(&self) -> MutexGuard<'_, Connection> {
        let guard = self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !guard.is_autocommit() {
            let _ = guard.execute_batch("ROLLBACK");
        }
        guard
    }

    fn reader(&self) -> StoreResult<r2d2::PooledConnection<SqliteConnectionManager>> {
        self.readers.get().map_err(pool_err)
    }
}

fn configure(conn: &Connection, busy_timeout: Duration, cache_kib: i64) -> rusqlite::Result<()> {
    conn.busy_timeout(busy_timeout)?;
    conn.set_prepared_statement_cache_capacity(64);
    // FULL: a commit reported to a furnisher survives a power cut, not only a crash.
    // A big submission grows the WAL by its size; once checkpointed, truncate it back.
    conn.execute_batch(&format!(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{cache_kib}; \
         PRAGMA journal_size_limit = {JOURNAL_BYTES_MAX};"
    ))
}

/// Brings a SQLite file's schema (its `user_version`) up to `migrations`, each in order, all in
/// one transaction.
pub(crate) fn apply_migrations(conn: &Connection, migrations: &[&str]) -> StoreResult<()> {
    let supported = migrations.len() as i64;
    // Up to date: nothing to write, so no write lock to wait for (another process may be
    // in the middle of a long submission).
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(map_err)?;
    if version == supported {
        return Ok(());
    }
    // IMMEDIATE takes the write lock first, so two processes migrating at once queue up
    // and the second finds nothing left to do.
    in_immediate(conn, || {
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(map_err)?;
        if version > supported {
            return Err(StoreError::SchemaTooNew { found: version, supported });
        }
        for (index, sql) in migrations.iter().enumerate().skip(version as usize) {
            conn.execute_batch(sql).map_err(map_err)?;
            conn.execute_batch(&format!("PRAGMA user_version = {}", index + 1)).map_err(map_err)?;
        }
        Ok(())
    })
}

/// Runs `work` in a write transaction that takes the file's write lock at once (BEGIN
/// IMMEDIATE): committed if it succeeds, rolled back if it fails.
pub(crate) fn in_immediate<T>(conn: &Connection, work: impl FnOnce() -> StoreResult<T>) -> StoreResult<T> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(map_err)?;
    match work() {
        Ok(value) => {
            conn.execute_batch("COMMIT").map_err(map_err)?;
            Ok(value)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

const SUBMISSION_COLUMNS: &str = "submission_id, furnisher, file_name, content_sha256, byte_count, received_at, \
     status, record_count, accepted_count, rejected_count, error_code, error_message, format";

fn submission_from_row(row: &Row<'_>) -> rusqlite::Result<SubmissionSummary> {
    submission_from_row_at(row, 0)
}

/// Reads the `SUBMISSION_COLUMNS` starting at column `at`.
fn submission_from_row_at(row: &Row<'_>, at: usize) -> rusqlite::Result<SubmissionSummary> {
    let status: String = row.get(at + 6)?;
    let error_code: Option<String> = row.get(at + 10)?;
    let error_message: Option<String> = row.get(at + 11)?;
    let format: String = row.get(at + 12)?;
    Ok(SubmissionSummary {
        submission_id: row.get(at)?,
        furnisher: row.get(at + 1)?,
        file_name: row.get(at + 2)?,
        content_sha256: row.get(at + 3)?,
        byte_count: row.get::<_, i64>(at + 4)? as u64,
        received_at: row.get(at + 5)?,
        status: if status == "applied" { SubmissionStatus::Applied } else { SubmissionStatus::Rejected },
        record_count: row.get::<_, i64>(at + 7)? as u64,
        accepted_count: row.get::<_, i64>(at + 8)? as u64,
        rejected_count: row.get::<_, i64>(at + 9)? as u64,
        error: match (error_code, error_message) {
            (Some(code), Some(message)) => Some(FileRejection { code: code.parse().unwrap_or(FileErrorCode::InvalidJson), message }),
            _ => None,
        },
        format: format.parse().unwrap_or(Format::JsonLines),
    })
}

/// Inserts a submission's row (with zero counts; an applied one's are set at commit).
fn insert_submission(
    conn: &Connection,
    submission: &NewSubmission,
    status: SubmissionStatus,
    record_count: u64,
    rejection: Option<&FileRejection>,
) -> StoreResult<i64> {
    conn.execute(
        "INSERT INTO submission (submission_id, furnisher, file_name, content_sha256, byte_count, received_at, \
         status, record_count, accepted_count, rejected_count, error_code, error_message, format) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, 0, ?9, ?10, ?11)",
        params![
            submission.submission_id,
            submission.furnisher.as_str(),
            submission.file_name,
            submission.content_sha256,
            submission.byte_count as i64,
            submission.received_at,
            if status == SubmissionStatus::Applied { "applied" } else { "rejected" },
            record_count as i64,
            rejection.map(|r| r.code.as_str()),
            rejection.map(|r| r.message.as_str()),
            submission.format.as_str(),
        ],
    )
    .map_err(map_err)?;
    Ok(conn.last_insert_rowid())
}

fn find_applied_on(conn: &Connection, furnisher: &str, content_sha256: &str) -> StoreResult<Option<SubmissionSummary>> {
    conn.prepare_cached(&format!(
        "SELECT {SUBMISSION_COLUMNS} FROM submission WHERE furnisher = ?1 AND content_sha256 = ?2 AND status = 'applied'"
    ))
    .and_then(|mut stmt| stmt.query_row(params![furnisher, content_sha256], submission_from_row).optional())
    .map_err(map_err)
}

impl Store for SqliteStore {
    fn migrate(&self) -> StoreResult<()> {
        apply_migrations(&self.writer(), MIGRATIONS)
    }

    fn furnishers(&self) -> StoreResult<Vec<FurnisherId>> {
        let conn = self.reader()?;
        let mut statement = conn.prepare("SELECT DISTINCT furnisher FROM account ORDER BY furnisher").map_err(map_err)?;
        let names = statement.query_map([], |r| r.get::<_, String>(0)).map_err(map_err)?;
        names
            .map(|name| {
                let name = name.map_err(map_err)?;
                FurnisherId::parse(&name).map_err(|_| corrupt(format!("stored furnisher id {name:?} is not valid")))
            })
            .collect()
    }

    fn purge_account(&self, furnisher: &FurnisherId, account: &str) -> StoreResult<u64> {
        let conn = self.writer();
        in_immediate(&conn, || {
            let key: Option<i64> = conn
                .query_row("SELECT account_key FROM account WHERE furnisher = ?1 AND account = ?2", [furnisher.as_str(), account], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(map_err)?;
            let Some(key) = key else { return Ok(0) };
            // Everyone the account ever listed, from its records' links (account_subject is
            // keyed by subject first).
            let mut members = std::collections::BTreeSet::new();
            for table in ["record", "record_history"] {
                let mut statement = conn.prepare(&format!("SELECT subjects FROM {table} WHERE account_key = ?1")).map_err(map_err)?;
                let rows = statement.query_map([key], |r| r.get::<_, String>(0)).map_err(map_err)?;
                for subjects in rows {
                    members.extend(codec::decode_links(&subjects.map_err(map_err)?)?.into_iter().map(|link| link.subject));
                }
            }
            for member in members {
                conn.execute("DELETE FROM account_subject WHERE subject_key = ?1 AND account_key = ?2", [member, key]).map_err(map_err)?;
            }
            conn.execute("DELETE FROM record_history WHERE account_key = ?1", [key]).map_err(map_err)?;
            let purged = conn.execute("DELETE FROM record WHERE account_key = ?1", [key]).map_err(map_err)?;
            conn.execute("DELETE FROM account WHERE account_key = ?1", [key]).map_err(map_err)?;
            Ok(purged as u64)
        })
    }

    fn meta(&self, name: &str) -> StoreResult<Option<String>> {
        self.reader()?.query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| r.get(0)).optional().map_err(map_err)
    }

    fn meta_init(&self, name: &str, value: &str) -> StoreResult<String> {
        if let Some(existing) = self.meta(name)? {
            return Ok(existing);
        }
        let conn = self.writer();
        conn.execute("INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING", [name, value]).map_err(map_err)?;
        conn.query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| r.get(0)).map_err(map_err)
    }

    fn begin_submission(&self, submission: &NewSubmission) -> StoreResult<Begin<'_>> {
        let conn = self.writer();
        conn.execute_batch("BEGIN IMMEDIATE").map_err(map_err)?;
        let started = (|| {
            if let Some(applied) = find_applied_on(&conn, submission.furnisher.as_str(), &submission.content_sha256)? {
                return Ok(Err(applied));
            }
            let submission_key = insert_submission(&conn, submission, SubmissionStatus::Applied, 0, None)?;
            let last_account_key: i64 =
                conn.query_row("SELECT coalesce(max(account_key), 0) FROM account", [], |r| r.get(0)).map_err(map_err)?;
            Ok(Ok((submission_key, last_account_key)))
        })();
        match started {
            Ok(Ok((submission_key, last_account_key))) => Ok(Begin::Started(Box::new(SqliteSubmission {
                conn,
                state: WriterState {
                    submission_key,
                    last_account_key,
                    submission: submission.clone(),
                    rejection_seq: 0,
                    counts: BatchCounts::default(),
                    cached: LookupCaches::default(),
                },
                committed: false,
            }))),
            Ok(Err(applied)) => {
                conn.execute_batch("ROLLBACK").map_err(map_err)?;
                Ok(Begin::Duplicate(applied))
            }
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
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
        let conn = self.writer();
        insert_submission(&conn, submission, SubmissionStatus::Rejected, record_count, Some(rejection))?;
        Ok(submission.summary(SubmissionStatus::Rejected, record_count, BatchCounts::default(), Some(rejection.clone())))
    }

    fn find_applied(&self, furnisher: &FurnisherId, content_sha256: &str) -> StoreResult<Option<SubmissionSummary>> {
        let conn = self.reader()?;
        find_applied_on(&conn, furnisher.as_str(), content_sha256)
    }

    fn submission(&self, furnisher: &FurnisherId, submission_id: &str) -> StoreResult<Option<SubmissionSummary>> {
        self.reader()?
            .prepare_cached(&format!("SELECT {SUBMISSION_COLUMNS} FROM submission WHERE submission_id = ?1 AND furnisher = ?2"))
            .and_then(|mut stmt| stmt.query_row(params![submission_id, furnisher.as_str()], submission_from_row).optional())
            .map_err(map_err)
    }

    fn for_each_rejection(&self, submission_id: &str, visit: &mut dyn FnMut(RecordError) -> ControlFlow<()>) -> StoreResult<()> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT r.line, r.field, r.code, r.message FROM rejection r \
                 JOIN submission s ON s.submission_key = r.submission_key \
                 WHERE s.submission_id = ?1 ORDER BY r.seq",
            )
            .map_err(map_err)?;
        let mut rows = stmt.query([submission_id]).map_err(map_err)?;
        while let Some(row) = rows.next().map_err(map_err)? {
            let code: String = row.get(2).map_err(map_err)?;
            let error = RecordError {
                line: row.get::<_, i64>(0).map_err(map_err)? as u64,
                field: row.get(1).map_err(map_err)?,
                code: code.parse().map_err(|()| corrupt(format!("unknown rejection code {code:?}")))?,
                message: row.get(3).map_err(map_err)?,
            };
            if visit(error).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn record_versions(&self, furnisher: &FurnisherId, account: &str) -> StoreResult<Vec<RecordVersion>> {
        let conn = self.reader()?;
        let columns = &*RECORD_COLUMNS_R;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT * FROM ( \
                   SELECT a.account, {columns}, s.submission_id, NULL AS replaced_by, 1 AS current, 0 AS seq \
                   FROM account a JOIN record r ON r.account_key = a.account_key \
                   JOIN submission s ON s.submission_key = r.submission_key \
                   WHERE a.furnisher = ?1 AND a.account = ?2 \
                 UNION ALL \
                   SELECT a.account, {columns}, s.submission_id, x.submission_id, 0, r.rowid \
                   FROM account a JOIN record_history r ON r.account_key = a.account_key \
                   JOIN submission s ON s.submission_key = r.submission_key \
                   JOIN submission x ON x.submission_key = r.replaced_by \
                   WHERE a.furnisher = ?1 AND a.account = ?2 \
                 ) ORDER BY as_of, current, seq"
            ))
            .map_err(map_err)?;
        let mut rows = stmt.query(params![furnisher.as_str(), account]).map_err(map_err)?;
        let mut versions = Vec::new();
        let after = 1 + RECORD_COLUMNS.split(", ").count();
        while let Some(row) = rows.next().map_err(map_err)? {
            let (facts, _) = record_from_row(row, 1)?;
            versions.push(RecordVersion {
                facts,
                line: row.get::<_, i64>(4).map_err(map_err)? as u64,
                submission_id: row.get(after).map_err(map_err)?,
                replaced_by: row.get(after + 1).map_err(map_err)?,
            });
        }
        Ok(versions)
    }

    fn for_each_record(
        &self,
        furnisher: &FurnisherId,
        from: Date,
        to: Date,
        visit: &mut dyn FnMut(StoredRecord) -> ControlFlow<()>,
    ) -> StoreResult<()> {
        let conn = self.reader()?;
        conn.execute_batch("BEGIN").map_err(map_err)?;
        let result = (|| {
            let columns = &*RECORD_COLUMNS_R;
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT a.account, {columns} FROM account a JOIN record r ON r.account_key = a.account_key \
                     WHERE a.furnisher = ?1 AND r.as_of BETWEEN ?2 AND ?3 ORDER BY a.account, r.as_of"
                ))
                .map_err(map_err)?;
            let mut rows = stmt.query(params![furnisher.as_str(), codec::date_number(from), codec::date_number(to)]).map_err(map_err)?;
            while let Some(row) = rows.next().map_err(map_err)? {
                let (facts, subjects) = record_from_row(row, 1)?;
                if visit(StoredRecord { facts, subjects }).is_break() {
                    break;
                }
            }
            Ok(())
        })();
        let _ = conn.execute_batch("COMMIT");
        result
    }

    fn sealed_link(&self, subject: SubjectKey, identity: i64) -> StoreResult<Option<SealedLink>> {
        let conn = self.reader()?;
        conn.prepare_cached(
            "SELECT s.id_type, s.id_sealed, i.identity_sealed FROM subject s \
             JOIN identity i ON i.subject_key = s.subject_key \
             WHERE s.subject_key = ?1 AND i.identity_key = ?2",
        )
        .and_then(|mut stmt| {
            stmt.query_row(params![subject.0, identity], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, Vec<u8>>(2)?)))
                .optional()
        })
        .map_err(map_err)?
        .map(|(id_type, id_sealed, identity_sealed)| {
            let id_type = id_type.parse().map_err(|()| corrupt(format!("unknown id_type {id_type:?}")))?;
            Ok(SealedLink { id_type, id_sealed, identity_sealed })
        })
        .transpose()
    }

    fn find_subject(&self, id_hash: &KeyedHash) -> StoreResult<Option<SubjectKey>> {
        self.reader()?
            .prepare_cached("SELECT subject_key FROM subject WHERE id_hash = ?1")
            .and_then(|mut stmt| stmt.query_row([&id_hash[..]], |r| r.get(0)).optional())
            .map(|key| key.map(SubjectKey))
            .map_err(map_err)
    }

    fn subject(&self, subject: SubjectKey) -> StoreResult<Option<StoredSubject>> {
        let conn = self.reader()?;
        // One read transaction, so the subject, its identities and its records are one snapshot.
        conn.execute_batch("BEGIN").map_err(map_err)?;
        let result = read_subject(&conn, subject);
        let _ = conn.execute_batch("COMMIT");
        result
    }

    fn for_each_subject_accounts(
        &self,
        keys: Range<i64>,
        visit: &mut dyn FnMut(SubjectKey, Vec<AccountHistory>) -> ControlFlow<()>,
    ) -> StoreResult<()> {
        let conn = self.reader()?;
        // A scan touches most pages once: read them mapped rather than copied through the
        // reader's small page cache.
        conn.execute_batch(&format!("PRAGMA mmap_size = {SCAN_MMAP_BYTES}; BEGIN")).map_err(map_err)?;
        let result = (|| {
            let mut stmt = conn.prepare_cached(&SCAN_SQL).map_err(map_err)?;
            let mut rows = stmt.query([keys.start, keys.end]).map_err(map_err)?;
            let mut grouped = codec::SubjectRows::new(visit);
            while let Some(row) = rows.next().map_err(map_err)? {
                let (facts, subjects) = scan_columns_from_row(row, 3)?.into_facts()?;
                let furnisher = || row.get(1).map_err(map_err);
                let record = StoredRecord { facts, subjects };
                if grouped.push(row.get(0).map_err(map_err)?, row.get(3).map_err(map_err)?, furnisher, record)?.is_break() {
                    return Ok(());
                }
            }
            grouped.finish();
            Ok(())
        })();
        let _ = conn.execute_batch("COMMIT; PRAGMA mmap_size = 0");
        result
    }

    fn compact(&self) -> StoreResult<u64> {
        let conn = self.writer();
        in_immediate(&conn, || {
            // Records are appended in arrival order (cheap monthly writes, see the schema); here
            // they are copied out in (account, date) order and back, so the rowids follow the
            // key and reading an account's records walks one page after another. Nothing
            // refers to a record's rowid. The staging copy is a table on disk, not in memory.
            conn.execute_batch(
                "DROP TABLE IF EXISTS record_compacting; \
                 CREATE TABLE record_compacting AS SELECT * FROM record ORDER BY account_key, as_of; \
                 DELETE FROM record; \
                 INSERT INTO record SELECT * FROM record_compacting ORDER BY rowid; \
                 DROP TABLE record_compacting;",
            )
            .map_err(map_err)?;
            conn.query_row("SELECT count(*) FROM record", [], |r| r.get::<_, i64>(0)).map(|n| n as u64).map_err(map_err)
        })
    }

    fn subject_key_max(&self) -> StoreResult<Option<i64>> {
        self.reader()?.query_row("SELECT max(subject_key) FROM subject", [], |r| r.get(0)).map_err(map_err)
    }

    fn ping(&self) -> StoreResult<()> {
        self.reader()?.query_row("SELECT 1", [], |_| Ok(())).map_err(map_err)
    }
}

const RECORD_COLUMNS: &str = record_columns!();
/// The record columns a whole-registry scan reads (`Store::for_each_subject_accounts`): all but
/// what `codec::blank_unscanned` empties.
const SCAN_COLUMNS: &str = "account_key, as_of, product, opened, closed, currency, credit_limit, original_amount, \
     scheduled_payment, balance, past_due, status, payment_history, subjects, funding";
/// A whole-registry scan's query, for a range of subject keys: memberships in key order, each
/// account's records by date, grouped by the caller. Ordered by `m.account_key` (not `r.`): then
/// the indexes give the order and no row goes through a sorter.
static SCAN_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT m.subject_key, a.furnisher, a.account, {} FROM account_subject m \
         JOIN account a ON a.account_key = m.account_key \
         JOIN record r ON r.account_key = m.account_key \
         WHERE m.subject_key >= ?1 AND m.subject_key < ?2 \
         ORDER BY m.subject_key, m.account_key, r.as_of",
        codec::qualified(SCAN_COLUMNS, "r")
    )
});
/// Memory map a whole-registry scan may use (address space, not memory: pages are the file's).
const SCAN_MMAP_BYTES: i64 = 1 << 40;
/// `RECORD_COLUMNS` of the table aliased `r`.
static RECORD_COLUMNS_R: LazyLock<String> = LazyLock::new(|| codec::qualified(RECORD_COLUMNS, "r"));
/// A subject's accounts and records, for a report: built once, not per report.
static SUBJECT_RECORDS_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT a.furnisher, a.account, {} FROM account_subject m \
         JOIN account a ON a.account_key = m.account_key \
         JOIN record r ON r.account_key = m.account_key \
         WHERE m.subject_key = ?1 ORDER BY r.account_key, r.as_of",
        *RECORD_COLUMNS_R
    )
});

impl SqliteStore {
    /// Every row of the registry, table by table in the order `DumpRow` lists them, in one
    /// read snapshot: what `credit-registry copy` moves to PostgreSQL.
    pub fn dump(&self, visit: &mut dyn FnMut(DumpRow) -> StoreResult<()>) -> StoreResult<()> {
        let conn = self.reader()?;
        conn.execute_batch("BEGIN").map_err(map_err)?;
        let result = dump_on(&conn, visit);
        let _ = conn.execute_batch("COMMIT");
        result
    }
}

/// Runs `sql` and calls `each` with every row.
fn each_row(conn: &Connection, sql: &str, each: &mut dyn FnMut(&Row<'_>) -> StoreResult<()>) -> StoreResult<()> {
    let mut stmt = conn.prepare(sql).map_err(map_err)?;
    let mut rows = stmt.query([]).map_err(map_err)?;
    while let Some(row) = rows.next().map_err(map_err)? {
        each(row)?;
    }
    Ok(())
}

fn dump_on(conn: &Connection, visit: &mut dyn FnMut(DumpRow) -> StoreResult<()>) -> StoreResult<()> {
    each_row(conn, "SELECT name, value FROM meta ORDER BY name", &mut |r| {
        visit(DumpRow::Meta { name: r.get(0).map_err(map_err)?, value: r.get(1).map_err(map_err)? })
    })?;
    each_row(conn, &format!("SELECT submission_key, {SUBMISSION_COLUMNS} FROM submission ORDER BY submission_key"), &mut |r| {
        let summary = submission_from_row_at(r, 1).map_err(map_err)?;
        visit(DumpRow::Submission { key: r.get(0).map_err(map_err)?, summary })
    })?;
    each_row(conn, "SELECT submission_key, seq, line, field, code, message FROM rejection ORDER BY submission_key, seq", &mut |r| {
        let code: String = r.get(4).map_err(map_err)?;
        visit(DumpRow::Rejection {
            submission_key: r.get(0).map_err(map_err)?,
            seq: r.get(1).map_err(map_err)?,
            error: RecordError {
                line: r.get::<_, i64>(2).map_err(map_err)? as u64,
                field: r.get(3).map_err(map_err)?,
                code: code.parse().map_err(|()| corrupt(format!("unknown rejection code {code:?}")))?,
                message: r.get(5).map_err(map_err)?,
            },
        })
    })?;
    each_row(conn, "SELECT subject_key, id_hash, id_type, id_sealed FROM subject ORDER BY subject_key", &mut |r| {
        visit(DumpRow::Subject {
            key: r.get(0).map_err(map_err)?,
            id_hash: r.get(1).map_err(map_err)?,
            id_type: r.get(2).map_err(map_err)?,
            id_sealed: r.get(3).map_err(map_err)?,
        })
    })?;
    each_row(
        conn,
        "SELECT identity_key, subject_key, furnisher, identity_hash, identity_sealed FROM identity ORDER BY identity_key",
        &mut |r| {
            visit(DumpRow::Identity {
                key: r.get(0).map_err(map_err)?,
                subject_key: r.get(1).map_err(map_err)?,
                furnisher: r.get(2).map_err(map_err)?,
                identity_hash: r.get(3).map_err(map_err)?,
                sealed: r.get(4).map_err(map_err)?,
            })
        },
    )?;
    each_row(
        conn,
        "SELECT a.account_key, a.furnisher, a.account, a.subjects_sig, a.subjects, g.members FROM account a \
         JOIN (SELECT account_key, group_concat(subject_key) AS members FROM account_subject GROUP BY account_key) g \
           ON g.account_key = a.account_key ORDER BY a.account_key",
        &mut |r| {
            let members: String = r.get(5).map_err(map_err)?;
            visit(DumpRow::Account {
                key: r.get(0).map_err(map_err)?,
                furnisher: r.get(1).map_err(map_err)?,
                account: r.get(2).map_err(map_err)?,
                subjects_sig: r.get(3).map_err(map_err)?,
                subjects: r.get(4).map_err(map_err)?,
                members: members
                    .split(',')
                    .map(|m| m.parse().map_err(|_| corrupt(format!("bad member list {members:?}"))))
                    .collect::<StoreResult<_>>()?,
            })
        },
    )?;
    each_row(
        conn,
        "SELECT m.subject_key, m.account_key, a.furnisher, a.account FROM account_subject m \
         JOIN account a ON a.account_key = m.account_key ORDER BY m.subject_key, m.account_key",
        &mut |r| {
            visit(DumpRow::Membership {
                subject_key: r.get(0).map_err(map_err)?,
                account_key: r.get(1).map_err(map_err)?,
                furnisher: r.get(2).map_err(map_err)?,
                account: r.get(3).map_err(map_err)?,
            })
        },
    )?;
    // `''` stands for the account number, which the account rows carry.
    each_row(conn, &format!("SELECT '', {RECORD_COLUMNS} FROM record ORDER BY account_key, as_of"), &mut |r| {
        visit(DumpRow::Record {
            account_key: r.get(1).map_err(map_err)?,
            submission_key: r.get(3).map_err(map_err)?,
            line: r.get(4).map_err(map_err)?,
            columns: record_columns_from_row(r, 1)?.into_owned(),
            replaced: None,
        })
    })?;
    each_row(conn, &format!("SELECT '', {RECORD_COLUMNS}, replaced_by, rowid FROM record_history ORDER BY rowid"), &mut |r| {
        visit(DumpRow::Record {
            account_key: r.get(1).map_err(map_err)?,
            submission_key: r.get(3).map_err(map_err)?,
            line: r.get(4).map_err(map_err)?,
            columns: record_columns_from_row(r, 1)?.into_owned(),
            replaced: Some((r.get(25).map_err(map_err)?, r.get(26).map_err(map_err)?)),
        })
    })
}

fn read_subject(conn: &Connection, subject: SubjectKey) -> StoreResult<Option<StoredSubject>> {
    let Some((id_type, id_sealed)) = conn
        .prepare_cached("SELECT id_type, id_sealed FROM subject WHERE subject_key = ?1")
        .and_then(|mut stmt| stmt.query_row([subject.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))).optional())
        .map_err(map_err)?
    else {
        return Ok(None);
    };
    let id_type: IdType = id_type.parse().map_err(|()| corrupt(format!("unknown id_type {id_type:?}")))?;

    let mut identities = Vec::new();
    {
        let mut stmt = conn
            .prepare_cached("SELECT identity_key, furnisher, identity_sealed FROM identity WHERE subject_key = ?1 ORDER BY identity_key")
            .map_err(map_err)?;
        let mut rows = stmt.query([subject.0]).map_err(map_err)?;
        while let Some(row) = rows.next().map_err(map_err)? {
            identities.push(StoredIdentity {
                key: row.get(0).map_err(map_err)?,
                furnisher: row.get(1).map_err(map_err)?,
                sealed: row.get(2).map_err(map_err)?,
            });
        }
    }

    let mut accounts: Vec<AccountHistory> = Vec::new();
    let mut stmt = conn.prepare_cached(&SUBJECT_RECORDS_SQL).map_err(map_err)?;
    let mut rows = stmt.query([subject.0]).map_err(map_err)?;
    let mut current_account: Option<i64> = None;
    while let Some(row) = rows.next().map_err(map_err)? {
        let account_key: i64 = row.get(2).map_err(map_err)?;
        let (facts, links) = record_from_row(row, 2)?;
        if current_account != Some(account_key) {
            current_account = Some(account_key);
            accounts.push(AccountHistory { furnisher: row.get(0).map_err(map_err)?, records: Vec::new() });
        }
        if let Some(history) = accounts.last_mut() {
            history.records.push(StoredRecord { facts, subjects: links });
        }
    }
    Ok(Some(StoredSubject { subject, id_type, id_sealed, identities, accounts }))
}

/// Reads the `RECORD_COLUMNS` starting at column `at`. The account number is the column just
/// before them.
fn record_from_row(row: &Row<'_>, at: usize) -> StoreResult<(AccountFacts, Vec<SubjectLink>)> {
    record_columns_from_row(row, at)?.into_facts()
}

fn record_columns_from_row<'r>(row: &'r Row<'_>, at: usize) -> StoreResult<codec::RecordColumns<'r>> {
    let get = |i: usize| row.get_ref(at + i).map_err(map_err);
    let int = |i: usize| -> StoreResult<i64> { get(i)?.as_i64().map_err(|e| map_err(e.into())) };
    let opt_int = |i: usize| -> StoreResult<Option<i64>> { get(i)?.as_i64_or_null().map_err(|e| map_err(e.into())) };
    let text = |i: usize| -> StoreResult<String> { row.get(at + i).map_err(map_err) };
    let opt_text = |i: usize| -> StoreResult<Option<String>> { row.get(at + i).map_err(map_err) };
    // Coded columns are parsed where they lie, without a copy.
    let code = |i: usize| -> StoreResult<std::borrow::Cow<'r, str>> {
        Ok(std::borrow::Cow::Borrowed(row.get_ref(at + i).map_err(map_err)?.as_str().map_err(|e| map_err(e.into()))?))
    };
    let opt_code = |i: usize| -> StoreResult<Option<std::borrow::Cow<'r, str>>> {
        Ok(row.get_ref(at + i).map_err(map_err)?.as_str_or_null().map_err(|e| map_err(e.into()))?.map(std::borrow::Cow::Borrowed))
    };
    Ok(codec::RecordColumns {
        account: row.get(at - 1).map_err(map_err)?,
        as_of: int(1)?,
        product: code(4)?,
        opened: int(5)?,
        closed: opt_int(6)?,
        currency: code(7)?,
        credit_limit: opt_int(8)?,
        original_amount: opt_int(9)?,
        term_months: opt_int(10)?,
        scheduled_payment: opt_int(11)?,
        actual_payment: opt_int(12)?,
        balance: int(13)?,
        past_due: int(14)?,
        status: code(15)?,
        payment_history: text(16)?,
        first_delinquency: opt_int(17)?,
        last_payment: opt_int(18)?,
        special_comment: opt_text(19)?,
        dispute: code(20)?,
        subjects: code(21)?,
        funding: opt_code(22)?,
        reporter_id: opt_text(23)?,
    })
}

/// Reads the `SCAN_COLUMNS` starting at column `at` (the account number just before them); what
/// a scan does not read is empty (`codec::blank_unscanned`).
fn scan_columns_from_row<'r>(row: &'r Row<'_>, at: usize) -> StoreResult<codec::RecordColumns<'r>> {
    let get = |i: usize| row.get_ref(at + i).map_err(map_err);
    let int = |i: usize| -> StoreResult<i64> { get(i)?.as_i64().map_err(|e| map_err(e.into())) };
    let opt_int = |i: usize| -> StoreResult<Option<i64>> { get(i)?.as_i64_or_null().map_err(|e| map_err(e.into())) };
    let code = |i: usize| -> StoreResult<std::borrow::Cow<'r, str>> {
        Ok(std::borrow::Cow::Borrowed(get(i)?.as_str().map_err(|e| map_err(e.into()))?))
    };
    let opt_code = |i: usize| -> StoreResult<Option<std::borrow::Cow<'r, str>>> {
        Ok(get(i)?.as_str_or_null().map_err(|e| map_err(e.into()))?.map(std::borrow::Cow::Borrowed))
    };
    Ok(codec::RecordColumns {
        account: row.get(at - 1).map_err(map_err)?,
        as_of: int(1)?,
        product: code(2)?,
        opened: int(3)?,
        closed: opt_int(4)?,
        currency: code(5)?,
        credit_limit: opt_int(6)?,
        original_amount: opt_int(7)?,
        term_months: None,
        scheduled_payment: opt_int(8)?,
        actual_payment: None,
        balance: int(9)?,
        past_due: int(10)?,
        status: code(11)?,
        payment_history: row.get(at + 12).map_err(map_err)?,
        first_delinquency: None,
        last_payment: None,
        special_comment: None,
        dispute: std::borrow::Cow::Borrowed("none"),
        subjects: code(13)?,
        funding: opt_code(14)?,
        reporter_id: None,
    })
}

struct SqliteSubmission<'s> {
    conn: MutexGuard<'s, Connection>,
    state: WriterState,
    committed: bool,
}

/// Everything a submission writer remembers besides its connection.
struct WriterState {
    submission_key: i64,
    /// The highest account key in use; new accounts take the next (we hold the write lock).
    last_account_key: i64,
    submission: NewSubmission,
    rejection_seq: i64,
    counts: BatchCounts,
    cached: LookupCaches,
}

/// What happened to one accepted record.
enum Applied {
    Stored,
    /// The same key already came earlier in this submission, on this line.
    DuplicateOf(u64),
}

/// The writer's statements, prepared once per batch rather than looked up per record.
struct Statements<'c> {
    reject: rusqlite::CachedStatement<'c>,
    find_account: rusqlite::CachedStatement<'c>,
    insert_account: rusqlite::CachedStatement<'c>,
    update_account: rusqlite::CachedStatement<'c>,
    find_subject: rusqlite::CachedStatement<'c>,
    insert_subject: rusqlite::CachedStatement<'c>,
    find_identity: rusqlite::CachedStatement<'c>,
    insert_identity: rusqlite::CachedStatement<'c>,
    link: rusqlite::CachedStatement<'c>,
    find_record: rusqlite::CachedStatement<'c>,
    insert_record: rusqlite::CachedStatement<'c>,
    keep_history: rusqlite::CachedStatement<'c>,
    delete_record: rusqlite::CachedStatement<'c>,
}

impl<'c> Statements<'c> {
    fn prepare(conn: &'c Connection) -> rusqlite::Result<Statements<'c>> {
        Ok(Statements {
            reject: conn.prepare_cached(
                "INSERT INTO rejection (submission_key, seq, line, field, code, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?,
            find_account: conn
                .prepare_cached("SELECT account_key, subjects_sig, subjects FROM account WHERE furnisher = ?1 AND account = ?2")?,
            insert_account: conn.prepare_cached(
                "INSERT INTO account (furnisher, account, account_key, subjects_sig, subjects) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?,
            update_account: conn.prepare_cached("UPDATE account SET subjects_sig = ?2, subjects = ?3 WHERE account_key = ?1")?,
            find_subject: conn.prepare_cached("SELECT subject_key FROM subject WHERE id_hash = ?1")?,
            insert_subject: conn.prepare_cached("INSERT INTO subject (id_hash, id_type, id_sealed) VALUES (?1, ?2, ?3)")?,
            find_identity: conn
                .prepare_cached("SELECT identity_key FROM identity WHERE subject_key = ?1 AND furnisher = ?2 AND identity_hash = ?3")?,
            insert_identity: conn
                .prepare_cached("INSERT INTO identity (subject_key, furnisher, identity_hash, identity_sealed) VALUES (?1, ?2, ?3, ?4)")?,
            link: conn.prepare_cached("INSERT OR IGNORE INTO account_subject (subject_key, account_key) VALUES (?1, ?2)")?,
            find_record: conn.prepare_cached("SELECT submission_key, line FROM record WHERE account_key = ?1 AND as_of = ?2")?,
            insert_record: conn.prepare_cached(concat!(
                "INSERT OR IGNORE INTO record (",
                record_columns!(),
                ") VALUES ",
                "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)"
            ))?,
            keep_history: conn.prepare_cached(concat!(
                "INSERT INTO record_history (",
                record_columns!(),
                ", replaced_by) SELECT ",
                record_columns!(),
                ", ?3 FROM record WHERE account_key = ?1 AND as_of = ?2"
            ))?,
            delete_record: conn.prepare_cached("DELETE FROM record WHERE account_key = ?1 AND as_of = ?2")?,
        })
    }
}

impl WriterState {
    fn reject(&mut self, sql: &mut Statements<'_>, errors: &[RecordError]) -> StoreResult<()> {
        for error in errors {
            self.rejection_seq += 1;
            sql.reject
                .execute(params![
                    self.submission_key,
                    self.rejection_seq,
                    error.line as i64,
                    error.field,
                    error.code.as_str(),
                    error.message,
                ])
                .map_err(map_err)?;
        }
        Ok(())
    }

    /// The stored account: its key and the subjects of its latest stored record.
    fn find_account(&mut self, sql: &mut Statements<'_>, account: &str) -> StoreResult<Option<AccountRow>> {
        sql.find_account
            .query_row(params![self.submission.furnisher.as_str(), account], |r| {
                Ok(AccountRow { key: r.get(0)?, subjects_sig: r.get(1)?, subjects: r.get(2)? })
            })
            .optional()
            .map_err(map_err)
    }

    fn subject_key(&mut self, sql: &mut Statements<'_>, conn: &Connection, subject: &crate::SealedSubject) -> StoreResult<i64> {
        if let Some(key) = self.cached.subjects.get(&subject.id_hash) {
            return Ok(key);
        }
        let found: Option<i64> = sql.find_subject.query_row([&subject.id_hash[..]], |r| r.get(0)).optional().map_err(map_err)?;
        let key = if let Some(key) = found {
            key
        } else {
            sql.insert_subject.execute(params![&subject.id_hash[..], subject.id_type.as_str(), &subject.id_sealed[..]]).map_err(map_err)?;
            conn.last_insert_rowid()
        };
        self.cached.subjects.insert(subject.id_hash, key);
        Ok(key)
    }

    fn identity_key(
        &mut self,
        sql: &mut Statements<'_>,
        conn: &Connection,
        subject_key: i64,
        subject: &crate::SealedSubject,
    ) -> StoreResult<i64> {
        let cache_key = (subject_key, subject.identity_hash);
        if let Some(key) = self.cached.identities.get(&cache_key) {
            return Ok(key);
        }
        let furnisher = self.submission.furnisher.as_str();
        let found: Option<i64> = sql
            .find_identity
            .query_row(params![subject_key, furnisher, &subject.identity_hash[..]], |r| r.get(0))
            .optional()
            .map_err(map_err)?;
        let key = if let Some(key) = found {
            key
        } else {
            sql.insert_identity
                .execute(params![subject_key, furnisher, &subject.identity_hash[..], &subject.identity_sealed[..]])
                .map_err(map_err)?;
            conn.last_insert_rowid()
        };
        self.cached.identities.insert(cache_key, key);
        Ok(key)
    }

    fn link(&mut self, sql: &mut Statements<'_>, subject_key: i64, account_key: i64) -> StoreResult<()> {
        if self.cached.memberships.get(&(subject_key, account_key)).is_some() {
            return Ok(());
        }
        sql.link.execute(params![subject_key, account_key]).map_err(map_err)?;
        self.cached.memberships.insert((subject_key, account_key), ());
        Ok(())
    }

    fn apply(&mut self, sql: &mut Statements<'_>, conn: &Connection, record: &SealedRecord) -> StoreResult<Applied> {
        let facts = &record.facts;
        let as_of = codec::date_number(facts.as_of);
        let signature = subjects_signature(record);
        let account = self.find_account(sql, &facts.account)?;
        let (account_key, subjects) = match account {
            // The same people as on the account's last record: nobody to look up.
            Some(account) if account.subjects_sig == signature => {
                let inserted = self.insert_record(&mut sql.insert_record, account.key, as_of, &account.subjects, record)?;
                if inserted {
                    return Ok(Applied::Stored);
                }
                (account.key, account.subjects)
            }
            account => {
                if let Some(existing) = &account
                    && let Some(line) = self.duplicate_line(sql, existing.key, as_of)?
                {
                    // Checked before anyone is created, so a repeated record leaves no trace.
                    return Ok(Applied::DuplicateOf(line));
                }
                let mut links = Vec::with_capacity(record.subjects.len());
                let mut new_members = Vec::with_capacity(record.subjects.len());
                for subject in &record.subjects {
                    let subject_key = self.subject_key(sql, conn, subject)?;
                    let identity = self.identity_key(sql, conn, subject_key, subject)?;
                    links.push(codec::StoredLink { subject: subject_key, role: subject.role, identity });
                    new_members.push(subject_key);
                }
                let subjects = codec::encode_links(&links);
                let account_key = if let Some(existing) = account {
                    sql.update_account.execute(params![existing.key, &signature[..], subjects]).map_err(map_err)?;
                    existing.key
                } else {
                    self.last_account_key += 1;
                    sql.insert_account
                        .execute(params![
                            self.submission.furnisher.as_str(),
                            facts.account,
                            self.last_account_key,
                            &signature[..],
                            subjects
                        ])
                        .map_err(map_err)?;
                    self.last_account_key
                };
                for subject_key in new_members {
                    self.link(sql, subject_key, account_key)?;
                }
                if self.insert_record(&mut sql.insert_record, account_key, as_of, &subjects, record)? {
                    return Ok(Applied::Stored);
                }
                (account_key, subjects)
            }
        };
        // The key exists already: the same key earlier in this file, or a correction.
        if let Some(line) = self.duplicate_line(sql, account_key, as_of)? {
            return Ok(Applied::DuplicateOf(line));
        }
        // A correction: keep the replaced version in the history, then overwrite.
        sql.keep_history.execute(params![account_key, as_of, self.submission_key]).map_err(map_err)?;
        sql.delete_record.execute(params![account_key, as_of]).map_err(map_err)?;
        if !self.insert_record(&mut sql.insert_record, account_key, as_of, &subjects, record)? {
            return Err(corrupt("a record vanished and reappeared during its correction"));
        }
        Ok(Applied::Stored)
    }

    /// If this submission already stored the key, the line it came from.
    fn duplicate_line(&self, sql: &mut Statements<'_>, account_key: i64, as_of: i64) -> StoreResult<Option<u64>> {
        let existing: Option<(i64, i64)> =
            sql.find_record.query_row(params![account_key, as_of], |r| Ok((r.get(0)?, r.get(1)?))).optional().map_err(map_err)?;
        Ok(existing.filter(|(submission, _)| *submission == self.submission_key).map(|(_, line)| line as u64))
    }

    /// Inserts the record unless its key exists; returns whether it was inserted.
    fn insert_record(
        &self,
        insert: &mut rusqlite::CachedStatement<'_>,
        account_key: i64,
        as_of: i64,
        subjects: &str,
        record: &SealedRecord,
    ) -> StoreResult<bool> {
        let facts = &record.facts;
        let funding = (!facts.funding.is_empty()).then(|| codec::encode_funding(&facts.funding));
        let amount = |a: Option<AmountMinor>| a.map(|a| a.0 as i64);
        let date = |d: Option<Date>| d.map(codec::date_number);
        let inserted = insert
            .execute(params![
                account_key,
                as_of,
                self.submission_key,
                record.line as i64,
                facts.product.as_str(),
                codec::date_number(facts.opened),
                date(facts.closed),
                facts.currency.code(),
                amount(facts.credit_limit),
                amount(facts.original_amount),
                facts.term_months.map(i64::from),
                amount(facts.scheduled_payment),
                amount(facts.actual_payment),
                facts.balance.0 as i64,
                facts.past_due.0 as i64,
                facts.status.as_str(),
                facts.payment_history,
                date(facts.first_delinquency),
                date(facts.last_payment),
                facts.special_comment,
                facts.dispute.as_str(),
                subjects,
                funding,
                facts.reporter_id,
            ])
            .map_err(map_err)?;
        Ok(inserted == 1)
    }
}

/// An account as stored, with the subjects of its latest stored record.
struct AccountRow {
    key: i64,
    subjects_sig: Vec<u8>,
    subjects: String,
}

impl SubmissionWriter for SqliteSubmission<'_> {
    fn write_batch(&mut self, items: &[BatchItem]) -> StoreResult<BatchCounts> {
        let conn: &Connection = &self.conn;
        let state = &mut self.state;
        let mut sql = Statements::prepare(conn).map_err(map_err)?;
        let mut counts = BatchCounts::default();
        for item in items {
            match item {
                BatchItem::Rejected(errors) => {
                    state.reject(&mut sql, errors)?;
                    counts.rejected += 1;
                }
                BatchItem::Accepted(record) => match state.apply(&mut sql, conn, record)? {
                    Applied::Stored => counts.accepted += 1,
                    Applied::DuplicateOf(first_line) => {
                        state.reject(
                            &mut sql,
                            &[RecordError {
                                line: record.line,
                                field: String::new(),
                                code: RecordErrorCode::DuplicateRecord,
                                message: format!(
                                    "account {:?} as of {} already appears on line {first_line} of this file",
                                    record.facts.account, record.facts.as_of
                                ),
                            }],
                        )?;
                        counts.rejected += 1;
                    }
                },
            }
        }
        state.counts.accepted += counts.accepted;
        state.counts.rejected += counts.rejected;
        Ok(counts)
    }

    fn commit(mut self: Box<Self>, record_count: u64) -> StoreResult<SubmissionSummary> {
        let state = &self.state;
        self.conn
            .execute(
                "UPDATE submission SET record_count = ?2, accepted_count = ?3, rejected_count = ?4 WHERE submission_key = ?1",
                params![state.submission_key, record_count as i64, state.counts.accepted as i64, state.counts.rejected as i64],
            )
            .map_err(map_err)?;
        self.conn.execute_batch("COMMIT").map_err(map_err)?;
        self.committed = true;
        Ok(self.state.submission.summary(SubmissionStatus::Applied, record_count, self.state.counts, None))
    }
}

impl Drop for SqliteSubmission<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}
