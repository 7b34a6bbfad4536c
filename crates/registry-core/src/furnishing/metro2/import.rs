//! A valid Metro 2 data record read into a draft of the furnishing record that states the
//! same facts, field by field as `map` places them, each value already of its kind: then the
//! registry's rules check it as they check a JSON line's. The draft borrows the record's
//! bytes: nothing is copied but a given name with a middle name and an unusual history.

use std::borrow::Cow;

use metro2::{DataRecord, SegmentKind};

use super::map::{self, Correspondence};
use super::{Entry, Metro2Options};
use crate::furnishing::draft::{Draft, Object, Segment, Value};
use crate::furnishing::errors::{RecordError, RecordErrorCode};
use crate::furnishing::validate::{RECORD_ERRORS_MAX, Rules, validate_record};
use crate::model::{Date, Dispute, IdType, Role};

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
    fn field(&self, segment: &metro2::Segment<'a>, at: usize, index: usize) -> &'a str {
        let field = segment.field(index);
        let start = at + field.start;
        self.text.get(start..start + field.len).unwrap_or_default().trim_end_matches(' ')
    }
}

/// One segment of the record being read: the segment, where it starts in the record, and which
/// segment of its kind it is.
struct Read<'a, 'r> {
    text: &'r RecordText<'a>,
    segment: metro2::Segment<'a>,
    at: usize,
    source: Segment,
}

impl<'a> Read<'a, '_> {
    fn index(&self, correspondence: Correspondence) -> usize {
        correspondence.place.index(self.segment.kind).expect("a correspondence read from a segment that holds it")
    }

    fn raw(&self, correspondence: Correspondence) -> &'a [u8] {
        self.segment.raw_at(self.index(correspondence))
    }

    fn text(&self, correspondence: Correspondence) -> &'a str {
        self.text.field(&self.segment, self.at, self.index(correspondence))
    }

    fn number(&self, correspondence: Correspondence) -> u64 {
        match self.segment.value_at(self.index(correspondence)) {
            Ok(metro2::Value::Number(n)) => n,
            _ => 0,
        }
    }

    /// A date field; zeros (or none) are no date. Validation has checked it is a real one.
    fn date(&self, correspondence: Correspondence) -> Option<Date> {
        let index = self.index(correspondence);
        let (year, month, day) = match self.segment.raw_at(index) {
            // Character MMDDYYYY, read from its digits.
            [m1, m2, d1, d2, y1, y2, y3, y4] if self.segment.encoding == metro2::Encoding::Character => {
                let digit = |b: &u8| u32::from(b.wrapping_sub(b'0'));
                let year = digit(y1) * 1000 + digit(y2) * 100 + digit(y3) * 10 + digit(y4);
                (year, digit(m1) * 10 + digit(m2), digit(d1) * 10 + digit(d2))
            }
            _ => {
                let date = self.segment.date(index)?;
                (u32::from(date.year), u32::from(date.month), u32::from(date.day))
            }
        };
        Date::from_ymd_opt(i32::try_from(year).ok()?, month, day)
    }
}

/// The consumers of a record (base, then each J1 and J2 in order), as segments to read.
fn consumers<'a, 'r>(record: &DataRecord<'a>, text: &'r RecordText<'a>) -> impl Iterator<Item = Read<'a, 'r>> {
    let starts = std::iter::once(0).chain(record.segment_ranges().iter().map(|(_, range)| range.start));
    std::iter::once(record.base())
        .chain(record.appended())
        .zip(starts)
        .filter(|(s, _)| matches!(s.kind, SegmentKind::Base | SegmentKind::J1 | SegmentKind::J2))
        .scan([0usize; 2], move |ordinals, (segment, at)| {
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
            Some(Read { text, source: Segment { kind: segment.kind, ordinal }, segment, at })
        })
}

fn text(value: &str) -> Value<'_> {
    Value::Text(Cow::Borrowed(value))
}

