//! Metro 2 as a furnishing format: each data record (base segment with its J1/J2 associated
//! consumers) becomes the furnishing record of `shared/spec/furnishing.md` that states the same
//! facts, and goes through the same rules; a furnishing record becomes a Metro 2 data record for
//! export. docs/metro2.md has the mapping table; the decisions it records are made here.
//!
//! A record is checked as Metro 2 first (types, codes, the format's cross-field rules). Only a
//! record that is valid Metro 2 is mapped and checked against the registry's rules, so a
//! furnisher sees each problem once, named by its Metro 2 segment and field.

use std::borrow::Cow;
use std::io::Read;

pub use metro2::Mode;
use metro2::layout::{associated as assoc, base};
use metro2::{DataRecord, Problem, Rule, Segment, SegmentBuf, SegmentKind, Validator, Value, Verdict};

use super::errors::{FileErrorCode, FileRejection, RecordError, RecordErrorCode};
use super::json::Json;
use super::validate::{RECORD_ERRORS_MAX, Rules, validate_record};
use super::{Entries, Entry, ReadError};
use crate::model::{AccountRecord, Currency, Dispute, IdType, Product, Role, Status};

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
    dates: DateTexts,
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
            dates: DateTexts::default(),
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
                    return Ok(Some(map_record(record, line, self.rules, self.options, &mut self.dates)));
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

