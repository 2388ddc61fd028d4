//! The hot path: a hand-written reader for the common shape of a data row (formats reference §1.3).
//!
//! A 100 MB append-mode log is almost all rows, so rows are read here without combinators: one pass over the
//! bytes, no allocation. Anything out of the ordinary (non-ASCII tags, collapsed whitespace, driver text that
//! is not plainly `[...]` or `Unknown Driver`, stray characters) makes it return `None`, and the caller falls
//! back to the full grammar in [`super::grammar::tag_row`], which gives the same answer on every row both
//! accept (tested below and by the proptest in `tests/it/poolmon.rs`).

use super::grammar::{RowDeltas, RowFields};
use crate::model::PoolType;

/// Reads a data row the common way, or `None` to let the grammar decide.
pub fn fast_tag_row(line: &str) -> Option<RowFields<'_>> {
    let bytes = line.as_bytes();
    // The tag: the 4 bytes after the single leading space (or at the start of a paste that lost it).
    let start = usize::from(bytes.first() == Some(&b' '));
    let tag_bytes = bytes.get(start..start + 4)?;
    if !tag_bytes.is_ascii() {
        return None;
    }
    let mut pos = start + 4;
    if !matches!(bytes.get(pos), Some(b' ' | b'\t')) {
        return None;
    }
    pos = skip_ws(bytes, pos);
    let rest = &bytes[pos..];
    let pool = if rest.starts_with(b"Paged") {
        pos += 5;
        PoolType::Paged
    } else if rest.starts_with(b"Nonp") {
        pos += 4;
        PoolType::Nonpaged
    } else {
        return None;
    };
    let mut values = [0i64; 5];
    let mut deltas = [0i64; 3];
    let mut delta_count = 0usize;
    // `at` is where the next token starts, `separated` whether whitespace (or a `( delta)`) came before it:
    // every blank run is scanned once.
    let mut at = skip_ws(bytes, pos);
    let mut separated = at > pos;
    for (k, slot) in values.iter_mut().enumerate() {
        if !separated {
            return None;
        }
        let (value, next) = number(bytes, at)?;
        *slot = value;
        pos = next;
        at = skip_ws(bytes, pos);
        separated = at > pos;
        // Allocs, Frees and Bytes carry a `( delta)` on screens; a number may follow the `)` directly
        // (`169392( 0)` pastes lost spaces).
        if matches!(k, 0 | 1 | 3) && bytes.get(at) == Some(&b'(') {
            let (change, next) = number(bytes, skip_ws(bytes, at + 1))?;
            let close = skip_ws(bytes, next);
            if bytes.get(close) != Some(&b')') || delta_count == 3 {
                return None;
            }
            deltas[delta_count] = change;
            delta_count += 1;
            pos = close + 1;
            at = skip_ws(bytes, pos);
            separated = true;
        }
    }
    let deltas = match delta_count {
        0 => None,
        3 => Some(RowDeltas { allocs: deltas[0], frees: deltas[1], bytes: deltas[2] }),
        _ => return None,
    };
    let driver = if at == bytes.len() {
        None
    } else {
        if at == pos {
            return None;
        }
        let text = line.get(at..)?.trim_end();
        let plain_brackets = text.len() >= 2
            && text.starts_with('[')
            && text.ends_with(']')
            && !text[1..text.len() - 1].contains(['[', ']']);
        if !(plain_brackets || text == "Unknown Driver") {
            return None;
        }
        Some(text)
    };
    Some(RowFields {
        tag: &line[start..start + 4],
        pool,
        values,
        deltas,
        driver,
        trailing_space: matches!(bytes.last(), Some(b' ' | b'\t' | b'\r')),
    })
}

/// The position after the spaces and tabs at `p`. Eight bytes at a time: runs of 10-18 spaces separate the
/// columns of x64 snapshot rows (formats reference §1.3), so this loop is most of a row's cost.
#[inline]
fn skip_ws(b: &[u8], mut p: usize) -> usize {
    const SPACES: u64 = u64::from_le_bytes([b' '; 8]);
    loop {
        if let Some(chunk) = b.get(p..p + 8).and_then(|c| <[u8; 8]>::try_from(c).ok()) {
            let differs = u64::from_le_bytes(chunk) ^ SPACES;
            if differs == 0 {
                p += 8;
                continue;
            }
            p += (differs.trailing_zeros() / 8) as usize;
        }
        match b.get(p) {
            Some(b' ' | b'\t') => p += 1,
            _ => return p,
        }
    }
}

