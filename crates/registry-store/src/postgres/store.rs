//! The `Store` trait on PostgreSQL: reads of one subject from that subject's rows, scans,
//! retention's purge, compaction.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::LazyLock;

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use registry_core::furnishing::{FileRejection, RecordError};
use registry_core::model::{Date, FurnisherId, IdType};
use registry_core::quality::Finding;
use registry_core::report::{AccountHistory, StoredRecord, SubjectKey, YearMonth};
use registry_core::supervision::{BorrowerList, BorrowerView, Policy, Tally};

use crate::codec;
use crate::{
    BatchCounts, Begin, FindingCount, FindingScope, IdentityReport, KeyedHash, NewSubmission, Page, RecordCount, RecordVersion,
    ScanProgress, SealedLink, Store, StoreError, StoreResult, StoredIdentity, StoredSubject, SubmissionStatus, SubmissionSummary, Visit,
    Visitor,
};

use super::connection::{Connection, MIGRATION_LOCK, PostgresStore, WRITER_LOCK, corrupt, in_transaction, map_err};
use super::records::{
    RECORD_COLUMN_COUNT, RECORD_COLUMNS_R, SUBMISSION_COLUMNS, find_applied_on, insert_submission, record_from_row, submission_from_row,
};
use super::writer::PgSubmission;

/// Schema migrations, applied in order; `schema_migration` lists those applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_initial.sql"),
    include_str!("../../migrations/postgres/0002_governance.sql"),
    include_str!("../../migrations/postgres/0003_consent.sql"),
    include_str!("../../migrations/postgres/0004_key_names.sql"),
    include_str!("../../migrations/postgres/0005_quality.sql"),
];