/// Where a problem is, as the furnisher's Metro 2 names it: `base.current_balance`,
/// `J2[2].surname` (the second J2 segment of the record).
fn location(segment: SegmentKind, ordinal: usize, field: Option<&str>) -> String {
    let segment = match segment {
        SegmentKind::Base => "base".to_string(),
        kind => format!("{}[{ordinal}]", kind.name()),
    };
    match field {
        Some(field) => format!("{segment}.{field}"),
        None => segment,
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

/// The product of an account type (CRRG codes), and failing a known one, of the portfolio
/// type. The list is docs/metro2.md's.
pub fn product_of(account_type: &[u8], portfolio: &[u8]) -> Product {
    match account_type {
        b"18" | b"0G" | b"37" | b"8A" => Product::CreditCard,
        b"15" | b"07" | b"2A" | b"43" | b"47" | b"7A" | b"89" | b"9B" => Product::RevolvingLine,
        b"00" | b"3A" => Product::AutoLoan,
        b"12" => Product::StudentLoan,
        b"08" | b"19" | b"25" | b"26" | b"2C" | b"5A" | b"5B" | b"6B" | b"6D" => Product::Mortgage,
        b"01" | b"02" | b"03" | b"04" | b"05" | b"06" | b"0A" | b"0F" | b"10" | b"11" | b"17" | b"20" | b"65" | b"66" | b"67" | b"68"
        | b"6A" | b"7B" | b"91" | b"9A" => Product::InstallmentLoan,
        _ => match portfolio {
            b"R" | b"C" => Product::RevolvingLine,
            b"I" => Product::InstallmentLoan,
            b"M" => Product::Mortgage,
            _ => Product::Other,
        },
    }
}

/// The status of an account status code and payment rating. Status 13 (paid or closed) with a
/// rating of G (collection) or L (charge-off) is the paid-after-derogatory status the registry
/// keeps apart; every other rating leaves 13 `paid`.
pub fn status_of(code: &[u8], rating: &[u8]) -> Option<Status> {
    use Status::*;
    Some(match code {
        b"11" => Current,
        b"71" => Dpd30,
        b"78" => Dpd60,
        b"80" => Dpd90,
        b"82" => Dpd120,
        b"83" => Dpd150,
        b"84" => Dpd180,
        b"13" => match rating {
            b"G" => PaidWasCollection,
            b"L" => PaidWasChargedOff,
            _ => Paid,
        },
        b"61" => PaidWasSurrender,
        b"62" => PaidWasCollection,
        b"63" => PaidWasRepossession,
        b"64" => PaidWasChargedOff,
        b"65" => PaidWasForeclosure,
        b"88" => GovernmentClaim,
        b"89" => DeedInLieu,
        b"93" => Collection,
        b"94" => Foreclosure,
        b"95" => VoluntarySurrender,
        b"96" => Repossession,
        b"97" => ChargedOff,
        b"05" => Transferred,
        b"DA" | b"DF" => Delete,
        _ => return None,
    })
}

/// The role of an ECOA code; `None` for Z (the consumer is removed from the account) and W
/// (business, refused: this is a consumer registry).
fn role_of(ecoa: &[u8]) -> Option<Role> {
    Some(match ecoa {
        b"1" | b"7" => Role::Primary,
        b"2" => Role::Joint,
        b"3" => Role::AuthorizedUser,
        b"5" => Role::Cosigner,
        b"T" => Role::Terminated,
        b"X" => Role::Deceased,
        _ => return None,
    })
}

fn dispute_of(compliance: &[u8]) -> Dispute {
    match compliance {
        b"XB" | b"XD" | b"XF" | b"XJ" => Dispute::Disputed,
        b"XC" | b"XE" | b"XG" => Dispute::ResolvedConsumerDisagrees,
        b"XH" => Dispute::Resolved,
        _ => Dispute::None,
    }
}

/// Months of a term of `duration` payments at `frequency` (CRRG terms frequency codes),
/// rounded up.
fn term_months(duration: u64, frequency: &[u8]) -> u64 {
    match frequency {
        b"W" => (duration * 12).div_ceil(52),
        b"B" => (duration * 12).div_ceil(26),
        b"E" => duration.div_ceil(2),
        b"L" => duration * 2,
        b"Q" => duration * 3,
        b"T" => duration * 4,
        b"S" => duration * 6,
        b"Y" => duration * 12,
        _ => duration,
    }
}

/// The payment history profile as the registry keeps it: blanks and Z (no data) become D, and
/// trailing B's (months before the account's history began) are dropped, so a 24-month profile
/// and a shorter history that say the same are the same.
fn payment_history_of(profile: &[u8]) -> String {
    let mapped: String = profile.iter().map(|c| if matches!(c, b' ' | b'Z') { 'D' } else { char::from(*c) }).collect();
    mapped.trim_end_matches('B').to_string()
}

/// A record's text fields, read from the record as one string: it is printable ASCII
/// (validated), so one UTF-8 check serves every field and byte ranges are character ranges.
struct RecordText<'a> {
    text: &'a str,
}

impl<'a> RecordText<'a> {
    fn new(record: &DataRecord<'a>) -> RecordText<'a> {
        RecordText { text: std::str::from_utf8(record.bytes).unwrap_or_default() }
    }

    /// Field `index` of `segment`, which starts `at` bytes into the record; blanks on the
    /// right trimmed.
    fn field(&self, segment: &Segment<'a>, at: usize, index: usize) -> &'a str {
        let field = segment.field(index);
        let start = at + field.start;
        self.text.get(start..start + field.len).unwrap_or_default().trim_end_matches(' ')
    }
}

fn number(segment: &Segment<'_>, index: usize) -> u64 {
    match segment.value_at(index) {
        Ok(Value::Number(n)) => n,
        _ => 0,
    }
}

/// A date field as `MMDDYYYY` digits: as written in a character file, converted in a packed one.
fn date_digits(segment: &Segment<'_>, index: usize) -> [u8; 8] {
    let raw = segment.raw_at(index);
    match raw.try_into() {
        Ok(digits) if segment.encoding == metro2::Encoding::Character => digits,
        _ => {
            let value = segment.date(index).map_or(0, metro2::Date::mmddyyyy);
            let mut digits = [b'0'; 8];
            let mut rest = value;
            for digit in digits.iter_mut().rev() {
                *digit = b'0' + (rest % 10) as u8;
                rest /= 10;
            }
            digits
        }
    }
}

fn borrowed(text: &str) -> Json<'_> {
    Json::Str(Cow::Borrowed(text))
}

/// The dates of one record as `YYYY-MM-DD` text, so its furnishing record can borrow them: the
/// base segment's (`BASE_DATES`), then each consumer's date of birth. Character dates are
/// rearranged, not parsed again: validation has checked them.
#[derive(Default)]
struct DateTexts {
    texts: Vec<[u8; 10]>,
    /// For each slot, whether the date is there (zeros in the file: none).
    present: Vec<bool>,
}

impl DateTexts {
    fn clear(&mut self) {
        self.texts.clear();
        self.present.clear();
    }

    /// A date field's `MMDDYYYY` digits, already validated, rearranged (all zeros: none).
    fn push(&mut self, digits: &[u8]) {
        let present = digits.len() == 8 && digits != b"00000000";
        let text = match digits {
            [m1, m2, d1, d2, y1, y2, y3, y4] if present => [*y1, *y2, *y3, *y4, b'-', *m1, *m2, b'-', *d1, *d2],
            _ => [b'0'; 10],
        };
        self.texts.push(text);
        self.present.push(present);
    }

    fn json(&self, slot: usize) -> Json<'_> {
        match self.present.get(slot) {
            Some(true) => borrowed(std::str::from_utf8(&self.texts[slot]).expect("ASCII digits")),
            _ => Json::Null,
        }
    }
}

const BASE_DATES: [usize; 5] =
    [base::DATE_OF_ACCOUNT_INFORMATION, base::DATE_OPENED, base::DATE_CLOSED, base::DATE_OF_FIRST_DELINQUENCY, base::DATE_OF_LAST_PAYMENT];

/// The consumers of a record (base, then each J1 and J2 in order): the segment, where it
/// starts in the record, and the ordinal of that segment among its kind.
fn consumers<'a>(record: &DataRecord<'a>) -> impl Iterator<Item = (Segment<'a>, usize, usize)> + 'a {
    let starts = std::iter::once(0).chain(record.segment_ranges().iter().map(|(_, range)| range.start));
    std::iter::once(record.base())
        .chain(record.appended())
        .zip(starts)
        .filter(|(s, _)| matches!(s.kind, SegmentKind::Base | SegmentKind::J1 | SegmentKind::J2))
        .scan([0usize; 2], |ordinals, (segment, at)| {
            let ordinal = match segment.kind {
                SegmentKind::J1 => {
                    ordinals[0] += 1;
                    ordinals[0]
                }
                SegmentKind::J2 => {
                    ordinals[1] += 1;
                    ordinals[1]
                }
                _ => 0,
            };
            Some((segment, at, ordinal))
        })
}

fn field_index(segment: &Segment<'_>, base_index: usize, associated_index: usize) -> usize {
    if segment.kind == SegmentKind::Base { base_index } else { associated_index }
}

/// Maps a valid Metro 2 data record to a furnishing record and checks it by the registry's
/// rules. The furnishing record borrows the record's bytes and `dates`: nothing is copied.
fn map_record(record: &DataRecord<'_>, line: u64, rules: Rules, options: Metro2Options, dates: &mut DateTexts) -> Entry {
    let b = record.base();
    dates.clear();
    for index in BASE_DATES {
        dates.push(&date_digits(&b, index));
    }
    for (segment, _, _) in consumers(record) {
        dates.push(&date_digits(&segment, field_index(&segment, base::DATE_OF_BIRTH, assoc::DATE_OF_BIRTH)));
    }
    let dates = &*dates;
    let text = RecordText::new(record);

    let scale = 10u64.pow(u32::from(options.currency.exponent().unwrap_or(0)));
    let amount = |whole: u64| Json::UInt(whole.saturating_mul(scale));
    let product = product_of(b.raw_at(base::ACCOUNT_TYPE), b.raw_at(base::PORTFOLIO_TYPE));
    let status = status_of(b.raw_at(base::ACCOUNT_STATUS), b.raw_at(base::PAYMENT_RATING)).expect("validated account status");

    let mut fields: Vec<(Cow<'_, str>, Json<'_>)> = Vec::with_capacity(24);
    let mut put = |name: &'static str, value| {
        if value != Json::Null {
            fields.push((Cow::Borrowed(name), value));
        }
    };
    put("account", borrowed(text.field(&b, 0, base::CONSUMER_ACCOUNT_NUMBER)));
    put("as_of", dates.json(0));
    put("product", borrowed(product.as_str()));
    put("opened", dates.json(1));
    put("closed", dates.json(2));
    put("currency", borrowed(options.currency.code()));
    // Zero is "not reported" except where the product needs the amount.
    let limit = number(&b, base::CREDIT_LIMIT);
    if product.is_revolving() || limit > 0 {
        put("credit_limit", amount(limit));
    }
    let highest = number(&b, base::HIGHEST_CREDIT);
    if product.is_amortising() || highest > 0 {
        put("original_amount", amount(highest));
    }
    // A text field: LOC, REV or a number of payments.
    let duration = b.raw_at(base::TERMS_DURATION);
    if let Ok(Ok(payments)) = std::str::from_utf8(duration).map(str::parse::<u64>) {
        let months = term_months(payments, b.raw_at(base::TERMS_FREQUENCY));
        if months > 0 {
            put("term_months", Json::UInt(months));
        }
    }
    let scheduled = number(&b, base::SCHEDULED_MONTHLY_PAYMENT);
    if scheduled > 0 {
        put("scheduled_payment", amount(scheduled));
    }
    let paid = number(&b, base::ACTUAL_PAYMENT);
    if paid > 0 {
        put("actual_payment", amount(paid));
    }
    put("balance", amount(number(&b, base::CURRENT_BALANCE)));
    put("past_due", amount(number(&b, base::AMOUNT_PAST_DUE)));
    put("status", borrowed(status.as_str()));
    let profile = std::str::from_utf8(b.raw_at(base::PAYMENT_HISTORY_PROFILE)).unwrap_or_default();
    let history = if profile.contains([' ', 'Z']) {
        Cow::Owned(payment_history_of(profile.as_bytes()))
    } else {
        // Usually the profile as it is, borrowed.
        Cow::Borrowed(profile.trim_end_matches('B'))
    };
    if !history.is_empty() {
        put("payment_history", Json::Str(history));
    }
    put("first_delinquency", dates.json(3));
    put("last_payment", dates.json(4));
    let comment = b.raw_at(base::SPECIAL_COMMENT);
    if comment != b"  " {
        put("special_comment", borrowed(std::str::from_utf8(comment).unwrap_or_default()));
    }
    let dispute = dispute_of(b.raw_at(base::COMPLIANCE_CONDITION_CODE));
    if dispute != Dispute::None {
        put("dispute", borrowed(dispute.as_str()));
    }

    // Where each subject came from names the fields of errors about them.
    let mut refused = Vec::new();
    let mut subjects = Vec::new();
    let mut sources = Vec::new();
    for (slot, (segment, at, ordinal)) in consumers(record).enumerate() {
        let ecoa = segment.raw_at(field_index(&segment, base::ECOA_CODE, assoc::ECOA_CODE));
        match role_of(ecoa) {
            Some(role) => {
                subjects.push(subject_json(&text, &segment, at, role, dates.json(BASE_DATES.len() + slot)));
                sources.push((segment.kind, ordinal));
            }
            None if ecoa == b"W" => refused.push(RecordError {
                line,
                field: location(segment.kind, ordinal, Some("ecoa_code")),
                code: RecordErrorCode::InvalidValue,
                message: "ECOA code W (business) is refused: this is a consumer registry".into(),
            }),
            // Z: this consumer is removed from the account.
            None => {}
        }
    }
    fields.push((Cow::Borrowed("subjects"), Json::Array(subjects)));

    let value = Json::Object(fields);
    match validate_record(&value, line, &rules) {
        Ok(mut account) if refused.is_empty() => {
            account.facts.reporter_id = Some(text.field(&b, 0, base::IDENTIFICATION_NUMBER).to_string());
            Entry::Accepted { line, record: account }
        }
        Ok(_) => Entry::Rejected { line, errors: refused },
        Err(errors) => {
            let mut all = refused;
            all.extend(errors.into_iter().map(|mut e| {
                e.field = metro2_field(&e.field, &sources);
                e
            }));
            all.truncate(RECORD_ERRORS_MAX + 1);
            Entry::Rejected { line, errors: all }
        }
    }
}

