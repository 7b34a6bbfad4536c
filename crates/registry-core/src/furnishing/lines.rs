//! Splits a byte stream into lines with a hard length limit, so memory stays bounded whatever
//! the input: a line over the limit is skipped to its end and reported, never buffered.

use std::io::{self, BufRead};

/// One line of input, without its `\n` or `\r\n`.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    Text(&'a [u8]),
    /// The line was longer than the limit; its bytes were skipped (but checked to be UTF-8,
    /// so that a binary file without line breaks is still refused as not UTF-8).
    TooLong {
        utf8: bool,
    },
}

/// Checks that a byte stream is UTF-8, chunk by chunk, whatever the chunk boundaries. Written
/// here because the standard library validates whole slices only; it keeps the at most three
/// bytes of a character cut by a boundary and nothing else.
#[derive(Default)]
struct Utf8Stream {
    carry: [u8; 4],
    carry_len: usize,
    broken: bool,
}

impl Utf8Stream {
    fn feed(&mut self, mut chunk: &[u8]) {
        if self.broken {
            return;
        }
        // First finish a character cut by the previous chunk.
        while self.carry_len > 0 && !chunk.is_empty() {
            self.carry[self.carry_len] = chunk[0];
            self.carry_len += 1;
            chunk = &chunk[1..];
            match std::str::from_utf8(&self.carry[..self.carry_len]) {
                Ok(_) => self.carry_len = 0,
                Err(e) if e.error_len().is_some() || self.carry_len == 4 => {
                    self.broken = true;
                    return;
                }
                Err(_) => {}
            }
        }
        if let Err(e) = std::str::from_utf8(chunk) {
            let rest = &chunk[e.valid_up_to()..];
            if e.error_len().is_some() || rest.len() > 3 {
                self.broken = true;
            } else {
                self.carry[..rest.len()].copy_from_slice(rest);
                self.carry_len = rest.len();
            }
        }
    }

    /// True when everything fed was UTF-8 and no character was left unfinished.
    fn finish(&self) -> bool {
        !self.broken && self.carry_len == 0
    }
}

pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    line_bytes_max: usize,
    line_number: u64,
    bytes_read: u64,
    at_start: bool,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R, line_bytes_max: usize) -> LineReader<R> {
        LineReader { inner, buf: Vec::with_capacity(4096), line_bytes_max, line_number: 0, bytes_read: 0, at_start: true }
    }

    /// Bytes consumed from the input so far (for progress reporting).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The next line and its 1-based number, or `None` at the end of input.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
        self.buf.clear();
        let mut too_long = false;
        let mut skipped = Utf8Stream::default();
        let mut saw_any = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                if !saw_any {
                    return Ok(None);
                }
                break;
            }
            saw_any = true;
            let (chunk_len, consumed, complete) = match memchr::memchr(b'\n', available) {
                Some(i) => (i, i + 1, true),
                None => (available.len(), available.len(), false),
            };
            if too_long {
                skipped.feed(&available[..chunk_len]);
            } else if self.buf.len() + chunk_len > self.line_bytes_max.saturating_add(1) {
                // The limit counts the line's content, so allow for a `\r` before the `\n`.
                too_long = true;
                skipped.feed(&self.buf);
                skipped.feed(&available[..chunk_len]);
                self.buf.clear();
            } else {
                self.buf.extend_from_slice(&available[..chunk_len]);
            }
            self.inner.consume(consumed);
            self.bytes_read += consumed as u64;
            if complete {
                break;
            }
        }
        self.line_number += 1;
        if too_long {
            self.at_start = false;
            return Ok(Some((self.line_number, Line::TooLong { utf8: skipped.finish() })));
        }
        let mut line = &self.buf[..];
        if let Some(stripped) = line.strip_suffix(b"\r") {
            line = stripped;
        }
        if line.len() > self.line_bytes_max {
            self.at_start = false;
            let utf8 = std::str::from_utf8(line).is_ok();
            return Ok(Some((self.line_number, Line::TooLong { utf8 })));
        }
        if self.at_start {
            self.at_start = false;
            if let Some(stripped) = line.strip_prefix(b"\xEF\xBB\xBF") {
                line = stripped;
            }
        }
        Ok(Some((self.line_number, Line::Text(line))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize, capacity: usize) -> Vec<(u64, Option<Vec<u8>>)> {
        let reader = io::BufReader::with_capacity(capacity, input);
        let mut lines = LineReader::new(reader, max);
        let mut out = Vec::new();
        while let Some((n, line)) = lines.next_line().unwrap() {
            out.push((
                n,
                match line {
                    Line::Text(t) => Some(t.to_vec()),
                    Line::TooLong { .. } => None,
                },
            ));
        }
        out
    }

    #[test]
    fn splits_on_lf_and_crlf_and_strips_a_leading_bom() {
        for capacity in [1, 2, 3, 64] {
            let got = lines(b"\xEF\xBB\xBFab\r\ncd\n\nef", 10, capacity);
            assert_eq!(
                got,
                vec![(1, Some(b"ab".to_vec())), (2, Some(b"cd".to_vec())), (3, Some(b"".to_vec())), (4, Some(b"ef".to_vec())),]
            );
        }
    }

    #[test]
    fn a_bom_later_in_the_file_is_kept() {
        assert_eq!(lines(b"a\n\xEF\xBB\xBFb", 10, 8)[1].1, Some(b"\xEF\xBB\xBFb".to_vec()));
    }

    #[test]
    fn long_lines_are_skipped_and_reading_goes_on() {
        for capacity in [1, 4, 1024] {
            let got = lines(b"12345\n123456\n1234567\r\nok\r\n12345\r\n", 6, capacity);
            assert_eq!(
                got,
                vec![
                    (1, Some(b"12345".to_vec())),
                    (2, Some(b"123456".to_vec())),
                    (3, None),
                    (4, Some(b"ok".to_vec())),
                    (5, Some(b"12345".to_vec())),
                ],
                "capacity {capacity}"
            );
        }
    }

    #[test]
    fn skipped_lines_are_still_checked_to_be_utf8() {
        let verdicts = |input: &[u8], capacity: usize| -> Vec<bool> {
            let mut lines = LineReader::new(io::BufReader::with_capacity(capacity, input), 4);
            let mut out = Vec::new();
            while let Some((_, line)) = lines.next_line().unwrap() {
                if let Line::TooLong { utf8 } = line {
                    out.push(utf8);
                }
            }
            out
        };
        for capacity in [1, 2, 3, 5, 64] {
            // "é" (2 bytes), "中" (3 bytes) and "😀" (4 bytes) cut across every boundary.
            assert_eq!(verdicts("ééééé\n中中中\n😀😀\nok\n".as_bytes(), capacity), [true, true, true], "{capacity}");
            assert_eq!(verdicts(b"abcdefg\xff\nabcdefgh\xe4\xb8\n", capacity), [false, false], "{capacity}");
        }
    }

    #[test]
    fn a_huge_limit_does_not_overflow() {
        let mut lines = LineReader::new(&b"abc\n"[..], usize::MAX);
        assert_eq!(lines.next_line().unwrap(), Some((1, Line::Text(b"abc"))));
    }

    #[test]
    fn empty_input_has_no_lines_and_counts_bytes() {
        assert!(lines(b"", 10, 8).is_empty());
        let mut reader = LineReader::new(&b"abc\ndef"[..], 10);
        while reader.next_line().unwrap().is_some() {}
        assert_eq!(reader.bytes_read(), 7);
    }
}
