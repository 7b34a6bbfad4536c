//! Writing: segments built field by field, and a writer that frames them into a file with the
//! trailer computed from what was written (so it always reconciles).

use std::io::{self, Write};

use crate::layout::{self, Encoding, Field, Kind, SegmentKind, trailer};
use crate::read::{Framing, Record, parse_record};
use crate::validate::Totals;
use crate::value::{Date, Segment, Value, is_printable};

/// Why a value does not fit its field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub segment: SegmentKind,
    pub field: &'static str,
    pub reason: &'static str,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} segment, {}: {}", self.segment.name(), self.field, self.reason)
    }
}

impl std::error::Error for FieldError {}

/// A segment (or header, base, trailer) being built: its bytes, every field blank or zero
/// until set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentBuf {
    pub kind: SegmentKind,
    pub encoding: Encoding,
    bytes: Vec<u8>,
}

impl SegmentBuf {
    pub fn new(kind: SegmentKind, encoding: Encoding) -> SegmentBuf {
        let len = match kind {
            SegmentKind::Header | SegmentKind::Base | SegmentKind::Trailer => layout::record_len(encoding),
            _ => kind.appended_len(),
        };
        let mut bytes = vec![b' '; len];
        for field in layout::fields(kind, encoding) {
            let fill = match field.kind {
                Kind::Numeric | Kind::Date | Kind::Timestamp => b'0',
                Kind::PackedNumber | Kind::PackedDate | Kind::PackedTimestamp | Kind::Descriptor => 0,
                Kind::Text => b' ',
            };
            bytes[field.start..field.start + field.len].fill(fill);
        }
        let id: &[u8] = match kind {
            SegmentKind::Header => b"HEADER",
            SegmentKind::Trailer => b"TRAILER",
            SegmentKind::Base => b"",
            _ => kind.name().as_bytes(),
        };
        let id_start = if matches!(kind, SegmentKind::Header | SegmentKind::Trailer) { 4 } else { 0 };
        bytes[id_start..id_start + id.len()].copy_from_slice(id);
        if kind == SegmentKind::Base {
            // Processing indicator: always 1.
            bytes[4] = b'1';
        }
        SegmentBuf { kind, encoding, bytes }
    }

    /// A copy of a segment as read.
    pub fn from_segment(segment: &Segment<'_>) -> SegmentBuf {
        SegmentBuf { kind: segment.kind, encoding: segment.encoding, bytes: segment.bytes.to_vec() }
    }

    pub fn as_segment(&self) -> Segment<'_> {
        Segment { kind: self.kind, encoding: self.encoding, bytes: &self.bytes }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn field(&self, index: usize) -> &'static Field {
        &layout::fields(self.kind, self.encoding)[index]
    }

    fn error(&self, field: &Field, reason: &'static str) -> FieldError {
        FieldError { segment: self.kind, field: field.name, reason }
    }

    fn slot(&mut self, field: &Field) -> &mut [u8] {
        &mut self.bytes[field.start..field.start + field.len]
    }

    /// Sets a text field, left-justified and blank-filled.
    pub fn set_text(&mut self, index: usize, text: &str) -> Result<&mut Self, FieldError> {
        let field = self.field(index);
        if field.kind != Kind::Text {
            return Err(self.error(field, "is not a text field"));
        }
        if !is_printable(text.as_bytes()) {
            return Err(self.error(field, "takes printable ASCII only"));
        }
        if text.len() > field.len {
            return Err(self.error(field, "is too short for the value"));
        }
        let slot = self.slot(field);
        slot.fill(b' ');
        slot[..text.len()].copy_from_slice(text.as_bytes());
        Ok(self)
    }

    /// Sets a numeric field: zero-filled digits, or big-endian binary when packed.
    pub fn set_number(&mut self, index: usize, number: u64) -> Result<&mut Self, FieldError> {
        let field = self.field(index);
        match field.kind {
            Kind::Numeric => {
                if number.checked_ilog10().unwrap_or(0) as usize + 1 > field.len {
                    return Err(self.error(field, "is too short for the number"));
                }
                let mut rest = number;
                for byte in self.slot(field).iter_mut().rev() {
                    *byte = b'0' + (rest % 10) as u8;
                    rest /= 10;
                }
            }
            Kind::PackedNumber => {
                if field.len < 8 && number >> (8 * field.len) != 0 {
                    return Err(self.error(field, "is too short for the number"));
                }
                let be = number.to_be_bytes();
                let len = field.len.min(8);
                let slot = self.slot(field);
                slot.fill(0);
                let slot_len = slot.len();
                slot[slot_len - len..].copy_from_slice(&be[8 - len..]);
            }
            _ => return Err(self.error(field, "is not a numeric field")),
        }
        Ok(self)
    }

    /// Sets a date field (`None`: zeros, no date).
    pub fn set_date(&mut self, index: usize, date: Option<Date>) -> Result<&mut Self, FieldError> {
        let field = self.field(index);
        let value = date.map_or(0, Date::mmddyyyy);
        match field.kind {
            Kind::Date => {
                let text = format!("{value:08}");
                self.slot(field).copy_from_slice(text.as_bytes());
            }
            Kind::PackedDate => {
                let slot = self.slot(field);
                if date.is_none() {
                    slot.fill(0);
                } else {
                    let be = (value as u32).to_be_bytes();
                    slot.copy_from_slice(&[0, be[1], be[2], be[3], 0x73]);
                }
            }
            _ => return Err(self.error(field, "is not a date field")),
        }
        Ok(self)
    }

    /// Sets a time stamp field: a date and HHMMSS (`None`: zeros).
    pub fn set_timestamp(&mut self, index: usize, stamp: Option<(Date, u32)>) -> Result<&mut Self, FieldError> {
        let field = self.field(index);
        let (date, time) = stamp.map_or((0, 0), |(date, time)| (date.mmddyyyy(), u64::from(time)));
        match field.kind {
            Kind::Timestamp => {
                let text = format!("{date:08}{time:06}");
                self.slot(field).copy_from_slice(text.as_bytes());
            }
            Kind::PackedTimestamp => {
                let slot = self.slot(field);
                if stamp.is_none() {
                    slot.fill(0);
                } else {
                    let be = (date * 1_000_000 + time).to_be_bytes();
                    slot[0] = 0;
                    slot[1..7].copy_from_slice(&be[2..8]);
                    slot[7] = 0x73;
                }
            }
            _ => return Err(self.error(field, "is not a time stamp field")),
        }
        Ok(self)
    }

    /// Sets a field's bytes as they are (a value that does not read as its kind, kept as found).
    pub fn set_raw(&mut self, index: usize, raw: &[u8]) -> Result<&mut Self, FieldError> {
        let field = self.field(index);
        if raw.len() != field.len {
            return Err(self.error(field, "takes exactly its length in bytes"));
        }
        self.slot(field).copy_from_slice(raw);
        Ok(self)
    }

    /// Sets a field from a value read from another segment of the same layout.
    pub fn set(&mut self, index: usize, value: Value<'_>) -> Result<&mut Self, FieldError> {
        match value {
            Value::Text(text) => {
                let field = self.field(index);
                let text = std::str::from_utf8(text).map_err(|_| self.error(field, "takes printable ASCII only"))?;
                self.set_text(index, text)
            }
            Value::Number(number) => self.set_number(index, number),
            Value::Date(date) => self.set_date(index, date),
            Value::Timestamp(stamp) => self.set_timestamp(index, stamp),
        }
    }
}

