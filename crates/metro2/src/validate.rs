//! Validation: every field's type and code list, the cross-field rules, and the trailer's
//! totals reconciled against the file. Every problem is located (record number, byte offset,
//! segment, field) and named by a stable rule code; none stops the checking of the rest.

use std::io::{self, Read};

use crate::codes::{self, Codes};
use crate::layout::{Encoding, Field, Kind, Need, SegmentKind, associated, base, header, trailer};
pub use crate::problem::{Problem, Rule, printable};
use crate::read::{DataRecord, Framing, Located, Mode, ReadError, Reader, Record};
use crate::value::{Date, Segment, Value, is_digits, is_printable, read_value};

/// Problems listed for one record at most; past it one `too_many_problems` closes the list.
pub const RECORD_PROBLEMS_MAX: usize = 100;

/// A field's value for showing: packed numbers and dates as their character form when they
/// read, raw bytes (escaped) otherwise.
fn shown(field: &Field, raw: &[u8]) -> String {
    match (field.kind, read_value(field.kind, raw)) {
        (Kind::PackedNumber, Ok(Value::Number(n))) => n.to_string(),
        (Kind::PackedDate, Ok(Value::Date(date))) => {
            format!("{:08}", date.map_or(0, Date::mmddyyyy))
        }
        (Kind::PackedTimestamp, Ok(Value::Timestamp(stamp))) => {
            let (date, time) = stamp.map_or((0, 0), |(date, time)| (date.mmddyyyy(), time));
            format!("{date:08}{time:06}")
        }
        _ => printable(raw),
    }
}

/// Whether every byte is printable ASCII: the common case checked once per record, with a
/// loop the compiler vectorises (no early exit), instead of field by field.
fn all_printable(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |bad, b| bad | u8::from(b.wrapping_sub(0x20) >= 0x5f)) == 0
}

/// Totals the trailer states, counted from the file; indexed like [`crate::layout::TRAILER`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Totals {
    pub counts: [u64; trailer::FIELDS],
}

impl Default for Totals {
    fn default() -> Totals {
        Totals { counts: [0; trailer::FIELDS] }
    }
}

impl Totals {
    pub fn add(&mut self, other: &Totals) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            *mine += theirs;
        }
    }

    /// Counts a data record: its status, consumers and segments.
    pub fn count(&mut self, record: &DataRecord<'_>) {
        let c = &mut self.counts;
        c[trailer::TOTAL_BASE_RECORDS] += 1;
        let base = record.base();
        if let Some(index) = status_counter(base.raw_at(base::ACCOUNT_STATUS)) {
            c[index] += 1;
        }
        count_consumer(
            c,
            &base,
            [base::SOCIAL_SECURITY_NUMBER, base::DATE_OF_BIRTH, base::TELEPHONE_NUMBER, base::ECOA_CODE],
            [trailer::TOTAL_SOCIAL_SECURITY_NUMBERS_BASE, trailer::TOTAL_DATES_OF_BIRTH_BASE],
        );
        for segment in record.appended() {
            let (segments, ssn, dob) = match segment.kind {
                SegmentKind::J1 => {
                    (trailer::TOTAL_J1_SEGMENTS, trailer::TOTAL_SOCIAL_SECURITY_NUMBERS_J1, trailer::TOTAL_DATES_OF_BIRTH_J1)
                }
                SegmentKind::J2 => {
                    (trailer::TOTAL_J2_SEGMENTS, trailer::TOTAL_SOCIAL_SECURITY_NUMBERS_J2, trailer::TOTAL_DATES_OF_BIRTH_J2)
                }
                SegmentKind::K1 => (trailer::TOTAL_K1_SEGMENTS, 0, 0),
                SegmentKind::K2 => (trailer::TOTAL_K2_SEGMENTS, 0, 0),
                SegmentKind::K3 => (trailer::TOTAL_K3_SEGMENTS, 0, 0),
                SegmentKind::K4 => (trailer::TOTAL_K4_SEGMENTS, 0, 0),
                SegmentKind::L1 => (trailer::TOTAL_L1_SEGMENTS, 0, 0),
                SegmentKind::N1 => (trailer::TOTAL_N1_SEGMENTS, 0, 0),
                SegmentKind::Header | SegmentKind::Base | SegmentKind::Trailer => continue,
            };
            c[segments] += 1;
            if ssn != 0 {
                count_consumer(
                    c,
                    &segment,
                    [associated::SOCIAL_SECURITY_NUMBER, associated::DATE_OF_BIRTH, associated::TELEPHONE_NUMBER, associated::ECOA_CODE],
                    [ssn, dob],
                );
            }
        }
    }
}

