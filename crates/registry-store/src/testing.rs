//! Throwaway PostgreSQL databases for tests: one fresh database per test, dropped after it.
//! Tests that need PostgreSQL call [`TestDatabase::create`], which reads `DATABASE_URL` (a
//! server where the user may create databases, as `.ci/run` sets it) and returns `None` when
//! it is not set, so the embedded-store tests need nothing.

use std::sync::atomic::{AtomicU32, Ordering};

/// The environment variable that points the tests at a PostgreSQL server.
pub const DATABASE_URL_VAR: &str = "DATABASE_URL";

pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// A new empty database on the server `DATABASE_URL` names, or `None` if it is unset.
    /// Panics (this is test code) if the server is set but cannot be used.
    pub fn create() -> Option<TestDatabase> {
        let admin_url = std::env::var(DATABASE_URL_VAR).ok().filter(|v| !v.is_empty())?;
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let name = format!("credit_registry_test_{}_{}_{}", std::process::id(), nanos, COUNTER.fetch_add(1, Ordering::Relaxed));
        let mut client = postgres::Client::connect(&admin_url, postgres::NoTls)
            .unwrap_or_else(|e| panic!("{DATABASE_URL_VAR} is set but its server cannot be reached: {e}"));
        client.batch_execute(&format!("CREATE DATABASE {name}")).expect("creating a test database");
        let url = with_database(&admin_url, &name);
        Some(TestDatabase { admin_url, name, url })
    }

    /// The URL of the new database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

/// `url` with its database name replaced by `name` (URL form `postgres://…/db?…`).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_database_name() {
        use super::with_database;
        assert_eq!(with_database("postgres://postgres@127.0.0.1:5432/test", "x"), "postgres://postgres@127.0.0.1:5432/x");
        assert_eq!(with_database("postgres://u@h/test?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
