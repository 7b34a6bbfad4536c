//! Progress bars on stderr (hidden when stderr is not a terminal, so logs and pipes stay clean).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use registry_service::IngestProgress;

fn bytes_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:>10} [{bar:32}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} {msg}")
        .expect("valid template")
        .progress_chars("=> ")
}

/// One file's ingest: archiving, then validating and storing.
pub struct FileBar {
    bar: ProgressBar,
}

impl FileBar {
    pub fn new(name: &str, size: Option<u64>) -> FileBar {
        let bar = ProgressBar::new(size.unwrap_or(0)).with_style(bytes_style()).with_prefix("archiving");
        bar.set_message(name.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        FileBar { bar }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl IngestProgress for FileBar {
    fn archiving(&self, bytes: u64) {
        if self.bar.length().is_some_and(|l| l < bytes) {
            self.bar.set_length(bytes);
        }
        self.bar.set_position(bytes);
    }

    fn parsing_started(&self, bytes: u64) {
        self.bar.set_prefix("ingesting");
        self.bar.set_length(bytes);
        self.bar.set_position(0);
    }

    fn parsing(&self, bytes: u64, records: u64) {
        self.bar.set_position(bytes);
        self.bar.set_prefix(format!("{records} rec"));
    }
}

/// Many files as one bar (the demo's hundreds of monthly files).
pub struct BatchBar {
    bar: ProgressBar,
    done_bytes: AtomicU64,
    records: AtomicU64,
}

impl BatchBar {
    pub fn new(total_bytes: u64) -> BatchBar {
        let bar = ProgressBar::new(total_bytes).with_style(bytes_style()).with_prefix("ingesting");
        bar.enable_steady_tick(Duration::from_millis(200));
        BatchBar { bar, done_bytes: AtomicU64::new(0), records: AtomicU64::new(0) }
    }

    pub fn start_file(&self, name: &str) {
        self.bar.set_message(name.to_string());
    }

    pub fn finish_file(&self, bytes: u64, records: u64) {
        let done = self.done_bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.records.fetch_add(records, Ordering::Relaxed);
        self.bar.set_position(done);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl IngestProgress for BatchBar {
    fn parsing(&self, bytes: u64, _records: u64) {
        self.bar.set_position(self.done_bytes.load(Ordering::Relaxed) + bytes);
    }
}

/// Bytes of one file read (`size` when known).
pub fn bytes_bar(size: Option<u64>, prefix: &str, name: &str) -> ProgressBar {
    let bar = ProgressBar::new(size.unwrap_or(0)).with_style(bytes_style()).with_prefix(prefix.to_string());
    bar.set_message(name.to_string());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// A count of things (people simulated).
pub fn count_bar(total: u64, prefix: &str) -> ProgressBar {
    let style =
        ProgressStyle::with_template("{prefix:>10} [{bar:32}] {pos}/{len} {per_sec} {msg}").expect("valid template").progress_chars("=> ");
    let bar = ProgressBar::new(total).with_style(style).with_prefix(prefix.to_string());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// A count of things whose total is not known in advance (subjects scored).
pub fn counter(prefix: &str) -> ProgressBar {
    let style = ProgressStyle::with_template("{prefix:>10} {spinner} {pos} {per_sec} {msg}").expect("valid template");
    let bar = ProgressBar::new_spinner().with_style(style).with_prefix(prefix.to_string());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
