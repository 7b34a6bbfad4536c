//! Data quality on PostgreSQL: what the evaluators read at ingest (the record before a new one,
//! for a whole batch in one query), and the findings they leave.

use std::collections::{BTreeMap, HashMap};

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

/// Months before a record's month that the first look-up reads: where an account's previous
/// record is in every steady cycle. Older ones are looked for only for the keys that need them.
const PRIOR_WINDOW_MONTHS: i32 = 3;

impl crate::PriorLookup for PostgresPriorLookup {
    // Three plain statements rather than one lateral join with a LIMIT: a distributed database
    // cannot push that down (`account` is distributed by account, `record` by subject), while
    // each of these is either routed by its distribution column or joins `record` with the
    // keys on its own.
    fn prior_records(&mut self, keys: &[(&str, Date)]) -> StoreResult<Vec<PriorRecords>> {
        let mut found = vec![PriorRecords::default(); keys.len()];
        if keys.is_empty() {
            return Ok(found);
        }
        // 1. The accounts, and the subjects whose shards hold their records.
        let names: Vec<&str> = keys.iter().map(|(account, _)| *account).collect();
        let accounts: HashMap<String, (i64, Vec<i64>)> = self
            .conn
            .query(
                "SELECT account, account_key, members FROM account WHERE furnisher = $1 AND account = ANY($2)",
                &[&self.furnisher.as_str(), &names],
            )
            .map_err(map_err)?
            .iter()
            .map(|row| (row.get(0), (row.get(1), row.get(2))))
            .collect();
        // 2. Each key's records from a few months before its month to its month's end.
        let mut wanted = Wanted::default();
        for (i, (account, as_of)) in keys.iter().enumerate() {
            if let Some((account_key, members)) = accounts.get(*account) {
                let month = YearMonth::of(*as_of);
                // After the last day of the month before the window: the window's first day.
                let from = codec::date_number(month.plus(-PRIOR_WINDOW_MONTHS - 1).last_day()) as i32 + 1;
                wanted.push(i, *account_key, members, from, codec::date_number(month.last_day()) as i32);
            }
        }
        self.read_into(&wanted, keys, &mut found)?;
        // 3. For keys with no record in that window before their own, the latest one before it.
        let mut older = Wanted::default();
        for (i, (account, as_of)) in keys.iter().enumerate() {
            if found[i].previous.is_none()
                && let Some((account_key, members)) = accounts.get(*account)
            {
                let before = codec::date_number(YearMonth::of(*as_of).plus(-PRIOR_WINDOW_MONTHS - 1).last_day()) as i32;
                older.push(i, *account_key, members, i32::MIN, before);
            }
        }
        if !older.index.is_empty() {
            let latest: Vec<(i64, i32)> = self
                .conn
                .query(
                    "SELECT k.i, max(r.as_of) FROM record r \
                     JOIN unnest($1::bigint[], $2::bigint[], $3::integer[], $4::bigint[]) AS k(s, a, d, i) \
                       ON r.subject_key = k.s AND r.account_key = k.a AND r.primary_copy AND r.as_of <= k.d \
                     GROUP BY k.i",
                    &[&older.subject, &older.account, &older.to, &older.index],
                )
                .map_err(map_err)?
                .iter()
                .map(|row| (row.get(0), row.get(1)))
                .collect();
            let mut exact = Wanted::default();
            for (i, as_of) in latest {
                let i = usize::try_from(i).map_err(|_| corrupt("a key's position"))?;
                if let Some((account_key, members)) = accounts.get(keys[i].0) {
                    exact.push(i, *account_key, members, as_of, as_of);
                }
            }
            self.read_into(&exact, keys, &mut found)?;
        }
        Ok(found)
    }
}

/// Keys to read, one row per key and subject that may hold its records (a record's primary copy
/// is with one of its account's members).
#[derive(Default)]
struct Wanted {
    index: Vec<i64>,
    subject: Vec<i64>,
    account: Vec<i64>,
    from: Vec<i32>,
    to: Vec<i32>,
}

impl Wanted {
    fn push(&mut self, index: usize, account_key: i64, members: &[i64], from: i32, to: i32) {
        for member in members {
            self.index.push(index as i64);
            self.subject.push(*member);
            self.account.push(account_key);
            self.from.push(from);
            self.to.push(to);
        }
    }
}

impl PostgresPriorLookup {
    /// Notes every record of `wanted`'s accounts dated in its keys' ranges.
    fn read_into(&mut self, wanted: &Wanted, keys: &[(&str, Date)], found: &mut [PriorRecords]) -> StoreResult<()> {
        if wanted.index.is_empty() {
            return Ok(());
        }
        let columns = &*RECORD_COLUMNS_R;
        let rows = self
            .conn
            .query(
                &format!(
                    "SELECT k.i, {columns} FROM record r \
                     JOIN unnest($1::bigint[], $2::bigint[], $3::integer[], $4::integer[], $5::bigint[]) AS k(s, a, f, t, i) \
                       ON r.subject_key = k.s AND r.account_key = k.a AND r.primary_copy AND r.as_of BETWEEN k.f AND k.t"
                ),
                &[&wanted.subject, &wanted.account, &wanted.from, &wanted.to, &wanted.index],
            )
            .map_err(map_err)?;
        for row in rows {
            let at = usize::try_from(row.try_get::<_, i64>(0).map_err(map_err)?).map_err(|_| corrupt("a key's position"))?;
            let (facts, _) = record_from_row_at(&row, 1, keys[at].0)?;
            found[at].note(keys[at].1, facts);
        }
        Ok(())
    }
}

impl Drop for PostgresPriorLookup {
    fn drop(&mut self) {
        let _ = self.conn.batch_execute("COMMIT");
    }
}