/// An optionally negative decimal number of at most 18 digits (so it cannot overflow) at `p`; the number must
/// end at whitespace, `(`, `)` or the end of the line.
#[inline]
fn number(b: &[u8], mut p: usize) -> Option<(i64, usize)> {
    let negative = b.get(p) == Some(&b'-');
    p += usize::from(negative);
    let start = p;
    let mut v: i64 = 0;
    while let Some(&c) = b.get(p) {
        let digit = c.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        if p - start == 18 {
            return None;
        }
        v = v * 10 + i64::from(digit);
        p += 1;
    }
    if p == start || !matches!(b.get(p), None | Some(b' ' | b'\t' | b'(' | b')' | b'\r')) {
        return None;
    }
    Some((if negative { -v } else { v }, p))
}

#[cfg(test)]
mod tests {
    use super::super::grammar::tag_row;
    use super::*;

    const ROWS: &[&str] = &[
        " FMfn Paged            8665967            5982729           2683238     1495080176              557",
        " EtwB Nonp       6394      4056      2338 163418368      69896",
        " Ntfx Nonp    1127072   1037111     89961 26955808        299        ",
        " Wait Nonp    3971107 (   0)   3971077 (   0)       30    8456 (     0)    281",
        " Io   Nonp    1021112 (   1)   1020985 (   1)      127   91912 (     0)    723",
        " NtFC Paged   1579279 (   0)   1579269 (   0)    10     640 (     0)     64 [ntfs.sys  -  Create.c]",
        "Dh 1 Paged        37 (   0)        35 (   0)        2     224 (     0)    112 Unknown Driver",
        "Drsd Paged       560 ( 177)       539 ( 171)       21   17472 (  4992)    832 ",
        "MmSt \tPaged \t673616( 16) 656049( 17) 17567 \t28286672( -184) 1610",
        " EtwB Nonp       6394      4056      2338 -163418368      69896",
        " Toke Paged  -1 -2 -3 -4 -5",
    ];

    #[test]
    fn fast_tag_row_agrees_with_grammar() {
        for line in ROWS {
            let fast = fast_tag_row(line).unwrap_or_else(|| panic!("fast path declined {line:?}"));
            let (_, slow) = tag_row(line).unwrap();
            assert_eq!(fast, slow, "{line:?}");
        }
    }

    #[test]
    fn fast_tag_row_declines_the_unusual() {
        for line in [
            " IpEQ Nonp          1 (   0)         0 (   0)        1    1808 (     0)   1808 [ipsec][ipsec.sys]",
            "Io Nonp 1 2 3 4 5",
            " MmSt Paged   2269405   2095",
            " MmSt Paged   2269405   2095404    174001 156097152        897 garbage",
            " MmSt Paged   2269405 (  1)  2095404    174001 156097152        897",
            " Lin\u{eb} Paged 1 2 3 4 5",
            " Tag  Type     Allocs",
            " Total Paged   1161638 (   0)   1161630 (   0)        8     864 (     0)",
            "",
        ] {
            assert_eq!(fast_tag_row(line), None, "{line:?}");
        }
    }

    #[test]
    fn skip_ws_bounds() {
        assert_eq!(skip_ws(b"", 0), 0);
        assert_eq!(skip_ws(b"   ", 0), 3);
        assert_eq!(skip_ws(b"x", 5), 5);
        assert_eq!(skip_ws(b"                  \t  1", 0), 21);
        assert_eq!(skip_ws(b"        x", 0), 8);
        assert_eq!(skip_ws(b"  \t \t   1       ", 1), 8);
    }

    #[test]
    fn number_bounds() {
        assert_eq!(number(b"123 ", 0), Some((123, 3)));
        assert_eq!(number(b"-5)", 0), Some((-5, 2)));
        assert_eq!(number(b"12a", 0), None);
        assert_eq!(number(b"-", 0), None);
        assert_eq!(number(b"1234567890123456789", 0), None);
    }
}