/// Writes a file: the header, data records, then a trailer whose totals are counted from the
/// records written.
pub struct Writer<W: Write> {
    out: W,
    framing: Framing,
    /// Character records end with a line feed (as most real files do); lengths still rule.
    line_breaks: bool,
    totals: Totals,
    records: u64,
    scratch: Vec<u8>,
    segments: Vec<(SegmentKind, std::ops::Range<usize>)>,
}

impl<W: Write> Writer<W> {
    /// Starts a file with its header (whose record identifier is set here).
    pub fn new(out: W, framing: Framing, line_breaks: bool, header: &SegmentBuf) -> io::Result<Writer<W>> {
        let mut writer = Writer {
            out,
            framing,
            line_breaks: line_breaks && framing.encoding == Encoding::Character,
            totals: Totals::default(),
            records: 0,
            scratch: Vec::new(),
            segments: Vec::new(),
        };
        writer.write_record(&[header])?;
        Ok(writer)
    }

    /// Writes a data record: a base segment and its appended segments, in order.
    pub fn record(&mut self, base: &SegmentBuf, appended: &[SegmentBuf]) -> io::Result<()> {
        let mut parts = Vec::with_capacity(1 + appended.len());
        parts.push(base);
        parts.extend(appended);
        self.write_record(&parts)?;
        // Counted as a reader will see it: a record whose segments cannot be told apart counts
        // only as a base record, as the validator counts it.
        match parse_record(&self.scratch, self.framing.encoding, &mut self.segments, 0, 0) {
            Record::Data(record) => self.totals.count(&record),
            _ => self.totals.counts[trailer::TOTAL_BASE_RECORDS] += 1,
        }
        Ok(())
    }

    /// The totals counted so far.
    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// Writes the trailer and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        let mut trailer = SegmentBuf::new(SegmentKind::Trailer, self.framing.encoding);
        let mut counts = self.totals.counts;
        counts[trailer::BLOCK_COUNT] = self.records + 1;
        for (index, field) in layout::fields(SegmentKind::Trailer, self.framing.encoding).iter().enumerate().skip(2) {
            if matches!(field.kind, Kind::Numeric | Kind::PackedNumber) {
                trailer.set_number(index, counts[index]).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            }
        }
        self.write_record(&[&trailer])?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// Frames parts into one record: its descriptor words set, then written.
    fn write_record(&mut self, parts: &[&SegmentBuf]) -> io::Result<()> {
        let length: usize = parts.iter().map(|p| p.bytes.len()).sum();
        let max = match self.framing.encoding {
            Encoding::Character => 9_999,
            Encoding::Packed => 65_535 - 4,
        };
        if length > max {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a record of {length} bytes is longer than a descriptor word can say"),
            ));
        }
        self.scratch.clear();
        for part in parts {
            self.scratch.extend_from_slice(&part.bytes);
        }
        let descriptor = |length: usize| -> [u8; 4] {
            match self.framing.encoding {
                Encoding::Character => {
                    let digits = format!("{length:04}");
                    digits.as_bytes().try_into().expect("four digits")
                }
                Encoding::Packed => {
                    let [high, low] = (length as u16).to_be_bytes();
                    [high, low, 0, 0]
                }
            }
        };
        let rdw = descriptor(length);
        self.scratch[..4].copy_from_slice(&rdw);
        if self.framing.blocked {
            self.out.write_all(&descriptor(length + 4))?;
        }
        self.out.write_all(&self.scratch)?;
        if self.line_breaks {
            self.out.write_all(b"\n")?;
        }
        self.records += 1;
        Ok(())
    }
}
