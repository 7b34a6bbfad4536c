//! What is wrong with a file, located: the rules a Metro 2 file can break (`Rule`, with stable
//! codes) and one problem found (`Problem`). Beneath both reading (framing problems) and
//! validation (everything else), which each report them.

use std::fmt;

use crate::layout::{Field, SegmentKind};
use crate::value::is_printable;

macro_rules! rules {
    ($($(#[doc = $doc:literal])* $variant:ident => $code:literal,)*) => {
        /// What a problem breaks. The codes are stable: software may match on them.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Rule {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Rule {
            pub const ALL: &[Rule] = &[$(Rule::$variant,)*];

            pub fn code(self) -> &'static str {
                match self {
                    $(Rule::$variant => $code,)*
                }
            }
        }
    };
}

rules! {
    /// The input holds nothing but line breaks.
    EmptyFile => "empty_file",
    /// The first record is not a header (strict reading).
    MissingHeader => "missing_header",
    /// A block or record descriptor word is not a usable length.
    InvalidDescriptor => "invalid_descriptor",
    /// The input ends inside a record.
    TruncatedRecord => "truncated_record",
    /// Block descriptor words and the record lengths inside them disagree.
    BlockMismatch => "block_mismatch",
    /// The input ends without a trailer (strict reading).
    MissingTrailer => "missing_trailer",
    /// A header record after the first record.
    MisplacedHeader => "misplaced_header",
    /// Bytes after the trailer record.
    DataAfterTrailer => "data_after_trailer",
    /// A record or line too short or too long to be one.
    InvalidLength => "invalid_length",
    /// Bytes after the base segment that start no known segment.
    UnknownSegment => "unknown_segment",
    /// An appended segment runs past the end of its record.
    TruncatedSegment => "truncated_segment",
    /// A numeric field holds something other than digits.
    NotNumeric => "not_numeric",
    /// A date or time stamp field is not a real MMDDYYYY date (or all zeros).
    NotADate => "not_a_date",
    /// A text field holds bytes that are not printable ASCII.
    NotPrintable => "not_printable",
    /// A required field is blank or zero.
    MissingValue => "missing_value",
    /// A coded field holds a code its list does not have.
    UnknownCode => "unknown_code",
    /// A field's value is of the right type but not a possible one.
    InvalidValue => "invalid_value",
    /// The account status needs a payment rating and there is none.
    PaymentRatingRequired => "payment_rating_required",
    /// A payment rating with an account status that takes none.
    PaymentRatingNotAllowed => "payment_rating_not_allowed",
    /// Neither social security number nor date of birth, and the ECOA code is not 2 or 5.
    MissingConsumerIdentifiers => "missing_consumer_identifiers",
    /// The identification number is all zeros, all nines or blank.
    InvalidIdentificationNumber => "invalid_identification_number",
    /// A paid, closed or transferred status with a current balance.
    BalanceOnPaidAccount => "balance_on_paid_account",
    /// The amount past due is above the current balance.
    PastDueAboveBalance => "past_due_above_balance",
    /// A current status (11) with an amount past due.
    PastDueOnCurrentAccount => "past_due_on_current_account",
    /// A past-due status (71 to 84) with no amount past due.
    NoPastDueOnDelinquentAccount => "no_past_due_on_delinquent_account",
    /// A delinquent or derogatory account without a date of first delinquency.
    MissingFirstDelinquency => "missing_first_delinquency",
    /// Dates in an impossible order (opened after the information date, closed before opened, …).
    DateOrder => "date_order",
    /// A trailer total differs from what the file holds.
    TrailerMismatch => "trailer_mismatch",
    /// A record with more problems than are worth listing; the rest are not reported.
    TooManyProblems => "too_many_problems",
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl serde::Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

/// One thing wrong with a file, located.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// 1-based record number (the header is record 1; in lenient reading, the line number).
    pub record: u64,
    /// Byte offset in the file of the field (or of the record, when no field is named). Line
    /// breaks inside a hard-wrapped record are not counted.
    pub offset: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// The field's number in the CRRG layout of its segment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_number: Option<u8>,
    /// The field's bytes as found (non-printable bytes escaped). Never part of `message`, so a
    /// caller can drop it where the field is personal ([`Field::is_personal`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip)]
    pub personal: bool,
    pub rule: Rule,
    pub message: String,
}

impl Problem {
    /// A problem with a whole record (or the file's framing at a record).
    pub fn record(record: u64, offset: u64, rule: Rule, message: String) -> Problem {
        Problem { record, offset, segment: None, field: None, field_number: None, value: None, personal: false, rule, message }
    }

    /// A problem at a field (or, without one, at a segment).
    pub fn at(
        record: u64,
        offset: u64,
        segment: SegmentKind,
        field: Option<&Field>,
        value: String,
        rule: Rule,
        message: String,
    ) -> Problem {
        Problem {
            record,
            offset,
            segment: Some(segment),
            field: field.map(|f| f.name),
            field_number: field.map(|f| f.number),
            value: Some(value),
            personal: field.is_some_and(Field::is_personal),
            rule,
            message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record {} (byte {})", self.record, self.offset)?;
        if let Some(segment) = self.segment {
            write!(f, ", {} segment", segment.name())?;
        }
        if let (Some(field), Some(number)) = (self.field, self.field_number) {
            write!(f, ", field {number} {field}")?;
        }
        if let Some(value) = &self.value {
            write!(f, " \"{value}\"")?;
        }
        write!(f, ": {} ({})", self.message, self.rule)
    }
}

/// Bytes as text, non-printable ones escaped (`\xNN`), for showing a value.
pub fn printable(bytes: &[u8]) -> String {
    let mut shown = String::with_capacity(bytes.len());
    for &byte in bytes {
        if is_printable(&[byte]) {
            shown.push(char::from(byte));
        } else {
            shown.push_str(&format!("\\x{byte:02x}"));
        }
    }
    shown
}