/// A consumer of a base, J1 or J2 segment as a furnishing subject, borrowing the segment. A J1
/// consumer lives at the base segment's address: the registry keeps no copy of it for them.
fn subject_json<'j>(text: &RecordText<'j>, segment: &Segment<'j>, at: usize, role: Role, birth_date: Json<'j>) -> Json<'j> {
    let index = |base_index: usize, associated_index: usize| field_index(segment, base_index, associated_index);
    let mut fields: Vec<(Cow<'j, str>, Json<'j>)> = Vec::with_capacity(8);
    fields.push((Cow::Borrowed("role"), borrowed(role.as_str())));
    fields.push((Cow::Borrowed("id_type"), borrowed(IdType::Ssn.as_str())));
    // Nine digits, zero-filled: the SSN as written.
    fields
        .push((Cow::Borrowed("id"), borrowed(text.field(segment, at, index(base::SOCIAL_SECURITY_NUMBER, assoc::SOCIAL_SECURITY_NUMBER)))));
    let part = |base_index, associated_index| text.field(segment, at, index(base_index, associated_index));
    fields.push((Cow::Borrowed("family_name"), borrowed(part(base::SURNAME, assoc::SURNAME))));
    let first = part(base::FIRST_NAME, assoc::FIRST_NAME);
    let middle = part(base::MIDDLE_NAME, assoc::MIDDLE_NAME);
    let given = if middle.is_empty() { Cow::Borrowed(first) } else { Cow::Owned(format!("{first} {middle}")) };
    fields.push((Cow::Borrowed("given_name"), Json::Str(given)));
    if birth_date != Json::Null {
        fields.push((Cow::Borrowed("birth_date"), birth_date));
    }
    // The number without leading zeros.
    let phone = part(base::TELEPHONE_NUMBER, assoc::TELEPHONE_NUMBER).trim_start_matches('0');
    if !phone.is_empty() {
        fields.push((Cow::Borrowed("phone"), borrowed(phone)));
    }
    if segment.kind != SegmentKind::J1 {
        let mut address: Vec<(Cow<'j, str>, Json<'j>)> = Vec::with_capacity(6);
        let mut put = |name: &'static str, value: &'j str| {
            if !value.is_empty() {
                address.push((Cow::Borrowed(name), borrowed(value)));
            }
        };
        put("line1", part(base::FIRST_LINE_OF_ADDRESS, assoc::FIRST_LINE_OF_ADDRESS));
        put("line2", part(base::SECOND_LINE_OF_ADDRESS, assoc::SECOND_LINE_OF_ADDRESS));
        put("city", part(base::CITY, assoc::CITY));
        put("region", part(base::STATE, assoc::STATE));
        put("postal_code", part(base::POSTAL_CODE, assoc::POSTAL_CODE));
        let country = part(base::COUNTRY_CODE, assoc::COUNTRY_CODE);
        put("country", if country.is_empty() { "US" } else { country });
        fields.push((Cow::Borrowed("address"), Json::Object(address)));
    }
    Json::Object(fields)
}

