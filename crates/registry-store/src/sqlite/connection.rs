//! SQLite connections: how they are configured, how driver errors map to the store's, schema
//! migrations and write transactions. Shared by the registry's file and the governance file.

use std::time::Duration;

use rusqlite::Connection;

use crate::{StoreError, StoreResult};

/// Page cache of the writer connection. Large enough that a big submission's index pages
/// stay in memory, small enough to keep an ingest well under its memory budget.
pub(super) const WRITER_CACHE_KIB: i64 = 32 * 1024;
pub(super) const READER_CACHE_KIB: i64 = 16 * 1024;
/// Size the WAL file is truncated to after a checkpoint.
const JOURNAL_BYTES_MAX: i64 = 64 << 20;

/// Maps a driver error to the boundary's kinds (the embedded governance store's too).
pub(crate) fn map_err(error: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(failure, _) = &error
        && matches!(failure.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    {
        return StoreError::Busy;
    }
    StoreError::Database(Box::new(error))
}

pub(super) fn pool_err(error: r2d2::Error) -> StoreError {
    StoreError::Database(Box::new(error))
}

pub(super) fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Corrupt(what.into())
}

pub(super) fn configure(conn: &Connection, busy_timeout: Duration, cache_kib: i64) -> rusqlite::Result<()> {
    conn.busy_timeout(busy_timeout)?;
    conn.set_prepared_statement_cache_capacity(64);
    // FULL: a commit reported to a furnisher survives a power cut, not only a crash.
    // A big submission grows the WAL by its size; once checkpointed, truncate it back.
    conn.execute_batch(&format!(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{cache_kib}; \
         PRAGMA journal_size_limit = {JOURNAL_BYTES_MAX};"
    ))
}

/// Brings a SQLite file's schema (its `user_version`) up to `migrations`, each in order, all in
/// one transaction.
pub(crate) fn apply_migrations(conn: &Connection, migrations: &[&str]) -> StoreResult<()> {
    let supported = migrations.len() as i64;
    // Up to date: nothing to write, so no write lock to wait for (another process may be
    // in the middle of a long submission).
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(map_err)?;
    if version == supported {
        return Ok(());
    }
    // IMMEDIATE takes the write lock first, so two processes migrating at once queue up
    // and the second finds nothing left to do.
    in_immediate(conn, || {
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(map_err)?;
        if version > supported {
            return Err(StoreError::SchemaTooNew { found: version, supported });
        }
        for (index, sql) in migrations.iter().enumerate().skip(version as usize) {
            conn.execute_batch(sql).map_err(map_err)?;
            conn.execute_batch(&format!("PRAGMA user_version = {}", index + 1)).map_err(map_err)?;
        }
        Ok(())
    })
}

/// Runs `work` in a write transaction that takes the file's write lock at once (BEGIN
/// IMMEDIATE): committed if it succeeds, rolled back if it fails.
pub(crate) fn in_immediate<T>(conn: &Connection, work: impl FnOnce() -> StoreResult<T>) -> StoreResult<T> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(map_err)?;
    match work() {
        Ok(value) => {
            conn.execute_batch("COMMIT").map_err(map_err)?;
            Ok(value)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}