/// A subject's records with their accounts' names, for a report: built once, not per report.
static SUBJECT_RECORDS_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {}, m.furnisher, m.account FROM subject_account m \
         JOIN record r ON r.subject_key = m.subject_key AND r.account_key = m.account_key \
         WHERE m.subject_key = $1 ORDER BY r.account_key, r.as_of",
        *RECORD_COLUMNS_R
    )
});

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
        PgSubmission::begin(self.connection()?, submission, self.settings.lock_wait_ms)
    }

    fn record_rejected_file(&self, submission: &NewSubmission, records: u64, rejection: &FileRejection) -> StoreResult<SubmissionSummary> {
        let mut conn = self.connection()?;
        insert_submission(&mut conn, submission, SubmissionStatus::Rejected, records, Some(rejection), None)?;
        Ok(submission.summary(SubmissionStatus::Rejected, records, BatchCounts::default(), Some(rejection.clone())))
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

    fn recent_submissions(&self, furnisher: &FurnisherId, limit: u32) -> StoreResult<Vec<SubmissionSummary>> {
        self.read(|conn| {
            conn.query(
                &format!("SELECT {SUBMISSION_COLUMNS} FROM submission WHERE furnisher = $1 ORDER BY submission_key DESC LIMIT $2"),
                &[&furnisher.as_str(), &i64::from(limit)],
            )
            .map_err(map_err)?
            .iter()
            .map(submission_from_row)
            .collect()
        })
    }

    fn for_each_rejection(&self, submission_id: &str, visit: &mut Visitor<'_, RecordError>) -> StoreResult<()> {
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
            let code: &str = row.try_get(2).map_err(map_err)?;
            let error = codec::rejection(
                row.try_get(0).map_err(map_err)?,
                row.try_get(1).map_err(map_err)?,
                code,
                row.try_get(3).map_err(map_err)?,
            )?;
            if visit(error).map_err(StoreError::Visitor)?.is_break() {
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
            // account ever had, so every shard that has its records. The submissions' ids come
            // from a second query: `submission` is distributed by furnisher and `record` by
            // subject, so joining them would need a repartition on a distributed database.
            let rows = conn
                .query(
                    &format!(
                        "SELECT * FROM ( \
                           SELECT {columns}, r.submission_key AS version_of, NULL::bigint AS replaced_by, 1 AS current, 0::bigint AS seq \
                           FROM record r WHERE r.subject_key = ANY($1) AND r.account_key = $2 AND r.primary_copy \
                         UNION ALL \
                           SELECT {columns}, r.submission_key, r.replaced_by, 0, r.history_key \
                           FROM record_history r WHERE r.subject_key = ANY($1) AND r.account_key = $2 AND r.primary_copy \
                         ) v ORDER BY as_of, current, seq"
                    ),
                    &[&members, &account_key],
                )
                .map_err(map_err)?;
            let after = RECORD_COLUMN_COUNT;
            let mut keys: Vec<i64> = Vec::new();
            for row in &rows {
                keys.push(row.try_get(after).map_err(map_err)?);
                keys.extend(row.try_get::<_, Option<i64>>(after + 1).map_err(map_err)?);
            }
            keys.sort_unstable();
            keys.dedup();
            let ids: std::collections::HashMap<i64, String> = conn
                .query(
                    "SELECT submission_key, submission_id FROM submission WHERE furnisher = $1 AND submission_key = ANY($2)",
                    &[&furnisher.as_str(), &keys],
                )
                .map_err(map_err)?
                .iter()
                .map(|row| (row.get(0), row.get(1)))
                .collect();
            let id_of = |key: i64| ids.get(&key).cloned().ok_or_else(|| StoreError::Corrupt(format!("submission {key} of a record")));
            rows.iter()
                .map(|row| {
                    let (facts, subjects) = record_from_row(row, account)?;
                    Ok(RecordVersion {
                        facts,
                        subjects,
                        line: row.try_get::<_, i64>(5).map_err(map_err)? as u64,
                        submission_id: id_of(row.try_get(after).map_err(map_err)?)?,
                        replaced_by: row.try_get::<_, Option<i64>>(after + 1).map_err(map_err)?.map(id_of).transpose()?,
                    })
                })
                .collect()
        })
    }

    fn for_each_record(&self, furnisher: &FurnisherId, from: Date, to: Date, visit: &mut Visitor<'_, StoredRecord>) -> StoreResult<()> {
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
                if visit(StoredRecord { facts, subjects }).map_err(StoreError::Visitor)?.is_break() {
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
        visit: &mut dyn FnMut(SubjectKey, Vec<AccountHistory>) -> Visit,
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
            grouped.finish()?;
            Ok(())
        })
    }

    fn compact(&self) -> StoreResult<u64> {
        let mut conn = self.connection()?;
        in_transaction(&mut conn, "BEGIN", |conn| {
            conn.prepared_execute("SELECT pg_advisory_xact_lock($1)", &[&WRITER_LOCK])?;
            // A rewrite of the whole table outlasts any statement timeout set for requests.
            // By the primary key: a subject's records side by side (per shard, on Citus).
            // One statement at a time: Citus sends each on to the shards, and a string of
            // several cannot be.
            for statement in ["SET LOCAL statement_timeout = 0", "CLUSTER record USING record_pkey", "ANALYZE record"] {
                conn.batch_execute(statement).map_err(map_err)?;
            }
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
        self.store_submission_findings_in_database(furnisher, submission_id, corrected, findings, hits)
    }

    fn replace_findings(&self, scope: &FindingScope, findings: &[Finding]) -> StoreResult<()> {
        self.replace_findings_in_database(scope, findings)
    }

    fn findings(&self, scope: &FindingScope, page: Page) -> StoreResult<(Vec<Finding>, u64)> {
        self.findings_in_database(scope, page)
    }

    fn finding_counts(&self, scope: &FindingScope) -> StoreResult<Vec<FindingCount>> {
        self.finding_counts_in_database(scope)
    }

    fn record_counts(&self, scope: &FindingScope) -> StoreResult<Vec<RecordCount>> {
        self.record_counts_in_database(scope)
    }

    fn submission_hits(&self, furnisher: &FurnisherId, submission_id: &str) -> StoreResult<BTreeMap<String, u64>> {
        self.submission_hits_in_database(furnisher, submission_id)
    }

    fn for_each_identity_group(&self, visit: &mut dyn FnMut(SubjectKey, Vec<IdentityReport>) -> Visit) -> StoreResult<()> {
        self.for_each_identity_group_in_database(visit)
    }

    fn supervision_tally(&self, month: YearMonth, policy: &Policy, progress: &ScanProgress<'_>) -> StoreResult<Tally> {
        self.supervision_tally_in_database(month, policy, progress)
    }

    fn supervision_borrowers(
        &self,
        month: YearMonth,
        policy: &Policy,
        list: BorrowerList,
        progress: &ScanProgress<'_>,
    ) -> StoreResult<Vec<(SubjectKey, BorrowerView)>> {
        progress(0, 1);
        let listed = self.supervision_borrowers_in_database(month, policy, list)?;
        progress(1, 1);
        Ok(listed)
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
