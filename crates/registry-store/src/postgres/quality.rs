//! Data quality on PostgreSQL: what the evaluators read at ingest (the record before a new one,
//! for a whole batch in one query), and the findings they leave.

use std::collections::BTreeMap;

use postgres::types::ToSql;
use registry_core::model::{Date, FurnisherId};
use registry_core::quality::Finding;
use registry_core::report::{SubjectKey, YearMonth};

use super::connection::{Connection, PostgresStore, corrupt, in_transaction, map_err};
use super::records::{RECORD_COLUMNS_R, record_from_row_at};
use crate::{FindingCount, FindingScope, IdentityReport, Page, PriorRecords, RecordCount, StoreResult, Visit, codec};

/// A finding scope's parameters, owned here so the query's parameters can borrow them.
struct ScopeParams<'s> {
    furnisher: Option<&'s str>,
    from: Option<i32>,
    to: Option<i32>,
    evaluator: Option<&'s str>,
    high_only: bool,
}

impl<'s> ScopeParams<'s> {
    fn of(scope: &'s FindingScope) -> ScopeParams<'s> {
        ScopeParams {
            furnisher: scope.furnisher.as_ref().map(FurnisherId::as_str),
            from: scope.from.map(|d| codec::date_number(d) as i32),
            to: scope.to.map(|d| codec::date_number(d) as i32),
            evaluator: scope.evaluator.as_deref(),
            high_only: scope.high_only,
        }
    }

    /// `WHERE` conditions over columns named `furnisher` and `as_of` (qualified as given), and
    /// their parameters; `findings` adds the finding table's own filters.
    fn sql(&self, furnisher: &str, as_of: &str, findings: bool) -> (String, Vec<&(dyn ToSql + Sync)>) {
        let mut conditions = vec!["true".to_owned()];
        let mut values: Vec<&(dyn ToSql + Sync)> = Vec::new();
        if let Some(f) = &self.furnisher {
            values.push(f);
            conditions.push(format!("{furnisher} = ${}", values.len()));
        }
        if let Some(from) = &self.from {
            values.push(from);
            conditions.push(format!("{as_of} >= ${}", values.len()));
        }
        if let Some(to) = &self.to {
            values.push(to);
            conditions.push(format!("{as_of} <= ${}", values.len()));
        }
        if findings {
            if let Some(evaluator) = &self.evaluator {
                values.push(evaluator);
                conditions.push(format!("evaluator = ${}", values.len()));
            }
            if self.high_only {
                conditions.push("severity = 'high'".to_owned());
            }
        }
        (conditions.join(" AND "), values)
    }
}

fn date(number: i32) -> StoreResult<Date> {
    codec::date_from_number(i64::from(number)).ok_or_else(|| corrupt(format!("date {number}")))
}

fn month_of(number: i32) -> StoreResult<YearMonth> {
    YearMonth::new(number / 100, (number % 100) as u32).ok_or_else(|| corrupt(format!("month {number}")))
}

fn insert_findings(conn: &mut Connection, findings: &[Finding], submission_id: Option<&str>) -> StoreResult<()> {
    if findings.is_empty() {
        return Ok(());
    }
    // One array per column, for `unnest`.
    let furnishers: Vec<&str> = findings.iter().map(|f| f.furnisher.as_str()).collect();
    let accounts: Vec<&str> = findings.iter().map(|f| f.account.as_str()).collect();
    let dates: Vec<i32> = findings.iter().map(|f| codec::date_number(f.as_of) as i32).collect();
    let evaluators: Vec<&str> = findings.iter().map(|f| f.evaluator.as_str()).collect();
    let severities: Vec<&str> = findings.iter().map(|f| f.severity.as_str()).collect();
    let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
    conn.execute(
        "INSERT INTO finding (furnisher, account, as_of, evaluator, severity, message, submission_id) \
         SELECT f, a, d, e, s, m, $7 FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::text[], $6::text[]) AS u(f, a, d, e, s, m) \
         ON CONFLICT (furnisher, as_of, account, evaluator) DO UPDATE SET severity = EXCLUDED.severity, message = EXCLUDED.message, \
             submission_id = EXCLUDED.submission_id",
        &[&furnishers, &accounts, &dates, &evaluators, &severities, &messages, &submission_id],
    )
    .map_err(map_err)?;
    Ok(())
}

impl PostgresStore {
    pub(super) fn prior_lookup_at_snapshot(&self, furnisher: &FurnisherId) -> StoreResult<PostgresPriorLookup> {
        let mut conn = self.connection()?;
        // One snapshot for the submission, taken by the transaction's first statement, now:
        // the submission's own commit does not change what the evaluators compare with.
        conn.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT 1").map_err(map_err)?;
        Ok(PostgresPriorLookup { conn, furnisher: furnisher.as_str().to_owned() })
    }

