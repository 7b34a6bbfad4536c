//! The streaming reader: frames a byte stream into header, data records and trailer, without
//! holding more than a buffer of it. Records are views into the buffer (zero-copy) unless a
//! character record was hard-wrapped across lines, in which case it is gathered first.
//!
//! **Strict** (the default) trusts record lengths: every record starts with its record
//! descriptor word (and, variable-blocked, every block with its block descriptor word, which
//! must add up), a header must come first and a trailer last. Line breaks between or inside
//! character records are ignored. A framing error stops the reading: nothing after it can be
//! told apart. **Lenient** reads line by line, as the CFPB's evaluator does: each line is a
//! record, record lengths are ignored, and a line that is no record is reported and skipped.

use std::io::{self, Read};
use std::ops::Range;

use crate::layout::{Encoding, SegmentKind, record_len};
use crate::problem::{Problem, Rule, printable};
use crate::value::{Segment, is_digits};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Strict,
    Lenient,
}

/// How a file's records are framed, read from its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Framing {
    pub encoding: Encoding,
    /// Records are grouped in blocks, each behind a block descriptor word.
    pub blocked: bool,
}

/// A record and where it is.
#[derive(Debug)]
pub struct Located<T> {
    /// 1-based position of the record in the file (the header is record 1).
    pub number: u64,
    /// Byte offset of the record's first byte (its record descriptor word).
    pub offset: u64,
    /// Blocks up to and including this record's (variable-blocked), or records (otherwise):
    /// what the trailer's block count counts.
    pub blocks: u64,
    pub record: T,
}

#[derive(Debug)]
pub enum Record<'a> {
    Header(Segment<'a>),
    Data(DataRecord<'a>),
    Trailer(Segment<'a>),
    /// A record whose segments cannot be told apart (its length was known, so reading goes on),
    /// or in lenient reading a line that is no record.
    Unreadable(Problem),
}

/// A base segment and its appended segments.
#[derive(Clone, Copy, Debug)]
pub struct DataRecord<'a> {
    pub encoding: Encoding,
    /// The whole record, from its record descriptor word.
    pub bytes: &'a [u8],
    segments: &'a [(SegmentKind, Range<usize>)],
}

impl<'a> DataRecord<'a> {
    /// A record over `bytes` (descriptor word first) whose appended segments are at `segments`.
    pub fn new(encoding: Encoding, bytes: &'a [u8], segments: &'a [(SegmentKind, Range<usize>)]) -> DataRecord<'a> {
        DataRecord { encoding, bytes, segments }
    }

    pub fn base(&self) -> Segment<'a> {
        let len = record_len(self.encoding).min(self.bytes.len());
        Segment { kind: SegmentKind::Base, encoding: self.encoding, bytes: &self.bytes[..len] }
    }

    /// Appended segments in file order.
    pub fn appended(&self) -> impl Iterator<Item = Segment<'a>> + 'a {
        let (encoding, bytes) = (self.encoding, self.bytes);
        self.segments.iter().map(move |(kind, range)| Segment { kind: *kind, encoding, bytes: &bytes[range.clone()] })
    }

    /// Offset of an appended segment within the record.
    pub fn segment_ranges(&self) -> &'a [(SegmentKind, Range<usize>)] {
        self.segments
    }
}

