//! The `Governance` tables on PostgreSQL, in the registry's own database
//! (`migrations/postgres/0002_governance.sql`).

use postgres::Row;
use registry_core::report::SubjectKey;

use super::connection::{Connection, LOG_LOCK, PostgresStore, in_transaction, map_err};
use crate::StoreResult;
use crate::governance::{
    ApiKeyRow, CONSENT_COLUMNS, ConsentRow, DISPUTE_COLUMNS, DisputeRow, FLAG_COLUMNS, FlagRow, Governance, GovernanceRow, INQUIRY_COLUMNS,
    InquiryRow, LogAppend, LogEntryRow, LogNode, LogTip, TreeHeadRow, frontier_ids, hash_from,
};

const KEY_COLUMNS: &str = "key_id, name, role, subject_key, secret_sha256, created_at, revoked_at";

fn key_from_row(row: &Row) -> StoreResult<ApiKeyRow> {
    Ok(ApiKeyRow {
        key_id: row.try_get(0).map_err(map_err)?,
        name: row.try_get(1).map_err(map_err)?,
        role: row.try_get(2).map_err(map_err)?,
        subject: row.try_get::<_, Option<i64>>(3).map_err(map_err)?.map(SubjectKey),
        secret_sha256: hash_from(row.try_get(4).map_err(map_err)?, "a key's secret hash")?,
        created_at: row.try_get(5).map_err(map_err)?,
        revoked_at: row.try_get(6).map_err(map_err)?,
    })
}

fn entry_from_row(row: &Row) -> StoreResult<LogEntryRow> {
    Ok(LogEntryRow {
        seq: row.try_get::<_, i64>(0).map_err(map_err)? as u64,
        subject: row.try_get::<_, Option<i64>>(1).map_err(map_err)?.map(SubjectKey),
        entry: row.try_get(2).map_err(map_err)?,
    })
}

fn head_from_row(row: &Row) -> StoreResult<TreeHeadRow> {
    Ok(TreeHeadRow {
        size: row.try_get::<_, i64>(0).map_err(map_err)? as u64,
        root: hash_from(row.try_get(1).map_err(map_err)?, "a tree head's root")?,
        signed_at: row.try_get(2).map_err(map_err)?,
        signature: row.try_get(3).map_err(map_err)?,
    })
}

fn text(row: &Row, index: usize) -> StoreResult<String> {
    row.try_get(index).map_err(map_err)
}

fn maybe_text(row: &Row, index: usize) -> StoreResult<Option<String>> {
    row.try_get(index).map_err(map_err)
}

fn subject_of(row: &Row, index: usize) -> StoreResult<SubjectKey> {
    Ok(SubjectKey(row.try_get(index).map_err(map_err)?))
}

fn consent_from_row(row: &Row) -> StoreResult<ConsentRow> {
    Ok(ConsentRow {
        consent_id: text(row, 0)?,
        subject: subject_of(row, 1)?,
        lender: text(row, 2)?,
        purpose: text(row, 3)?,
        granted_at: text(row, 4)?,
        expires: text(row, 5)?,
        revoked_at: maybe_text(row, 6)?,
    })
}

