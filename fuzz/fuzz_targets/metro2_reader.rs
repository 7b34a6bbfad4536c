//! Any bytes through the Metro 2 reader and validator, read strictly and leniently: problems,
//! never a panic, and the summary agrees with the problems reported.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for mode in [metro2::Mode::Strict, metro2::Mode::Lenient] {
        let mut problems = 0u64;
        let summary = metro2::validate(data, mode, |_| problems += 1).expect("reading a slice cannot fail");
        assert_eq!(summary.problems, problems);
        assert!(summary.bytes <= data.len() as u64);
        assert!(summary.data_records_with_problems <= summary.data_records);
    }
});