/// Why reading had to stop.
#[derive(Debug)]
pub enum ReadError {
    /// The framing is broken: what follows cannot be read.
    Framing(Problem),
    Io(io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Framing(problem) => write!(f, "{problem}"),
            ReadError::Io(e) => write!(f, "reading failed: {e}"),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// Longest record a descriptor word can announce (4 digits); packed allows 65,535.
const RECORD_BYTES_MAX: usize = 65_535;
/// Longest line read in lenient mode; a longer one is reported and skipped.
const LINE_BYTES_MAX: usize = 64 * 1024;
const BUFFER_BYTES: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Start,
    Body,
    /// The trailer was read: only the end of input may follow.
    AfterTrailer,
    Done,
}

pub struct Reader<R> {
    input: R,
    mode: Mode,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// Bytes consumed before `buf[start]`.
    consumed: u64,
    scratch: Vec<u8>,
    segments: Vec<(SegmentKind, Range<usize>)>,
    framing: Option<Framing>,
    /// Bytes left in the current block (variable-blocked), with the block's start.
    block_left: usize,
    block_offset: u64,
    /// Records read in the current block.
    block_records: u64,
    blocks: u64,
    records: u64,
    stage: Stage,
}

impl<R: Read> Reader<R> {
    pub fn new(input: R, mode: Mode) -> Reader<R> {
        Reader {
            input,
            mode,
            buf: vec![0; BUFFER_BYTES],
            start: 0,
            end: 0,
            eof: false,
            consumed: 0,
            scratch: Vec::new(),
            segments: Vec::new(),
            framing: None,
            block_left: 0,
            block_offset: 0,
            block_records: 0,
            blocks: 0,
            records: 0,
            stage: Stage::Start,
        }
    }

    /// The framing read from the header (once it has been read).
    pub fn framing(&self) -> Option<Framing> {
        self.framing
    }

    /// Bytes consumed from the input so far.
    pub fn bytes_read(&self) -> u64 {
        self.consumed + self.start as u64
    }

    /// Records read so far (header and trailer included).
    pub fn records_read(&self) -> u64 {
        self.records
    }

    /// Blocks read so far (variable-blocked files).
    pub fn blocks_read(&self) -> u64 {
        self.blocks
    }

    /// Makes at least `n` bytes available from `start`, unless the input ends first; returns
    /// how many are available.
    fn fill(&mut self, n: usize) -> io::Result<usize> {
        while self.end - self.start < n && !self.eof {
            if self.start > 0 && self.buf.len() - self.end < n.max(4096) {
                self.buf.copy_within(self.start..self.end, 0);
                self.consumed += self.start as u64;
                self.end -= self.start;
                self.start = 0;
            }
            if self.buf.len() - self.end < n {
                self.buf.resize((self.start + n).max(self.buf.len() * 2), 0);
            }
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(read) => self.end += read,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.end - self.start)
    }

    fn offset(&self) -> u64 {
        self.consumed + self.start as u64
    }

    fn framing_error(&self, rule: Rule, detail: String) -> ReadError {
        ReadError::Framing(Problem::record(self.records + 1, self.offset(), rule, detail))
    }

    /// Skips line breaks (between character records).
    fn skip_breaks(&mut self) -> io::Result<()> {
        loop {
            if self.fill(1)? == 0 {
                return Ok(());
            }
            match self.buf[self.start] {
                b'\r' | b'\n' => self.start += 1,
                _ => return Ok(()),
            }
        }
    }

    /// The next `n` bytes of a character record, line breaks inside it skipped. Borrowed from
    /// the buffer when there are none (the usual case), gathered in `scratch` otherwise.
    /// Returns `None` at the end of input.
    fn take_character(&mut self, n: usize) -> io::Result<Option<Taken>> {
        let available = self.fill(n)?;
        if available >= n && memchr::memchr2(b'\r', b'\n', &self.buf[self.start..self.start + n]).is_none() {
            let range = self.start..self.start + n;
            self.start += n;
            return Ok(Some(Taken::Buffer(range)));
        }
        self.scratch.clear();
        while self.scratch.len() < n {
            if self.fill(1)? == 0 {
                return Ok(None);
            }
            let byte = self.buf[self.start];
            self.start += 1;
            if byte != b'\r' && byte != b'\n' {
                self.scratch.push(byte);
            }
        }
        Ok(Some(Taken::Scratch))
    }

    fn take_packed(&mut self, n: usize) -> io::Result<Option<Taken>> {
        if self.fill(n)? < n {
            return Ok(None);
        }
        let range = self.start..self.start + n;
        self.start += n;
        Ok(Some(Taken::Buffer(range)))
    }

    fn taken(&self, taken: &Taken) -> &[u8] {
        match taken {
            Taken::Buffer(range) => &self.buf[range.clone()],
            Taken::Scratch => &self.scratch,
        }
    }

