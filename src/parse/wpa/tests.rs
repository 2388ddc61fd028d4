//! One test per rule of the WPA pool-table reader, and every fixture under `fixtures/wpa/` with how many rows
//! it gives and how many diagnostics.

use super::*;
use crate::model::AllocationKind::{Aifi, Aifo, Aofi, Aofo};

fn ctx(name: &str) -> FileContext {
    FileContext { path: format!("fixtures/wpa/{name}"), ..FileContext::default() }
}

/// A fixture decoded and parsed: its table and diagnostics.
fn fixture(name: &str) -> (AllocationTable, Vec<Diagnostic>) {
    let bytes = std::fs::read(format!("{}/fixtures/wpa/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let text = crate::parse::text::decode(&bytes).text.into_owned();
    assert!(looks_like(&text), "{name} is not detected");
    let (table, diags) = parse(&text, &ctx(name));
    (table.expect("a table"), diags)
}

#[test]
fn wpaexporter_flat_stack() {
    let (t, diags) = fixture("wpaexporter_flat_stack.csv");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(t.allocations.len(), 7);
    let a = &t.allocations[0];
    assert_eq!((a.tag.as_str(), a.kind, a.pool, a.size, a.count), ("Toke", Aifo, Some(PoolType::Paged), Some(1664), 5980));
    assert_eq!(a.stack[0], "ntkrnlmp.exe!ExAllocatePoolWithTag");
    assert_eq!(stack::callers(&a.stack, 1), ["ntkrnlmp.exe!SepDuplicateToken"]);
    assert_eq!(a.source.line, Some(2));
    assert_eq!(t.allocations[6].kind, Aofi);
    assert_eq!(t.allocations[4].kind, Aofo);
    assert_eq!(t.allocations[3].kind, Aifi);
    assert_eq!(t.allocations[5].tag, "ObNm");
}

#[test]
fn utf16le_bom_tab_multiline_stack() {
    let (t, diags) = fixture("utf16le_bom_tab_multiline_stack.csv");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(t.allocations.len(), 3);
    let toke = &t.allocations[0];
    // Written innermost first (the allocator at the top): kept that way.
    assert_eq!(stack::callers(&toke.stack, 2), ["ntkrnlmp.exe!SepDuplicateToken", "ntkrnlmp.exe!NtDuplicateToken"]);
    assert_eq!(t.allocations[1].pool, Some(PoolType::Nonpaged));
    assert_eq!(t.allocations[1].tag, "NtFs");
    assert!(t.allocations[2].stack.is_empty());
    // The second row starts on line 7: the first row's stack cell spans five lines.
    assert_eq!(t.allocations[1].source.line, Some(7));
}

#[test]
fn semicolon_de_thousands_kb() {
    let (t, diags) = fixture("semicolon_de_thousands_kb.csv");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(t.allocations.len(), 3);
    // 9.820,50 KB over 6.043 allocations; no Size column.
    assert_eq!((t.allocations[0].count, t.allocations[0].size), (6043, Some(1664)));
    assert_eq!(t.allocations[1].size, Some(1664));
    assert_eq!((t.allocations[2].pool, t.allocations[2].size), (Some(PoolType::Nonpaged), Some(512)));
    assert_eq!(t.allocations[0].pool, Some(PoolType::Paged));
}

#[test]
fn missing_columns_no_stack_no_paged() {
    let (t, diags) = fixture("missing_columns_no_stack_no_paged.csv");
    // The unknown type and the row without a tag.
    assert_eq!(diags.len(), 2, "{diags:?}");
    assert_eq!(diags[0].line, Some(5));
    assert!(diags[0].message.contains("\"XXXX\""), "{diags:?}");
    assert_eq!(diags[1].line, Some(6));
    assert_eq!(t.allocations.len(), 3);
    assert_eq!((t.allocations[0].size, t.allocations[0].pool), (Some(1664), None));
    assert_eq!(t.allocations[2].tag, "Key ");
    assert_eq!(t.allocations[2].size, Some(64));
}

#[test]
fn err_truncated_last_row() {
    let (t, diags) = fixture("err_truncated_last_row.csv");
    assert_eq!(t.allocations.len(), 6);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].line, Some(8));
    assert!(diags[0].message.contains("cut short"), "{diags:?}");
}

