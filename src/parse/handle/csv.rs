//! `-v` (comma) and `-vt` (tab) output (formats reference §2.2d).
//!
//! | layout | header | row |
//! |---|---|---|
//! | search | `Process,PID,Type,Handle,Name` | `%s,%d,%s,0x%08X,%s` + `%c%s` |
//! | dump | `Process,PID,User,Handle,Type,Share Flags,Name` | `%s,%d,%s,0x%08X,%s,%c%c%c,%s` + `%c%s` (flags may be empty) |
//! | search `-u` (v5.0) | `Process,PID,User,Handle,Type,Share Flags,Name,Access` (wrong) | `%s,%d,%s,%s,0x%08X,%s` + `%c%s`: Process,PID,Type,User,Handle,Name |
//!
//! Names are never quoted and end with a space (the empty access field), so the name is the rest of the
//! line after the last fixed field, trimmed. The v5.0 `-u` header does not describe its rows
//! (MicrosoftDocs/sysinternals#735): the layout is decided from each row, with the header only a hint.

/// The column layout of a CSV row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvLayout {
    /// `Process,PID,Type,Handle,Name`.
    Search,
    /// `Process,PID,User,Handle,Type,Share Flags,Name`.
    Dump,
    /// v5.0 `-u` rows: `Process,PID,Type,User,Handle,Name`.
    SearchUser,
}

impl CsvLayout {
    /// The layout's column names, as a header would list them.
    pub fn describe(self) -> &'static str {
        match self {
            CsvLayout::Search => "Process,PID,Type,Handle,Name",
            CsvLayout::Dump => "Process,PID,User,Handle,Type,Share Flags,Name",
            CsvLayout::SearchUser => "Process,PID,Type,User,Handle,Name",
        }
    }
}

/// A CSV header line: its delimiter and the layout it claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvHeader {
    /// `,` for `-v`, TAB for `-vt`.
    pub delimiter: char,
    /// The layout the header names (`None` when its columns match no known layout).
    pub layout: Option<CsvLayout>,
}

/// One CSV row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvRow<'a> {
    /// The layout read from the row itself.
    pub layout: CsvLayout,
    /// Image name.
    pub process: &'a str,
    /// Process id.
    pub pid: u32,
    /// User column (dump and `-u` layouts).
    pub user: Option<&'a str>,
    /// Handle value.
    pub value: u64,
    /// Object type.
    pub handle_type: &'a str,
    /// Share flags, when not empty (dump layout).
    pub share: Option<&'a str>,
    /// Object name, trimmed.
    pub name: &'a str,
}

/// A CSV header: `Process,PID,...` or `Process<TAB>PID<TAB>...`.
pub fn csv_header(line: &str) -> Option<CsvHeader> {
    let line = line.trim_end_matches(['\r', ' ']);
    let delimiter = if line.starts_with("Process,PID,") {
        ','
    } else if line.starts_with("Process\tPID\t") {
        '\t'
    } else {
        return None;
    };
    let columns: Vec<&str> = line.split(delimiter).map(str::trim).collect();
    let layout = match columns.as_slice() {
        ["Process", "PID", "Type", "Handle", "Name", ..] => Some(CsvLayout::Search),
        ["Process", "PID", "User", "Handle", "Type", "Share Flags", "Name", ..] => Some(CsvLayout::Dump),
        ["Process", "PID", "Type", "User", "Handle", "Name", ..] => Some(CsvLayout::SearchUser),
        _ => None,
    };
    Some(CsvHeader { delimiter, layout })
}

