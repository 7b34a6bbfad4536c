//! Throwaway PostgreSQL databases for tests: one fresh database per test, dropped after it.
//! Tests that need PostgreSQL call [`TestDatabase::create`], which reads `DATABASE_URL` (a
//! server where the user may create databases, as `.ci/run` sets it) and returns `None` when
//! it is not set, so the embedded-store tests need nothing. With `CITUS_WORKERS` set too (the
//! workers' `host:port`, comma-separated, as `scripts/citus.sh` starts them), the server is a
//! Citus coordinator: each database is made on every node with the extension and the workers
//! joined, so the migrations distribute the tables and the tests run distributed.

use std::sync::atomic::{AtomicU32, Ordering};

/// The environment variable that points the tests at a PostgreSQL server.
pub const DATABASE_URL_VAR: &str = "DATABASE_URL";
/// The Citus workers of the coordinator `DATABASE_URL` names, `host:port,host:port`.
pub const CITUS_WORKERS_VAR: &str = "CITUS_WORKERS";

pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
    /// The workers' admin URLs, where the database was made too.
    workers: Vec<String>,
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
        let workers: Vec<(String, String)> = std::env::var(CITUS_WORKERS_VAR)
            .ok()
            .map(|v| {
                v.split(',').filter(|w| !w.trim().is_empty()).map(|w| (w.trim().to_owned(), worker_url(&admin_url, w.trim()))).collect()
            })
            .unwrap_or_default();
        if !workers.is_empty() {
            for (_, worker) in &workers {
                let mut admin =
                    postgres::Client::connect(worker, postgres::NoTls).unwrap_or_else(|e| panic!("a Citus worker ({worker}): {e}"));
                admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("the test database on a worker");
                let mut db = postgres::Client::connect(&with_database(worker, &name), postgres::NoTls).expect("the worker's test database");
                db.batch_execute("CREATE EXTENSION citus").expect("Citus on a worker");
            }
            let mut db = postgres::Client::connect(&url, postgres::NoTls).expect("the coordinator's test database");
            let (host, port) = host_port(&admin_url);
            db.batch_execute("CREATE EXTENSION citus").expect("Citus on the coordinator");
            db.batch_execute(&format!("SELECT citus_set_coordinator_host('{host}', {port})")).expect("the coordinator's own address");
            for (worker, _) in &workers {
                let (host, port) = worker.rsplit_once(':').expect("a worker is host:port");
                // Several tests join their databases at once, and a worker may refuse one of
                // the connections that takes: try again a few times.
                let join = format!("SELECT citus_add_node('{host}', {port})");
                let mut attempt = 0;
                while let Err(e) = db.batch_execute(&join) {
                    attempt += 1;
                    assert!(attempt < 5, "joining a worker: {e}");
                    std::thread::sleep(std::time::Duration::from_millis(200 * attempt));
                }
            }
        }
        Some(TestDatabase { admin_url, name, url, workers: workers.into_iter().map(|(_, url)| url).collect() })
    }

    /// The URL of the new database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        for admin in std::iter::once(&self.admin_url).chain(&self.workers) {
            if let Ok(mut client) = postgres::Client::connect(admin, postgres::NoTls) {
                let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
            }
        }
    }
}

/// The admin URL of a worker at `host:port`: the coordinator's user and database there.
fn worker_url(coordinator: &str, worker: &str) -> String {
    let config: postgres::Config = coordinator.parse().expect("DATABASE_URL is a postgres:// URL");
    format!("postgres://{}@{worker}/{}", config.get_user().unwrap_or("postgres"), config.get_dbname().unwrap_or("postgres"))
}

/// The host and port of a URL, as the coordinator knows itself.
fn host_port(url: &str) -> (String, u16) {
    let config: postgres::Config = url.parse().expect("DATABASE_URL is a postgres:// URL");
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(host)) => host.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    (host, config.get_ports().first().copied().unwrap_or(5432))
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

    #[test]
    fn names_a_worker() {
        assert_eq!(
            super::worker_url("postgres://postgres@127.0.0.1:9700/postgres", "127.0.0.1:9701"),
            "postgres://postgres@127.0.0.1:9701/postgres"
        );
        assert_eq!(super::host_port("postgres://postgres@127.0.0.1:9700/postgres"), ("127.0.0.1".to_owned(), 9700));
        assert_eq!(super::host_port("postgres://u@h/db"), ("h".to_owned(), 5432));
    }
}
