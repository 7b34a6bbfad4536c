//! Metro 2 credit reporting files: reading, validation that locates every problem, writing.
//! The crate's README follows (its examples are tested as documentation).
#![doc = include_str!("../README.md")]

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