/// The Metro 2 field a furnishing-record path stands for: `subjects[1].birth_date` of a record
/// whose second consumer came from its first J1 is `J1[1].date_of_birth`.
fn metro2_field(path: &str, sources: &[(SegmentKind, usize)]) -> String {
    let (segment, field) = if let Some(rest) = path.strip_prefix("subjects[") {
        let (index, field) = rest.split_once(']').unwrap_or((rest, ""));
        let source = index.parse::<usize>().ok().and_then(|i| sources.get(i)).copied();
        let Some((kind, ordinal)) = source else {
            return path.to_string();
        };
        let field = field.trim_start_matches('.');
        let name = match field {
            "role" => "ecoa_code",
            "id" | "id_type" => "social_security_number",
            "family_name" => "surname",
            "given_name" => "first_name",
            "birth_date" => "date_of_birth",
            "phone" => "telephone_number",
            "address.line2" => "second_line_of_address",
            "address.city" => "city",
            "address.region" => "state",
            "address.postal_code" => "postal_code",
            "address.country" => "country_code",
            "" => return location(kind, ordinal, None),
            _ => "first_line_of_address",
        };
        ((kind, ordinal), name)
    } else {
        let name = match path {
            "account" => "consumer_account_number",
            "as_of" => "date_of_account_information",
            "product" => "account_type",
            "opened" => "date_opened",
            "closed" => "date_closed",
            "currency" => return "currency".into(),
            "credit_limit" => "credit_limit",
            "original_amount" => "highest_credit",
            "term_months" => "terms_duration",
            "scheduled_payment" => "scheduled_monthly_payment",
            "actual_payment" => "actual_payment",
            "balance" => "current_balance",
            "past_due" => "amount_past_due",
            "status" => "account_status",
            "payment_history" => "payment_history_profile",
            "first_delinquency" => "date_of_first_delinquency",
            "last_payment" => "date_of_last_payment",
            "special_comment" => "special_comment",
            "dispute" => "compliance_condition_code",
            "subjects" => "ecoa_code",
            "" => return String::new(),
            other => return other.to_string(),
        };
        ((SegmentKind::Base, 0), name)
    };
    location(segment.0, segment.1, Some(field))
}

