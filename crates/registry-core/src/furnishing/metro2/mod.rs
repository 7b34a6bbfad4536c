//! Metro 2 as a furnishing format: each data record (base segment with its J1/J2 associated
//! consumers) is read into the draft of the furnishing record of `shared/spec/furnishing.md`
//! that states the same facts, and goes through the same rules; a furnishing record becomes a
//! Metro 2 data record for export. By job: this module reads files and names Metro 2's own
//! problems; `map` is the one correspondence of the two formats (fields and codes, both ways);
//! `import` reads a record by it, `export` writes one by it. docs/metro2.md is its prose.
//!
//! A record is checked as Metro 2 first (types, codes, the format's cross-field rules). Only a
//! record that is valid Metro 2 is read into a draft and checked against the registry's rules,
//! so a furnisher sees each problem once, named by its Metro 2 segment and field.

mod export;
mod import;
pub mod map;

pub use export::{ExportError, ExportedRecord, export_record};
pub use map::{account_type, product_of, status_code, status_of};

use std::io::Read;

pub use metro2::Mode;
use metro2::{DataRecord, Problem, Rule, SegmentKind, Validator, Verdict};

use super::errors::{FileErrorCode, FileRejection, RecordError, RecordErrorCode};
use super::validate::Rules;
use super::{Entries, Entry, ReadError};
use crate::model::Currency;
use map::location;

/// How Metro 2 files are read.
#[derive(Clone, Copy, Debug)]
pub struct Metro2Options {
    /// Strict (record lengths trusted, header and trailer required and reconciled) or lenient
    /// (line by line, as the CFPB's evaluator reads).
    pub mode: Mode,
    /// Metro 2 amounts are whole units of this currency (the furnisher's; default USD).
    pub currency: Currency,
}

impl Default for Metro2Options {
    fn default() -> Metro2Options {
        Metro2Options { mode: Mode::Strict, currency: Currency::from_code("USD").expect("USD is ISO 4217") }
    }
}

/// Reads a Metro 2 file entry by entry, like [`super::FurnishingReader`] reads JSON Lines: a
/// data record's number (the header is record 1) is its `line`.
pub struct Metro2Reader<R> {
    reader: metro2::Reader<R>,
    validator: Validator,
    rules: Rules,
    options: Metro2Options,
    problems: Vec<Problem>,
    data_records: u64,
    finished: bool,
}

impl<R: Read> Metro2Reader<R> {
    pub fn new(input: R, rules: Rules, options: Metro2Options) -> Metro2Reader<R> {
        Metro2Reader {
            reader: metro2::Reader::new(input, options.mode),
            validator: Validator::new(options.mode),
            rules,
            options,
            problems: Vec::new(),
            data_records: 0,
            finished: false,
        }
    }
}

impl<R: Read> Entries for Metro2Reader<R> {
    fn next_entry(&mut self) -> Result<Option<Entry>, ReadError> {
        loop {
            if self.finished {
                return Ok(None);
            }
            let located = match self.reader.next_record() {
                Ok(Some(located)) => located,
                Ok(None) => {
                    self.finished = true;
                    if self.data_records == 0 {
                        return Err(FileRejection::new(FileErrorCode::EmptySubmission, "the file holds no data record").into());
                    }
                    return Ok(None);
                }
                Err(metro2::ReadError::Framing(problem)) => {
                    self.finished = true;
                    return Err(file_rejection(&[problem]).into());
                }
                Err(metro2::ReadError::Io(e)) => return Err(ReadError::Io(e)),
            };
            self.problems.clear();
            let verdict = self.validator.check(&located, &mut self.problems);
            let line = located.number;
            match (verdict, &located.record) {
                (Verdict::File, _) if self.problems.is_empty() => {}
                (Verdict::File, _) => {
                    self.finished = true;
                    return Err(file_rejection(&self.problems).into());
                }
                (Verdict::Data { valid: true }, metro2::Record::Data(record)) => {
                    self.data_records += 1;
                    return Ok(Some(import::read_record(record, line, self.rules, self.options)));
                }
                (_, record) => {
                    self.data_records += 1;
                    let data = match record {
                        metro2::Record::Data(data) => Some(data),
                        _ => None,
                    };
                    let errors = self.problems.iter().map(|p| record_error(p, located.offset, data)).collect();
                    return Ok(Some(Entry::Rejected { line, errors }));
                }
            }
        }
    }

