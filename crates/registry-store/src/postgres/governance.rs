//! The `Governance` tables on PostgreSQL, in the registry's own database
//! (`migrations/postgres/0002_governance.sql`).

use postgres::Row;
use postgres::types::ToSql;
use registry_core::governance::PrincipalRole;
use registry_core::model::{Date, Timestamp};
use registry_core::report::SubjectKey;

use super::connection::{Connection, LOG_LOCK, PostgresStore, in_transaction, map_err};
use crate::StoreResult;
use crate::governance::{
    ApiKeyRow, CONSENT_COLUMNS, ConsentRow, DISPUTE_COLUMNS, DisputeAnswer, DisputeRow, FLAG_COLUMNS, FlagRow, Governance, GovernanceRow,
    INQUIRY_COLUMNS, InquiryRow, KEY_COLUMNS, LOG_ENTRY_COLUMNS, LogAppend, LogEntryRow, LogNode, LogTip, TREE_HEAD_COLUMNS, TreeHeadRow,
    columns_for_driver_row, frontier_ids, hash_from,
};

columns_for_driver_row!(Row, try_get, map_err);

impl PostgresStore {
    /// The rows `sql` selects, each decoded by `read` (a read, retried as `read` retries).
    fn rows<T>(&self, sql: &str, params: &[&(dyn ToSql + Sync)], read: fn(&Row) -> StoreResult<T>) -> StoreResult<Vec<T>> {
        self.read(|conn| conn.prepared_query(sql, params)?.iter().map(read).collect())
    }

    /// The one row `sql` selects, if any, decoded by `read`.
    fn row<T>(&self, sql: &str, params: &[&(dyn ToSql + Sync)], read: fn(&Row) -> StoreResult<T>) -> StoreResult<Option<T>> {
        Ok(self.rows(sql, params, read)?.into_iter().next())
    }

    /// Runs a change; whether it changed exactly one row.
    fn changed_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<bool> {
        Ok(self.connection()?.prepared_execute(sql, params)? == 1)
    }
}

impl Governance for PostgresStore {
    fn migrate_governance(&self) -> StoreResult<()> {
        // One schema for the registry and its governance tables: the store's migrations.
        crate::Store::migrate(self)
    }

    fn insert_key(&self, key: &ApiKeyRow) -> StoreResult<()> {
        insert_row(&mut *self.connection()?, &GovernanceRow::Key(key.clone()))
    }

    fn key(&self, key_id: &str) -> StoreResult<Option<ApiKeyRow>> {
        self.row(&format!("SELECT {KEY_COLUMNS} FROM api_key WHERE key_id = $1"), &[&key_id], ApiKeyRow::read)
    }

    fn keys(&self) -> StoreResult<Vec<ApiKeyRow>> {
        self.rows(&format!("SELECT {KEY_COLUMNS} FROM api_key ORDER BY created_at, key_id"), &[], ApiKeyRow::read)
    }

    fn has_live_key(&self, role: PrincipalRole, name: &str) -> StoreResult<bool> {
        self.read(|conn| {
            conn.prepared_query(
                "SELECT EXISTS (SELECT 1 FROM api_key WHERE role = $1 AND name = $2 AND revoked_at IS NULL)",
                &[&role.as_str(), &name],
            )?[0]
                .try_get(0)
                .map_err(map_err)
        })
    }

    fn revoke_key(&self, key_id: &str, at: Timestamp) -> StoreResult<bool> {
        self.changed_one("UPDATE api_key SET revoked_at = $2 WHERE key_id = $1 AND revoked_at IS NULL", &[&key_id, &at.to_string()])
    }

    fn append_log(&self, build: &mut dyn FnMut(&LogTip) -> StoreResult<LogAppend>) -> StoreResult<LogAppend> {
        let mut conn = self.connection()?;
        in_transaction(&mut conn, "BEGIN", |conn| {
            conn.prepared_execute("SELECT pg_advisory_xact_lock($1)", &[&LOG_LOCK])?;
            let size: i64 = conn.prepared_query("SELECT coalesce(max(seq) + 1, 0) FROM access_log", &[])?[0].try_get(0).map_err(map_err)?;
            let mut frontier = nodes_on(conn, &frontier_ids(size as u64))?;
            frontier.sort_by_key(|node| std::cmp::Reverse(node.level));
            let append = build(&LogTip { size: size as u64, frontier })?;
            for entry in &append.entries {
                insert_row(conn, &GovernanceRow::Entry(entry.clone()))?;
            }
            for node in &append.nodes {
                insert_row(conn, &GovernanceRow::Node(*node))?;
            }
            for head in &append.heads {
                insert_row(conn, &GovernanceRow::Head(head.clone()))?;
            }
            Ok(append)
        })
    }

    fn log_nodes(&self, ids: &[(u32, u64)]) -> StoreResult<Vec<LogNode>> {
        self.read(|conn| nodes_on(conn, ids))
    }

