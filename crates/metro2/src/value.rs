//! Reading one field of one segment: the bytes, and their meaning by kind. Zero-copy: a
//! `Segment` borrows the reader's buffer.

use crate::layout::{self, Encoding, Field, Kind, SegmentKind};

/// A calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// `None` unless it is a real calendar date.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (year > 0 && (1..=days).contains(&day)).then_some(Date { year, month, day })
    }

    /// From the integer MMDDYYYY.
    pub fn from_mmddyyyy(value: u64) -> Option<Date> {
        let year = (value % 10_000) as u16;
        let day = ((value / 10_000) % 100) as u8;
        let month = ((value / 1_000_000) % 100) as u8;
        if value >= 100_000_000 {
            return None;
        }
        Date::new(year, month, day)
    }

    /// From eight ASCII digits MMDDYYYY (which the caller has checked are digits); `None`
    /// unless a real date. Digit arithmetic, not division: dates are the most frequent field.
    fn from_digits(d: &[u8]) -> Option<Date> {
        let digit = |i: usize| d[i].wrapping_sub(b'0');
        let month = digit(0) * 10 + digit(1);
        let day = digit(2) * 10 + digit(3);
        let year = u16::from(digit(4)) * 1000 + u16::from(digit(5)) * 100 + u16::from(digit(6)) * 10 + u16::from(digit(7));
        Date::new(year, month, day)
    }

    pub fn mmddyyyy(self) -> u64 {
        u64::from(self.month) * 1_000_000 + u64::from(self.day) * 10_000 + u64::from(self.year)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A field's value, read by its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// Right-trimmed text.
    Text(&'a [u8]),
    Number(u64),
    /// `None` when all zeros (no date).
    Date(Option<Date>),
    /// Date and HHMMSS; `None` when all zeros.
    Timestamp(Option<(Date, u32)>),
}

/// Why a field's bytes do not read as its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unreadable {
    NotNumeric,
    NotADate,
    NotPrintable,
}

/// One segment (or header, base, trailer) of a record, as bytes and a layout.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    pub kind: SegmentKind,
    pub encoding: Encoding,
    pub bytes: &'a [u8],
}

impl<'a> Segment<'a> {
    pub fn fields(&self) -> &'static [Field] {
        layout::fields(self.kind, self.encoding)
    }

    /// The field at `index` (CRRG field number minus one).
    pub fn field(&self, index: usize) -> &'static Field {
        &self.fields()[index]
    }

    /// A field's bytes, or an empty slice if the segment is shorter than the layout.
    pub fn raw(&self, field: &Field) -> &'a [u8] {
        self.bytes.get(field.start..field.start + field.len).unwrap_or(&[])
    }

    pub fn raw_at(&self, index: usize) -> &'a [u8] {
        self.raw(self.field(index))
    }

    /// A text field, right-trimmed of blanks.
    pub fn text(&self, index: usize) -> &'a [u8] {
        trim_blanks(self.raw_at(index))
    }

    pub fn value(&self, field: &Field) -> Result<Value<'a>, Unreadable> {
        read_value(field.kind, self.raw(field))
    }

    pub fn value_at(&self, index: usize) -> Result<Value<'a>, Unreadable> {
        self.value(self.field(index))
    }

    /// A numeric field (character or packed); 0 when unreadable.
    pub fn number(&self, index: usize) -> u64 {
        match self.value_at(index) {
            Ok(Value::Number(n)) => n,
            _ => 0,
        }
    }

    /// A date field; `None` when empty or unreadable.
    pub fn date(&self, index: usize) -> Option<Date> {
        match self.value_at(index) {
            Ok(Value::Date(date)) => date,
            _ => None,
        }
    }
}

pub fn trim_blanks(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|b| *b != b' ').map_or(0, |i| i + 1);
    &bytes[..end]
}

pub fn is_digits(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| b.wrapping_sub(b'0') < 10)
}

pub fn is_printable(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| b.wrapping_sub(0x20) < 0x5f)
}

fn digits_value(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |n, d| n.wrapping_mul(10).wrapping_add(u64::from(d - b'0')))
}

fn big_endian(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b))
}