/// Why a record cannot be written as Metro 2.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("account {account} as of {as_of}: {reason}")]
pub struct ExportError {
    pub account: String,
    pub as_of: String,
    pub reason: String,
}

/// A record written as Metro 2: the segments, and how many amounts lost their minor units
/// (Metro 2 amounts are whole units; the CRRG says to drop cents, not round).
pub struct ExportedRecord {
    pub base: SegmentBuf,
    pub appended: Vec<SegmentBuf>,
    pub amounts_truncated: u32,
}

/// The account status code and payment rating of a status (the rating only where the CRRG
/// requires one; it does not change what the registry reads back).
pub fn status_code(status: Status) -> (&'static str, &'static str) {
    use Status::*;
    match status {
        Current => ("11", " "),
        Dpd30 => ("71", " "),
        Dpd60 => ("78", " "),
        Dpd90 => ("80", " "),
        Dpd120 => ("82", " "),
        Dpd150 => ("83", " "),
        Dpd180 => ("84", " "),
        Paid => ("13", "0"),
        PaidWasSurrender => ("61", " "),
        PaidWasCollection => ("62", " "),
        PaidWasRepossession => ("63", " "),
        PaidWasChargedOff => ("64", " "),
        PaidWasForeclosure => ("65", "L"),
        GovernmentClaim => ("88", "L"),
        DeedInLieu => ("89", "L"),
        Collection => ("93", " "),
        Foreclosure => ("94", "L"),
        VoluntarySurrender => ("95", "L"),
        Repossession => ("96", " "),
        ChargedOff => ("97", " "),
        Transferred => ("05", "0"),
        Delete => ("DA", " "),
    }
}