/// Counts one consumer's identifiers: `fields` are the SSN, date of birth, telephone and ECOA
/// indexes in the segment, `counters` the segment's own SSN and date-of-birth totals.
fn count_consumer(c: &mut [u64; trailer::FIELDS], segment: &Segment<'_>, fields: [usize; 4], counters: [usize; 2]) {
    let [ssn, dob, phone, ecoa] = fields;
    if segment.number(ssn) != 0 {
        c[trailer::TOTAL_SOCIAL_SECURITY_NUMBERS_ALL] += 1;
        c[counters[0]] += 1;
    }
    if segment.date(dob).is_some() {
        c[trailer::TOTAL_DATES_OF_BIRTH_ALL] += 1;
        c[counters[1]] += 1;
    }
    if segment.number(phone) != 0 {
        c[trailer::TOTAL_TELEPHONE_NUMBERS_ALL] += 1;
    }
    if segment.raw_at(ecoa) == b"Z" {
        c[trailer::TOTAL_ECOA_CODE_Z] += 1;
    }
}

/// The trailer counter of an account status.
fn status_counter(status: &[u8]) -> Option<usize> {
    match status {
        b"DF" => Some(trailer::TOTAL_STATUS_CODE_DF),
        b"DA" => Some(trailer::TOTAL_STATUS_CODE_DA),
        _ => codes::ACCOUNT_STATUS_LIST[2..].iter().position(|code| code.as_slice() == status).map(|i| trailer::TOTAL_STATUS_CODE_05 + i),
    }
}

/// Collects one record's problems, up to [`RECORD_PROBLEMS_MAX`].
pub struct Sink<'o> {
    record: u64,
    /// Where this record's problems start in `out`.
    first: usize,
    /// File offset of the record's first byte.
    offset: u64,
    out: &'o mut Vec<Problem>,
    listed: usize,
}

