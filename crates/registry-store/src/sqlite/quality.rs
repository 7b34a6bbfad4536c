//! Data quality on the embedded file: what the evaluators read at ingest (the record before a
//! new one), and the findings they leave.

use std::collections::BTreeMap;

use registry_core::model::{Date, FurnisherId};
use registry_core::quality::Finding;
use registry_core::report::{SubjectKey, YearMonth};
use rusqlite::{Connection, ToSql, params, params_from_iter};

use super::connection::{in_immediate, map_err};
use super::records::{RECORD_COLUMNS_R, record_columns_from_row};
use super::store::{SCAN_MMAP_BYTES, SqliteStore};
use crate::{FindingCount, FindingScope, IdentityReport, Page, PriorRecords, RecordCount, StoreError, StoreResult, Visit, codec};

/// `WHERE` conditions and parameters of a finding scope over a table whose furnisher and
/// `as_of` columns are `furnisher` and `as_of` (as aliased in the query).
fn scope_sql(scope: &FindingScope, furnisher: &str, as_of: &str) -> (String, Vec<Box<dyn ToSql>>) {
    let mut conditions = vec!["1 = 1".to_owned()];
    let mut values: Vec<Box<dyn ToSql>> = Vec::new();
    if let Some(f) = &scope.furnisher {
        values.push(Box::new(f.as_str().to_owned()));
        conditions.push(format!("{furnisher} = ?{}", values.len()));
    }
    if let Some(from) = scope.from {
        values.push(Box::new(codec::date_number(from)));
        conditions.push(format!("{as_of} >= ?{}", values.len()));
    }
    if let Some(to) = scope.to {
        values.push(Box::new(codec::date_number(to)));
        conditions.push(format!("{as_of} <= ?{}", values.len()));
    }
    (conditions.join(" AND "), values)
}

/// The same for the finding table, with its own filters.
fn finding_scope_sql(scope: &FindingScope) -> (String, Vec<Box<dyn ToSql>>) {
    let (mut sql, mut values) = scope_sql(scope, "furnisher", "as_of");
    if let Some(evaluator) = &scope.evaluator {
        values.push(Box::new(evaluator.clone()));
        sql.push_str(&format!(" AND evaluator = ?{}", values.len()));
    }
    if scope.high_only {
        sql.push_str(" AND severity = 'high'");
    }
    (sql, values)
}

fn date(number: i64) -> StoreResult<Date> {
    codec::date_from_number(number).ok_or_else(|| StoreError::Corrupt(format!("date {number}")))
}