/// The account type and portfolio type a product is written as (the inverse of
/// [`product_of`] for these codes). Microloans and pay-later loans have no account type of
/// their own in Metro 2: they cannot be exported without losing what they are.
pub fn account_type(product: Product) -> Option<(&'static str, &'static str)> {
    Some(match product {
        Product::CreditCard => ("18", "R"),
        Product::RevolvingLine => ("15", "R"),
        Product::InstallmentLoan => ("01", "I"),
        Product::AutoLoan => ("00", "I"),
        Product::StudentLoan => ("12", "I"),
        Product::Mortgage => ("26", "M"),
        Product::Other => ("48", "O"),
        Product::Microloan | Product::Bnpl => return None,
    })
}

fn ecoa_code(role: Role) -> &'static str {
    match role {
        Role::Primary => "1",
        Role::Joint => "2",
        Role::AuthorizedUser => "3",
        Role::Cosigner => "5",
        Role::Terminated => "T",
        Role::Deceased => "X",
    }
}

fn compliance_code(dispute: Dispute) -> &'static str {
    match dispute {
        Dispute::None => "",
        Dispute::Disputed => "XB",
        Dispute::ResolvedConsumerDisagrees => "XC",
        Dispute::Resolved => "XH",
    }
}

fn metro2_date(date: crate::model::Date) -> Option<metro2::Date> {
    use chrono::Datelike;
    metro2::Date::new(u16::try_from(date.year()).ok()?, date.month() as u8, date.day() as u8)
}

