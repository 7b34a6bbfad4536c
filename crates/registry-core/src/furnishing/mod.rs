//! The JSON Lines furnishing format (`shared/spec/furnishing.md`): a streaming reader that turns
//! a file into accepted records and per-record rejections, or rejects the file whole.
//!
//! Memory is bounded by the longest allowed line, not the file. Storage, duplicate keys across
//! records and submission idempotency are the caller's business.

pub mod draft;
pub mod errors;
pub mod json;
pub mod lines;
pub mod metro2;
pub(crate) mod path;
pub mod validate;

use std::io::{self, BufRead};

pub use draft::Draft;
pub use errors::{FileErrorCode, FileRejection, RecordError, RecordErrorCode};
pub use validate::{RECORD_FIELDS, Rules, parse_date, validate_record};

use crate::model::AccountRecord;
use json::Json;
use lines::{Line, LineReader};

/// Default for the longest line read as a record (1 MiB, as the spec says).
pub const LINE_BYTES_MAX_DEFAULT: usize = 1 << 20;

/// One account-record line of a file: accepted, or rejected with every rule it breaks.
#[derive(Debug)]
// Records travel by value, a batch at a time; boxing the large variant would add an
// allocation per record.
#[allow(clippy::large_enum_variant)]
pub enum Entry {
    Accepted { line: u64, record: AccountRecord },
    Rejected { line: u64, errors: Vec<RecordError> },
}

