//! Any bytes through the registry's Metro 2 intake (reader, validator, mapping to furnishing
//! records and their rules): entries or a file rejection, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use registry_core::furnishing::metro2::{Metro2Options, Metro2Reader, Mode};
use registry_core::furnishing::{Entries, Rules};

fuzz_target!(|data: &[u8]| {
    let rules = Rules { today: "2024-12-31".parse().expect("a date") };
    for mode in [Mode::Strict, Mode::Lenient] {
        let options = Metro2Options { mode, ..Metro2Options::default() };
        let mut reader = Metro2Reader::new(data, rules, options);
        while let Ok(Some(_)) = reader.next_entry() {}
    }
});