/// Writes one furnishing record as a Metro 2 data record. `identification_number` is the
/// record's own when it came from Metro 2, else the caller's.
pub fn export_record(record: &AccountRecord, identification_number: &str) -> Result<ExportedRecord, ExportError> {
    let facts = &record.facts;
    let fail = |reason: String| ExportError { account: facts.account.clone(), as_of: facts.as_of.to_string(), reason };
    let field = |e: metro2::FieldError| fail(format!("does not fit Metro 2: {e}"));
    let date = |d: crate::model::Date| metro2_date(d).ok_or_else(|| fail(format!("date {d} cannot be written as MMDDYYYY")));
    let opt_date = |d: Option<crate::model::Date>| d.map(date).transpose();

    let Some((account_type, portfolio)) = account_type(facts.product) else {
        return Err(fail(format!("product {} has no Metro 2 account type", facts.product)));
    };
    if !facts.funding.is_empty() {
        return Err(fail("co-funding shares cannot be expressed in Metro 2".into()));
    }
    let scale = 10u64.pow(u32::from(facts.currency.exponent().unwrap_or(0)));
    let mut truncated = 0;
    let mut whole = |amount: u64| {
        if !amount.is_multiple_of(scale) {
            truncated += 1;
        }
        amount / scale
    };

    let Some(primary_index) = record.subjects.iter().position(|s| s.role == Role::Primary) else {
        return Err(fail("the record has no primary subject".into()));
    };
    let primary = &record.subjects[primary_index];
    let mut b = SegmentBuf::new(SegmentKind::Base, metro2::Encoding::Character);
    let as_of = date(facts.as_of)?;
    b.set_timestamp(base::TIME_STAMP, Some((as_of, 0))).map_err(field)?;
    b.set_text(base::IDENTIFICATION_NUMBER, facts.reporter_id.as_deref().unwrap_or(identification_number)).map_err(field)?;
    b.set_text(base::CONSUMER_ACCOUNT_NUMBER, &facts.account).map_err(field)?;
    b.set_text(base::PORTFOLIO_TYPE, portfolio).map_err(field)?;
    b.set_text(base::ACCOUNT_TYPE, account_type).map_err(field)?;
    b.set_date(base::DATE_OPENED, Some(date(facts.opened)?)).map_err(field)?;
    b.set_number(base::CREDIT_LIMIT, whole(facts.credit_limit.map_or(0, |a| a.0))).map_err(field)?;
    b.set_number(base::HIGHEST_CREDIT, whole(facts.original_amount.map_or(0, |a| a.0))).map_err(field)?;
    match facts.term_months {
        Some(months) => b.set_text(base::TERMS_DURATION, &format!("{months:03}")).map_err(field)?,
        None if facts.product.is_revolving() => b.set_text(base::TERMS_DURATION, "REV").map_err(field)?,
        None => b.set_text(base::TERMS_DURATION, "LOC").map_err(field)?,
    };
    b.set_text(base::TERMS_FREQUENCY, "M").map_err(field)?;
    b.set_number(base::SCHEDULED_MONTHLY_PAYMENT, whole(facts.scheduled_payment.map_or(0, |a| a.0))).map_err(field)?;
    b.set_number(base::ACTUAL_PAYMENT, whole(facts.actual_payment.map_or(0, |a| a.0))).map_err(field)?;
    let (status, rating) = status_code(facts.status);
    b.set_text(base::ACCOUNT_STATUS, status).map_err(field)?;
    b.set_text(base::PAYMENT_RATING, rating).map_err(field)?;
    let mut profile = facts.payment_history.clone();
    while profile.len() < 24 {
        profile.push('B');
    }
    b.set_text(base::PAYMENT_HISTORY_PROFILE, &profile).map_err(field)?;
    if let Some(comment) = &facts.special_comment {
        b.set_text(base::SPECIAL_COMMENT, comment).map_err(field)?;
    }
    b.set_text(base::COMPLIANCE_CONDITION_CODE, compliance_code(facts.dispute)).map_err(field)?;
    b.set_number(base::CURRENT_BALANCE, whole(facts.balance.0)).map_err(field)?;
    b.set_number(base::AMOUNT_PAST_DUE, whole(facts.past_due.0)).map_err(field)?;
    b.set_date(base::DATE_OF_ACCOUNT_INFORMATION, Some(as_of)).map_err(field)?;
    b.set_date(base::DATE_OF_FIRST_DELINQUENCY, opt_date(facts.first_delinquency)?).map_err(field)?;
    b.set_date(base::DATE_CLOSED, opt_date(facts.closed)?).map_err(field)?;
    b.set_date(base::DATE_OF_LAST_PAYMENT, opt_date(facts.last_payment)?).map_err(field)?;
    let subject_fields = [
        base::SURNAME,
        base::FIRST_NAME,
        base::MIDDLE_NAME,
        base::SOCIAL_SECURITY_NUMBER,
        base::DATE_OF_BIRTH,
        base::TELEPHONE_NUMBER,
        base::ECOA_CODE,
    ];
    write_consumer(&mut b, subject_fields, primary, &fail)?;
    let Some(address) = &primary.address else {
        return Err(fail("the primary subject has no address; Metro 2 requires one".into()));
    };
    let indexes =
        [base::COUNTRY_CODE, base::FIRST_LINE_OF_ADDRESS, base::SECOND_LINE_OF_ADDRESS, base::CITY, base::STATE, base::POSTAL_CODE];
    write_address(&mut b, indexes, &address.0, &fail)?;

    let mut appended = Vec::new();
    for (i, subject) in record.subjects.iter().enumerate() {
        if i == primary_index {
            continue;
        }
        // J1: the associated consumer shares the base address (the registry holds none for
        // them); J2 carries their own.
        let kind = if subject.address.is_some() { SegmentKind::J2 } else { SegmentKind::J1 };
        let mut segment = SegmentBuf::new(kind, metro2::Encoding::Character);
        let fields = [
            assoc::SURNAME,
            assoc::FIRST_NAME,
            assoc::MIDDLE_NAME,
            assoc::SOCIAL_SECURITY_NUMBER,
            assoc::DATE_OF_BIRTH,
            assoc::TELEPHONE_NUMBER,
            assoc::ECOA_CODE,
        ];
        write_consumer(&mut segment, fields, subject, &fail)?;
        if let Some(address) = &subject.address {
            let indexes = [
                assoc::COUNTRY_CODE,
                assoc::FIRST_LINE_OF_ADDRESS,
                assoc::SECOND_LINE_OF_ADDRESS,
                assoc::CITY,
                assoc::STATE,
                assoc::POSTAL_CODE,
            ];
            write_address(&mut segment, indexes, &address.0, &fail)?;
        }
        appended.push(segment);
    }
    Ok(ExportedRecord { base: b, appended, amounts_truncated: truncated })
}