/// Reads a valid Metro 2 data record into a draft and checks it by the registry's rules.
pub(super) fn read_record(record: &DataRecord<'_>, line: u64, rules: Rules, options: Metro2Options) -> Entry {
    let record_text = RecordText::new(record);
    let b = Read { text: &record_text, segment: record.base(), at: 0, source: Segment { kind: SegmentKind::Base, ordinal: 0 } };
    let scale = 10u64.pow(u32::from(options.currency.exponent().unwrap_or(0)));
    let amount = |whole: u64| Value::Whole(whole.saturating_mul(scale));
    let product = map::product_of(b.raw(map::PRODUCT), b.segment.raw_at(metro2::layout::base::PORTFOLIO_TYPE));
    let status =
        map::status_of(b.raw(map::STATUS), b.segment.raw_at(metro2::layout::base::PAYMENT_RATING)).expect("validated account status");

    let mut fields = Object::with_capacity(20);
    let f = |c: Correspondence| c.furnishing;
    fields.put(f(map::ACCOUNT), text(b.text(map::ACCOUNT)));
    fields.put_some(f(map::AS_OF), b.date(map::AS_OF).map(Value::Date));
    fields.put(f(map::PRODUCT), text(product.as_str()));
    fields.put_some(f(map::OPENED), b.date(map::OPENED).map(Value::Date));
    fields.put_some(f(map::CLOSED), b.date(map::CLOSED).map(Value::Date));
    fields.put(f(map::CURRENCY), text(options.currency.code()));
    // Zero is "not reported" except where the product needs the amount.
    let limit = b.number(map::CREDIT_LIMIT);
    if product.is_revolving() || limit > 0 {
        fields.put(f(map::CREDIT_LIMIT), amount(limit));
    }
    let highest = b.number(map::ORIGINAL_AMOUNT);
    if product.is_amortising() || highest > 0 {
        fields.put(f(map::ORIGINAL_AMOUNT), amount(highest));
    }
    // A text field: LOC, REV or a number of payments.
    if let Ok(Ok(payments)) = std::str::from_utf8(b.raw(map::TERM_MONTHS)).map(str::parse::<u64>) {
        let months = map::term_months(payments, b.segment.raw_at(metro2::layout::base::TERMS_FREQUENCY));
        if months > 0 {
            fields.put(f(map::TERM_MONTHS), Value::Whole(months));
        }
    }
    let scheduled = b.number(map::SCHEDULED_PAYMENT);
    if scheduled > 0 {
        fields.put(f(map::SCHEDULED_PAYMENT), amount(scheduled));
    }
    let paid = b.number(map::ACTUAL_PAYMENT);
    if paid > 0 {
        fields.put(f(map::ACTUAL_PAYMENT), amount(paid));
    }
    fields.put(f(map::BALANCE), amount(b.number(map::BALANCE)));
    fields.put(f(map::PAST_DUE), amount(b.number(map::PAST_DUE)));
    fields.put(f(map::STATUS), text(status.as_str()));
    let profile = std::str::from_utf8(b.raw(map::PAYMENT_HISTORY)).unwrap_or_default();
    let history = if profile.contains([' ', 'Z']) {
        Cow::Owned(map::payment_history_of(profile.as_bytes()))
    } else {
        // Usually the profile as it is, borrowed.
        Cow::Borrowed(profile.trim_end_matches('B'))
    };
    if !history.is_empty() {
        fields.put(f(map::PAYMENT_HISTORY), Value::Text(history));
    }
    fields.put_some(f(map::FIRST_DELINQUENCY), b.date(map::FIRST_DELINQUENCY).map(Value::Date));
    fields.put_some(f(map::LAST_PAYMENT), b.date(map::LAST_PAYMENT).map(Value::Date));
    let comment = b.raw(map::SPECIAL_COMMENT);
    if comment != b"  " {
        fields.put(f(map::SPECIAL_COMMENT), text(std::str::from_utf8(comment).unwrap_or_default()));
    }
    let dispute = map::dispute_of(b.raw(map::DISPUTE));
    if dispute != Dispute::None {
        fields.put(f(map::DISPUTE), text(dispute.as_str()));
    }

    // Where each subject came from names the fields of errors about them.
    let mut refused = Vec::new();
    let mut subjects = Vec::new();
    let mut sources = Vec::new();
    for consumer in consumers(record, &record_text) {
        let ecoa = consumer.raw(map::ROLE);
        match map::role_of(ecoa) {
            Some(role) => {
                subjects.push(Value::Object(subject(&consumer, role)));
                sources.push(consumer.source);
            }
            None if ecoa == b"W" => refused.push(RecordError {
                line,
                field: map::location(consumer.source.kind, consumer.source.ordinal, map::ROLE.place.name(consumer.source.kind)),
                code: RecordErrorCode::InvalidValue,
                message: "ECOA code W (business) is refused: this is a consumer registry".into(),
            }),
            // Z: this consumer is removed from the account.
            None => {}
        }
    }
    fields.put(f(map::SUBJECTS), Value::List(subjects));

    match validate_record(&Draft::from_metro2(fields, sources), line, &rules) {
        Ok(mut account) if refused.is_empty() => {
            account.facts.reporter_id = Some(record_text.field(&b.segment, 0, metro2::layout::base::IDENTIFICATION_NUMBER).to_string());
            Entry::Accepted { line, record: account }
        }
        Ok(_) => Entry::Rejected { line, errors: refused },
        Err(errors) => {
            let mut all = refused;
            all.extend(errors);
            all.truncate(RECORD_ERRORS_MAX + 1);
            Entry::Rejected { line, errors: all }
        }
    }
}