    fn log_entry(&self, seq: u64) -> StoreResult<Option<LogEntryRow>> {
        self.row(&format!("SELECT {LOG_ENTRY_COLUMNS} FROM access_log WHERE seq = $1"), &[&(seq as i64)], LogEntryRow::read)
    }

    fn subject_log(&self, subject: SubjectKey) -> StoreResult<Vec<LogEntryRow>> {
        self.rows(
            &format!("SELECT {LOG_ENTRY_COLUMNS} FROM access_log WHERE subject_key = $1 ORDER BY seq"),
            &[&subject.0],
            LogEntryRow::read,
        )
    }

    fn log_entries(&self, from: u64, limit: u32) -> StoreResult<Vec<LogEntryRow>> {
        self.rows(
            &format!("SELECT {LOG_ENTRY_COLUMNS} FROM access_log WHERE seq >= $1 ORDER BY seq LIMIT $2"),
            &[&(from as i64), &i64::from(limit)],
            LogEntryRow::read,
        )
    }

    fn tree_head(&self, size: Option<u64>) -> StoreResult<Option<TreeHeadRow>> {
        match size {
            Some(size) => {
                self.row(&format!("SELECT {TREE_HEAD_COLUMNS} FROM tree_head WHERE size = $1"), &[&(size as i64)], TreeHeadRow::read)
            }
            None => self.row(&format!("SELECT {TREE_HEAD_COLUMNS} FROM tree_head ORDER BY size DESC LIMIT 1"), &[], TreeHeadRow::read),
        }
    }

    fn tree_heads(&self) -> StoreResult<Vec<TreeHeadRow>> {
        self.rows(&format!("SELECT {TREE_HEAD_COLUMNS} FROM tree_head ORDER BY size"), &[], TreeHeadRow::read)
    }

    fn insert_consent(&self, consent: &ConsentRow) -> StoreResult<()> {
        insert_row(&mut *self.connection()?, &GovernanceRow::Consent(consent.clone()))
    }

    fn consent(&self, subject: SubjectKey, consent_id: &str) -> StoreResult<Option<ConsentRow>> {
        self.row(
            &format!("SELECT {CONSENT_COLUMNS} FROM consent WHERE subject_key = $1 AND consent_id = $2"),
            &[&subject.0, &consent_id],
            ConsentRow::read,
        )
    }

    fn consents(&self, subject: SubjectKey) -> StoreResult<Vec<ConsentRow>> {
        self.rows(
            &format!("SELECT {CONSENT_COLUMNS} FROM consent WHERE subject_key = $1 ORDER BY granted_at, consent_id"),
            &[&subject.0],
            ConsentRow::read,
        )
    }

    fn revoke_consent(&self, subject: SubjectKey, consent_id: &str, at: Timestamp) -> StoreResult<bool> {
        self.changed_one(
            "UPDATE consent SET revoked_at = $3 WHERE subject_key = $1 AND consent_id = $2 AND revoked_at IS NULL",
            &[&subject.0, &consent_id, &at.to_string()],
        )
    }

    fn insert_inquiry(&self, inquiry: &InquiryRow) -> StoreResult<()> {
        insert_row(&mut *self.connection()?, &GovernanceRow::Inquiry(inquiry.clone()))
    }

    fn inquiries(&self, subject: SubjectKey) -> StoreResult<Vec<InquiryRow>> {
        self.rows(
            &format!("SELECT {INQUIRY_COLUMNS} FROM inquiry WHERE subject_key = $1 ORDER BY inquiry_id"),
            &[&subject.0],
            InquiryRow::read,
        )
    }

    fn insert_flag(&self, flag: &FlagRow) -> StoreResult<()> {
        insert_row(&mut *self.connection()?, &GovernanceRow::Flag(flag.clone()))
    }

    fn flags(&self, subject: SubjectKey) -> StoreResult<Vec<FlagRow>> {
        self.rows(
            &format!("SELECT {FLAG_COLUMNS} FROM file_flag WHERE subject_key = $1 ORDER BY created_at, flag_id"),
            &[&subject.0],
            FlagRow::read,
        )
    }

    fn end_flag(&self, subject: SubjectKey, flag_id: &str, ends: Date) -> StoreResult<bool> {
        self.changed_one(
            "UPDATE file_flag SET ends = $3 WHERE subject_key = $1 AND flag_id = $2 AND (ends IS NULL OR ends > $3)",
            &[&subject.0, &flag_id, &ends.to_string()],
        )
    }

    fn insert_dispute(&self, dispute: &DisputeRow) -> StoreResult<()> {
        insert_row(&mut *self.connection()?, &GovernanceRow::Dispute(dispute.clone()))
    }

    fn subject_disputes(&self, subject: SubjectKey) -> StoreResult<Vec<DisputeRow>> {
        self.rows(
            &format!("SELECT {DISPUTE_COLUMNS} FROM dispute WHERE subject_key = $1 ORDER BY opened_on, dispute_id"),
            &[&subject.0],
            DisputeRow::read,
        )
    }