    fn record_count(&self) -> u64 {
        self.data_records
    }

    fn bytes_read(&self) -> u64 {
        self.reader.bytes_read()
    }
}

/// A whole-file rejection from the file's problems (framing, header, trailer): the first one
/// decides the code; the message lists a few.
fn file_rejection(problems: &[Problem]) -> FileRejection {
    const LISTED: usize = 5;
    let code = match problems[0].rule {
        Rule::EmptyFile => FileErrorCode::EmptySubmission,
        Rule::MissingTrailer => FileErrorCode::TrailerMissing,
        Rule::TrailerMismatch => FileErrorCode::TrailerMismatch,
        _ if problems[0].segment == Some(SegmentKind::Trailer) => FileErrorCode::TrailerInvalid,
        _ if problems[0].segment == Some(SegmentKind::Header) => FileErrorCode::InvalidHeader,
        _ => FileErrorCode::InvalidFraming,
    };
    let mut message = problems.iter().take(LISTED).map(ToString::to_string).collect::<Vec<_>>().join("; ");
    if problems.len() > LISTED {
        message.push_str(&format!("; and {} more", problems.len() - LISTED));
    }
    FileRejection::new(code, message)
}

/// The registry's code for a Metro 2 rule: one list of record error codes, whatever the format.
fn record_code(rule: Rule) -> RecordErrorCode {
    use RecordErrorCode as C;
    match rule {
        Rule::NotNumeric => C::WrongType,
        Rule::NotADate => C::InvalidDate,
        Rule::NotPrintable => C::ControlCharacter,
        Rule::MissingValue => C::MissingField,
        Rule::UnknownCode
        | Rule::InvalidValue
        | Rule::PaymentRatingRequired
        | Rule::PaymentRatingNotAllowed
        | Rule::InvalidIdentificationNumber => C::InvalidValue,
        Rule::MissingConsumerIdentifiers => C::InvalidIdentifier,
        Rule::BalanceOnPaidAccount => C::BalanceNotZero,
        Rule::PastDueAboveBalance => C::PastDueExceedsBalance,
        Rule::PastDueOnCurrentAccount => C::PastDueNotZero,
        Rule::NoPastDueOnDelinquentAccount => C::PastDueRequired,
        Rule::MissingFirstDelinquency => C::FirstDelinquencyRequired,
        Rule::DateOrder => C::DateOrder,
        Rule::TooManyProblems => C::TooManyErrors,
        Rule::EmptyFile
        | Rule::MissingHeader
        | Rule::InvalidDescriptor
        | Rule::TruncatedRecord
        | Rule::BlockMismatch
        | Rule::MissingTrailer
        | Rule::MisplacedHeader
        | Rule::DataAfterTrailer
        | Rule::InvalidLength
        | Rule::UnknownSegment
        | Rule::TruncatedSegment
        | Rule::TrailerMismatch => C::UnreadableRecord,
    }
}

fn record_error(problem: &Problem, record_offset: u64, record: Option<&DataRecord<'_>>) -> RecordError {
    let field = match problem.segment {
        None => String::new(),
        Some(SegmentKind::Base) => location(SegmentKind::Base, 0, problem.field),
        Some(kind) => {
            // Which segment of its kind: counted from the problem's place in the record.
            let at = problem.offset.saturating_sub(record_offset) as usize;
            let ordinal = record
                .map_or(1, |record| record.segment_ranges().iter().filter(|(k, range)| *k == kind && range.start <= at).count().max(1));
            location(kind, ordinal, problem.field)
        }
    };
    // Messages are stored and shown: only a code's value is repeated (three characters at
    // most, not a personal field), never text, an amount or a date, which a record whose
    // fields are shifted could fill with someone's name or number.
    let message = match &problem.value {
        Some(value) if !problem.personal && problem.field.is_some() && value.len() <= 3 => {
            format!("{}: found \"{value}\" (Metro 2 rule {})", problem.message, problem.rule)
        }
        _ => format!("{} (Metro 2 rule {})", problem.message, problem.rule),
    };
    RecordError { line: problem.record, field, code: record_code(problem.rule), message }
}

#[cfg(test)]
mod tests;
