//! The `Store` trait on the embedded file: one writer connection behind a mutex (SQLite allows
//! one writer at a time anyway) and a pool of readers, so reports are served while a
//! submission is being applied.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use registry_core::furnishing::{FileRejection, RecordError};
use registry_core::model::{Date, FurnisherId, IdType};
use registry_core::quality::Finding;
use registry_core::report::{AccountHistory, StoredRecord, SubjectKey, YearMonth};
use registry_core::supervision::{BorrowerList, BorrowerView, Policy, Tally};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{
    BatchCounts, Begin, FindingCount, FindingScope, IdentityReport, KeyedHash, NewSubmission, Page, RecordCount, RecordVersion,
    ScanProgress, SealedLink, Store, StoreError, StoreResult, StoredIdentity, StoredSubject, SubmissionStatus, SubmissionSummary, Visit,
    Visitor,
};
use crate::{codec, scan};

use super::connection::{READER_CACHE_KIB, WRITER_CACHE_KIB, apply_migrations, configure, corrupt, in_immediate, map_err, pool_err};
use super::records::{
    Cells, RECORD_COLUMNS, RECORD_COLUMNS_R, SUBMISSION_COLUMNS, find_applied_on, insert_submission, record_from_row, submission_from_row,
};
use super::writer::SqliteSubmission;

/// Schema migrations, applied in order; `PRAGMA user_version` holds the last one applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_initial.sql"),
    include_str!("../../migrations/sqlite/0002_metro2.sql"),
    include_str!("../../migrations/sqlite/0003_quality.sql"),
];