    fn furnisher_disputes(&self, furnisher: &str, open_only: bool) -> StoreResult<Vec<DisputeRow>> {
        self.rows(
            &format!(
                "SELECT {DISPUTE_COLUMNS} FROM dispute WHERE furnisher = $1 AND (status = 'open' OR NOT $2) ORDER BY opened_on, dispute_id"
            ),
            &[&furnisher, &open_only],
            DisputeRow::read,
        )
    }

    fn resolve_dispute(&self, furnisher: &str, dispute_id: &str, answer: &DisputeAnswer<'_>) -> StoreResult<bool> {
        self.changed_one(
            "UPDATE dispute SET status = $3, resolved_at = $4, resolution = $5 WHERE furnisher = $1 AND dispute_id = $2 AND status = 'open'",
            &[&furnisher, &dispute_id, &answer.status.as_str(), &answer.at.to_string(), &answer.note],
        )
    }
}

/// Inserts one governance row: the live writes and `copy` (inside the load's transaction) alike.
pub(super) fn insert_row(conn: &mut Connection, row: &GovernanceRow) -> StoreResult<()> {
    let opt = |t: Option<Timestamp>| t.map(|t| t.to_string());
    match row {
        GovernanceRow::Key(key) => conn.prepared_execute(
            &format!("INSERT INTO api_key ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
            &[
                &key.key_id,
                &key.name,
                &key.role.as_str(),
                &key.subject.map(|s| s.0),
                &&key.secret_sha256[..],
                &key.created_at.to_string(),
                &opt(key.revoked_at),
            ],
        ),
        GovernanceRow::Entry(entry) => conn.prepared_execute(
            &format!("INSERT INTO access_log ({LOG_ENTRY_COLUMNS}) VALUES ($1, $2, $3)"),
            &[&(entry.seq as i64), &entry.subject.map(|s| s.0), &entry.entry],
        ),
        GovernanceRow::Node(node) => conn.prepared_execute(
            "INSERT INTO log_node (level, idx, hash) VALUES ($1, $2, $3)",
            &[&(node.level as i32), &(node.index as i64), &&node.hash[..]],
        ),
        GovernanceRow::Head(head) => conn.prepared_execute(
            &format!("INSERT INTO tree_head ({TREE_HEAD_COLUMNS}) VALUES ($1, $2, $3, $4)"),
            &[&(head.size as i64), &&head.root[..], &head.signed_at, &head.signature],
        ),
        GovernanceRow::Consent(c) => conn.prepared_execute(
            &format!("INSERT INTO consent ({CONSENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
            &[&c.consent_id, &c.subject.0, &c.lender, &c.purpose, &c.granted_at.to_string(), &c.expires.to_string(), &opt(c.revoked_at)],
        ),
        GovernanceRow::Inquiry(i) => conn.prepared_execute(
            &format!("INSERT INTO inquiry ({INQUIRY_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"),
            &[&i.subject.0, &i.made_on.to_string(), &i.lender, &i.purpose, &i.consent_id],
        ),
        GovernanceRow::Flag(f) => conn.prepared_execute(
            &format!("INSERT INTO file_flag ({FLAG_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
            &[&f.flag_id, &f.subject.0, &f.kind.as_str(), &f.starts.to_string(), &f.ends.map(|d| d.to_string()), &f.created_at.to_string()],
        ),
        GovernanceRow::Dispute(d) => conn.prepared_execute(
            &format!("INSERT INTO dispute ({DISPUTE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"),
            &[
                &d.dispute_id,
                &d.subject.0,
                &d.furnisher,
                &d.account,
                &d.field,
                &d.reason,
                &d.opened_on.to_string(),
                &d.deadline.to_string(),
                &d.status.as_str(),
                &opt(d.resolved_at),
                &d.resolution,
            ],
        ),
    }
    .map(drop)
}

fn nodes_on(conn: &mut Connection, ids: &[(u32, u64)]) -> StoreResult<Vec<LogNode>> {
    let levels: Vec<i32> = ids.iter().map(|&(level, _)| level as i32).collect();
    let indexes: Vec<i64> = ids.iter().map(|&(_, index)| index as i64).collect();
    let rows = conn.prepared_query(
        "SELECT n.level, n.idx, n.hash FROM log_node n \
         JOIN unnest($1::integer[], $2::bigint[]) AS k(l, i) ON n.level = k.l AND n.idx = k.i",
        &[&levels, &indexes],
    )?;
    rows.iter()
        .map(|row| {
            Ok(LogNode {
                level: row.try_get::<_, i32>(0).map_err(map_err)? as u32,
                index: row.try_get::<_, i64>(1).map_err(map_err)? as u64,
                hash: hash_from(row.try_get(2).map_err(map_err)?, "a log node")?,
            })
        })
        .collect()
}