    /// The next record, or `None` after the trailer (strict) or at the end of input.
    pub fn next_record(&mut self) -> Result<Option<Located<Record<'_>>>, ReadError> {
        match self.mode {
            Mode::Strict => self.next_strict(),
            Mode::Lenient => self.next_lenient(),
        }
    }

    fn detect_framing(&mut self) -> Result<Framing, ReadError> {
        // Look at the first 14 bytes that are not line breaks (a header may be hard-wrapped).
        self.fill(64)?;
        let window = &self.buf[self.start..self.end];
        let packed = window.len() >= 10 && window[2..4] == [0, 0];
        let framing = if packed && &window[4..10] == b"HEADER" {
            Framing { encoding: Encoding::Packed, blocked: false }
        } else if packed && window.len() >= 14 && window[6..8] == [0, 0] && &window[8..14] == b"HEADER" {
            Framing { encoding: Encoding::Packed, blocked: true }
        } else {
            let text: Vec<u8> = window.iter().copied().filter(|b| *b != b'\r' && *b != b'\n').take(14).collect();
            if text.len() >= 10 && is_digits(&text[..4]) && &text[4..10] == b"HEADER" {
                Framing { encoding: Encoding::Character, blocked: false }
            } else if text.len() >= 14 && is_digits(&text[..8]) && &text[8..14] == b"HEADER" {
                Framing { encoding: Encoding::Character, blocked: true }
            } else if text.is_empty() {
                return Err(self.framing_error(Rule::EmptyFile, "the file is empty".into()));
            } else {
                return Err(self.framing_error(
                    Rule::MissingHeader,
                    "the file does not start with a header record (record descriptor word, then HEADER)".into(),
                ));
            }
        };
        self.framing = Some(framing);
        Ok(framing)
    }

    /// Reads a descriptor word: 4 digits (character) or 2 bytes big-endian and 2 zeros
    /// (packed). Returns its value, and whether its bytes were contiguous in the buffer (no
    /// line break inside), so the caller can step back over them.
    fn descriptor(&mut self, framing: Framing, what: &str) -> Result<Option<(usize, bool)>, ReadError> {
        let offset = self.offset();
        let taken = match framing.encoding {
            Encoding::Character => self.take_character(4)?,
            Encoding::Packed => self.take_packed(4)?,
        };
        let Some(taken) = taken else { return Ok(None) };
        let contiguous = matches!(taken, Taken::Buffer(_));
        let word = self.taken(&taken);
        let value = match framing.encoding {
            Encoding::Character if is_digits(word) => word.iter().fold(0usize, |n, d| n * 10 + usize::from(d - b'0')),
            Encoding::Packed if word[2..] == [0, 0] => usize::from(u16::from_be_bytes([word[0], word[1]])),
            _ => {
                let shown = printable(word);
                return Err(ReadError::Framing(Problem::record(
                    self.records + 1,
                    offset,
                    Rule::InvalidDescriptor,
                    format!("the {what} descriptor word {shown:?} is not a length"),
                )));
            }
        };
        Ok(Some((value, contiguous)))
    }

