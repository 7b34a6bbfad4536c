//! `copy`'s near end: every row of an embedded registry, table by table, in one read snapshot.

use crate::codec;
use rusqlite::{Connection, Row};

use crate::{DumpRow, StoreResult};

use super::connection::{corrupt, map_err};
use super::records::{RECORD_COLUMNS, SUBMISSION_COLUMNS, record_columns_from_row, submission_from_row_at};
use super::store::SqliteStore;

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
            error: codec::rejection(r.get(2).map_err(map_err)?, r.get(3).map_err(map_err)?, &code, r.get(5).map_err(map_err)?)?,
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