impl<'o> Sink<'o> {
    pub fn new(record: u64, offset: u64, out: &'o mut Vec<Problem>) -> Sink<'o> {
        Sink { record, offset, first: out.len(), out, listed: 0 }
    }

    /// Puts this record's problems in file order; the note that the list was cut short stays
    /// last.
    fn sort(&mut self) {
        self.out[self.first..].sort_by_key(|p| (p.rule == Rule::TooManyProblems, p.offset));
    }

    /// Problems listed so far.
    pub fn listed(&self) -> usize {
        self.listed
    }

    fn push(&mut self, problem: Problem) {
        self.listed += 1;
        if self.listed <= RECORD_PROBLEMS_MAX {
            self.out.push(problem);
        } else if self.listed == RECORD_PROBLEMS_MAX + 1 {
            self.out.push(Problem::record(
                self.record,
                self.offset,
                Rule::TooManyProblems,
                format!("more than {RECORD_PROBLEMS_MAX} problems in this record; the rest are not listed"),
            ));
        }
    }

    /// A problem at `field` of a segment that starts `at` bytes into the record.
    fn field(&mut self, segment: &Segment<'_>, at: usize, field: &Field, rule: Rule, message: impl Into<String>) {
        let value = shown(field, segment.raw(field));
        let problem =
            Problem::at(self.record, self.offset + (at + field.start) as u64, segment.kind, Some(field), value, rule, message.into());
        self.push(problem);
    }
}

/// Fields of a segment already reported, as bits by field index: a field with a problem of
/// type is not also checked against its code list.
type Reported = u64;

/// Per byte of a character segment, 1 where a digit must be (numeric and date fields, past
/// field 1), for checking all of a segment's digits in one pass.
const fn digit_mask<const N: usize>(fields: &[Field]) -> [u8; N] {
    let mut mask = [0u8; N];
    let mut i = 1;
    while i < fields.len() {
        let field = &fields[i];
        if matches!(field.kind, Kind::Numeric | Kind::Date | Kind::Timestamp) {
            let mut at = field.start;
            while at < field.start + field.len {
                mask[at] = 1;
                at += 1;
            }
        }
        i += 1;
    }
    mask
}

static HEADER_DIGITS: [u8; 426] = digit_mask(crate::layout::HEADER);
static BASE_DIGITS: [u8; 426] = digit_mask(crate::layout::BASE);
static TRAILER_DIGITS: [u8; 426] = digit_mask(crate::layout::TRAILER);
static J1_DIGITS: [u8; 100] = digit_mask(crate::layout::J1);
static J2_DIGITS: [u8; 200] = digit_mask(crate::layout::J2);
static K1_DIGITS: [u8; 34] = digit_mask(crate::layout::K1);
static K2_DIGITS: [u8; 34] = digit_mask(crate::layout::K2);
static K3_DIGITS: [u8; 40] = digit_mask(crate::layout::K3);
static K4_DIGITS: [u8; 30] = digit_mask(crate::layout::K4);
static L1_DIGITS: [u8; 54] = digit_mask(crate::layout::L1);

/// Whether every numeric and date field of a whole character segment holds digits: the
/// common case, checked in one pass the compiler vectorises, instead of field by field.
fn all_digits_in_place(segment: &Segment<'_>) -> bool {
    if segment.encoding != Encoding::Character {
        return false;
    }
    let mask: &[u8] = match segment.kind {
        SegmentKind::Header => &HEADER_DIGITS,
        SegmentKind::Base => &BASE_DIGITS,
        SegmentKind::Trailer => &TRAILER_DIGITS,
        SegmentKind::J1 => &J1_DIGITS,
        SegmentKind::J2 => &J2_DIGITS,
        SegmentKind::K1 => &K1_DIGITS,
        SegmentKind::K2 => &K2_DIGITS,
        SegmentKind::K3 => &K3_DIGITS,
        SegmentKind::K4 => &K4_DIGITS,
        SegmentKind::L1 => &L1_DIGITS,
        SegmentKind::N1 => &[],
    };
    let Some(bytes) = segment.bytes.get(..mask.len()) else {
        return false;
    };
    bytes.iter().zip(mask).fold(0u8, |bad, (b, must)| bad | (must & u8::from(b.wrapping_sub(b'0') >= 10))) == 0
}

/// Checks every field's type, and that required fields hold a value. `text_checked` says the
/// caller already found the whole segment printable. The descriptor word and segment
/// identifier (field 1) were checked by the reader.
fn check_types(segment: &Segment<'_>, at: usize, text_checked: bool, sink: &mut Sink<'_>) -> Reported {
    let digits_checked = text_checked && all_digits_in_place(segment);
    let mut reported = 0;
    for (index, field) in segment.fields().iter().enumerate().skip(1) {
        // Optional text and numbers have nothing left to check once the whole segment passed.
        let checked = match field.kind {
            Kind::Text => text_checked,
            Kind::Numeric => digits_checked,
            _ => false,
        };
        if checked && field.need == Need::Optional {
            continue;
        }
        let before = sink.listed();
        check_type(segment, at, field, text_checked, sink);
        if sink.listed() != before {
            reported |= 1 << index;
        }
    }
    reported
}

fn check_type(segment: &Segment<'_>, at: usize, field: &Field, text_checked: bool, sink: &mut Sink<'_>) {
    let raw = segment.raw(field);
    // A short line (lenient reading) lacks its last fields: they count as blank.
    let present = !raw.is_empty();
    let empty = match field.kind {
        Kind::Text => {
            if present && !text_checked && !is_printable(raw) {
                sink.field(segment, at, field, Rule::NotPrintable, "holds bytes that are not printable ASCII");
                return;
            }
            raw.iter().all(|b| *b == b' ')
        }
        Kind::Numeric => {
            if present && !is_digits(raw) {
                let form = if field.len == 1 { "a digit".to_string() } else { format!("{} digits, zero-filled", field.len) };
                sink.field(segment, at, field, Rule::NotNumeric, format!("must be {form}"));
                return;
            }
            raw.iter().all(|b| *b == b'0')
        }
        Kind::Date | Kind::Timestamp | Kind::PackedDate | Kind::PackedTimestamp if present => match read_value(field.kind, raw) {
            Ok(Value::Date(None) | Value::Timestamp(None)) => true,
            Ok(_) => false,
            Err(_) => {
                let form = match field.kind {
                    Kind::Date => "a date as MMDDYYYY, or zeros",
                    Kind::Timestamp => "a time stamp as MMDDYYYYHHMMSS, or zeros",
                    _ => "a packed date, or zeros",
                };
                sink.field(segment, at, field, Rule::NotADate, format!("must be {form}"));
                return;
            }
        },
        Kind::PackedNumber => raw.iter().all(|b| *b == 0),
        Kind::Descriptor => false,
        Kind::Date | Kind::Timestamp | Kind::PackedDate | Kind::PackedTimestamp => true,
    };
    if empty && field.need == Need::Required {
        sink.field(segment, at, field, Rule::MissingValue, "is required and is blank or zero");
    }
}

/// Checks a coded field against its list (blank passes when the list has blank), unless the
/// field was reported already.
fn check_code(segment: &Segment<'_>, at: usize, reported: Reported, index: usize, codes: &Codes, what: &str, sink: &mut Sink<'_>) {
    let field = segment.field(index);
    let raw = segment.raw(field);
    if reported & (1 << index) != 0 || raw.is_empty() || codes.contains(raw) {
        return;
    }
    sink.field(segment, at, field, Rule::UnknownCode, format!("is not {what}"));
}

/// Checks the header record. Lenient reading, like the CFPB's, reads only its activity date,
/// which dates the file's records.
pub fn check_header(segment: &Segment<'_>, mode: Mode, sink: &mut Sink<'_>) {
    match mode {
        Mode::Strict => {
            let text_checked = segment.encoding == Encoding::Character && all_printable(segment.bytes);
            check_types(segment, 0, text_checked, sink);
        }
        Mode::Lenient => check_type(segment, 0, segment.field(header::ACTIVITY_DATE), false, sink),
    }
}

/// Checks a data record: the base segment and each appended segment. Returns whether it has
/// no problems.
pub fn check_data(record: &DataRecord<'_>, sink: &mut Sink<'_>) -> bool {
    let before = sink.listed();
    let text_checked = record.encoding == Encoding::Character && all_printable(record.bytes);
    let base = record.base();
    let reported = check_types(&base, 0, text_checked, sink);
    check_base(&base, reported, sink);
    for (segment, range) in record.appended().zip(record.segment_ranges()) {
        let at = range.1.start;
        let reported = check_types(&segment, at, text_checked, sink);
        check_appended(&segment, at, reported, sink);
    }
    sink.sort();
    sink.listed() == before
}

fn check_base(base: &Segment<'_>, reported: Reported, sink: &mut Sink<'_>) {
    use base::{
        ACCOUNT_STATUS, ACCOUNT_TYPE, ADDRESS_INDICATOR, AMOUNT_PAST_DUE, COMPLIANCE_CONDITION_CODE, CORRECTION_INDICATOR, CURRENT_BALANCE,
        DATE_CLOSED, DATE_OF_ACCOUNT_INFORMATION, DATE_OF_BIRTH, DATE_OF_FIRST_DELINQUENCY, DATE_OF_LAST_PAYMENT, DATE_OPENED, ECOA_CODE,
        GENERATION_CODE, IDENTIFICATION_NUMBER, INTEREST_TYPE_INDICATOR, PAYMENT_HISTORY_PROFILE, PAYMENT_RATING, PORTFOLIO_TYPE,
        RESIDENCE_CODE, SOCIAL_SECURITY_NUMBER, SPECIAL_COMMENT, TERMS_DURATION, TERMS_FREQUENCY,
    };
    // The coded fields, in the order their errors are reported, and what each must be.
    let coded: [(usize, &Codes, &str); 10] = [
        (CORRECTION_INDICATOR, &codes::CORRECTION_INDICATORS, "0 (original) or 1 (correction)"),
        (PORTFOLIO_TYPE, &codes::PORTFOLIO_TYPES, "a portfolio type (C, I, M, O, R, L)"),
        (ACCOUNT_TYPE, &codes::ACCOUNT_TYPES, "an account type of the CRRG"),
        (TERMS_FREQUENCY, &codes::TERMS_FREQUENCIES, "a terms frequency (D, P, W, B, E, M, L, Q, T, S, Y or blank)"),
        (ACCOUNT_STATUS, &codes::ACCOUNT_STATUSES, "an account status (DA, DF, 05, 11, 13, 61-65, 71, 78, 80, 82-84, 88, 89, 93-97)"),
        (INTEREST_TYPE_INDICATOR, &codes::INTEREST_TYPES, "an interest type (F, V or blank)"),
        (GENERATION_CODE, &codes::GENERATION_CODES, "a generation code (J, S, 2-9 or blank)"),
        (ECOA_CODE, &codes::ECOA_CODES, "an ECOA code (1, 2, 3, 5, 7, T, W, X, Z)"),
        (ADDRESS_INDICATOR, &codes::ADDRESS_INDICATORS, "an address indicator (C, Y, N, M, S, B, U, D, P or blank)"),
        (RESIDENCE_CODE, &codes::RESIDENCE_CODES, "a residence code (O, R or blank)"),
    ];
    for (field, allowed, what) in coded {
        check_code(base, 0, reported, field, allowed, what, sink);
    }

    let comment = base.raw_at(SPECIAL_COMMENT);
    if comment != b"  " {
        check_code(base, 0, reported, SPECIAL_COMMENT, &codes::SPECIAL_COMMENTS, "a special comment code of the CRRG", sink);
    }
    let compliance = base.raw_at(COMPLIANCE_CONDITION_CODE);
    if compliance != b"  " {
        check_code(
            base,
            0,
            reported,
            COMPLIANCE_CONDITION_CODE,
            &codes::COMPLIANCE_CONDITIONS,
            "a compliance condition code (XA-XH, XJ, XR)",
            sink,
        );
    }

    let terms = base.raw_at(TERMS_DURATION);
    if !(terms == b"LOC" || terms == b"REV" || is_digits(terms) || terms.iter().all(|b| *b == b' ')) {
        sink.field(base, 0, base.field(TERMS_DURATION), Rule::InvalidValue, "must be LOC, REV or a number of payments");
    }

    let profile_field = base.field(PAYMENT_HISTORY_PROFILE);
    if let Some(position) = base.raw(profile_field).iter().position(|c| !codes::PROFILE_CHARACTERS.contains(&[*c])) {
        sink.field(
            base,
            0,
            profile_field,
            Rule::UnknownCode,
            format!("month {} is not a payment history character (0-6, B, D, E, G, H, J, K, L, Z or blank)", position + 1),
        );
    }

    let status = base.raw_at(ACCOUNT_STATUS);
    let rating_field = base.field(PAYMENT_RATING);
    let rating = base.raw(rating_field);
    if codes::STATUSES_RATED.contains(status) {
        if rating == b" " {
            sink.field(
                base,
                0,
                rating_field,
                Rule::PaymentRatingRequired,
                "account statuses 05, 13, 65, 88, 89, 94 and 95 need a payment rating",
            );
        } else if !codes::PAYMENT_RATINGS.contains(rating) {
            sink.field(base, 0, rating_field, Rule::UnknownCode, "is not a payment rating (0-6, G, L)");
        }
    } else if codes::ACCOUNT_STATUSES.contains(status) && !rating.is_empty() && rating != b" " {
        sink.field(
            base,
            0,
            rating_field,
            Rule::PaymentRatingNotAllowed,
            "must be blank unless the account status is 05, 13, 65, 88, 89, 94 or 95",
        );
    }

    let identification = base.field(IDENTIFICATION_NUMBER);
    let id = crate::value::trim_blanks(base.raw(identification));
    if !id.is_empty() && (id.iter().all(|b| *b == b'0') || id.iter().all(|b| *b == b'9')) {
        sink.field(base, 0, identification, Rule::InvalidIdentificationNumber, "must not be all zeros or all nines");
    }

    check_identifiers(base, 0, [SOCIAL_SECURITY_NUMBER, DATE_OF_BIRTH, ECOA_CODE], sink);

    // Amounts: compared only when both read as numbers (type problems are reported already).
    let amount = |index| match base.value_at(index) {
        Ok(Value::Number(n)) => Some(n),
        _ => None,
    };
    let balance = amount(CURRENT_BALANCE);
    let past_due = amount(AMOUNT_PAST_DUE);
    if codes::STATUSES_ZERO_BALANCE.contains(status) && balance.is_some_and(|b| b > 0) {
        sink.field(
            base,
            0,
            base.field(CURRENT_BALANCE),
            Rule::BalanceOnPaidAccount,
            "must be zero for a paid or transferred account (statuses 05, 13, 61-65)",
        );
    }
    if let (Some(balance), Some(past_due)) = (balance, past_due)
        && past_due > balance
    {
        sink.field(base, 0, base.field(AMOUNT_PAST_DUE), Rule::PastDueAboveBalance, "must not exceed the current balance");
    }
    if status == b"11" && past_due.is_some_and(|p| p > 0) {
        sink.field(base, 0, base.field(AMOUNT_PAST_DUE), Rule::PastDueOnCurrentAccount, "must be zero for a current account (status 11)");
    }
    if codes::STATUSES_DELINQUENT.contains(status) && past_due == Some(0) {
        sink.field(
            base,
            0,
            base.field(AMOUNT_PAST_DUE),
            Rule::NoPastDueOnDelinquentAccount,
            "must be above zero for a past-due status (71-84)",
        );
    }

    // Each date read once; `Err` when unreadable (reported already), `Ok(None)` when zeros.
    let date = |index| match base.value_at(index) {
        Ok(Value::Date(date)) => Ok(date),
        _ => Err(()),
    };
    let (opened, information, first_delinquency) = (date(DATE_OPENED), date(DATE_OF_ACCOUNT_INFORMATION), date(DATE_OF_FIRST_DELINQUENCY));
    let (closed, last_payment) = (date(DATE_CLOSED), date(DATE_OF_LAST_PAYMENT));
    let delinquent_rating =
        codes::STATUSES_RATED.contains(status) && matches!(rating, b"1" | b"2" | b"3" | b"4" | b"5" | b"6" | b"G" | b"L");
    if (codes::STATUSES_DELINQUENT.contains(status) || codes::STATUSES_DEROGATORY.contains(status) || delinquent_rating)
        && first_delinquency == Ok(None)
    {
        sink.field(
            base,
            0,
            base.field(DATE_OF_FIRST_DELINQUENCY),
            Rule::MissingFirstDelinquency,
            "is required for a delinquent or derogatory account",
        );
    }
    let mut order = |index: usize, earlier: Result<Option<Date>, ()>, later: Result<Option<Date>, ()>, message: &str| {
        if let (Ok(Some(earlier)), Ok(Some(later))) = (earlier, later)
            && earlier > later
        {
            sink.field(base, 0, base.field(index), Rule::DateOrder, message);
        }
    };
    order(DATE_OPENED, opened, information, "is after the date of account information");
    order(DATE_CLOSED, opened, closed, "is before the date opened");
    order(DATE_CLOSED, closed, information, "is after the date of account information");
    order(DATE_OF_FIRST_DELINQUENCY, first_delinquency, information, "is after the date of account information");
    order(DATE_OF_LAST_PAYMENT, last_payment, information, "is after the date of account information");
}

/// A consumer needs a social security number or a date of birth, unless the ECOA code is 2
/// (joint) or 5 (co-maker), which the CRRG lets go without.
fn check_identifiers(segment: &Segment<'_>, at: usize, [ssn, dob, ecoa]: [usize; 3], sink: &mut Sink<'_>) {
    let ssn_value = segment.value_at(ssn);
    let no_ssn = matches!(ssn_value, Ok(Value::Number(0 | 999_999_999)));
    let no_dob = matches!(segment.value_at(dob), Ok(Value::Date(None)));
    let ecoa_code = segment.raw_at(ecoa);
    if no_ssn && no_dob && ecoa_code != b"2" && ecoa_code != b"5" {
        sink.field(
            segment,
            at,
            segment.field(ssn),
            Rule::MissingConsumerIdentifiers,
            "neither a social security number nor a date of birth is given (allowed only with ECOA code 2 or 5)",
        );
    }
}

fn check_appended(segment: &Segment<'_>, at: usize, reported: Reported, sink: &mut Sink<'_>) {
    match segment.kind {
        SegmentKind::J1 | SegmentKind::J2 => {
            use associated::{ADDRESS_INDICATOR, DATE_OF_BIRTH, ECOA_CODE, GENERATION_CODE, RESIDENCE_CODE, SOCIAL_SECURITY_NUMBER};
            check_code(segment, at, reported, GENERATION_CODE, &codes::GENERATION_CODES, "a generation code (J, S, 2-9 or blank)", sink);
            check_code(segment, at, reported, ECOA_CODE, &codes::ECOA_CODES, "an ECOA code (1, 2, 3, 5, 7, T, W, X, Z)", sink);
            if segment.kind == SegmentKind::J2 {
                check_code(
                    segment,
                    at,
                    reported,
                    ADDRESS_INDICATOR,
                    &codes::ADDRESS_INDICATORS,
                    "an address indicator (C, Y, N, M, S, B, U, D, P or blank)",
                    sink,
                );
                check_code(segment, at, reported, RESIDENCE_CODE, &codes::RESIDENCE_CODES, "a residence code (O, R or blank)", sink);
            }
            check_identifiers(segment, at, [SOCIAL_SECURITY_NUMBER, DATE_OF_BIRTH, ECOA_CODE], sink);
        }
        SegmentKind::K1 => {
            check_code(segment, at, reported, 2, &codes::CREDITOR_CLASSIFICATIONS, "a creditor classification (01-15)", sink);
        }
        SegmentKind::K2 => {
            check_code(segment, at, reported, 1, &codes::PURCHASE_INDICATORS, "a purchased from / sold to indicator (1, 2, 9)", sink);
        }
        SegmentKind::K3 => check_code(segment, at, reported, 1, &codes::AGENCY_IDENTIFIERS, "an agency identifier (00, 01, 02)", sink),
        SegmentKind::K4 => {
            check_code(segment, at, reported, 1, &codes::SPECIALIZED_PAYMENT_INDICATORS, "a specialized payment indicator (01, 02)", sink);
        }
        SegmentKind::L1 => check_code(segment, at, reported, 1, &codes::CHANGE_INDICATORS, "a change indicator (1, 2, 3)", sink),
        SegmentKind::N1 | SegmentKind::Header | SegmentKind::Base | SegmentKind::Trailer => {}
    }
}

/// Checks one segment on its own (a fragment): its fields' types and codes, and the rules
/// within it. Returns whether it has no problems.
pub fn check_segment(segment: &Segment<'_>, sink: &mut Sink<'_>) -> bool {
    let before = sink.listed();
    let text_checked = segment.encoding == Encoding::Character && all_printable(segment.bytes);
    match segment.kind {
        SegmentKind::Header => check_header(segment, Mode::Strict, sink),
        SegmentKind::Base => {
            let reported = check_types(segment, 0, text_checked, sink);
            check_base(segment, reported, sink);
        }
        SegmentKind::Trailer => {
            check_types(segment, 0, text_checked, sink);
        }
        _ => {
            let reported = check_types(segment, 0, text_checked, sink);
            check_appended(segment, 0, reported, sink);
        }
    }
    sink.sort();
    sink.listed() == before
}

/// Checks the trailer's fields and reconciles its totals with `totals` (strict reading).
/// `block_count` is what the file's framing counts as blocks.
pub fn check_trailer(segment: &Segment<'_>, totals: &Totals, block_count: u64, sink: &mut Sink<'_>) {
    let text_checked = segment.encoding == Encoding::Character && all_printable(segment.bytes);
    check_types(segment, 0, text_checked, sink);
    for (index, field) in segment.fields().iter().enumerate() {
        if !matches!(field.kind, Kind::Numeric | Kind::PackedNumber) || index == 0 {
            continue;
        }
        let Ok(Value::Number(stated)) = segment.value(field) else {
            continue;
        };
        let counted = if index == trailer::BLOCK_COUNT { block_count } else { totals.counts[index] };
        if stated != counted {
            sink.field(segment, 0, field, Rule::TrailerMismatch, format!("the trailer says {stated}; the file has {counted}"));
        }
    }
}

/// Counts of what a file held.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SegmentCounts {
    pub j1: u64,
    pub j2: u64,
    pub k1: u64,
    pub k2: u64,
    pub k3: u64,
    pub k4: u64,
    pub l1: u64,
    pub n1: u64,
}