/// Reads bytes as `kind`. Never panics, whatever the bytes.
pub fn read_value(kind: Kind, bytes: &[u8]) -> Result<Value<'_>, Unreadable> {
    match kind {
        Kind::Text => {
            if is_printable(bytes) {
                Ok(Value::Text(trim_blanks(bytes)))
            } else {
                Err(Unreadable::NotPrintable)
            }
        }
        Kind::Numeric => {
            if is_digits(bytes) && bytes.len() <= 19 {
                Ok(Value::Number(digits_value(bytes)))
            } else {
                Err(Unreadable::NotNumeric)
            }
        }
        Kind::Date => {
            if bytes.len() != 8 || !is_digits(bytes) {
                return Err(Unreadable::NotADate);
            }
            if bytes == b"00000000" {
                return Ok(Value::Date(None));
            }
            Date::from_digits(bytes).map(|d| Value::Date(Some(d))).ok_or(Unreadable::NotADate)
        }
        Kind::Timestamp => {
            if bytes.len() != 14 || !is_digits(bytes) {
                return Err(Unreadable::NotADate);
            }
            timestamp(digits_value(&bytes[..8]), digits_value(&bytes[8..]))
        }
        Kind::PackedNumber => Ok(Value::Number(big_endian(bytes))),
        Kind::PackedDate => {
            if bytes.iter().all(|b| *b == 0) {
                return Ok(Value::Date(None));
            }
            match bytes {
                [0x00, middle @ .., 0x73] if middle.len() == 3 => {
                    Date::from_mmddyyyy(big_endian(middle)).map(|d| Value::Date(Some(d))).ok_or(Unreadable::NotADate)
                }
                _ => Err(Unreadable::NotADate),
            }
        }
        Kind::PackedTimestamp => {
            if bytes.iter().all(|b| *b == 0) {
                return Ok(Value::Timestamp(None));
            }
            match bytes {
                [0x00, middle @ .., 0x73] if middle.len() == 6 => {
                    let value = big_endian(middle);
                    timestamp(value / 1_000_000, value % 1_000_000)
                }
                _ => Err(Unreadable::NotADate),
            }
        }
        Kind::Descriptor => match bytes {
            [high, low, ..] => Ok(Value::Number(u64::from(u16::from_be_bytes([*high, *low])))),
            _ => Err(Unreadable::NotNumeric),
        },
    }
}

fn timestamp(mmddyyyy: u64, hhmmss: u64) -> Result<Value<'static>, Unreadable> {
    if mmddyyyy == 0 && hhmmss == 0 {
        return Ok(Value::Timestamp(None));
    }
    let valid_time = hhmmss / 10_000 < 24 && (hhmmss / 100) % 100 < 60 && hhmmss % 100 < 60;
    match Date::from_mmddyyyy(mmddyyyy) {
        Some(date) if valid_time => Ok(Value::Timestamp(Some((date, hhmmss as u32)))),
        _ => Err(Unreadable::NotADate),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(read_value(Kind::Date, b"11222019"), Ok(Value::Date(Date::new(2019, 11, 22))));
        assert_eq!(read_value(Kind::Date, b"00000000"), Ok(Value::Date(None)));
        assert_eq!(read_value(Kind::Date, b"02302020"), Err(Unreadable::NotADate));
        assert_eq!(read_value(Kind::Date, b"0229202 "), Err(Unreadable::NotADate));
        assert_eq!(read_value(Kind::Date, b"02292020"), Ok(Value::Date(Date::new(2020, 2, 29))));
        assert_eq!(read_value(Kind::Date, b"02291900"), Err(Unreadable::NotADate));
    }

    #[test]
    fn packed_values() {
        // 11/22/2019 as 0x00, 0xAB3C03 (11222019), 0x73.
        assert_eq!(read_value(Kind::PackedDate, &[0x00, 0xab, 0x3c, 0x03, 0x73]), Ok(Value::Date(Date::new(2019, 11, 22))));
        assert_eq!(read_value(Kind::PackedDate, &[0; 5]), Ok(Value::Date(None)));
        assert_eq!(read_value(Kind::PackedDate, &[0x01, 0xab, 0x3c, 0x03, 0x73]), Err(Unreadable::NotADate));
        assert_eq!(read_value(Kind::PackedNumber, &[0, 0, 0, 0x01, 0xa0]), Ok(Value::Number(416)));
        assert_eq!(read_value(Kind::Descriptor, &[0x04, 0x52, 0, 0]), Ok(Value::Number(1106)));
    }

    #[test]
    fn text_and_numbers() {
        assert_eq!(read_value(Kind::Text, b"AB  "), Ok(Value::Text(b"AB")));
        assert_eq!(read_value(Kind::Text, b"A\x01"), Err(Unreadable::NotPrintable));
        assert_eq!(read_value(Kind::Text, "é".as_bytes()), Err(Unreadable::NotPrintable));
        assert_eq!(read_value(Kind::Numeric, b"000002438"), Ok(Value::Number(2438)));
        assert_eq!(read_value(Kind::Numeric, b"00000 438"), Err(Unreadable::NotNumeric));
        assert_eq!(read_value(Kind::Numeric, b"00000x438"), Err(Unreadable::NotNumeric));
    }
}
