//! Parse and validate throughput of the JSON Lines reader on generated records (no storage).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use registry_core::furnishing::{Entry, FurnishingReader, LINE_BYTES_MAX_DEFAULT, Rules};
use registry_core::report::YearMonth;
use registry_synth::{FileLayout, Params, generate};

fn sample_file() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let params =
        Params { seed: 7, warmup_months: 24, layout: FileLayout::Combined, ..Params::new(6000, 1, YearMonth::parse("2026-10").unwrap()) };
    let manifest = generate(&params, dir.path(), &mut |_| {}).unwrap();
    std::fs::read(dir.path().join(&manifest.files[0].path)).unwrap()
}

fn bench(c: &mut Criterion) {
    let file = sample_file();
    let lines = file.iter().filter(|b| **b == b'\n').count() as u64;
    let rules = Rules { today: "2027-01-01".parse().unwrap() };
    let mut group = c.benchmark_group("furnishing");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(file.len() as u64));
    group.bench_function(format!("parse_and_validate_{lines}_lines"), |b| {
        b.iter(|| {
            let mut reader = FurnishingReader::new(&file[..], rules, LINE_BYTES_MAX_DEFAULT);
            let mut accepted = 0u64;
            while let Some(entry) = reader.next_entry().unwrap() {
                if let Entry::Accepted { record, .. } = entry {
                    accepted += black_box(&record).subjects.len() as u64;
                }
            }
            accepted
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