impl SegmentCounts {
    fn from_totals(totals: &Totals) -> SegmentCounts {
        let c = &totals.counts;
        SegmentCounts {
            j1: c[trailer::TOTAL_J1_SEGMENTS],
            j2: c[trailer::TOTAL_J2_SEGMENTS],
            k1: c[trailer::TOTAL_K1_SEGMENTS],
            k2: c[trailer::TOTAL_K2_SEGMENTS],
            k3: c[trailer::TOTAL_K3_SEGMENTS],
            k4: c[trailer::TOTAL_K4_SEGMENTS],
            l1: c[trailer::TOTAL_L1_SEGMENTS],
            n1: c[trailer::TOTAL_N1_SEGMENTS],
        }
    }
}

/// The outcome of validating a file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub mode: Mode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framing: Option<Framing>,
    pub bytes: u64,
    /// Records (strict) or lines (lenient) read, header and trailer included.
    pub records: u64,
    pub header: bool,
    pub trailer: bool,
    /// Data records read (base segments), readable or not.
    pub data_records: u64,
    /// Data records with at least one problem.
    pub data_records_with_problems: u64,
    pub segments: SegmentCounts,
    /// Problems found in all, and of those, problems of the file rather than of a data record
    /// (framing, header, trailer).
    pub problems: u64,
    pub file_problems: u64,
}

