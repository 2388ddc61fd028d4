//! Driver inventories (issue 13): which drivers and file-system minifilters a host had loaded.
//!
//! What is read, each into a [`DriverListing`]:
//! - `driverquery /fo csv` and `driverquery /v /fo csv` ([`csv`]; headers matched by name, English plus the
//!   German and French names in [`columns`]);
//! - `driverquery /si /fo csv`: signed devices with their manufacturer;
//! - `Get-CimInstance Win32_SystemDriver | Export-Csv` (or `Get-WmiObject`), with or without the `#TYPE` line;
//! - `fltmc` and `fltmc instances` ([`fltmc`]).
//!
//! Every one may be UTF-16LE with a BOM (PowerShell's `>`), ANSI or UTF-8: the bytes are decoded first
//! ([`crate::parse::text::decode`]). `driverquery`'s table and list formats (`/fo table`, `/fo list`) are not
//! read: they are detected and named, so the user knows to rerun with `/fo csv`.

pub mod columns;
pub mod csv;
pub mod fltmc;

use crate::model::drivers::{DriverListing, ListingKind};
use crate::model::{Diagnostic, Severity};
use crate::parse::FileContext;

/// Which driver list the text is, from its header.
pub fn looks_like(text: &str) -> Option<ListingKind> {
    if let Some(kind) = csv::columns(text).and_then(|c| c.kind) {
        return Some(kind);
    }
    fltmc::looks_like(text)
}

/// Whether the text is `driverquery` output in its table or list format (`/fo table`, the default, or `/fo
/// list`), which poolscope does not read.
pub fn is_unread_driverquery(text: &str) -> bool {
    let mut lines = text.lines().map(|l| l.trim_start_matches('\u{feff}').trim()).filter(|l| !l.is_empty());
    let Some(first) = lines.next() else { return false };
    let table = first.starts_with("Module Name") && first.contains("Display Name") && !first.contains(',');
    let list = first.starts_with("Module Name:") && lines.next().is_some_and(|l| l.starts_with("Display Name:"));
    table || list
}

/// Parses a decoded driver list of any kind.
pub fn parse(text: &str, ctx: &FileContext) -> (Option<DriverListing>, Vec<Diagnostic>) {
    match looks_like(text) {
        Some(ListingKind::FltmcFilters | ListingKind::FltmcInstances) => fltmc::parse(text, ctx),
        Some(_) => csv::parse(text, ctx),
        None if is_unread_driverquery(text) => (
            None,
            vec![Diagnostic::for_file(
                &ctx.path,
                Severity::Error,
                "driverquery table or list output is not read: run `driverquery /v /fo csv` instead",
            )],
        ),
        None => (
            None,
            vec![Diagnostic::for_file(
                &ctx.path,
                Severity::Error,
                "not a driver list (expected driverquery /fo csv, driverquery /si, fltmc or Win32_SystemDriver CSV)",
            )],
        ),
    }
}

/// `TRUE`/`FALSE` (driverquery, `/si`), `True`/`False` (CIM), `Yes`/`No`, German `Wahr`/`Falsch`, `Ja`/`Nein`,
/// French `Vrai`/`Faux`, `Oui`/`Non`.
pub(crate) fn yes_no(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "true" | "yes" | "wahr" | "ja" | "vrai" | "oui" => Some(true),
        "false" | "no" | "falsch" | "nein" | "faux" | "non" => Some(false),
        _ => None,
    }
}

/// Whether a state says the driver was loaded: `Running` (German `Wird ausgeführt`, French `En cours
/// d'exécution`) or `Stopped` (`Beendet`, `Arrêté`); `None` for anything else (`Start Pending`).
pub(crate) fn loaded_from_state(state: &str) -> Option<bool> {
    let s = state.trim().to_lowercase();
    if s == "running" || s.starts_with("wird ausgeführt") || s.starts_with("en cours") || s == "gestartet" {
        Some(true)
    } else if s == "stopped" || s == "beendet" || s.starts_with("arrêt") || s == "angehalten" {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_and_states_in_three_languages() {
        assert_eq!(yes_no("TRUE"), Some(true));
        assert_eq!(yes_no("Falsch"), Some(false));
        assert_eq!(yes_no("maybe"), None);
        assert_eq!(loaded_from_state("Running"), Some(true));
        assert_eq!(loaded_from_state("Wird ausgeführt"), Some(true));
        assert_eq!(loaded_from_state("Arrêté"), Some(false));
        assert_eq!(loaded_from_state("Start Pending"), None);
    }

    #[test]
    fn table_and_list_output_is_named_not_read() {
        let table = concat!(
            "\r\nModule Name  Display Name           Driver Type   Link Date\r\n",
            "============ ====================== ============= ======================\r\n"
        );
        assert!(is_unread_driverquery(table));
        assert!(is_unread_driverquery("Module Name:  ACPI\nDisplay Name: Microsoft ACPI Driver\n"));
        let (listing, diags) = parse(table, &FileContext::default());
        assert!(listing.is_none());
        assert!(diags[0].message.contains("/fo csv"), "{diags:?}");
        assert_eq!(looks_like(table), None);
    }
}