/// `0x%08X`.
fn hex_handle(field: &str) -> Option<u64> {
    let hex = field.trim().strip_prefix("0x").or_else(|| field.trim().strip_prefix("0X"))?;
    if hex.is_empty() || hex.len() > 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

/// Share flags as the dump layout prints them: empty, or three of `R`/`W`/`D`/`-`.
fn share_field(field: &str) -> bool {
    field.is_empty() || (field.len() == 3 && field.bytes().all(|b| matches!(b, b'R' | b'W' | b'D' | b'-')))
}

/// Whether a field can be an object type name (`File`, `ALPC Port`, `<Unknown type>`): types never hold
/// path characters, which tells a dump row from a search row whose name has commas in it.
fn type_like(field: &str) -> bool {
    let field = field.trim();
    !field.is_empty() && !field.contains(['\\', ':', '/', '.'])
}

/// The first `n` fields and the rest of the line (the name, which may contain the delimiter).
fn fields(line: &str, delimiter: char, n: usize) -> Option<(Vec<&str>, &str)> {
    let mut parts = line.splitn(n + 1, delimiter);
    let head: Vec<&str> = parts.by_ref().take(n).collect();
    if head.len() < n {
        return None;
    }
    Some((head, parts.next().unwrap_or("")))
}

/// A CSV row. The layout comes from where the `0x` handle is: the fourth field (search or dump; dump when
/// the sixth field is share flags, or the header says dump and the row fits) or the fifth (v5.0 `-u`).
pub fn csv_row(line: &str, delimiter: char, hint: Option<CsvLayout>) -> Option<CsvRow<'_>> {
    let line = line.trim_end_matches('\r');
    let (probe, _) = fields(line, delimiter, 5).or_else(|| fields(line, delimiter, 4))?;
    let pid: u32 = probe[1].trim().parse().ok()?;
    let process = probe[0].trim();
    if let Some(value) = hex_handle(probe[3]) {
        if let Some((f, name)) = fields(line, delimiter, 6) {
            let dump_shaped = share_field(f[5].trim()) && type_like(f[4]) && !f[2].trim().is_empty();
            if dump_shaped && (hint == Some(CsvLayout::Dump) || hint.is_none() || !f[5].is_empty()) {
                return Some(CsvRow {
                    layout: CsvLayout::Dump,
                    process,
                    pid,
                    user: Some(f[2].trim()),
                    value,
                    handle_type: f[4].trim(),
                    share: (!f[5].trim().is_empty()).then(|| f[5].trim()),
                    name: name.trim(),
                });
            }
        }
        let (f, name) = fields(line, delimiter, 4)?;
        let handle_type = f[2].trim();
        return (!handle_type.is_empty()).then_some(CsvRow {
            layout: CsvLayout::Search,
            process,
            pid,
            user: None,
            value,
            handle_type,
            share: None,
            name: name.trim(),
        });
    }
    let (f, name) = fields(line, delimiter, 5)?;
    let value = hex_handle(f[4])?;
    let handle_type = f[2].trim();
    (!handle_type.is_empty()).then_some(CsvRow {
        layout: CsvLayout::SearchUser,
        process,
        pid,
        user: Some(f[3].trim()),
        value,
        handle_type,
        share: None,
        name: name.trim(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_headers() {
        assert_eq!(
            csv_header("Process,PID,Type,Handle,Name\r"),
            Some(CsvHeader { delimiter: ',', layout: Some(CsvLayout::Search) })
        );
        assert_eq!(
            csv_header("Process,PID,User,Handle,Type,Share Flags,Name "),
            Some(CsvHeader { delimiter: ',', layout: Some(CsvLayout::Dump) })
        );
        assert_eq!(
            csv_header("Process,PID,User,Handle,Type,Share Flags,Name,Access"),
            Some(CsvHeader { delimiter: ',', layout: Some(CsvLayout::Dump) })
        );
        assert_eq!(
            csv_header("Process\tPID\tType\tHandle\tName"),
            Some(CsvHeader { delimiter: '\t', layout: Some(CsvLayout::Search) })
        );
        assert_eq!(csv_header("Process,PID,Foo"), Some(CsvHeader { delimiter: ',', layout: None }));
        assert_eq!(csv_header("Process;PID;Type"), None);
    }

    #[test]
    fn search_row_with_trailing_space() {
        let row = csv_row(r"pwsh.exe,64336,File,0x00000054,D:\worktree-sweep\.tmp\lockprobe ", ',', None).unwrap();
        assert_eq!(row.layout, CsvLayout::Search);
        assert_eq!((row.process, row.pid, row.handle_type, row.value), ("pwsh.exe", 64336, "File", 0x54));
        assert_eq!(row.name, r"D:\worktree-sweep\.tmp\lockprobe");
    }

    #[test]
    fn dump_rows_with_and_without_flags_and_commas_in_names() {
        let row = csv_row(r"winlogon.exe,1720,NT AUTHORITY\SYSTEM,0x00000054,File,RW-,C:\Windows\System32 ", ',', None)
            .unwrap();
        assert_eq!(row.layout, CsvLayout::Dump);
        assert_eq!(row.user, Some(r"NT AUTHORITY\SYSTEM"));
        assert_eq!(row.share, Some("RW-"));
        assert_eq!(row.name, r"C:\Windows\System32");
        let row = csv_row(
            r"pwsh.exe,35952,EXAMPLE-PC\user,0x000001A0,File,,D:\example\repo.wt\feature\notes, draft.txt ",
            ',',
            Some(CsvLayout::Dump),
        )
        .unwrap();
        assert_eq!(row.share, None);
        assert_eq!(row.name, r"D:\example\repo.wt\feature\notes, draft.txt");
    }

    #[test]
    fn v5_0_u_rows_are_read_by_their_shape() {
        let row = csv_row(
            r"sihost.exe,6616,File,PcName\UserName,0x00000050,C:\Windows\System32 ",
            ',',
            Some(CsvLayout::Dump),
        )
        .unwrap();
        assert_eq!(row.layout, CsvLayout::SearchUser);
        assert_eq!(row.handle_type, "File");
        assert_eq!(row.user, Some(r"PcName\UserName"));
        assert_eq!(row.value, 0x50);
        assert_eq!(row.name, r"C:\Windows\System32");
    }

    #[test]
    fn tab_rows() {
        let row = csv_row("lsass.exe\t768\tToken\t0x000001F0\tCONTOSO\\svc:5c203 ", '\t', None).unwrap();
        assert_eq!(row.layout, CsvLayout::Search);
        assert_eq!(row.name, r"CONTOSO\svc:5c203");
    }

    #[test]
    fn search_row_whose_name_looks_like_flags_follows_a_search_header() {
        let row = csv_row(r"a.exe,1,File,0x4,C:\x,,y", ',', Some(CsvLayout::Search)).unwrap();
        assert_eq!(row.layout, CsvLayout::Search);
        assert_eq!(row.name, r"C:\x,,y");
    }

    #[test]
    fn headerless_search_row_with_commas_in_its_name_is_not_a_dump_row() {
        let row = csv_row(r"a.exe,1,File,0x4,C:\x,,y ", ',', None).unwrap();
        assert_eq!(row.layout, CsvLayout::Search);
        assert_eq!(row.name, r"C:\x,,y");
    }

    #[test]
    fn not_rows() {
        assert_eq!(csv_row("Process,PID,Type,Handle,Name", ',', None), None);
        assert_eq!(csv_row("a,b,c", ',', None), None);
        assert_eq!(csv_row("a.exe,x,File,0x4,n", ',', None), None);
        assert_eq!(csv_row("a.exe,1,File,4,n", ',', None), None);
    }
}