/// A consumer of a base, J1 or J2 segment as a furnishing subject, borrowing the segment. A J1
/// consumer lives at the base segment's address: the registry keeps no copy of it for them.
fn subject<'a>(consumer: &Read<'a, '_>, role: Role) -> Object<'a> {
    let f = |c: Correspondence| c.furnishing;
    let mut fields = Object::with_capacity(8);
    fields.put(f(map::ROLE), text(role.as_str()));
    fields.put(f(map::ID_TYPE), text(IdType::Ssn.as_str()));
    // Nine digits, zero-filled: the SSN as written.
    fields.put(f(map::ID), text(consumer.text(map::ID)));
    fields.put(f(map::FAMILY_NAME), text(consumer.text(map::FAMILY_NAME)));
    let first = consumer.text(map::GIVEN_NAME);
    let middle = consumer.text(map::MIDDLE_NAME);
    let given = if middle.is_empty() { Cow::Borrowed(first) } else { Cow::Owned(format!("{first} {middle}")) };
    fields.put(f(map::GIVEN_NAME), Value::Text(given));
    fields.put_some(f(map::BIRTH_DATE), consumer.date(map::BIRTH_DATE).map(Value::Date));
    // The number without leading zeros.
    let phone = consumer.text(map::PHONE).trim_start_matches('0');
    if !phone.is_empty() {
        fields.put(f(map::PHONE), text(phone));
    }
    if consumer.segment.kind != SegmentKind::J1 {
        let mut address = Object::with_capacity(6);
        // The address parts by their names inside `address`.
        let mut put = |c: Correspondence, value: &'a str| {
            if !value.is_empty() {
                address.put(c.furnishing.strip_prefix("address.").unwrap_or(c.furnishing), text(value));
            }
        };
        put(map::LINE1, consumer.text(map::LINE1));
        put(map::LINE2, consumer.text(map::LINE2));
        put(map::CITY, consumer.text(map::CITY));
        put(map::REGION, consumer.text(map::REGION));
        put(map::POSTAL_CODE, consumer.text(map::POSTAL_CODE));
        let country = consumer.text(map::COUNTRY);
        put(map::COUNTRY, if country.is_empty() { "US" } else { country });
        fields.put(f(map::ADDRESS), Value::Object(address));
    }
    fields
}
