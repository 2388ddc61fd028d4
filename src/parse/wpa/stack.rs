//! Allocation stacks as WPA writes them in a table cell.
//!
//! wpaexporter's flat form puts the whole stack in one `Stack` cell, frames separated by `/`, outermost first
//! from WPA's `[Root]` (`[Root]/ntkrnlmp.exe!KiSystemServiceCopyEnd/.../ntkrnlmp.exe!ExAllocatePoolWithTag`);
//! a copy from the UI may separate them by line breaks inside the quoted cell, and a table exported with the
//! stack expanded as a tree has one frame per row (see [`super::parse`]). Frames are stored innermost first.

/// Tree drawing and indentation WPA's expanded stack rows may carry before a frame.
const TREE_MARKS: &[char] = &[' ', '\t', '|', '-', '+', '\u{2502}', '\u{251c}', '\u{2514}', '\u{2500}'];

/// WPA's stack root, not a frame.
const ROOT: &str = "[Root]";

/// The frames of a Stack cell in the order they are written, without `[Root]`, tree marks or empty parts;
/// with whether the cell started at `[Root]` (which tells that it is written outermost first).
pub fn split_cell(cell: &str) -> (Vec<&str>, bool) {
    let mut rooted = false;
    let mut frames = Vec::new();
    for part in cell.split(['/', '\n', '\r']) {
        let frame = part.trim_start_matches(TREE_MARKS).trim();
        if frame.is_empty() {
            continue;
        }
        if frame.eq_ignore_ascii_case(ROOT) {
            rooted |= frames.is_empty();
            continue;
        }
        frames.push(frame);
    }
    (frames, rooted)
}

/// The function part of a frame: `ntkrnlmp.exe!ExAllocatePoolWithTag+0x1a` gives `ExAllocatePoolWithTag`.
fn function(frame: &str) -> &str {
    let after_module = frame.rsplit_once('!').map_or(frame, |(_, f)| f);
    after_module.split_once('+').map_or(after_module, |(f, _)| f).trim()
}

/// Function-name prefixes of the pool allocator and the generic layers above it (lookaside lists, the
/// segment heap behind pool since Windows 10 2004, Driver Verifier's wrappers, the object manager's object
/// allocation): frames that say how memory was allocated, not who wanted it.
const GENERIC_PREFIXES: &[&str] = &[
    "ExAllocate",
    "ExpAllocate",
    "ExpPool",
    "ExpHp",
    "ExpInsertPoolTracker",
    "RtlpHp",
    "RtlpAllocateHeap",
    "MiAllocatePool",
    "MiAllocatePagedPool",
    "MiAllocateNonPagedPool",
    "MmAllocatePool",
    "VerifierExAllocate",
    "VfAllocatePool",
    "ViAllocate",
    "ObCreateObject",
    "ObpAllocateObject",
];

/// Whether a frame is the pool allocator or a generic layer above it: its function starts with `ExAllocate`,
/// `ExpAllocate`, `RtlpHp`, `ObCreateObject`, `ObpAllocateObject` or another of the allocator layers.
pub fn is_generic(frame: &str) -> bool {
    let f = function(frame);
    GENERIC_PREFIXES.iter().any(|p| f.starts_with(p))
}

/// Frames in the order written, turned innermost first. A cell that starts at `[Root]` is outermost first (WPA's
/// order); otherwise the end nearer a generic allocator frame is the innermost; with no allocator frame, WPA's
/// order is assumed.
pub fn innermost_first(mut frames: Vec<String>, rooted: bool) -> Vec<String> {
    let allocator = frames.iter().position(|f| is_generic(f));
    let written_innermost_first = !rooted && allocator.is_some_and(|i| 2 * i < frames.len().saturating_sub(1));
    if !written_innermost_first {
        frames.reverse();
    }
    frames
}

/// The first frames of an innermost-first stack that name the caller (the generic allocator frames skipped),
/// at most `n`. An empty slice when every frame is generic.
pub fn callers(stack: &[String], n: usize) -> &[String] {
    let first = stack.iter().position(|f| !is_generic(f)).unwrap_or(stack.len());
    &stack[first..(first + n).min(stack.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn flat_cell_from_root_is_turned_innermost_first() {
        let (frames, rooted) = split_cell(
            "[Root]/ntkrnlmp.exe!KiSystemServiceCopyEnd/ntkrnlmp.exe!NtDuplicateToken/\
             ntkrnlmp.exe!SepDuplicateToken/ntkrnlmp.exe!ObCreateObjectEx/ntkrnlmp.exe!ExAllocatePoolWithTag",
        );
        assert!(rooted);
        let stack = innermost_first(owned(&frames), rooted);
        assert_eq!(stack[0], "ntkrnlmp.exe!ExAllocatePoolWithTag");
        assert_eq!(callers(&stack, 2), ["ntkrnlmp.exe!SepDuplicateToken", "ntkrnlmp.exe!NtDuplicateToken"]);
    }

    #[test]
    fn line_breaks_and_tree_marks_separate_frames_too() {
        let (frames, rooted) = split_cell("  |- nt!ExAllocatePool2\r\n  |- acmesec.sys!AcmeTrack+0x2c\n\n");
        assert_eq!(frames, ["nt!ExAllocatePool2", "acmesec.sys!AcmeTrack+0x2c"]);
        assert!(!rooted);
        // Written innermost first (the allocator is at the start): kept.
        let stack = innermost_first(owned(&frames), rooted);
        assert_eq!(callers(&stack, 3), ["acmesec.sys!AcmeTrack+0x2c"]);
    }

    #[test]
    fn generic_frames_are_the_allocator_layers() {
        for f in [
            "ntkrnlmp.exe!ExAllocatePoolWithTag",
            "ntoskrnl.exe!ExAllocatePool2+0x5f",
            "nt!ExAllocateHeapPool",
            "nt!ExpAllocatePoolWithTagFromNode",
            "nt!RtlpHpAllocWithExceptionProtection",
            "nt!VerifierExAllocatePoolWithTag",
            "nt!ObpAllocateObject",
        ] {
            assert!(is_generic(f), "{f}");
        }
        for f in ["ntkrnlmp.exe!SepDuplicateToken", "acmesec.sys!?", "ExAllocat", "[Root]"] {
            assert!(!is_generic(f), "{f}");
        }
        assert!(callers(&owned(&["nt!ExAllocatePool2"]), 3).is_empty());
    }
}