/// What stops reading a file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file is rejected whole; nothing of it may be applied.
    #[error("file rejected: {0}")]
    Rejected(#[from] FileRejection),
    /// The bytes could not be read at all (a storage or network fault, not the file's fault).
    #[error("reading the file failed")]
    Io(#[from] io::Error),
}

/// A furnishing file being read entry by entry, in either format.
pub trait Entries {
    /// The next account record, accepted or rejected; `Ok(None)` after the last, once the
    /// whole-file checks passed.
    fn next_entry(&mut self) -> Result<Option<Entry>, ReadError>;

    /// Account records read so far (accepted and rejected).
    fn record_count(&self) -> u64;

    fn bytes_read(&self) -> u64;
}

code_list! {
    /// The formats a furnishing file may come in.
    Format {
        JsonLines = "jsonl",
        Metro2 = "metro2",
    }
}

impl Format {
    /// Tells the format from a file's first bytes: JSON Lines starts with `{` (after an
    /// optional byte-order mark and white space); Metro 2 with a record or block descriptor
    /// word (four digits, or a packed one). Anything else is read as JSON Lines, whose
    /// errors then say what is wrong.
    pub fn detect(head: &[u8]) -> Format {
        let text = head.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(head);
        let first = text.iter().position(|b| !b.is_ascii_whitespace()).map(|i| &text[i..]).unwrap_or_default();
        if first.starts_with(b"{") {
            return Format::JsonLines;
        }
        let packed = head.len() >= 4 && head[2..4] == [0, 0] && u16::from_be_bytes([head[0], head[1]]) >= 366;
        if packed || (first.len() >= 4 && first[..4].iter().all(u8::is_ascii_digit)) { Format::Metro2 } else { Format::JsonLines }
    }
}

/// Reads a furnishing file entry by entry. After the last entry, `next_entry` runs the
/// whole-file checks (trailer count, empty file) and then returns `Ok(None)`.
pub struct FurnishingReader<R> {
    lines: LineReader<R>,
    rules: Rules,
    record_count: u64,
    /// Line number and declared count of a trailer line, once seen.
    trailer: Option<(u64, u64)>,
    finished: bool,
}

impl<R: BufRead> Entries for FurnishingReader<R> {
    fn next_entry(&mut self) -> Result<Option<Entry>, ReadError> {
        FurnishingReader::next_entry(self)
    }

    fn record_count(&self) -> u64 {
        FurnishingReader::record_count(self)
    }

    fn bytes_read(&self) -> u64 {
        FurnishingReader::bytes_read(self)
    }
}

impl<R: BufRead> FurnishingReader<R> {
    pub fn new(input: R, rules: Rules, line_bytes_max: usize) -> FurnishingReader<R> {
        FurnishingReader { lines: LineReader::new(input, line_bytes_max), rules, record_count: 0, trailer: None, finished: false }
    }

    /// Account-record lines read so far (accepted and rejected).
    pub fn record_count(&self) -> u64 {
        self.record_count
    }

    pub fn bytes_read(&self) -> u64 {
        self.lines.bytes_read()
    }

    pub fn next_entry(&mut self) -> Result<Option<Entry>, ReadError> {
        if self.finished {
            return Ok(None);
        }
        loop {
            let Some((line_number, line)) = self.lines.next_line()? else {
                self.finished = true;
                return self.finish().map(|()| None);
            };
            let text = match line {
                Line::TooLong { utf8: false } => {
                    return Err(FileRejection::new(
                        FileErrorCode::NotUtf8,
                        format!("line {line_number} is not valid UTF-8 (and longer than the line limit)"),
                    )
                    .into());
                }
                Line::TooLong { utf8: true } => {
                    check_no_trailer_before(self.trailer, line_number)?;
                    self.record_count += 1;
                    return Ok(Some(Entry::Rejected {
                        line: line_number,
                        errors: vec![RecordError {
                            line: line_number,
                            field: String::new(),
                            code: RecordErrorCode::LineTooLong,
                            message: "line is longer than the configured limit; it was skipped".into(),
                        }],
                    }));
                }
                Line::Text(bytes) => bytes,
            };
            let text = std::str::from_utf8(text).map_err(|e| {
                FileRejection::new(FileErrorCode::NotUtf8, format!("line {line_number} is not valid UTF-8 (byte {})", e.valid_up_to() + 1))
            })?;
            if text.bytes().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            check_no_trailer_before(self.trailer, line_number)?;
            let value = Json::parse(text)
                .map_err(|e| FileRejection::new(FileErrorCode::InvalidJson, format!("line {line_number} is not JSON: {e}")))?;
            if let Some(declared) = trailer_count(&value, line_number)? {
                self.trailer = Some((line_number, declared));
                continue;
            }
            self.record_count += 1;
            return Ok(Some(match validate_record(&Draft::from_json(&value), line_number, &self.rules) {
                Ok(record) => Entry::Accepted { line: line_number, record },
                Err(errors) => Entry::Rejected { line: line_number, errors },
            }));
        }
    }

    fn finish(&self) -> Result<(), ReadError> {
        if self.record_count == 0 {
            return Err(FileRejection::new(FileErrorCode::EmptySubmission, "the file holds no account record").into());
        }
        if let Some((line, declared)) = self.trailer
            && declared != self.record_count
        {
            return Err(FileRejection::new(
                FileErrorCode::TrailerMismatch,
                format!(
                    "the trailer on line {line} declares {declared} records but the file holds {}; was the upload truncated?",
                    self.record_count
                ),
            )
            .into());
        }
        Ok(())
    }
}

/// A line after the trailer makes the trailer misplaced.
fn check_no_trailer_before(trailer: Option<(u64, u64)>, line_number: u64) -> Result<(), FileRejection> {
    match trailer {
        Some((trailer_line, _)) => Err(FileRejection::new(
            FileErrorCode::TrailerNotLast,
            format!(
                "the trailer on line {trailer_line} is followed by more data on line {line_number}; a trailer may only be the last line"
            ),
        )),
        None => Ok(()),
    }
}

/// If the line is a trailer (an object with a `trailer` key), its declared record count.
fn trailer_count(value: &Json<'_>, line_number: u64) -> Result<Option<u64>, FileRejection> {
    let Json::Object(entries) = value else { return Ok(None) };
    if !entries.iter().any(|(key, _)| key == "trailer") {
        return Ok(None);
    }
    let invalid = || {
        FileRejection::new(
            FileErrorCode::TrailerInvalid,
            format!(r#"line {line_number} is a malformed trailer; the form is {{"trailer": {{"records": N}}}}"#),
        )
    };
    let [(_, Json::Object(inner))] = entries.as_slice() else { return Err(invalid()) };
    match inner.as_slice() {
        [(key, Json::UInt(n))] if key == "records" => Ok(Some(*n)),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests;