    fn next_strict(&mut self) -> Result<Option<Located<Record<'_>>>, ReadError> {
        match self.stage {
            Stage::Done => return Ok(None),
            Stage::AfterTrailer => {
                self.stage = Stage::Done;
                self.expect_end()?;
                return Ok(None);
            }
            Stage::Start | Stage::Body => {}
        }
        let framing = match self.framing {
            Some(framing) => framing,
            None => self.detect_framing()?,
        };
        if framing.encoding == Encoding::Character {
            self.skip_breaks()?;
        }
        if self.fill(1)? == 0 {
            self.stage = Stage::Done;
            return Err(self.framing_error(Rule::MissingTrailer, "the file ends without a trailer record".into()));
        }
        if framing.blocked && self.block_left == 0 {
            self.block_offset = self.offset();
            let Some((block, _)) = self.descriptor(framing, "block")? else {
                return Err(self.framing_error(Rule::TruncatedRecord, "the file ends inside a block descriptor word".into()));
            };
            if block <= 4 {
                return Err(ReadError::Framing(Problem::record(
                    self.records + 1,
                    self.block_offset,
                    Rule::InvalidDescriptor,
                    format!("block descriptor word {block} is too small to hold a record"),
                )));
            }
            self.block_left = block - 4;
            self.block_records = 0;
            self.blocks += 1;
            if framing.encoding == Encoding::Character {
                self.skip_breaks()?;
            }
        }
        let offset = self.offset();
        let descriptor = match self.descriptor(framing, "record") {
            Err(ReadError::Framing(_)) if framing.blocked && self.block_records > 0 => {
                return Err(ReadError::Framing(Problem::record(
                    self.records + 1,
                    self.block_offset,
                    Rule::BlockMismatch,
                    format!(
                        "the block descriptor word counts {} bytes more than the {} record(s) in its block, and they are no record",
                        self.block_left, self.block_records
                    ),
                )));
            }
            other => other?,
        };
        let Some((length, contiguous)) = descriptor else {
            return Err(self.framing_error(Rule::TruncatedRecord, "the file ends inside a record descriptor word".into()));
        };
        let minimum = record_len(framing.encoding);
        if length < minimum || length > RECORD_BYTES_MAX {
            return Err(ReadError::Framing(Problem::record(
                self.records + 1,
                offset,
                Rule::InvalidDescriptor,
                format!("record descriptor word {length} is not a record length (at least {minimum})"),
            )));
        }
        if framing.blocked {
            if length > self.block_left {
                return Err(ReadError::Framing(Problem::record(
                    self.records + 1,
                    self.block_offset,
                    Rule::BlockMismatch,
                    format!(
                        "the block descriptor word leaves {} bytes for this record but its record descriptor word says {length}",
                        self.block_left
                    ),
                )));
            }
            self.block_left -= length;
        }
        // The record is read with its descriptor word in front, as the layouts count positions:
        // usually a view of the buffer, gathered in `scratch` only if a line break is inside.
        let taken = if contiguous {
            self.start -= 4;
            match framing.encoding {
                Encoding::Character => self.take_character(length)?,
                Encoding::Packed => self.take_packed(length)?,
            }
        } else {
            let mut record = self.scratch[..4].to_vec();
            let rest = self.take_character(length - 4)?;
            if let Some(rest) = &rest {
                record.extend_from_slice(self.taken(rest));
            }
            self.scratch = record;
            rest.map(|_| Taken::Scratch)
        };
        let Some(taken) = taken else {
            self.stage = Stage::Done;
            return Err(ReadError::Framing(Problem::record(
                self.records + 1,
                offset,
                Rule::TruncatedRecord,
                format!("the file ends inside a record of {length} bytes"),
            )));
        };
        self.records += 1;
        self.block_records += 1;
        let number = self.records;
        let blocks = if framing.blocked { self.blocks } else { self.records };
        let bytes: &[u8] = match taken {
            Taken::Buffer(range) => &self.buf[range],
            Taken::Scratch => &self.scratch,
        };
        let record = match (self.stage, classify(bytes, framing.encoding, &mut self.segments, number, offset)) {
            (Stage::Start, Classified::Header) => {
                self.stage = Stage::Body;
                Record::Header(Segment { kind: SegmentKind::Header, encoding: framing.encoding, bytes })
            }
            (Stage::Start, _) => {
                self.stage = Stage::Done;
                return Err(ReadError::Framing(Problem::record(
                    number,
                    offset,
                    Rule::MissingHeader,
                    "the first record is not a header".into(),
                )));
            }
            (_, Classified::Header) => Record::Unreadable(Problem::record(
                number,
                offset,
                Rule::MisplacedHeader,
                "a second header record; a file has one, first".into(),
            )),
            (_, Classified::Trailer) => {
                self.stage = Stage::AfterTrailer;
                Record::Trailer(Segment { kind: SegmentKind::Trailer, encoding: framing.encoding, bytes })
            }
            (_, Classified::Data) => Record::Data(DataRecord { encoding: framing.encoding, bytes, segments: &self.segments }),
            (_, Classified::Unreadable(problem)) => Record::Unreadable(problem),
        };
        Ok(Some(Located { number, offset, blocks, record }))
    }

    /// After the trailer only line breaks may follow, and blocks must be used up.
    fn expect_end(&mut self) -> Result<(), ReadError> {
        if self.block_left > 0 {
            return Err(ReadError::Framing(Problem::record(
                self.records,
                self.block_offset,
                Rule::BlockMismatch,
                format!("the last block descriptor word counts {} bytes more than its records", self.block_left),
            )));
        }
        if self.framing.is_some_and(|f| f.encoding == Encoding::Character) {
            self.skip_breaks()?;
        }
        if self.fill(1)? > 0 {
            return Err(self.framing_error(Rule::DataAfterTrailer, "data follows the trailer record".into()));
        }
        Ok(())
    }

    fn next_lenient(&mut self) -> Result<Option<Located<Record<'_>>>, ReadError> {
        if self.framing.is_none() && self.packed_ahead()? {
            // Packed records are binary: they have no lines to read by. Their lengths are the
            // only way through them, so a packed file is read strictly whatever was asked.
            self.mode = Mode::Strict;
            return self.next_strict();
        }
        loop {
            let mut offset = self.offset();
            let Some(line) = self.take_line()? else {
                return Ok(None);
            };
            self.records += 1;
            let number = self.records;
            let mut bytes = match line {
                Line::TooLong => {
                    let problem =
                        Problem::record(number, offset, Rule::InvalidLength, format!("a line of more than {LINE_BYTES_MAX} bytes"));
                    return Ok(Some(Located { number, offset, blocks: number, record: Record::Unreadable(problem) }));
                }
                Line::Text(range) => range,
            };
            let line = &self.buf[bytes.clone()];
            if line.iter().all(|b| *b == b' ') {
                continue;
            }
            // The first line says whether lines carry a block descriptor word in front.
            if self.framing.is_none() {
                let blocked = line.len() >= 14 && is_digits(&line[..8]) && &line[8..14] == b"HEADER";
                self.framing = Some(Framing { encoding: Encoding::Character, blocked });
            }
            let blocked = self.framing.is_some_and(|f| f.blocked);
            // A trailer line without a block descriptor word in front (as in moov-io's sample)
            // is taken as it is.
            let bare_trailer = line.get(4..11) == Some(b"TRAILER");
            if blocked && line.len() >= 8 && !bare_trailer {
                bytes.start += 4;
                offset += 4;
            }
            // The record descriptor word's value is ignored; only its place is kept.
            let record_bytes = &self.buf[bytes];
            let encoding = Encoding::Character;
            let record = match classify(record_bytes, encoding, &mut self.segments, number, offset) {
                Classified::Header => Record::Header(Segment { kind: SegmentKind::Header, encoding, bytes: record_bytes }),
                Classified::Trailer => Record::Trailer(Segment { kind: SegmentKind::Trailer, encoding, bytes: record_bytes }),
                Classified::Data => Record::Data(DataRecord { encoding, bytes: record_bytes, segments: &self.segments }),
                Classified::Unreadable(problem) => Record::Unreadable(problem),
            };
            return Ok(Some(Located { number, offset, blocks: number, record }));
        }
    }

    /// Whether the input starts with a packed header.
    fn packed_ahead(&mut self) -> io::Result<bool> {
        self.fill(14)?;
        let window = &self.buf[self.start..self.end];
        Ok((window.len() >= 10 && window[2..4] == [0, 0] && &window[4..10] == b"HEADER")
            || (window.len() >= 14 && window[2..4] == [0, 0] && window[6..8] == [0, 0] && &window[8..14] == b"HEADER"))
    }

    /// The next line (without its line break), at most `LINE_BYTES_MAX` long.
    fn take_line(&mut self) -> io::Result<Option<Line>> {
        let mut searched = 0;
        loop {
            let window = &self.buf[self.start + searched..self.end];
            if let Some(i) = memchr::memchr(b'\n', window) {
                let line_end = self.start + searched + i;
                let range = self.start..line_end;
                self.start = line_end + 1;
                let range = if !range.is_empty() && self.buf[range.end - 1] == b'\r' { range.start..range.end - 1 } else { range };
                if range.len() > LINE_BYTES_MAX {
                    return Ok(Some(Line::TooLong));
                }
                return Ok(Some(Line::Text(range)));
            }
            searched = self.end - self.start;
            if searched > LINE_BYTES_MAX {
                // Skip to the end of this over-long line.
                self.start = self.end;
                loop {
                    if self.fill(1)? == 0 {
                        return Ok(Some(Line::TooLong));
                    }
                    let window = &self.buf[self.start..self.end];
                    match memchr::memchr(b'\n', window) {
                        Some(i) => {
                            self.start += i + 1;
                            return Ok(Some(Line::TooLong));
                        }
                        None => self.start = self.end,
                    }
                }
            }
            let before = self.end - self.start;
            self.fill(before + 1)?;
            if self.end - self.start == before {
                // End of input: the rest is the last line.
                if before == 0 {
                    return Ok(None);
                }
                let range = self.start..self.end;
                self.start = self.end;
                return Ok(Some(Line::Text(range)));
            }
        }
    }
}

