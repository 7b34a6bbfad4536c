//! Metro 2, the fixed-width format in which lenders furnish consumer credit data: a streaming
//! reader (character and packed, with or without block descriptor words), validation that
//! locates every problem, and a writer.
//!
//! Nothing here knows about the registry: the crate reads and writes the format as the CDIA's
//! Credit Reporting Resource Guide (CRRG) lays it out, and as the public validators check it.
//!
//! ```
//! let file = std::fs::File::open("../../../shared/data/metro2/moov-io/unpacked_fixed_request.dat");
//! # let Ok(file) = file else { return };
//! let summary = metro2::validate(file, metro2::Mode::Strict, |problem| eprintln!("{problem}")).unwrap();
//! assert_eq!(summary.data_records, 1);
//! ```

pub mod codes;
pub mod layout;
pub mod parallel;
pub mod problem;
pub mod read;
pub mod validate;
pub mod value;
pub mod write;

pub use layout::{Encoding, Field, SegmentKind};
pub use parallel::validate_parallel;
pub use problem::{Problem, Rule};
pub use read::{DataRecord, Framing, Located, Mode, ReadError, Reader, Record, parse_record};
pub use validate::{Summary, Totals, Validator, Verdict, validate};
pub use value::{Date, Segment, Value};
pub use write::{FieldError, SegmentBuf, Writer};
