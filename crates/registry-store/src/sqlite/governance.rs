//! The `Governance` tables on the embedded store: a file of their own beside the registry's
//! (`governance.db`), because SQLite has one writer per file and a report's access-log entry
//! must not wait for an hour-long submission.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use registry_core::governance::PrincipalRole;
use registry_core::model::{Date, Timestamp};
use registry_core::report::SubjectKey;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::connection::{apply_migrations, in_immediate, map_err};
use crate::governance::{
    ApiKeyRow, CONSENT_COLUMNS, Columns, ConsentRow, DISPUTE_COLUMNS, DisputeAnswer, DisputeRow, FLAG_COLUMNS, FlagRow, Governance,
    GovernanceRow, INQUIRY_COLUMNS, InquiryRow, KEY_COLUMNS, LOG_ENTRY_COLUMNS, LogAppend, LogEntryRow, LogNode, LogTip, TREE_HEAD_COLUMNS,
    TreeHeadRow, columns_for_driver_row, frontier_ids, hash_from,
};
use crate::{StoreError, StoreResult};

const GOVERNANCE_MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite-governance/0001_initial.sql"),
    include_str!("../../migrations/sqlite-governance/0002_consent.sql"),
    include_str!("../../migrations/sqlite-governance/0003_key_names.sql"),
];

/// The embedded governance store: one SQLite file, one connection (its writes are small).
pub struct SqliteGovernance {
    conn: Mutex<Connection>,
}