fn insert_findings(conn: &Connection, findings: &[Finding], submission_id: Option<&str>) -> StoreResult<()> {
    let mut insert = conn
        .prepare_cached(
            "INSERT OR REPLACE INTO finding (furnisher, account, as_of, evaluator, severity, message, submission_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(map_err)?;
    for f in findings {
        insert
            .execute(params![
                f.furnisher,
                f.account,
                codec::date_number(f.as_of),
                f.evaluator,
                f.severity.as_str(),
                f.message,
                submission_id
            ])
            .map_err(map_err)?;
    }
    Ok(())
}

fn finding_from_row(row: &rusqlite::Row<'_>) -> StoreResult<Finding> {
    let severity: String = row.get(4).map_err(map_err)?;
    Ok(Finding {
        furnisher: row.get(0).map_err(map_err)?,
        account: row.get(1).map_err(map_err)?,
        as_of: date(row.get(2).map_err(map_err)?)?,
        evaluator: row.get(3).map_err(map_err)?,
        severity: severity.parse().map_err(|()| StoreError::Corrupt(format!("unknown severity {severity:?}")))?,
        message: row.get(5).map_err(map_err)?,
    })
}

fn month_of(number: i64) -> StoreResult<YearMonth> {
    YearMonth::new((number / 100) as i32, (number % 100) as u32).ok_or_else(|| StoreError::Corrupt(format!("month {number}")))
}

impl SqliteStore {
    pub(super) fn prior_lookup_at_snapshot(&self, furnisher: &FurnisherId) -> StoreResult<SqlitePriorLookup> {
        let conn = self.reader()?;
        // One read transaction for the submission, not one a look-up (each would take and
        // release the WAL read lock), and the pages mapped rather than copied through the
        // reader's small cache: without the mapping, the steady-state benchmark's ingest took
        // 8.6 s instead of 6.4 s (the mapped pages count in RSS, but they are the file's, not
        // allocated). A deferred transaction takes its snapshot at its first read: take it now,
        // before the submission can commit.
        conn.execute_batch(&format!("PRAGMA mmap_size = {SCAN_MMAP_BYTES}; BEGIN")).map_err(map_err)?;
        let lookup = SqlitePriorLookup { conn, furnisher: furnisher.as_str().to_owned() };
        lookup.conn.query_row("SELECT count(*) FROM (SELECT 1 FROM account LIMIT 1)", [], |_| Ok(())).map_err(map_err)?;
        Ok(lookup)
    }

    pub(super) fn store_submission_findings_on_file(
        &self,
        furnisher: &FurnisherId,
        submission_id: &str,
        corrected: &[(String, Date)],
        findings: &[Finding],
        hits: &BTreeMap<String, u64>,
    ) -> StoreResult<()> {
        let conn = self.writer();
        in_immediate(&conn, || {
            let mut forget =
                conn.prepare_cached("DELETE FROM finding WHERE furnisher = ?1 AND account = ?2 AND as_of = ?3").map_err(map_err)?;
            for (account, as_of) in corrected {
                forget.execute(params![furnisher.as_str(), account, codec::date_number(*as_of)]).map_err(map_err)?;
            }
            insert_findings(&conn, findings, Some(submission_id))?;
            let mut count = conn
                .prepare_cached(
                    "INSERT OR REPLACE INTO submission_quality (furnisher, submission_id, evaluator, hits) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(map_err)?;
            for (evaluator, n) in hits {
                count.execute(params![furnisher.as_str(), submission_id, evaluator, *n as i64]).map_err(map_err)?;
            }
            Ok(())
        })
    }

    pub(super) fn replace_findings_on_file(&self, scope: &FindingScope, findings: &[Finding]) -> StoreResult<()> {
        let conn = self.writer();
        in_immediate(&conn, || {
            let (condition, values) = finding_scope_sql(scope);
            conn.execute(&format!("DELETE FROM finding WHERE {condition}"), params_from_iter(values.iter().map(AsRef::as_ref)))
                .map_err(map_err)?;
            insert_findings(&conn, findings, None)
        })
    }

    pub(super) fn findings_on_file(&self, scope: &FindingScope, page: Page) -> StoreResult<(Vec<Finding>, u64)> {
        let conn = self.reader()?;
        let (condition, values) = finding_scope_sql(scope);
        let total: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM finding WHERE {condition}"),
                params_from_iter(values.iter().map(AsRef::as_ref)),
                |r| r.get(0),
            )
            .map_err(map_err)?;
        let mut stmt = conn
            .prepare(&format!(
                "SELECT furnisher, account, as_of, evaluator, severity, message FROM finding WHERE {condition} \
                 ORDER BY furnisher, as_of, account, evaluator LIMIT {} OFFSET {}",
                page.limit.min(i64::MAX as u64),
                page.offset.min(i64::MAX as u64)
            ))
            .map_err(map_err)?;
        let mut rows = stmt.query(params_from_iter(values.iter().map(AsRef::as_ref))).map_err(map_err)?;
        let mut findings = Vec::new();
        while let Some(row) = rows.next().map_err(map_err)? {
            findings.push(finding_from_row(row)?);
        }
        Ok((findings, total as u64))
    }

    pub(super) fn finding_counts_on_file(&self, scope: &FindingScope) -> StoreResult<Vec<FindingCount>> {
        let conn = self.reader()?;
        let (condition, values) = finding_scope_sql(scope);
        let mut stmt = conn
            .prepare(&format!(
                "SELECT furnisher, as_of / 100, evaluator, count(*) FROM finding WHERE {condition} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
            ))
            .map_err(map_err)?;
        let mut rows = stmt.query(params_from_iter(values.iter().map(AsRef::as_ref))).map_err(map_err)?;
        let mut counts = Vec::new();
        while let Some(row) = rows.next().map_err(map_err)? {
            counts.push(FindingCount {
                furnisher: row.get(0).map_err(map_err)?,
                month: month_of(row.get(1).map_err(map_err)?)?,
                evaluator: row.get(2).map_err(map_err)?,
                hits: row.get::<_, i64>(3).map_err(map_err)? as u64,
            });
        }
        Ok(counts)
    }

    pub(super) fn record_counts_on_file(&self, scope: &FindingScope) -> StoreResult<Vec<RecordCount>> {
        let conn = self.reader()?;
        let (condition, values) = scope_sql(scope, "a.furnisher", "r.as_of");
        let mut stmt = conn
            .prepare(&format!(
                "SELECT a.furnisher, r.as_of / 100, count(*) FROM account a JOIN record r ON r.account_key = a.account_key \
                 WHERE {condition} GROUP BY 1, 2 ORDER BY 1, 2"
            ))
            .map_err(map_err)?;
        let mut rows = stmt.query(params_from_iter(values.iter().map(AsRef::as_ref))).map_err(map_err)?;
        let mut counts = Vec::new();
        while let Some(row) = rows.next().map_err(map_err)? {
            counts.push(RecordCount {
                furnisher: row.get(0).map_err(map_err)?,
                month: month_of(row.get(1).map_err(map_err)?)?,
                records: row.get::<_, i64>(2).map_err(map_err)? as u64,
            });
        }
        Ok(counts)
    }

    pub(super) fn submission_hits_on_file(&self, furnisher: &FurnisherId, submission_id: &str) -> StoreResult<BTreeMap<String, u64>> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare_cached("SELECT evaluator, hits FROM submission_quality WHERE furnisher = ?1 AND submission_id = ?2")
            .map_err(map_err)?;
        let mut rows = stmt.query(params![furnisher.as_str(), submission_id]).map_err(map_err)?;
        let mut hits = BTreeMap::new();
        while let Some(row) = rows.next().map_err(map_err)? {
            hits.insert(row.get(0).map_err(map_err)?, row.get::<_, i64>(1).map_err(map_err)? as u64);
        }
        Ok(hits)
    }

    pub(super) fn for_each_identity_group_on_file(
        &self,
        visit: &mut dyn FnMut(SubjectKey, Vec<IdentityReport>) -> Visit,
    ) -> StoreResult<()> {
        let conn = self.reader()?;
        conn.execute_batch("BEGIN").map_err(map_err)?;
        let result = (|| {
            let mut stmt = conn
                .prepare(
                    "WITH multi AS (SELECT subject_key FROM identity GROUP BY subject_key HAVING count(DISTINCT furnisher) > 1), \
                     held AS (SELECT m.subject_key, a.furnisher, min(a.account) AS account FROM account_subject m \
                              JOIN account a ON a.account_key = m.account_key \
                              WHERE m.subject_key IN (SELECT subject_key FROM multi) GROUP BY m.subject_key, a.furnisher) \
                     SELECT i.subject_key, i.furnisher, i.identity_sealed, held.account, \
                            (SELECT max(r.as_of) FROM account a JOIN record r ON r.account_key = a.account_key \
                             WHERE a.furnisher = held.furnisher AND a.account = held.account) \
                     FROM identity i JOIN held ON held.subject_key = i.subject_key AND held.furnisher = i.furnisher \
                     ORDER BY i.subject_key, i.furnisher, i.identity_key",
                )
                .map_err(map_err)?;
            let mut rows = stmt.query([]).map_err(map_err)?;
            let mut groups = codec::SubjectGroups::new(visit);
            while let Some(row) = rows.next().map_err(map_err)? {
                let subject: i64 = row.get(0).map_err(map_err)?;
                let report = IdentityReport {
                    furnisher: row.get(1).map_err(map_err)?,
                    identity_sealed: row.get(2).map_err(map_err)?,
                    account: row.get(3).map_err(map_err)?,
                    as_of: date(row.get(4).map_err(map_err)?)?,
                };
                if groups.push(subject, report)?.is_break() {
                    return Ok(());
                }
            }
            groups.finish()
        })();
        let _ = conn.execute_batch("COMMIT");
        result
    }
}