impl Summary {
    pub fn valid(&self) -> bool {
        self.problems == 0
    }
}

/// What [`Validator::check`] made of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A header, trailer or other record of the file: its problems are the file's.
    File,
    /// A data record, with or without problems of its own.
    Data { valid: bool },
    /// A data record that cannot be read into segments.
    Unreadable,
}

/// Checks a file record by record, as a [`Reader`] yields them, keeping the totals the trailer
/// is reconciled with.
pub struct Validator {
    mode: Mode,
    totals: Totals,
    summary: Summary,
}

impl Validator {
    pub fn new(mode: Mode) -> Validator {
        Validator {
            mode,
            totals: Totals::default(),
            summary: Summary {
                mode,
                framing: None,
                bytes: 0,
                records: 0,
                header: false,
                trailer: false,
                data_records: 0,
                data_records_with_problems: 0,
                segments: SegmentCounts::default(),
                problems: 0,
                file_problems: 0,
            },
        }
    }

    /// Checks one record; its problems are appended to `out`.
    pub fn check(&mut self, located: &Located<Record<'_>>, out: &mut Vec<Problem>) -> Verdict {
        let before = out.len();
        let mut sink = Sink::new(located.number, located.offset, out);
        let verdict = match &located.record {
            Record::Header(segment) => {
                if self.summary.header || self.summary.data_records > 0 {
                    sink.push(Problem::record(
                        located.number,
                        located.offset,
                        Rule::MisplacedHeader,
                        "a second header record, or one after data records; a file has one, first".into(),
                    ));
                } else {
                    check_header(segment, self.mode, &mut sink);
                }
                self.summary.header = true;
                Verdict::File
            }
            Record::Data(record) => {
                self.summary.data_records += 1;
                self.totals.count(record);
                let valid = check_data(record, &mut sink);
                Verdict::Data { valid }
            }
            Record::Trailer(segment) => {
                self.summary.trailer = true;
                if self.mode == Mode::Strict {
                    check_trailer(segment, &self.totals, located.blocks, &mut sink);
                }
                Verdict::File
            }
            Record::Unreadable(problem) => {
                sink.push(problem.clone());
                if problem.rule == Rule::MisplacedHeader {
                    Verdict::File
                } else {
                    self.summary.data_records += 1;
                    self.totals.counts[trailer::TOTAL_BASE_RECORDS] += 1;
                    Verdict::Unreadable
                }
            }
        };
        let found = (out.len() - before) as u64;
        self.summary.problems += found;
        match verdict {
            Verdict::File => self.summary.file_problems += found,
            Verdict::Data { valid: false } | Verdict::Unreadable => self.summary.data_records_with_problems += 1,
            Verdict::Data { valid: true } => {}
        }
        verdict
    }

