//! `-s` summaries, system-wide or with `-p` (formats reference §2.2c).
//!
//! ```text
//! Handle type summary:
//!   ALPC Port       : 11          `  %-16s: %d`
//!   WaitCompletionPacket: 25      names of 16 characters or more break the alignment
//!   <Unknown type>  : 1
//!   <Unknown type>  : 166         the same type can be listed twice: the counts are summed
//! Total handles: 706
//! ```

use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::space0;
use nom::combinator::{all_consuming, map_res};
use nom::sequence::{delimited, preceded};
use nom::{IResult, Parser};

/// `Handle type summary:`, the title of a summary.
pub fn summary_title(line: &str) -> bool {
    line.trim() == "Handle type summary:"
}

/// A decimal count, with surrounding spaces.
fn count(input: &str) -> IResult<&str, u64> {
    all_consuming(delimited(space0, map_res(take_while1(|c: char| c.is_ascii_digit()), str::parse::<u64>), space0))
        .parse(input)
}

/// A type line `  %-16s: %d`: the type name (spaces and angle brackets allowed) and its count. The split is
/// on the last `:`, since the padding disappears for names of 16 characters or more.
pub fn type_count(line: &str) -> Option<(&str, u64)> {
    let (name, number) = line.rsplit_once(':')?;
    let (_, n) = count(number).ok()?;
    let name = name.trim();
    (!name.is_empty() && !name.starts_with("Total handles")).then_some((name, n))
}

/// `Total handles: %d`, the last line of a summary.
pub fn total_handles(line: &str) -> Option<u64> {
    preceded((space0, tag("Total handles:")), count).parse(line).ok().map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_title_line() {
        assert!(summary_title("Handle type summary:"));
        assert!(summary_title("Handle type summary:  "));
        assert!(!summary_title("Handle type summary"));
    }

    #[test]
    fn type_count_lines() {
        assert_eq!(type_count("  ALPC Port       : 2"), Some(("ALPC Port", 2)));
        assert_eq!(type_count("  <Unknown type>  : 166"), Some(("<Unknown type>", 166)));
        assert_eq!(type_count("  WaitCompletionPacket: 25"), Some(("WaitCompletionPacket", 25)));
        assert_eq!(type_count("  Odd:Name        : 3 "), Some(("Odd:Name", 3)));
        assert_eq!(type_count("  File            : x"), None);
        assert_eq!(type_count("  File            : -1"), None);
        assert_eq!(type_count("                  : 4"), None);
        assert_eq!(type_count("Total handles: 238"), None);
    }

    #[test]
    fn total_handles_line() {
        assert_eq!(total_handles("Total handles: 238"), Some(238));
        assert_eq!(total_handles("Total handles: 706  "), Some(706));
        assert_eq!(total_handles("Total handles:"), None);
        assert_eq!(total_handles("Total handles: many"), None);
    }
}
