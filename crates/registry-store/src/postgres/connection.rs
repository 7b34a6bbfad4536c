//! Connections to PostgreSQL: the pool, each connection's prepared statements, how driver errors
//! map to the store's, transactions and the advisory locks that serialise writers.

use std::collections::HashMap;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};

use crate::{PostgresSettings, Store, StoreError, StoreResult};

/// Advisory lock keys (any two constants unlikely to clash with another application's).
pub(super) const MIGRATION_LOCK: i64 = 0x6372_6d69_6772_6174; // "crmigrat"
pub(super) const WRITER_LOCK: i64 = 0x6372_7772_6974_6572; // "crwriter"
/// Serialises appends to the access log (one sequence of leaves).
pub(super) const LOG_LOCK: i64 = 0x6372_6c6f_6761_7070; // "crlogapp"

/// How often a read is tried when the connection drops or the database asks for a retry.
const READ_ATTEMPTS: u32 = 3;

pub struct PostgresStore {
    pool: r2d2::Pool<Manager>,
    pub(super) settings: PostgresSettings,
}

pub(super) type Pooled = r2d2::PooledConnection<Manager>;

/// Opens the pool's connections (what r2d2_postgres does, plus a statement cache per connection).
pub(super) struct Manager {
    config: postgres::Config,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Connection, postgres::Error> {
        Ok(Connection { client: self.config.connect(NoTls)?, prepared: HashMap::new() })
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.client.is_closed()
    }
}

/// A database connection with the statements it has prepared. The report reads and the batch
/// statements run thousands of times per connection; preparing them on every use cost a round
/// trip and a parse each (a third of a report's latency, a tenth of a first load's server time).
pub(super) struct Connection {
    client: Client,
    /// SQL text → its statement on this connection. Only constant SQL goes here, so it stays
    /// small.
    prepared: HashMap<String, Statement>,
}

impl Connection {
    fn statement(&mut self, sql: &str) -> StoreResult<Statement> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).map_err(map_err)?;
        self.prepared.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    pub(super) fn prepared_query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Vec<Row>> {
        let statement = self.statement(sql)?;
        self.client.query(&statement, params).map_err(map_err)
    }

    pub(super) fn prepared_query_opt(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Option<Row>> {
        let statement = self.statement(sql)?;
        self.client.query_opt(&statement, params).map_err(map_err)
    }

    pub(super) fn prepared_execute(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<u64> {
        let statement = self.statement(sql)?;
        self.client.execute(&statement, params).map_err(map_err)
    }
}

impl std::ops::Deref for Connection {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl std::ops::DerefMut for Connection {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// Maps a driver error to the boundary's kinds.
pub(super) fn map_err(error: postgres::Error) -> StoreError {
    if let Some(db) = error.as_db_error() {
        let code = db.code();
        if *code == SqlState::LOCK_NOT_AVAILABLE {
            return StoreError::Busy;
        }
        if *code == SqlState::QUERY_CANCELED {
            return StoreError::Unavailable("a statement ran past the statement timeout".into());
        }
        if is_transient_code(code) {
            return StoreError::Unavailable(format!("the database asked for a retry ({})", code.code()));
        }
        return StoreError::Database(Box::new(error));
    }
    if error.is_closed() || std::error::Error::source(&error).is_some_and(<dyn std::error::Error + 'static>::is::<std::io::Error>) {
        return StoreError::Unavailable("the connection to the database was lost".into());
    }
    StoreError::Database(Box::new(error))
}

/// Errors after which the same statement may succeed on a new attempt.
fn is_transient_code(code: &SqlState) -> bool {
    [
        SqlState::T_R_SERIALIZATION_FAILURE,
        SqlState::T_R_DEADLOCK_DETECTED,
        SqlState::ADMIN_SHUTDOWN,
        SqlState::CRASH_SHUTDOWN,
        SqlState::CANNOT_CONNECT_NOW,
        SqlState::CONNECTION_FAILURE,
        SqlState::CONNECTION_EXCEPTION,
        SqlState::TOO_MANY_CONNECTIONS,
    ]
    .contains(code)
}

pub(super) fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Corrupt(what.into())
}

impl PostgresStore {
    /// Connects (lazily: the pool opens connections as they are needed) to the database at
    /// `settings.url`. Fails at once if the URL is malformed or the server cannot be reached.
    pub fn open(settings: PostgresSettings) -> StoreResult<PostgresStore> {
        let mut config: postgres::Config =
            settings.url.parse().map_err(|e: postgres::Error| StoreError::Unavailable(format!("the database URL is not valid: {e}")))?;
        // Beside any options the URL gives (`?options=-c …`), not instead of them.
        let timeout = format!("-c statement_timeout={}", settings.statement_timeout_ms);
        let options = config.get_options().map_or(timeout.clone(), |given| format!("{given} {timeout}"));
        config.options(&options);
        config.connect_timeout(Duration::from_millis(settings.pool_wait_ms.max(1000)));
        config.application_name("credit-registry");
        let manager = Manager { config };
        let pool = r2d2::Pool::builder()
            .max_size(settings.pool_size.max(1))
            .min_idle(Some(0))
            .connection_timeout(Duration::from_millis(settings.pool_wait_ms.max(1)))
            // A quiet pool must not log connection errors on its own; callers report them.
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build_unchecked(manager);
        let store = PostgresStore { pool, settings };
        store.ping()?;
        Ok(store)
    }

    pub fn settings(&self) -> &PostgresSettings {
        &self.settings
    }

    pub(super) fn connection(&self) -> StoreResult<Pooled> {
        self.pool.get().map_err(|e| {
            StoreError::Unavailable(format!(
                "no database connection within {} ms ({} in the pool): {e}",
                self.settings.pool_wait_ms, self.settings.pool_size
            ))
        })
    }

    /// Runs a read on a pooled connection, again on a fresh connection if it failed in a way a
    /// retry can cure. Reads change nothing, so a retry cannot apply anything twice.
    pub(super) fn read<T>(&self, mut work: impl FnMut(&mut Connection) -> StoreResult<T>) -> StoreResult<T> {
        let mut attempt = 1;
        loop {
            let outcome = self.connection().and_then(|mut conn| work(&mut conn));
            match outcome {
                Err(StoreError::Unavailable(_)) if attempt < READ_ATTEMPTS => {
                    std::thread::sleep(Duration::from_millis(50 << attempt));
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

/// Runs `work` inside a transaction on `conn`, committing if it succeeds.
pub(super) fn in_transaction<T>(
    conn: &mut Connection,
    begin: &str,
    work: impl FnOnce(&mut Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    conn.batch_execute(begin).map_err(map_err)?;
    match work(conn) {
        Ok(value) => {
            conn.batch_execute("COMMIT").map_err(map_err)?;
            Ok(value)
        }
        Err(e) => {
            let _ = conn.batch_execute("ROLLBACK");
            Err(e)
        }
    }
}
