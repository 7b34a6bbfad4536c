//! Times report builds from a registry's store: the first N subjects' reports, each read from
//! the store, unsealed and built. The benchmark of scripts/bench-postgres.sh:
//!
//!     cargo run --release -p registry-service --example report_latency -- DATA_DIR [POSTGRES_URL] [N]
//!
//! With a URL the keys come from DATA_DIR/config.toml (as the command line reads them). With
//! `REPORT_LOGGED=1` each report is read as a person's read is, through `read_report`: built,
//! then appended to the access log (a write and a signature) before it is returned.

use std::sync::Arc;
use std::time::Instant;

use registry_core::report::{Audience, SubjectKey};
use registry_service::audit::{Access, AccessAction};
use registry_service::clock::SystemClock;
use registry_service::vault::Keys;
use registry_service::{Registry, RegistrySettings};
use registry_store::PostgresSettings;

fn main() {
    let mut args = std::env::args().skip(1);
    let data_dir = args.next().expect("usage: report_latency DATA_DIR [POSTGRES_URL] [N]");
    let url = args.next().filter(|a| a.contains("://"));
    let count: i64 = args.next().map_or(2000, |n| n.parse().expect("N is a number"));
    let mut settings = RegistrySettings::new(&data_dir);
    if let Some(url) = url {
        let config = std::fs::read_to_string(format!("{data_dir}/config.toml")).expect("DATA_DIR/config.toml with the keys");
        settings.keys = Some(toml::from_str::<Keys>(&config).expect("keys in config.toml"));
        settings.postgres = Some(PostgresSettings::new(url));
    }
    let registry = Registry::open(settings, Arc::new(SystemClock)).expect("the registry opens");
    let logged = std::env::var("REPORT_LOGGED").is_ok_and(|v| v == "1");
    let mut micros = Vec::with_capacity(count as usize);
    let mut accounts = 0;
    for key in 1..=count {
        let started = Instant::now();
        let report = if logged {
            let access = Access::command_line(AccessAction::DrillDown, None);
            registry.read_report(&access, SubjectKey(key), None, Audience::Masked).expect("a report")
        } else {
            registry.report_unlogged(SubjectKey(key), None, Audience::Masked).expect("a report")
        };
        micros.push(started.elapsed().as_secs_f64() * 1e6);
        accounts += report.map_or(0, |r| r.summary.accounts_total);
    }
    micros.sort_by(f64::total_cmp);
    let mean = micros.iter().sum::<f64>() / micros.len() as f64;
    let at = |q: f64| micros[((micros.len() - 1) as f64 * q) as usize];
    println!(
        "{count} reports ({:.1} accounts each): mean {mean:.0} µs, p50 {:.0} µs, p99 {:.0} µs",
        accounts as f64 / count as f64,
        at(0.5),
        at(0.99)
    );
}