enum Taken {
    Buffer(Range<usize>),
    Scratch,
}

enum Line {
    Text(Range<usize>),
    TooLong,
}

/// Reads one record from its bytes, descriptor word first (as a fragment file holds it, or as
/// a record was framed elsewhere). `segments` receives the appended segments' places.
pub fn parse_record<'a>(
    bytes: &'a [u8],
    encoding: Encoding,
    segments: &'a mut Vec<(SegmentKind, Range<usize>)>,
    number: u64,
    offset: u64,
) -> Record<'a> {
    match classify(bytes, encoding, segments, number, offset) {
        Classified::Header => Record::Header(Segment { kind: SegmentKind::Header, encoding, bytes }),
        Classified::Trailer => Record::Trailer(Segment { kind: SegmentKind::Trailer, encoding, bytes }),
        Classified::Data => Record::Data(DataRecord { encoding, bytes, segments }),
        Classified::Unreadable(problem) => Record::Unreadable(problem),
    }
}

enum Classified {
    Header,
    Data,
    Trailer,
    Unreadable(Problem),
}

/// Tells a header, trailer and data record apart, and finds a data record's appended segments.
fn classify(bytes: &[u8], encoding: Encoding, segments: &mut Vec<(SegmentKind, Range<usize>)>, number: u64, offset: u64) -> Classified {
    if bytes.get(4..10) == Some(b"HEADER") {
        return Classified::Header;
    }
    if bytes.get(4..11) == Some(b"TRAILER") {
        return Classified::Trailer;
    }
    segments.clear();
    let base_len = record_len(encoding);
    if bytes.len() < base_len {
        return Classified::Unreadable(Problem::record(
            number,
            offset,
            Rule::InvalidLength,
            format!("a data record of {} bytes, shorter than a base segment ({base_len})", bytes.len()),
        ));
    }
    let mut at = base_len;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.iter().all(|b| *b == b' ') {
            break; // blank padding up to the record length
        }
        let id = &rest[..2.min(rest.len())];
        let Some(kind) = SegmentKind::from_id(id) else {
            return Classified::Unreadable(Problem::at(
                number,
                offset + at as u64,
                SegmentKind::Base,
                None,
                printable(id),
                Rule::UnknownSegment,
                format!("bytes at position {} of the record are no segment identifier (J1, J2, K1-K4, L1, N1)", at + 1),
            ));
        };
        let len = kind.appended_len();
        if at + len > bytes.len() {
            return Classified::Unreadable(Problem::at(
                number,
                offset + at as u64,
                kind,
                None,
                String::new(),
                Rule::TruncatedSegment,
                format!("the {} segment at position {} runs past the end of the record", kind.name(), at + 1),
            ));
        }
        segments.push((kind, at..at + len));
        at += len;
    }
    Classified::Data
}