columns_for_driver_row!(Row<'_>, get, map_err);

impl SqliteGovernance {
    pub fn open(path: &Path, busy_timeout: Duration) -> StoreResult<SqliteGovernance> {
        let conn = Connection::open(path).map_err(map_err)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| StoreError::Database(Box::new(e)))?;
        }
        conn.busy_timeout(busy_timeout).map_err(map_err)?;
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA journal_mode = WAL;").map_err(map_err)?;
        Ok(SqliteGovernance { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        let guard = self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !guard.is_autocommit() {
            let _ = guard.execute_batch("ROLLBACK");
        }
        guard
    }

    /// The rows `sql` selects, each decoded by `read`.
    fn rows<T>(&self, sql: &str, params: impl rusqlite::Params, read: impl Fn(&Row<'_>) -> StoreResult<T>) -> StoreResult<Vec<T>> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached(sql).map_err(map_err)?;
        let mut rows = statement.query(params).map_err(map_err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(map_err)? {
            out.push(read(row)?);
        }
        Ok(out)
    }

    /// The one row `sql` selects, if any, decoded by `read`.
    fn row<T>(&self, sql: &str, params: impl rusqlite::Params, read: impl Fn(&Row<'_>) -> StoreResult<T>) -> StoreResult<Option<T>> {
        Ok(self.rows(sql, params, read)?.into_iter().next())
    }

    /// Runs a change; whether it changed exactly one row.
    fn changed_one(&self, sql: &str, params: impl rusqlite::Params) -> StoreResult<bool> {
        Ok(self.conn().execute(sql, params).map_err(map_err)? == 1)
    }
}

/// Inserts one governance row: the live writes and `copy`'s dump alike have one list of each
/// kind's columns.
fn insert_row(conn: &Connection, row: &GovernanceRow) -> StoreResult<()> {
    let opt = |t: Option<Timestamp>| t.map(|t| t.to_string());
    match row {
        GovernanceRow::Key(key) => conn.execute(
            &format!("INSERT INTO api_key ({KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
            params![
                key.key_id,
                key.name,
                key.role.as_str(),
                key.subject.map(|s| s.0),
                &key.secret_sha256[..],
                key.created_at.to_string(),
                opt(key.revoked_at)
            ],
        ),
        GovernanceRow::Entry(entry) => conn.execute(
            &format!("INSERT INTO access_log ({LOG_ENTRY_COLUMNS}) VALUES (?1, ?2, ?3)"),
            params![entry.seq as i64, entry.subject.map(|s| s.0), entry.entry],
        ),
        GovernanceRow::Node(node) => conn
            .execute("INSERT INTO log_node (level, idx, hash) VALUES (?1, ?2, ?3)", params![node.level, node.index as i64, &node.hash[..]]),
        GovernanceRow::Head(head) => conn.execute(
            &format!("INSERT INTO tree_head ({TREE_HEAD_COLUMNS}) VALUES (?1, ?2, ?3, ?4)"),
            params![head.size as i64, &head.root[..], head.signed_at, head.signature],
        ),
        GovernanceRow::Consent(c) => conn.execute(
            &format!("INSERT INTO consent ({CONSENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
            params![c.consent_id, c.subject.0, c.lender, c.purpose, c.granted_at.to_string(), c.expires.to_string(), opt(c.revoked_at)],
        ),
        GovernanceRow::Inquiry(i) => conn.execute(
            &format!("INSERT INTO inquiry ({INQUIRY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"),
            params![i.subject.0, i.made_on.to_string(), i.lender, i.purpose, i.consent_id],
        ),
        GovernanceRow::Flag(f) => conn.execute(
            &format!("INSERT INTO file_flag ({FLAG_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
            params![f.flag_id, f.subject.0, f.kind.as_str(), f.starts.to_string(), f.ends.map(|d| d.to_string()), f.created_at.to_string()],
        ),
        GovernanceRow::Dispute(d) => conn.execute(
            &format!("INSERT INTO dispute ({DISPUTE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
            params![
                d.dispute_id,
                d.subject.0,
                d.furnisher,
                d.account,
                d.field,
                d.reason,
                d.opened_on.to_string(),
                d.deadline.to_string(),
                d.status.as_str(),
                opt(d.resolved_at),
                d.resolution
            ],
        ),
    }
    .map(drop)
    .map_err(map_err)
}

impl Governance for SqliteGovernance {
    fn migrate_governance(&self) -> StoreResult<()> {
        apply_migrations(&self.conn(), GOVERNANCE_MIGRATIONS)
    }

    fn insert_key(&self, key: &ApiKeyRow) -> StoreResult<()> {
        insert_row(&self.conn(), &GovernanceRow::Key(key.clone()))
    }

    fn key(&self, key_id: &str) -> StoreResult<Option<ApiKeyRow>> {
        self.row(&format!("SELECT {KEY_COLUMNS} FROM api_key WHERE key_id = ?1"), [key_id], |row| ApiKeyRow::read(row))
    }

    fn keys(&self) -> StoreResult<Vec<ApiKeyRow>> {
        self.rows(&format!("SELECT {KEY_COLUMNS} FROM api_key ORDER BY created_at, key_id"), [], |row| ApiKeyRow::read(row))
    }

    fn has_live_key(&self, role: PrincipalRole, name: &str) -> StoreResult<bool> {
        self.conn()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM api_key WHERE role = ?1 AND name = ?2 AND revoked_at IS NULL)",
                [role.as_str(), name],
                |r| r.get(0),
            )
            .map_err(map_err)
    }

    fn revoke_key(&self, key_id: &str, at: Timestamp) -> StoreResult<bool> {
        self.changed_one("UPDATE api_key SET revoked_at = ?2 WHERE key_id = ?1 AND revoked_at IS NULL", params![key_id, at.to_string()])
    }

    fn append_log(&self, build: &mut dyn FnMut(&LogTip) -> StoreResult<LogAppend>) -> StoreResult<LogAppend> {
        let conn = self.conn();
        in_immediate(&conn, || {
            let size: i64 = conn.query_row("SELECT coalesce(max(seq) + 1, 0) FROM access_log", [], |r| r.get(0)).map_err(map_err)?;
            let tip = LogTip { size: size as u64, frontier: nodes_on(&conn, &frontier_ids(size as u64))? };
            let append = build(&tip)?;
            for entry in &append.entries {
                insert_row(&conn, &GovernanceRow::Entry(entry.clone()))?;
            }
            for node in &append.nodes {
                insert_row(&conn, &GovernanceRow::Node(*node))?;
            }
            for head in &append.heads {
                insert_row(&conn, &GovernanceRow::Head(head.clone()))?;
            }
            Ok(append)
        })
    }

    fn log_nodes(&self, ids: &[(u32, u64)]) -> StoreResult<Vec<LogNode>> {
        nodes_on(&self.conn(), ids)
    }

    fn log_entry(&self, seq: u64) -> StoreResult<Option<LogEntryRow>> {
        self.row(&format!("SELECT {LOG_ENTRY_COLUMNS} FROM access_log WHERE seq = ?1"), [seq as i64], |row| LogEntryRow::read(row))
    }

    fn subject_log(&self, subject: SubjectKey) -> StoreResult<Vec<LogEntryRow>> {
        self.rows(&format!("SELECT {LOG_ENTRY_COLUMNS} FROM access_log WHERE subject_key = ?1 ORDER BY seq"), [subject.0], |row| {
            LogEntryRow::read(row)
        })
    }

    fn log_entries(&self, from: u64, limit: u32) -> StoreResult<Vec<LogEntryRow>> {
        self.rows(
            &format!("SELECT {LOG_ENTRY_COLUMNS} FROM access_log WHERE seq >= ?1 ORDER BY seq LIMIT ?2"),
            params![from as i64, limit],
            |row| LogEntryRow::read(row),
        )
    }

    fn tree_head(&self, size: Option<u64>) -> StoreResult<Option<TreeHeadRow>> {
        match size {
            Some(size) => {
                self.row(&format!("SELECT {TREE_HEAD_COLUMNS} FROM tree_head WHERE size = ?1"), [size as i64], |row| TreeHeadRow::read(row))
            }
            None => {
                self.row(&format!("SELECT {TREE_HEAD_COLUMNS} FROM tree_head ORDER BY size DESC LIMIT 1"), [], |row| TreeHeadRow::read(row))
            }
        }
    }

    fn tree_heads(&self) -> StoreResult<Vec<TreeHeadRow>> {
        self.rows(&format!("SELECT {TREE_HEAD_COLUMNS} FROM tree_head ORDER BY size"), [], |row| TreeHeadRow::read(row))
    }

    fn insert_consent(&self, consent: &ConsentRow) -> StoreResult<()> {
        insert_row(&self.conn(), &GovernanceRow::Consent(consent.clone()))
    }

    fn consent(&self, subject: SubjectKey, consent_id: &str) -> StoreResult<Option<ConsentRow>> {
        self.row(
            &format!("SELECT {CONSENT_COLUMNS} FROM consent WHERE subject_key = ?1 AND consent_id = ?2"),
            params![subject.0, consent_id],
            |row| ConsentRow::read(row),
        )
    }

    fn consents(&self, subject: SubjectKey) -> StoreResult<Vec<ConsentRow>> {
        self.rows(
            &format!("SELECT {CONSENT_COLUMNS} FROM consent WHERE subject_key = ?1 ORDER BY granted_at, consent_id"),
            params![subject.0],
            |row| ConsentRow::read(row),
        )
    }

    fn revoke_consent(&self, subject: SubjectKey, consent_id: &str, at: Timestamp) -> StoreResult<bool> {
        self.changed_one(
            "UPDATE consent SET revoked_at = ?3 WHERE subject_key = ?1 AND consent_id = ?2 AND revoked_at IS NULL",
            params![subject.0, consent_id, at.to_string()],
        )
    }

    fn insert_inquiry(&self, inquiry: &InquiryRow) -> StoreResult<()> {
        insert_row(&self.conn(), &GovernanceRow::Inquiry(inquiry.clone()))
    }

    fn inquiries(&self, subject: SubjectKey) -> StoreResult<Vec<InquiryRow>> {
        self.rows(&format!("SELECT {INQUIRY_COLUMNS} FROM inquiry WHERE subject_key = ?1 ORDER BY inquiry_id"), params![subject.0], |row| {
            InquiryRow::read(row)
        })
    }

    fn insert_flag(&self, flag: &FlagRow) -> StoreResult<()> {
        insert_row(&self.conn(), &GovernanceRow::Flag(flag.clone()))
    }

    fn flags(&self, subject: SubjectKey) -> StoreResult<Vec<FlagRow>> {
        self.rows(
            &format!("SELECT {FLAG_COLUMNS} FROM file_flag WHERE subject_key = ?1 ORDER BY created_at, flag_id"),
            params![subject.0],
            |row| FlagRow::read(row),
        )
    }

    fn end_flag(&self, subject: SubjectKey, flag_id: &str, ends: Date) -> StoreResult<bool> {
        self.changed_one(
            "UPDATE file_flag SET ends = ?3 WHERE subject_key = ?1 AND flag_id = ?2 AND (ends IS NULL OR ends > ?3)",
            params![subject.0, flag_id, ends.to_string()],
        )
    }

    fn insert_dispute(&self, dispute: &DisputeRow) -> StoreResult<()> {
        insert_row(&self.conn(), &GovernanceRow::Dispute(dispute.clone()))
    }

    fn subject_disputes(&self, subject: SubjectKey) -> StoreResult<Vec<DisputeRow>> {
        self.rows(
            &format!("SELECT {DISPUTE_COLUMNS} FROM dispute WHERE subject_key = ?1 ORDER BY opened_on, dispute_id"),
            params![subject.0],
            |row| DisputeRow::read(row),
        )
    }

    fn furnisher_disputes(&self, furnisher: &str, open_only: bool) -> StoreResult<Vec<DisputeRow>> {
        self.rows(
            &format!(
                "SELECT {DISPUTE_COLUMNS} FROM dispute WHERE furnisher = ?1 AND (status = 'open' OR NOT ?2) ORDER BY opened_on, dispute_id"
            ),
            params![furnisher, open_only],
            |row| DisputeRow::read(row),
        )
    }

    fn resolve_dispute(&self, furnisher: &str, dispute_id: &str, answer: &DisputeAnswer<'_>) -> StoreResult<bool> {
        self.changed_one(
            "UPDATE dispute SET status = ?3, resolved_at = ?4, resolution = ?5 WHERE furnisher = ?1 AND dispute_id = ?2 AND status = 'open'",
            params![furnisher, dispute_id, answer.status.as_str(), answer.at.to_string(), answer.note],
        )
    }
}

impl SqliteGovernance {
    /// Every row of every governance table, table by table, in key order.
    pub fn dump(&self, each: &mut dyn FnMut(GovernanceRow) -> StoreResult<()>) -> StoreResult<()> {
        for key in self.keys()? {
            each(GovernanceRow::Key(key))?;
        }
        let mut from = 0;
        loop {
            let page = self.log_entries(from, 4096)?;
            let Some(last) = page.last() else { break };
            from = last.seq + 1;
            for entry in page {
                each(GovernanceRow::Entry(entry))?;
            }
        }
        let nodes = self.rows("SELECT level, idx, hash FROM log_node ORDER BY level, idx", [], |row: &Row<'_>| {
            Ok(LogNode { level: row.int(0)? as u32, index: row.int(1)? as u64, hash: hash_from(row.bytes(2)?, "a log node")? })
        })?;
        for node in nodes {
            each(GovernanceRow::Node(node))?;
        }
        for head in self.tree_heads()? {
            each(GovernanceRow::Head(head))?;
        }
        for consent in
            self.rows(&format!("SELECT {CONSENT_COLUMNS} FROM consent ORDER BY subject_key, consent_id"), [], |row| ConsentRow::read(row))?
        {
            each(GovernanceRow::Consent(consent))?;
        }
        for inquiry in self.rows(&format!("SELECT {INQUIRY_COLUMNS} FROM inquiry ORDER BY inquiry_id"), [], |row| InquiryRow::read(row))? {
            each(GovernanceRow::Inquiry(inquiry))?;
        }
        for flag in
            self.rows(&format!("SELECT {FLAG_COLUMNS} FROM file_flag ORDER BY subject_key, flag_id"), [], |row| FlagRow::read(row))?
        {
            each(GovernanceRow::Flag(flag))?;
        }
        for dispute in
            self.rows(&format!("SELECT {DISPUTE_COLUMNS} FROM dispute ORDER BY subject_key, dispute_id"), [], |row| DisputeRow::read(row))?
        {
            each(GovernanceRow::Dispute(dispute))?;
        }
        Ok(())
    }
}

fn nodes_on(conn: &Connection, ids: &[(u32, u64)]) -> StoreResult<Vec<LogNode>> {
    let mut statement = conn.prepare_cached("SELECT hash FROM log_node WHERE level = ?1 AND idx = ?2").map_err(map_err)?;
    let mut nodes = Vec::with_capacity(ids.len());
    for &(level, index) in ids {
        let hash: Option<Vec<u8>> = statement.query_row(params![level, index as i64], |r| r.get(0)).optional().map_err(map_err)?;
        if let Some(hash) = hash {
            nodes.push(LogNode { level, index, hash: hash_from(hash, "a log node")? });
        }
    }
    Ok(nodes)
}