fn dispute_from_row(row: &Row) -> StoreResult<DisputeRow> {
    Ok(DisputeRow {
        dispute_id: text(row, 0)?,
        subject: subject_of(row, 1)?,
        furnisher: text(row, 2)?,
        account: text(row, 3)?,
        field: maybe_text(row, 4)?,
        reason: text(row, 5)?,
        opened_on: text(row, 6)?,
        deadline: text(row, 7)?,
        status: text(row, 8)?,
        resolved_at: maybe_text(row, 9)?,
        resolution: maybe_text(row, 10)?,
    })
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

impl Governance for PostgresStore {
    fn migrate_governance(&self) -> StoreResult<()> {
        // One schema for the registry and its governance tables: the store's migrations.
        crate::Store::migrate(self)
    }

    fn insert_key(&self, key: &ApiKeyRow) -> StoreResult<()> {
        insert_row(&mut *self.connection()?, &GovernanceRow::Key(key.clone()))
    }

    fn key(&self, key_id: &str) -> StoreResult<Option<ApiKeyRow>> {
        self.read(|conn| {
            conn.prepared_query_opt(&format!("SELECT {KEY_COLUMNS} FROM api_key WHERE key_id = $1"), &[&key_id])?
                .as_ref()
                .map(key_from_row)
                .transpose()
        })
    }

    fn keys(&self) -> StoreResult<Vec<ApiKeyRow>> {
        self.read(|conn| {
            conn.prepared_query(&format!("SELECT {KEY_COLUMNS} FROM api_key ORDER BY created_at, key_id"), &[])?
                .iter()
                .map(key_from_row)
                .collect()
        })
    }

    fn has_live_key(&self, role: &str, name: &str) -> StoreResult<bool> {
        self.read(|conn| {
            conn.prepared_query(
                "SELECT EXISTS (SELECT 1 FROM api_key WHERE role = $1 AND name = $2 AND revoked_at IS NULL)",
                &[&role, &name],
            )?[0]
                .try_get(0)
                .map_err(map_err)
        })
    }

    fn revoke_key(&self, key_id: &str, at: &str) -> StoreResult<bool> {
        let mut conn = self.connection()?;
        let changed =
            conn.prepared_execute("UPDATE api_key SET revoked_at = $2 WHERE key_id = $1 AND revoked_at IS NULL", &[&key_id, &at])?;
        Ok(changed == 1)
    }

    fn append_log(&self, build: &mut dyn FnMut(&LogTip) -> StoreResult<LogAppend>) -> StoreResult<LogAppend> {
        let mut conn = self.connection()?;
        in_transaction(&mut conn, "BEGIN", |conn| {
            conn.prepared_execute("SELECT pg_advisory_xact_lock($1)", &[&LOG_LOCK])?;
            let size: i64 = conn.prepared_query("SELECT coalesce(max(seq) + 1, 0) FROM access_log", &[])?[0].try_get(0).map_err(map_err)?;
            let mut frontier = nodes_on(conn, &frontier_ids(size as u64))?;
            frontier.sort_by_key(|node| std::cmp::Reverse(node.level));
            let append = build(&LogTip { size: size as u64, frontier })?;
            insert_row(conn, &GovernanceRow::Entry(append.entry.clone()))?;
            for node in &append.nodes {
                insert_row(conn, &GovernanceRow::Node(*node))?;
            }
            insert_row(conn, &GovernanceRow::Head(append.head.clone()))?;
            Ok(append)
        })
    }

    fn log_nodes(&self, ids: &[(u32, u64)]) -> StoreResult<Vec<LogNode>> {
        self.read(|conn| nodes_on(conn, ids))
    }

    fn log_entry(&self, seq: u64) -> StoreResult<Option<LogEntryRow>> {
        self.read(|conn| {
            conn.prepared_query_opt("SELECT seq, subject_key, entry FROM access_log WHERE seq = $1", &[&(seq as i64)])?
                .as_ref()
                .map(entry_from_row)
                .transpose()
        })
    }

    fn subject_log(&self, subject: SubjectKey) -> StoreResult<Vec<LogEntryRow>> {
        self.read(|conn| {
            conn.prepared_query("SELECT seq, subject_key, entry FROM access_log WHERE subject_key = $1 ORDER BY seq", &[&subject.0])?
                .iter()
                .map(entry_from_row)
                .collect()
        })
    }

    fn log_entries(&self, from: u64, limit: u32) -> StoreResult<Vec<LogEntryRow>> {
        self.read(|conn| {
            conn.prepared_query(
                "SELECT seq, subject_key, entry FROM access_log WHERE seq >= $1 ORDER BY seq LIMIT $2",
                &[&(from as i64), &i64::from(limit)],
            )?
            .iter()
            .map(entry_from_row)
            .collect()
        })
    }

    fn tree_head(&self, size: Option<u64>) -> StoreResult<Option<TreeHeadRow>> {
        self.read(|conn| {
            let row = match size {
                Some(size) => {
                    conn.prepared_query_opt("SELECT size, root, signed_at, signature FROM tree_head WHERE size = $1", &[&(size as i64)])?
                }
                None => {
                    conn.prepared_query_opt("SELECT size, root, signed_at, signature FROM tree_head ORDER BY size DESC LIMIT 1", &[])?
                }
            };
            row.as_ref().map(head_from_row).transpose()
        })
    }

    fn tree_heads(&self) -> StoreResult<Vec<TreeHeadRow>> {
        self.read(|conn| {
            conn.prepared_query("SELECT size, root, signed_at, signature FROM tree_head ORDER BY size", &[])?
                .iter()
                .map(head_from_row)
                .collect()
        })
    }

    fn insert_consent(&self, c: &ConsentRow) -> StoreResult<()> {
        insert_row(&mut *self.connection()?, &GovernanceRow::Consent(c.clone()))
    }

    fn consent(&self, subject: SubjectKey, consent_id: &str) -> StoreResult<Option<ConsentRow>> {
        self.read(|conn| {
            conn.prepared_query_opt(
                &format!("SELECT {CONSENT_COLUMNS} FROM consent WHERE subject_key = $1 AND consent_id = $2"),
                &[&subject.0, &consent_id],
            )?
            .as_ref()
            .map(consent_from_row)
            .transpose()
        })
    }

    fn consents(&self, subject: SubjectKey) -> StoreResult<Vec<ConsentRow>> {
        self.read(|conn| {
            conn.prepared_query(
                &format!("SELECT {CONSENT_COLUMNS} FROM consent WHERE subject_key = $1 ORDER BY granted_at, consent_id"),
                &[&subject.0],
            )?
            .iter()
            .map(consent_from_row)
            .collect()
        })
    }

    fn revoke_consent(&self, subject: SubjectKey, consent_id: &str, at: &str) -> StoreResult<bool> {
        let changed = self.connection()?.prepared_execute(
            "UPDATE consent SET revoked_at = $3 WHERE subject_key = $1 AND consent_id = $2 AND revoked_at IS NULL",
            &[&subject.0, &consent_id, &at],
        )?;
        Ok(changed == 1)
    }

    fn insert_inquiry(&self, i: &InquiryRow) -> StoreResult<()> {
        insert_row(&mut *self.connection()?, &GovernanceRow::Inquiry(i.clone()))
    }

    fn inquiries(&self, subject: SubjectKey) -> StoreResult<Vec<InquiryRow>> {
        self.read(|conn| {
            conn.prepared_query(
                &format!("SELECT {INQUIRY_COLUMNS} FROM inquiry WHERE subject_key = $1 ORDER BY inquiry_id"),
                &[&subject.0],
            )?
            .iter()
            .map(|row| {
                Ok(InquiryRow {
                    subject: subject_of(row, 0)?,
                    made_on: text(row, 1)?,
                    lender: text(row, 2)?,
                    purpose: text(row, 3)?,
                    consent_id: text(row, 4)?,
                })
            })
            .collect()
        })
    }

    fn insert_flag(&self, f: &FlagRow) -> StoreResult<()> {
        insert_row(&mut *self.connection()?, &GovernanceRow::Flag(f.clone()))
    }

    fn flags(&self, subject: SubjectKey) -> StoreResult<Vec<FlagRow>> {
        self.read(|conn| {
            conn.prepared_query(
                &format!("SELECT {FLAG_COLUMNS} FROM file_flag WHERE subject_key = $1 ORDER BY created_at, flag_id"),
                &[&subject.0],
            )?
            .iter()
            .map(|row| {
                Ok(FlagRow {
                    flag_id: text(row, 0)?,
                    subject: subject_of(row, 1)?,
                    kind: text(row, 2)?,
                    starts: text(row, 3)?,
                    ends: maybe_text(row, 4)?,
                    created_at: text(row, 5)?,
                })
            })
            .collect()
        })
    }

    fn end_flag(&self, subject: SubjectKey, flag_id: &str, ends: &str) -> StoreResult<bool> {
        let changed = self.connection()?.prepared_execute(
            "UPDATE file_flag SET ends = $3 WHERE subject_key = $1 AND flag_id = $2 AND (ends IS NULL OR ends > $3)",
            &[&subject.0, &flag_id, &ends],
        )?;
        Ok(changed == 1)
    }

    fn insert_dispute(&self, d: &DisputeRow) -> StoreResult<()> {
        insert_row(&mut *self.connection()?, &GovernanceRow::Dispute(d.clone()))
    }

    fn subject_disputes(&self, subject: SubjectKey) -> StoreResult<Vec<DisputeRow>> {
        self.read(|conn| {
            conn.prepared_query(
                &format!("SELECT {DISPUTE_COLUMNS} FROM dispute WHERE subject_key = $1 ORDER BY opened_on, dispute_id"),
                &[&subject.0],
            )?
            .iter()
            .map(dispute_from_row)
            .collect()
        })
    }

    fn furnisher_disputes(&self, furnisher: &str, open_only: bool) -> StoreResult<Vec<DisputeRow>> {
        self.read(|conn| {
            conn.prepared_query(
                &format!("SELECT {DISPUTE_COLUMNS} FROM dispute WHERE furnisher = $1 AND (status = 'open' OR NOT $2) ORDER BY opened_on, dispute_id"),
                &[&furnisher, &open_only],
            )?
            .iter()
            .map(dispute_from_row)
            .collect()
        })
    }

    fn resolve_dispute(&self, furnisher: &str, dispute_id: &str, status: &str, at: &str, resolution: &str) -> StoreResult<bool> {
        let changed = self.connection()?.prepared_execute(
            "UPDATE dispute SET status = $3, resolved_at = $4, resolution = $5 WHERE furnisher = $1 AND dispute_id = $2 AND status = 'open'",
            &[&furnisher, &dispute_id, &status, &at, &resolution],
        )?;
        Ok(changed == 1)
    }
}

/// Inserts one governance row: the live writes and `copy` (inside the load's transaction) alike.
pub(super) fn insert_row(conn: &mut Connection, row: &GovernanceRow) -> StoreResult<()> {
    match row {
        GovernanceRow::Key(key) => conn.prepared_execute(
            &format!("INSERT INTO api_key ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
            &[&key.key_id, &key.name, &key.role, &key.subject.map(|s| s.0), &&key.secret_sha256[..], &key.created_at, &key.revoked_at],
        ),
        GovernanceRow::Entry(entry) => conn.prepared_execute(
            "INSERT INTO access_log (seq, subject_key, entry) VALUES ($1, $2, $3)",
            &[&(entry.seq as i64), &entry.subject.map(|s| s.0), &entry.entry],
        ),
        GovernanceRow::Node(node) => conn.prepared_execute(
            "INSERT INTO log_node (level, idx, hash) VALUES ($1, $2, $3)",
            &[&(node.level as i32), &(node.index as i64), &&node.hash[..]],
        ),
        GovernanceRow::Head(head) => conn.prepared_execute(
            "INSERT INTO tree_head (size, root, signed_at, signature) VALUES ($1, $2, $3, $4)",
            &[&(head.size as i64), &&head.root[..], &head.signed_at, &head.signature],
        ),
        GovernanceRow::Consent(c) => conn.prepared_execute(
            &format!("INSERT INTO consent ({CONSENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
            &[&c.consent_id, &c.subject.0, &c.lender, &c.purpose, &c.granted_at, &c.expires, &c.revoked_at],
        ),
        GovernanceRow::Inquiry(i) => conn.prepared_execute(
            &format!("INSERT INTO inquiry ({INQUIRY_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"),
            &[&i.subject.0, &i.made_on, &i.lender, &i.purpose, &i.consent_id],
        ),
        GovernanceRow::Flag(f) => conn.prepared_execute(
            &format!("INSERT INTO file_flag ({FLAG_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
            &[&f.flag_id, &f.subject.0, &f.kind, &f.starts, &f.ends, &f.created_at],
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
                &d.opened_on,
                &d.deadline,
                &d.status,
                &d.resolved_at,
                &d.resolution,
            ],
        ),
    }
    .map(drop)
}