#[test]
fn stack_tree_one_frame_per_row() {
    let (t, diags) = fixture("stack_tree_one_frame_per_row.csv");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(t.allocations.len(), 2);
    assert_eq!(t.allocations[0].stack.len(), 5);
    assert_eq!(stack::callers(&t.allocations[0].stack, 1), ["ntkrnlmp.exe!SepDuplicateToken"]);
    assert_eq!(t.allocations[1].stack, ["ntkrnlmp.exe!ExAllocatePool2", "ntkrnlmp.exe!SepDuplicateToken"]);
}

#[test]
fn numbers_with_separators() {
    assert_eq!(number("6,189", false), Some(6189.0));
    assert_eq!(number("6.189", false), Some(6189.0));
    assert_eq!(number("6\u{a0}189", false), Some(6189.0));
    assert_eq!(number("1,664.00", false), Some(1664.0));
    assert_eq!(number("1.234.567", false), Some(1_234_567.0));
    assert_eq!(number("1.625", true), Some(1.625));
    assert_eq!(number("1,234,567", true), Some(1_234_567.0));
    assert_eq!(number("9.820,50", true), Some(9820.5));
    for bad in ["", "-", "12a", "1e5", ",", "99999999999999999999999"] {
        assert_eq!(number(bad, false), None, "{bad}");
    }
}

#[test]
fn kinds_and_pools_in_their_spellings() {
    assert_eq!(allocation_kind("aifo"), Some(Aifo));
    assert_eq!(allocation_kind("Allocated Inside Freed Outside"), Some(Aifo));
    assert_eq!(allocation_kind("AOFO"), Some(Aofo));
    assert_eq!(allocation_kind("Inside"), None);
    assert_eq!(pool_type("NonPagedNx"), Some(PoolType::Nonpaged));
    assert_eq!(pool_type("False"), Some(PoolType::Nonpaged));
    assert_eq!(pool_type("TRUE"), Some(PoolType::Paged));
    assert_eq!(pool_type("Session"), None);
}

#[test]
fn delimiter_is_the_headers_most_used() {
    assert_eq!(delimiter("Type;Pool Tag;Count"), b';');
    assert_eq!(delimiter("Type\tPool Tag\tSize (B), total"), b'\t');
    assert_eq!(delimiter("\"Type\",\"Pool Tag\",\"Count\""), b',');
}

#[test]
fn repeated_headers_are_skipped_and_a_bad_header_is_an_error() {
    let text = "Type,Pool Tag,Count\nAIFO,Toke,3\nType,Pool Tag,Count\nAIFO,Toke,4\n";
    let (t, diags) = parse(text, &ctx("x.csv"));
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(t.unwrap().allocations.iter().map(|a| a.count).sum::<u64>(), 7);
    let (t, diags) = parse("Tag,PagedUsedBytes\nToke,1\n", &ctx("x.csv"));
    assert!(t.is_none());
    assert_eq!(diags[0].severity, Severity::Error);
    assert_eq!(diags[0].line, Some(1));
    let (t, diags) = parse("\n\n", &ctx("x.csv"));
    assert!(t.is_none() && diags[0].severity == Severity::Error);
}

#[test]
fn bad_rows_beyond_the_shown_ones_are_counted() {
    let mut text = String::from("Type,Pool Tag,Count\n");
    for _ in 0..30 {
        text.push_str("AIFO,Toke,many\n");
    }
    let (t, diags) = parse(&text, &ctx("x.csv"));
    assert!(t.unwrap().allocations.is_empty());
    assert_eq!(diags.len(), ROW_DIAGNOSTICS_SHOWN + 1);
    assert!(diags.last().unwrap().message.starts_with("10 more rows"), "{diags:?}");
}

#[test]
fn any_prefix_of_a_fixture_never_panics() {
    let text = std::fs::read_to_string(format!("{}/fixtures/wpa/wpaexporter_flat_stack.csv", env!("CARGO_MANIFEST_DIR")))
        .unwrap();
    for cut in (0..text.len()).filter(|c| text.is_char_boundary(*c)) {
        let _ = parse(&text[..cut], &ctx("x.csv"));
    }
    let _ = parse("Type,Pool Tag,Stack\n\"", &ctx("x.csv"));
    let _ = parse("Type,Pool Tag,Stack\n,,x\n,,y\n", &ctx("x.csv"));
}