    /// Notes a problem that stopped the reading (always the file's).
    pub fn stopped(&mut self, problem: &Problem) {
        let _ = problem;
        self.summary.problems += 1;
        self.summary.file_problems += 1;
    }

    /// Takes in what a worker found checking a batch of data records on its own (`parallel`):
    /// how many records, how many of them with problems, how many problems, what they total.
    pub(crate) fn absorb(&mut self, data_records: u64, data_records_with_problems: u64, problems: u64, totals: &Totals) {
        self.summary.data_records += data_records;
        self.summary.data_records_with_problems += data_records_with_problems;
        self.summary.problems += problems;
        self.totals.add(totals);
    }

    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// The summary, given the reader that read the file.
    pub fn finish<R: Read>(mut self, reader: &Reader<R>) -> Summary {
        self.summary.framing = reader.framing();
        self.summary.bytes = reader.bytes_read();
        self.summary.records = reader.records_read();
        self.summary.segments = SegmentCounts::from_totals(&self.totals);
        self.summary
    }
}

/// Validates a whole file, handing each problem to `on_problem` in file order.
pub fn validate<R: Read>(input: R, mode: Mode, mut on_problem: impl FnMut(&Problem)) -> io::Result<Summary> {
    let mut reader = Reader::new(input, mode);
    let mut validator = Validator::new(mode);
    let mut problems = Vec::new();
    loop {
        match reader.next_record() {
            Ok(Some(located)) => {
                validator.check(&located, &mut problems);
                for problem in problems.drain(..) {
                    on_problem(&problem);
                }
            }
            Ok(None) => break,
            Err(ReadError::Framing(problem)) => {
                validator.stopped(&problem);
                on_problem(&problem);
                break;
            }
            Err(ReadError::Io(e)) => return Err(e),
        }
    }
    Ok(validator.finish(&reader))
}
