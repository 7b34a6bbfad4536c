//! The `Governance` tables on the embedded store: a file of their own beside the registry's
//! (`governance.db`), because SQLite has one writer per file and a report's access-log entry
//! must not wait for an hour-long submission.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use registry_core::report::SubjectKey;
use rusqlite::{Connection, OptionalExtension, params};

use super::connection::{apply_migrations, in_immediate, map_err};
use crate::governance::{
    ApiKeyRow, CONSENT_COLUMNS, ConsentRow, DISPUTE_COLUMNS, DisputeRow, FLAG_COLUMNS, FlagRow, Governance, GovernanceRow, INQUIRY_COLUMNS,
    InquiryRow, LogAppend, LogEntryRow, LogNode, LogTip, TreeHeadRow, frontier_ids, hash_from,
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
}

fn key_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(ApiKeyRow, Vec<u8>)> {
    Ok((
        ApiKeyRow {
            key_id: row.get(0)?,
            name: row.get(1)?,
            role: row.get(2)?,
            subject: row.get::<_, Option<i64>>(3)?.map(SubjectKey),
            secret_sha256: [0; 32],
            created_at: row.get(5)?,
            revoked_at: row.get(6)?,
        },
        row.get(4)?,
    ))
}

fn with_secret((mut key, secret): (ApiKeyRow, Vec<u8>)) -> StoreResult<ApiKeyRow> {
    key.secret_sha256 = hash_from(secret, "a key's secret hash")?;
    Ok(key)
}

const KEY_COLUMNS: &str = "key_id, name, role, subject_key, secret_sha256, created_at, revoked_at";

fn entry_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<LogEntryRow> {
    Ok(LogEntryRow { seq: row.get::<_, i64>(0)? as u64, subject: row.get::<_, Option<i64>>(1)?.map(SubjectKey), entry: row.get(2)? })
}

fn head_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(u64, Vec<u8>, String, Vec<u8>)> {
    Ok((row.get::<_, i64>(0)? as u64, row.get(1)?, row.get(2)?, row.get(3)?))
}

fn head_from((size, root, signed_at, signature): (u64, Vec<u8>, String, Vec<u8>)) -> StoreResult<TreeHeadRow> {
    Ok(TreeHeadRow { size, root: hash_from(root, "a tree head's root")?, signed_at, signature })
}

impl Governance for SqliteGovernance {
    fn migrate_governance(&self) -> StoreResult<()> {
        apply_migrations(&self.conn(), GOVERNANCE_MIGRATIONS)
    }

