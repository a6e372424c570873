//! Positions in manifest text: byte spans, and their 1-based line and column.

use serde::{Deserialize, Serialize};

/// A byte range `start..end` in the manifest text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Span {
    /// First byte of the range.
    pub start: usize,
    /// One past the last byte of the range.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`, ordered so that `start <= end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: start.min(end),
            end: start.max(end),
        }
    }
}

/// A position as editors show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Line, counted from 1.
    pub line: usize,
    /// Column, counted from 1, in Unicode scalar values (characters).
    pub column: usize,
    /// Byte offset in the UTF-8 text, counted from 0.
    pub offset: usize,
}

/// Where a finding is: start and end positions of the value it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// First character of the value.
    pub start: Position,
    /// Position just after the value.
    pub end: Position,
}

impl Position {
    /// The start of a text: line 1, column 1.
    pub const START: Position = Position {
        line: 1,
        column: 1,
        offset: 0,
    };
}

impl Location {
    /// The empty location at the start of a text.
    pub const START: Location = Location {
        start: Position::START,
        end: Position::START,
    };
}

/// Line starts of a text, to turn byte offsets into lines and columns and back.
///
/// Columns count characters. A line of ASCII text (the usual case) needs no counting; on other
/// lines the count starts from the nearest checkpoint, so a finding on a long line (a manifest
/// written by a program on one line) costs at most [`CHECKPOINT`] bytes of counting, not the line.
#[derive(Debug)]
pub struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
    /// Characters before each multiple of [`CHECKPOINT`] bytes; built on the first column asked
    /// for on a line that is not ASCII.
    checkpoints: std::cell::OnceCell<Vec<usize>>,
}

/// Distance in bytes between two character-count checkpoints.
const CHECKPOINT: usize = 1024;

/// Characters that start in `bytes`: the bytes that are not UTF-8 continuation bytes
/// (`10xxxxxx`). Eight bytes are counted at a time: in the module a byte loop is a metered loop
/// of its own per byte, and a finding on a one-line manifest counted up to a checkpoint's worth
/// of bytes for each of its two positions.
fn chars_in(bytes: &[u8]) -> usize {
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut words = bytes.chunks_exact(8);
    let mut continuations = 0;
    for word in &mut words {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(word).unwrap_or_default());
        // Bit 7 of each byte set, and bit 6 (moved up to bit 7 by the shift) clear.
        continuations += (word & !(word << 1) & HIGHS).count_ones() as usize;
    }
    continuations += words
        .remainder()
        .iter()
        .filter(|&&b| b & 0xC0 == 0x80)
        .count();
    bytes.len() - continuations
}

impl<'a> LineIndex<'a> {
    /// Indexes the line starts of `text` (lines end at `\n`).
    pub fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex {
            text,
            line_starts,
            checkpoints: std::cell::OnceCell::new(),
        }
    }

    /// Characters in the text before byte `offset` (a char boundary).
    fn chars_before(&self, offset: usize) -> usize {
        let bytes = self.text.as_bytes();
        let checkpoints = self.checkpoints.get_or_init(|| {
            let mut counts = vec![0];
            let mut total = 0;
            for chunk in bytes.chunks(CHECKPOINT) {
                total += chars_in(chunk);
                counts.push(total);
            }
            counts
        });
        let block = offset / CHECKPOINT;
        checkpoints.get(block).copied().unwrap_or(0)
            + chars_in(bytes.get(block * CHECKPOINT..offset).unwrap_or(&[]))
    }

    /// The line and column of a byte offset (clamped to the text and to a char boundary).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while offset > 0 && !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let line_start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let before = self.text.as_bytes().get(line_start..offset).unwrap_or(&[]);
        let column = if before.len() <= CHECKPOINT {
            chars_in(before)
        } else {
            self.chars_before(offset) - self.chars_before(line_start)
        } + 1;
        Position {
            line,
            column,
            offset,
        }
    }

    /// The location of a span.
    pub fn location(&self, span: Span) -> Location {
        Location {
            start: self.position(span.start),
            end: self.position(span.end),
        }
    }

    /// The byte offset of a 1-based line and a 0-based column counted in characters.
    pub fn offset_of(&self, line: usize, column_chars: usize) -> usize {
        let Some(&line_start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = self.text.get(line_start..).unwrap_or("");
        let within = rest
            .char_indices()
            .nth(column_chars)
            .map_or(rest.len(), |(i, _)| i);
        line_start + within
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_from_one() {
        let index = LineIndex::new("ab\nçd\n");
        assert_eq!(index.position(0).line, 1);
        assert_eq!(index.position(0).column, 1);
        let pos = index.position(5); // `d` after the two-byte `ç`
        assert_eq!((pos.line, pos.column), (2, 2));
        assert_eq!(index.offset_of(2, 1), 5);
        assert_eq!(index.offset_of(9, 0), 7);
    }

    /// Every byte value at every place of short texts, among fillers of each UTF-8 kind (ASCII,
    /// continuation, lead bytes), counted against a byte-by-byte count.
    #[test]
    fn characters_are_counted_as_a_byte_by_byte_count_counts_them() {
        let by_byte = |bytes: &[u8]| bytes.iter().filter(|&&b| (b as i8) >= -0x40).count();
        for len in 0..20 {
            for place in 0..len {
                for byte in 0..=255u8 {
                    for filler in [b'a', 0x7f, 0x80, 0xbf, 0xc3, 0xe2, 0xf0, 0xff] {
                        let mut bytes = vec![filler; len];
                        bytes[place] = byte;
                        for start in 0..=len.min(9) {
                            assert_eq!(
                                chars_in(&bytes[start..]),
                                by_byte(&bytes[start..]),
                                "{bytes:?} from {start}"
                            );
                        }
                    }
                }
            }
        }
        let text = "aé€😀 z";
        assert_eq!(chars_in(text.as_bytes()), text.chars().count());
    }

    #[test]
    fn columns_on_long_lines_count_characters_across_checkpoints() {
        // One line of 3 * CHECKPOINT characters, some of them two and three bytes long, the
        // way a program writes a manifest on one line.
        let line: String = (0..3 * CHECKPOINT)
            .map(|i| match i % 7 {
                0 => 'é',
                3 => '€',
                _ => 'a',
            })
            .collect();
        let text = format!("first\n{line}\nlast");
        let index = LineIndex::new(&text);
        for (nth, (offset, _)) in text.char_indices().enumerate().skip(6).step_by(997) {
            let pos = index.position(offset);
            if pos.line == 2 {
                assert_eq!(pos.column, nth - 6 + 1, "offset {offset}");
            }
        }
        let end = 6 + line.len();
        assert_eq!(index.position(end).column, 3 * CHECKPOINT + 1);
        assert_eq!(index.position(end + 1).line, 3);
    }
}