pub struct SqliteStore {
    path: PathBuf,
    // Dropped in this order: the read-only readers first, so the writer is the last connection
    // and checkpoints the WAL into the database file as it closes.
    readers: r2d2::Pool<SqliteConnectionManager>,
    writer: Mutex<Connection>,
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
    pub(super) fn writer(&self) -> MutexGuard<'_, Connection> {
        let guard = self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !guard.is_autocommit() {
            let _ = guard.execute_batch("ROLLBACK");
        }
        guard
    }

    pub(super) fn reader(&self) -> StoreResult<r2d2::PooledConnection<SqliteConnectionManager>> {
        self.readers.get().map_err(pool_err)
    }
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
        SqliteSubmission::begin(self.writer(), submission)
    }

    fn record_rejected_file(&self, submission: &NewSubmission, records: u64, rejection: &FileRejection) -> StoreResult<SubmissionSummary> {
        let conn = self.writer();
        insert_submission(&conn, submission, SubmissionStatus::Rejected, records, Some(rejection))?;
        Ok(submission.summary(SubmissionStatus::Rejected, records, BatchCounts::default(), Some(rejection.clone())))
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

    fn recent_submissions(&self, furnisher: &FurnisherId, limit: u32) -> StoreResult<Vec<SubmissionSummary>> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {SUBMISSION_COLUMNS} FROM submission WHERE furnisher = ?1 ORDER BY submission_key DESC LIMIT ?2"
            ))
            .map_err(map_err)?;
        let rows = stmt.query_map(params![furnisher.as_str(), i64::from(limit)], submission_from_row).map_err(map_err)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map_err)
    }

    fn for_each_rejection(&self, submission_id: &str, visit: &mut Visitor<'_, RecordError>) -> StoreResult<()> {
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
            let error = codec::rejection(row.get(0).map_err(map_err)?, row.get(1).map_err(map_err)?, &code, row.get(3).map_err(map_err)?)?;
            if visit(error).map_err(StoreError::Visitor)?.is_break() {
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
            let (facts, subjects) = record_from_row(row, 1)?;
            versions.push(RecordVersion {
                facts,
                subjects,
                line: row.get::<_, i64>(4).map_err(map_err)? as u64,
                submission_id: row.get(after).map_err(map_err)?,
                replaced_by: row.get(after + 1).map_err(map_err)?,
            });
        }
        Ok(versions)
    }

    fn for_each_record(&self, furnisher: &FurnisherId, from: Date, to: Date, visit: &mut Visitor<'_, StoredRecord>) -> StoreResult<()> {
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
                if visit(StoredRecord { facts, subjects }).map_err(StoreError::Visitor)?.is_break() {
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
        visit: &mut dyn FnMut(SubjectKey, Vec<AccountHistory>) -> Visit,
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
            grouped.finish()?;
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

    fn prior_lookup(&self, furnisher: &FurnisherId) -> StoreResult<Box<dyn crate::PriorLookup + '_>> {
        Ok(Box::new(self.prior_lookup_at_snapshot(furnisher)?))
    }

    fn store_submission_findings(
        &self,
        furnisher: &FurnisherId,
        submission_id: &str,
        corrected: &[(String, Date)],
        findings: &[Finding],
        hits: &BTreeMap<String, u64>,
    ) -> StoreResult<()> {
        self.store_submission_findings_on_file(furnisher, submission_id, corrected, findings, hits)
    }

    fn replace_findings(&self, scope: &FindingScope, findings: &[Finding]) -> StoreResult<()> {
        self.replace_findings_on_file(scope, findings)
    }

    fn findings(&self, scope: &FindingScope, page: Page) -> StoreResult<(Vec<Finding>, u64)> {
        self.findings_on_file(scope, page)
    }

    fn finding_counts(&self, scope: &FindingScope) -> StoreResult<Vec<FindingCount>> {
        self.finding_counts_on_file(scope)
    }

    fn record_counts(&self, scope: &FindingScope) -> StoreResult<Vec<RecordCount>> {
        self.record_counts_on_file(scope)
    }

    fn submission_hits(&self, furnisher: &FurnisherId, submission_id: &str) -> StoreResult<BTreeMap<String, u64>> {
        self.submission_hits_on_file(furnisher, submission_id)
    }

    fn for_each_identity_group(&self, visit: &mut dyn FnMut(SubjectKey, Vec<IdentityReport>) -> Visit) -> StoreResult<()> {
        self.for_each_identity_group_on_file(visit)
    }

    fn supervision_tally(&self, month: YearMonth, policy: &Policy, progress: &ScanProgress<'_>) -> StoreResult<Tally> {
        let folded = scan::fold_subjects(
            self,
            &Tally::default,
            &|tally, subject, accounts| tally.add_subject(subject.0, accounts, month, policy),
            progress,
        )?;
        Ok(folded.into_iter().fold(Tally::default(), |mut all, part| {
            all.merge(part);
            all
        }))
    }

    fn supervision_borrowers(
        &self,
        month: YearMonth,
        policy: &Policy,
        list: BorrowerList,
        progress: &ScanProgress<'_>,
    ) -> StoreResult<Vec<(SubjectKey, BorrowerView)>> {
        let folded = scan::fold_subjects(
            self,
            &Vec::new,
            &|listed, subject, accounts| {
                if let Some(borrower) = BorrowerView::of(subject.0, accounts, month).filter(|b| list.includes(b, policy)) {
                    listed.push((subject, borrower));
                }
            },
            progress,
        )?;
        let mut listed: Vec<_> = folded.into_iter().flatten().collect();
        listed.sort_by_key(|(subject, _)| *subject);
        Ok(listed)
    }
}

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
pub(super) const SCAN_MMAP_BYTES: i64 = 1 << 40;
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

/// Reads the `SCAN_COLUMNS` starting at column `at` (the account number just before them); what
/// a scan does not read is empty (`codec::blank_unscanned`).
fn scan_columns_from_row<'r>(row: &'r Row<'_>, at: usize) -> StoreResult<codec::RecordColumns<'r>> {
    let cells = Cells { row, at };
    Ok(codec::RecordColumns {
        account: row.get(at - 1).map_err(map_err)?,
        as_of: cells.int(1)?,
        product: cells.code(2)?,
        opened: cells.int(3)?,
        closed: cells.opt_int(4)?,
        currency: cells.code(5)?,
        credit_limit: cells.opt_int(6)?,
        original_amount: cells.opt_int(7)?,
        term_months: None,
        scheduled_payment: cells.opt_int(8)?,
        actual_payment: None,
        balance: cells.int(9)?,
        past_due: cells.int(10)?,
        status: cells.code(11)?,
        payment_history: cells.text(12)?,
        first_delinquency: None,
        last_payment: None,
        special_comment: None,
        dispute: std::borrow::Cow::Borrowed("none"),
        subjects: cells.code(13)?,
        funding: cells.opt_code(14)?,
        reporter_id: None,
    })
}