    pub(super) fn store_submission_findings_in_database(
        &self,
        furnisher: &FurnisherId,
        submission_id: &str,
        corrected: &[(String, Date)],
        findings: &[Finding],
        hits: &BTreeMap<String, u64>,
    ) -> StoreResult<()> {
        let mut conn = self.connection()?;
        in_transaction(&mut conn, "BEGIN", |conn| {
            if !corrected.is_empty() {
                let accounts: Vec<&str> = corrected.iter().map(|(account, _)| account.as_str()).collect();
                let dates: Vec<i32> = corrected.iter().map(|(_, as_of)| codec::date_number(*as_of) as i32).collect();
                conn.execute(
                    "DELETE FROM finding f USING unnest($2::text[], $3::integer[]) AS k(account, as_of) \
                     WHERE f.furnisher = $1 AND f.account = k.account AND f.as_of = k.as_of",
                    &[&furnisher.as_str(), &accounts, &dates],
                )
                .map_err(map_err)?;
            }
            insert_findings(conn, findings, Some(submission_id))?;
            let (evaluators, counts): (Vec<&str>, Vec<i64>) = hits.iter().map(|(e, n)| (e.as_str(), *n as i64)).unzip();
            conn.execute(
                "INSERT INTO submission_quality (furnisher, submission_id, evaluator, hits) \
                 SELECT $1, $2, e, n FROM unnest($3::text[], $4::bigint[]) AS u(e, n) \
                 ON CONFLICT (furnisher, submission_id, evaluator) DO UPDATE SET hits = EXCLUDED.hits",
                &[&furnisher.as_str(), &submission_id, &evaluators, &counts],
            )
            .map_err(map_err)?;
            Ok(())
        })
    }

    pub(super) fn replace_findings_in_database(&self, scope: &FindingScope, findings: &[Finding]) -> StoreResult<()> {
        let mut conn = self.connection()?;
        in_transaction(&mut conn, "BEGIN", |conn| {
            let params = ScopeParams::of(scope);
            let (condition, values) = params.sql("furnisher", "as_of", true);
            conn.execute(&format!("DELETE FROM finding WHERE {condition}"), &values).map_err(map_err)?;
            insert_findings(conn, findings, None)
        })
    }