/// Writes a consumer: `fields` are the segment's surname, first name, middle name, SSN, date
/// of birth, telephone and ECOA indexes.
fn write_consumer(
    segment: &mut SegmentBuf,
    [surname, first, middle, ssn, birth, phone, ecoa]: [usize; 7],
    subject: &crate::model::SubjectDetails,
    fail: &dyn Fn(String) -> ExportError,
) -> Result<(), ExportError> {
    let field = |e: metro2::FieldError| fail(format!("does not fit Metro 2: {e}"));
    if subject.id.id_type != IdType::Ssn {
        return Err(fail(format!(
            "a {} subject is identified by {}; Metro 2 identifies consumers by social security number",
            subject.role, subject.id.id_type
        )));
    }
    let number: u64 = subject.id.id.parse().map_err(|_| fail("a social security number is not 9 digits".into()))?;
    segment.set_number(ssn, number).map_err(field)?;
    segment.set_text(surname, &subject.family_name).map_err(field)?;
    let (first_name, middle_name) = subject.given_name.split_once(' ').unwrap_or((&subject.given_name, ""));
    segment.set_text(first, first_name).map_err(field)?;
    segment.set_text(middle, middle_name).map_err(field)?;
    if let Some(date) = &subject.birth_date {
        let date = metro2_date(date.0).ok_or_else(|| fail("a birth date cannot be written as MMDDYYYY".into()))?;
        segment.set_date(birth, Some(date)).map_err(field)?;
    }
    if let Some(number) = &subject.phone {
        let digits = number.0.as_str();
        if digits.is_empty() || digits.len() > 10 || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
            return Err(fail("a telephone number is not up to 10 digits (Metro 2 has no room for a country code)".into()));
        }
        segment.set_number(phone, digits.parse().expect("digits")).map_err(field)?;
    }
    segment.set_text(ecoa, ecoa_code(subject.role)).map_err(field)?;
    Ok(())
}

fn write_address(
    segment: &mut SegmentBuf,
    [country, line1, line2, city, state, postal]: [usize; 6],
    address: &crate::model::Address,
    fail: &dyn Fn(String) -> ExportError,
) -> Result<(), ExportError> {
    let field = |e: metro2::FieldError| fail(format!("does not fit Metro 2: {e}"));
    let (Some(region), Some(postal_code)) = (&address.region, &address.postal_code) else {
        return Err(fail("an address has no state or no postal code; Metro 2 requires both".into()));
    };
    segment.set_text(country, &address.country).map_err(field)?;
    segment.set_text(line1, &address.line1).map_err(field)?;
    segment.set_text(line2, address.line2.as_deref().unwrap_or("")).map_err(field)?;
    segment.set_text(city, &address.city).map_err(field)?;
    segment.set_text(state, region).map_err(field)?;
    segment.set_text(postal, postal_code).map_err(field)?;
    Ok(())
}

#[cfg(test)]
mod tests;