/// A reader holding one read transaction: the store as it was before a submission.
pub(super) struct SqlitePriorLookup {
    conn: r2d2::PooledConnection<r2d2_sqlite::SqliteConnectionManager>,
    furnisher: String,
}

impl crate::PriorLookup for SqlitePriorLookup {
    fn prior_records(&mut self, keys: &[(&str, Date)]) -> StoreResult<Vec<PriorRecords>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT a.account, {} FROM account a JOIN record r ON r.account_key = a.account_key \
                 WHERE a.furnisher = ?1 AND a.account = ?2 AND r.as_of <= ?3 ORDER BY r.as_of DESC LIMIT 4",
                &*RECORD_COLUMNS_R
            ))
            .map_err(map_err)?;
        let mut found = Vec::with_capacity(keys.len());
        for (account, as_of) in keys {
            let month_end = YearMonth::of(*as_of).last_day();
            let mut rows = stmt.query(params![self.furnisher, account, codec::date_number(month_end)]).map_err(map_err)?;
            let mut prior = PriorRecords::default();
            while let Some(row) = rows.next().map_err(map_err)? {
                prior.note(*as_of, record_columns_from_row(row, 1)?.into_facts_alone()?);
                if prior.previous.is_some() {
                    break;
                }
            }
            found.push(prior);
        }
        Ok(found)
    }
}

impl Drop for SqlitePriorLookup {
    fn drop(&mut self) {
        let _ = self.conn.execute_batch("COMMIT; PRAGMA mmap_size = 0");
    }
}