    pub(super) fn findings_in_database(&self, scope: &FindingScope, page: Page) -> StoreResult<(Vec<Finding>, u64)> {
        self.read(|conn| {
            let params = ScopeParams::of(scope);
            let (condition, values) = params.sql("furnisher", "as_of", true);
            let total: i64 = conn.query_one(&format!("SELECT count(*) FROM finding WHERE {condition}"), &values).map_err(map_err)?.get(0);
            let rows = conn
                .query(
                    &format!(
                        "SELECT furnisher, account, as_of, evaluator, severity, message FROM finding WHERE {condition} \
                         ORDER BY furnisher, as_of, account, evaluator LIMIT {} OFFSET {}",
                        page.limit.min(i64::MAX as u64),
                        page.offset.min(i64::MAX as u64)
                    ),
                    &values,
                )
                .map_err(map_err)?;
            let findings = rows
                .iter()
                .map(|row| {
                    let severity: String = row.try_get(4).map_err(map_err)?;
                    Ok(Finding {
                        furnisher: row.try_get(0).map_err(map_err)?,
                        account: row.try_get(1).map_err(map_err)?,
                        as_of: date(row.try_get(2).map_err(map_err)?)?,
                        evaluator: row.try_get(3).map_err(map_err)?,
                        severity: severity.parse().map_err(|()| corrupt(format!("unknown severity {severity:?}")))?,
                        message: row.try_get(5).map_err(map_err)?,
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?;
            Ok((findings, total as u64))
        })
    }

    pub(super) fn finding_counts_in_database(&self, scope: &FindingScope) -> StoreResult<Vec<FindingCount>> {
        self.read(|conn| {
            let params = ScopeParams::of(scope);
            let (condition, values) = params.sql("furnisher", "as_of", true);
            let rows = conn
                .query(
                    &format!(
                        "SELECT furnisher, as_of / 100, evaluator, count(*) FROM finding WHERE {condition} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
                    ),
                    &values,
                )
                .map_err(map_err)?;
            rows.iter()
                .map(|row| {
                    Ok(FindingCount {
                        furnisher: row.try_get(0).map_err(map_err)?,
                        month: month_of(row.try_get(1).map_err(map_err)?)?,
                        evaluator: row.try_get(2).map_err(map_err)?,
                        hits: row.try_get::<_, i64>(3).map_err(map_err)? as u64,
                    })
                })
                .collect()
        })
    }

    pub(super) fn record_counts_in_database(&self, scope: &FindingScope) -> StoreResult<Vec<RecordCount>> {
        self.read(|conn| {
            let params = ScopeParams::of(scope);
            let (condition, values) = params.sql("m.furnisher", "r.as_of", false);
            let rows = conn
                .query(
                    &format!(
                        "SELECT m.furnisher, r.as_of / 100, count(*) FROM subject_account m \
                         JOIN record r ON r.subject_key = m.subject_key AND r.account_key = m.account_key AND r.primary_copy \
                         WHERE {condition} GROUP BY 1, 2 ORDER BY 1, 2"
                    ),
                    &values,
                )
                .map_err(map_err)?;
            rows.iter()
                .map(|row| {
                    Ok(RecordCount {
                        furnisher: row.try_get(0).map_err(map_err)?,
                        month: month_of(row.try_get(1).map_err(map_err)?)?,
                        records: row.try_get::<_, i64>(2).map_err(map_err)? as u64,
                    })
                })
                .collect()
        })
    }

    pub(super) fn submission_hits_in_database(&self, furnisher: &FurnisherId, submission_id: &str) -> StoreResult<BTreeMap<String, u64>> {
        self.read(|conn| {
            let rows = conn
                .query(
                    "SELECT evaluator, hits FROM submission_quality WHERE furnisher = $1 AND submission_id = $2",
                    &[&furnisher.as_str(), &submission_id],
                )
                .map_err(map_err)?;
            rows.iter().map(|row| Ok((row.try_get(0).map_err(map_err)?, row.try_get::<_, i64>(1).map_err(map_err)? as u64))).collect()
        })
    }

    pub(super) fn for_each_identity_group_in_database(
        &self,
        visit: &mut dyn FnMut(SubjectKey, Vec<IdentityReport>) -> Visit,
    ) -> StoreResult<()> {
        let mut conn = self.connection()?;
        in_transaction(&mut conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", |conn| {
            let rows = conn
                .query(
                    "WITH multi AS (SELECT subject_key FROM identity GROUP BY subject_key HAVING count(DISTINCT furnisher) > 1), \
                     held AS (SELECT m.subject_key, m.furnisher, min(m.account) AS account FROM subject_account m \
                              WHERE m.subject_key IN (SELECT subject_key FROM multi) GROUP BY m.subject_key, m.furnisher) \
                     SELECT i.subject_key, i.furnisher, i.identity_sealed, held.account, \
                            (SELECT max(r.as_of) FROM subject_account s JOIN record r ON r.subject_key = s.subject_key \
                               AND r.account_key = s.account_key \
                             WHERE s.subject_key = held.subject_key AND s.furnisher = held.furnisher AND s.account = held.account) \
                     FROM identity i JOIN held ON held.subject_key = i.subject_key AND held.furnisher = i.furnisher \
                     ORDER BY i.subject_key, i.furnisher, i.identity_key",
                    &[],
                )
                .map_err(map_err)?;
            let mut groups = codec::SubjectGroups::new(visit);
            for row in rows {
                let subject: i64 = row.try_get(0).map_err(map_err)?;
                let report = IdentityReport {
                    furnisher: row.try_get(1).map_err(map_err)?,
                    identity_sealed: row.try_get(2).map_err(map_err)?,
                    account: row.try_get(3).map_err(map_err)?,
                    as_of: date(row.try_get(4).map_err(map_err)?)?,
                };
                if groups.push(subject, report)?.is_break() {
                    return Ok(());
                }
            }
            groups.finish()
        })
    }
}

/// A connection holding one repeatable-read transaction: the store as it was before a
/// submission.
pub(super) struct PostgresPriorLookup {
    conn: super::connection::Pooled,
    furnisher: String,
}

impl crate::PriorLookup for PostgresPriorLookup {
    fn prior_records(&mut self, keys: &[(&str, Date)]) -> StoreResult<Vec<PriorRecords>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let accounts: Vec<&str> = keys.iter().map(|(account, _)| *account).collect();
        let dates: Vec<i32> = keys.iter().map(|(_, as_of)| codec::date_number(YearMonth::of(*as_of).last_day()) as i32).collect();
        let columns = &*RECORD_COLUMNS_R;
        // Each key's own record (if stored) and the one before it: each record's primary copy,
        // which is with one of the account's members.
        let rows = self
            .conn
            .query(
                &format!(
                    "SELECT k.i, r.* FROM unnest($1::text[], $2::integer[]) WITH ORDINALITY AS k(account, as_of, i) \
                     JOIN account a ON a.account = k.account AND a.furnisher = $3 \
                     CROSS JOIN LATERAL ( \
                       SELECT {columns} FROM record r \
                       WHERE r.subject_key = ANY(a.members) AND r.account_key = a.account_key AND r.primary_copy AND r.as_of <= k.as_of \
                       ORDER BY r.as_of DESC LIMIT 4) r"
                ),
                &[&accounts, &dates, &self.furnisher.as_str()],
            )
            .map_err(map_err)?;
        let mut found = vec![PriorRecords::default(); keys.len()];
        for row in rows {
            let at = usize::try_from(row.try_get::<_, i64>(0).map_err(map_err)? - 1).map_err(|_| corrupt("a key's position"))?;
            let (facts, _) = record_from_row_at(&row, 1, keys[at].0)?;
            found[at].note(keys[at].1, facts);
        }
        Ok(found)
    }
}

impl Drop for PostgresPriorLookup {
    fn drop(&mut self) {
        let _ = self.conn.batch_execute("COMMIT");
    }
}