    fn insert_key(&self, key: &ApiKeyRow) -> StoreResult<()> {
        self.conn()
            .execute(
                &format!("INSERT INTO api_key ({KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
                params![key.key_id, key.name, key.role, key.subject.map(|s| s.0), &key.secret_sha256[..], key.created_at, key.revoked_at],
            )
            .map_err(map_err)?;
        Ok(())
    }

    fn key(&self, key_id: &str) -> StoreResult<Option<ApiKeyRow>> {
        self.conn()
            .query_row(&format!("SELECT {KEY_COLUMNS} FROM api_key WHERE key_id = ?1"), [key_id], key_from_row)
            .optional()
            .map_err(map_err)?
            .map(with_secret)
            .transpose()
    }

    fn keys(&self) -> StoreResult<Vec<ApiKeyRow>> {
        let conn = self.conn();
        let mut statement = conn.prepare(&format!("SELECT {KEY_COLUMNS} FROM api_key ORDER BY created_at, key_id")).map_err(map_err)?;
        let rows = statement.query_map([], key_from_row).map_err(map_err)?;
        rows.map(|row| row.map_err(map_err).and_then(with_secret)).collect()
    }

    fn has_live_key(&self, role: &str, name: &str) -> StoreResult<bool> {
        self.conn()
            .query_row("SELECT EXISTS (SELECT 1 FROM api_key WHERE role = ?1 AND name = ?2 AND revoked_at IS NULL)", [role, name], |r| {
                r.get(0)
            })
            .map_err(map_err)
    }

    fn revoke_key(&self, key_id: &str, at: &str) -> StoreResult<bool> {
        let changed = self
            .conn()
            .execute("UPDATE api_key SET revoked_at = ?2 WHERE key_id = ?1 AND revoked_at IS NULL", [key_id, at])
            .map_err(map_err)?;
        Ok(changed == 1)
    }

    fn append_log(&self, build: &mut dyn FnMut(&LogTip) -> StoreResult<LogAppend>) -> StoreResult<LogAppend> {
        let conn = self.conn();
        in_immediate(&conn, || {
            let size: i64 = conn.query_row("SELECT coalesce(max(seq) + 1, 0) FROM access_log", [], |r| r.get(0)).map_err(map_err)?;
            let tip = LogTip { size: size as u64, frontier: nodes_on(&conn, &frontier_ids(size as u64))? };
            let append = build(&tip)?;
            conn.execute(
                "INSERT INTO access_log (seq, subject_key, entry) VALUES (?1, ?2, ?3)",
                params![append.entry.seq as i64, append.entry.subject.map(|s| s.0), append.entry.entry],
            )
            .map_err(map_err)?;
            for node in &append.nodes {
                conn.execute(
                    "INSERT INTO log_node (level, idx, hash) VALUES (?1, ?2, ?3)",
                    params![node.level, node.index as i64, &node.hash[..]],
                )
                .map_err(map_err)?;
            }
            let head = &append.head;
            conn.execute(
                "INSERT INTO tree_head (size, root, signed_at, signature) VALUES (?1, ?2, ?3, ?4)",
                params![head.size as i64, &head.root[..], head.signed_at, head.signature],
            )
            .map_err(map_err)?;
            Ok(append)
        })
    }

    fn log_nodes(&self, ids: &[(u32, u64)]) -> StoreResult<Vec<LogNode>> {
        nodes_on(&self.conn(), ids)
    }

    fn log_entry(&self, seq: u64) -> StoreResult<Option<LogEntryRow>> {
        self.conn()
            .query_row("SELECT seq, subject_key, entry FROM access_log WHERE seq = ?1", [seq as i64], entry_from_row)
            .optional()
            .map_err(map_err)
    }

    fn subject_log(&self, subject: SubjectKey) -> StoreResult<Vec<LogEntryRow>> {
        let conn = self.conn();
        let mut statement =
            conn.prepare("SELECT seq, subject_key, entry FROM access_log WHERE subject_key = ?1 ORDER BY seq").map_err(map_err)?;
        let rows = statement.query_map([subject.0], entry_from_row).map_err(map_err)?;
        rows.map(|row| row.map_err(map_err)).collect()
    }

    fn log_entries(&self, from: u64, limit: u32) -> StoreResult<Vec<LogEntryRow>> {
        self.rows(
            "SELECT seq, subject_key, entry FROM access_log WHERE seq >= ?1 ORDER BY seq LIMIT ?2",
            params![from as i64, limit],
            entry_from_row,
        )
    }

    fn tree_head(&self, size: Option<u64>) -> StoreResult<Option<TreeHeadRow>> {
        let conn = self.conn();
        let row = match size {
            Some(size) => conn
                .query_row("SELECT size, root, signed_at, signature FROM tree_head WHERE size = ?1", [size as i64], head_from_row)
                .optional(),
            None => conn
                .query_row("SELECT size, root, signed_at, signature FROM tree_head ORDER BY size DESC LIMIT 1", [], head_from_row)
                .optional(),
        };
        row.map_err(map_err)?.map(head_from).transpose()
    }

    fn tree_heads(&self) -> StoreResult<Vec<TreeHeadRow>> {
        let conn = self.conn();
        let mut statement = conn.prepare("SELECT size, root, signed_at, signature FROM tree_head ORDER BY size").map_err(map_err)?;
        let rows = statement.query_map([], head_from_row).map_err(map_err)?;
        rows.map(|row| row.map_err(map_err).and_then(head_from)).collect()
    }

    fn insert_consent(&self, c: &ConsentRow) -> StoreResult<()> {
        self.conn()
            .execute(
                &format!("INSERT INTO consent ({CONSENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
                params![c.consent_id, c.subject.0, c.lender, c.purpose, c.granted_at, c.expires, c.revoked_at],
            )
            .map_err(map_err)?;
        Ok(())
    }

    fn consent(&self, subject: SubjectKey, consent_id: &str) -> StoreResult<Option<ConsentRow>> {
        self.conn()
            .query_row(
                &format!("SELECT {CONSENT_COLUMNS} FROM consent WHERE subject_key = ?1 AND consent_id = ?2"),
                params![subject.0, consent_id],
                consent_from_row,
            )
            .optional()
            .map_err(map_err)
    }

    fn consents(&self, subject: SubjectKey) -> StoreResult<Vec<ConsentRow>> {
        self.rows(
            &format!("SELECT {CONSENT_COLUMNS} FROM consent WHERE subject_key = ?1 ORDER BY granted_at, consent_id"),
            params![subject.0],
            consent_from_row,
        )
    }

    fn revoke_consent(&self, subject: SubjectKey, consent_id: &str, at: &str) -> StoreResult<bool> {
        let changed = self
            .conn()
            .execute(
                "UPDATE consent SET revoked_at = ?3 WHERE subject_key = ?1 AND consent_id = ?2 AND revoked_at IS NULL",
                params![subject.0, consent_id, at],
            )
            .map_err(map_err)?;
        Ok(changed == 1)
    }

    fn insert_inquiry(&self, i: &InquiryRow) -> StoreResult<()> {
        self.conn()
            .execute(
                &format!("INSERT INTO inquiry ({INQUIRY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"),
                params![i.subject.0, i.made_on, i.lender, i.purpose, i.consent_id],
            )
            .map_err(map_err)?;
        Ok(())
    }

    fn inquiries(&self, subject: SubjectKey) -> StoreResult<Vec<InquiryRow>> {
        self.rows(
            &format!("SELECT {INQUIRY_COLUMNS} FROM inquiry WHERE subject_key = ?1 ORDER BY inquiry_id"),
            params![subject.0],
            inquiry_from_row,
        )
    }

    fn insert_flag(&self, f: &FlagRow) -> StoreResult<()> {
        self.conn()
            .execute(
                &format!("INSERT INTO file_flag ({FLAG_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                params![f.flag_id, f.subject.0, f.kind, f.starts, f.ends, f.created_at],
            )
            .map_err(map_err)?;
        Ok(())
    }

    fn flags(&self, subject: SubjectKey) -> StoreResult<Vec<FlagRow>> {
        self.rows(
            &format!("SELECT {FLAG_COLUMNS} FROM file_flag WHERE subject_key = ?1 ORDER BY created_at, flag_id"),
            params![subject.0],
            flag_from_row,
        )
    }

    fn end_flag(&self, subject: SubjectKey, flag_id: &str, ends: &str) -> StoreResult<bool> {
        let changed = self
            .conn()
            .execute(
                "UPDATE file_flag SET ends = ?3 WHERE subject_key = ?1 AND flag_id = ?2 AND (ends IS NULL OR ends > ?3)",
                params![subject.0, flag_id, ends],
            )
            .map_err(map_err)?;
        Ok(changed == 1)
    }

    fn insert_dispute(&self, d: &DisputeRow) -> StoreResult<()> {
        self.conn()
            .execute(
                &format!("INSERT INTO dispute ({DISPUTE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
                params![
                    d.dispute_id,
                    d.subject.0,
                    d.furnisher,
                    d.account,
                    d.field,
                    d.reason,
                    d.opened_on,
                    d.deadline,
                    d.status,
                    d.resolved_at,
                    d.resolution
                ],
            )
            .map_err(map_err)?;
        Ok(())
    }

    fn subject_disputes(&self, subject: SubjectKey) -> StoreResult<Vec<DisputeRow>> {
        self.rows(
            &format!("SELECT {DISPUTE_COLUMNS} FROM dispute WHERE subject_key = ?1 ORDER BY opened_on, dispute_id"),
            params![subject.0],
            dispute_from_row,
        )
    }

    fn furnisher_disputes(&self, furnisher: &str, open_only: bool) -> StoreResult<Vec<DisputeRow>> {
        self.rows(
            &format!(
                "SELECT {DISPUTE_COLUMNS} FROM dispute WHERE furnisher = ?1 AND (status = 'open' OR NOT ?2) ORDER BY opened_on, dispute_id"
            ),
            params![furnisher, open_only],
            dispute_from_row,
        )
    }

    fn resolve_dispute(&self, furnisher: &str, dispute_id: &str, status: &str, at: &str, resolution: &str) -> StoreResult<bool> {
        let changed = self
            .conn()
            .execute(
                "UPDATE dispute SET status = ?3, resolved_at = ?4, resolution = ?5 WHERE furnisher = ?1 AND dispute_id = ?2 AND status = 'open'",
                params![furnisher, dispute_id, status, at, resolution],
            )
            .map_err(map_err)?;
        Ok(changed == 1)
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
        let nodes = self.rows("SELECT level, idx, hash FROM log_node ORDER BY level, idx", [], |row| {
            Ok((row.get::<_, u32>(0)?, row.get::<_, i64>(1)?, row.get::<_, Vec<u8>>(2)?))
        })?;
        for (level, index, hash) in nodes {
            each(GovernanceRow::Node(LogNode { level, index: index as u64, hash: hash_from(hash, "a log node")? }))?;
        }
        for head in self.tree_heads()? {
            each(GovernanceRow::Head(head))?;
        }
        for consent in
            self.rows(&format!("SELECT {CONSENT_COLUMNS} FROM consent ORDER BY subject_key, consent_id"), [], consent_from_row)?
        {
            each(GovernanceRow::Consent(consent))?;
        }
        let inquiries = self.rows(&format!("SELECT {INQUIRY_COLUMNS} FROM inquiry ORDER BY inquiry_id"), [], inquiry_from_row)?;
        for inquiry in inquiries {
            each(GovernanceRow::Inquiry(inquiry))?;
        }
        let flags = self.rows(&format!("SELECT {FLAG_COLUMNS} FROM file_flag ORDER BY subject_key, flag_id"), [], flag_from_row)?;
        for flag in flags {
            each(GovernanceRow::Flag(flag))?;
        }
        for dispute in
            self.rows(&format!("SELECT {DISPUTE_COLUMNS} FROM dispute ORDER BY subject_key, dispute_id"), [], dispute_from_row)?
        {
            each(GovernanceRow::Dispute(dispute))?;
        }
        Ok(())
    }

    fn rows<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached(sql).map_err(map_err)?;
        let rows = statement.query_map(params, map).map_err(map_err)?;
        rows.map(|row| row.map_err(map_err)).collect()
    }
}

fn consent_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ConsentRow> {
    Ok(ConsentRow {
        consent_id: row.get(0)?,
        subject: SubjectKey(row.get(1)?),
        lender: row.get(2)?,
        purpose: row.get(3)?,
        granted_at: row.get(4)?,
        expires: row.get(5)?,
        revoked_at: row.get(6)?,
    })
}

fn inquiry_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<InquiryRow> {
    Ok(InquiryRow {
        subject: SubjectKey(row.get(0)?),
        made_on: row.get(1)?,
        lender: row.get(2)?,
        purpose: row.get(3)?,
        consent_id: row.get(4)?,
    })
}

fn flag_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<FlagRow> {
    Ok(FlagRow {
        flag_id: row.get(0)?,
        subject: SubjectKey(row.get(1)?),
        kind: row.get(2)?,
        starts: row.get(3)?,
        ends: row.get(4)?,
        created_at: row.get(5)?,
    })
}

fn dispute_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<DisputeRow> {
    Ok(DisputeRow {
        dispute_id: row.get(0)?,
        subject: SubjectKey(row.get(1)?),
        furnisher: row.get(2)?,
        account: row.get(3)?,
        field: row.get(4)?,
        reason: row.get(5)?,
        opened_on: row.get(6)?,
        deadline: row.get(7)?,
        status: row.get(8)?,
        resolved_at: row.get(9)?,
        resolution: row.get(10)?,
    })
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
