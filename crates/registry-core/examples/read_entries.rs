//! Reads a furnishing file (either format) entry by entry, with no storage, and prints the
//! counts and the time: `cargo run --release -p registry-core --example read_entries -- FILE`.

use std::io::BufRead;
use std::time::Instant;

use registry_core::furnishing::metro2::{Metro2Options, Metro2Reader};
use registry_core::furnishing::{Entries, Entry, Format, FurnishingReader, LINE_BYTES_MAX_DEFAULT, Rules};

fn main() {
    let path = std::env::args().nth(1).expect("a file");
    let rules = Rules { today: chrono::Utc::now().date_naive() };
    let mut input = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&path).expect("readable"));
    let format = Format::detect(input.fill_buf().expect("readable"));
    let started = Instant::now();
    let mut reader: Box<dyn Entries> = match format {
        Format::JsonLines => Box::new(FurnishingReader::new(input, rules, LINE_BYTES_MAX_DEFAULT)),
        Format::Metro2 => Box::new(Metro2Reader::new(input, rules, Metro2Options::default())),
    };
    let (mut accepted, mut rejected) = (0u64, 0u64);
    while let Some(entry) = reader.next_entry().expect("not rejected whole") {
        match entry {
            Entry::Accepted { .. } => accepted += 1,
            Entry::Rejected { .. } => rejected += 1,
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{format}: {accepted} accepted, {rejected} rejected in {seconds:.2} s ({:.0} records/s)",
        (accepted + rejected) as f64 / seconds
    );
}
