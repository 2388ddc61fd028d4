//! Localized perfmon object and counter names for the counters poolscope uses.
//!
//! PDH writes counter paths in the display language of the collecting machine (PAL issues #22/#24/#72;
//! reference peers.md §2.6). The names below are those of the Windows counter name tables (the `perfc`/`perfh`
//! language files, as `lodctr /s` and `typeperf -q` list them) for English, German, French, Spanish and
//! Japanese, written from the published counter lists of those Windows editions. They were not checked against
//! a real file of each language: a name that does not match is counted among the ignored counters, and a
//! correction here is one line. Matching ignores case and runs of spaces.

/// The object a counter belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    /// `Memory`.
    Memory,
    /// `Process`.
    Process,
}

/// A counter poolscope reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Counter {
    /// `Pool Paged Bytes` (Memory and Process).
    PoolPagedBytes,
    /// `Pool Nonpaged Bytes` (Memory and Process).
    PoolNonpagedBytes,
    /// `Committed Bytes` (Memory).
    CommittedBytes,
    /// `Commit Limit` (Memory).
    CommitLimit,
    /// `Handle Count` (Process).
    HandleCount,
    /// `ID Process` (Process): the pid of an instance, which tells `svchost#1` apart.
    IdProcess,
}

/// Object names: (object, names in en, de, fr, es, ja).
const OBJECTS: &[(Object, &[&str])] = &[
    (Object::Memory, &["Memory", "Speicher", "Mémoire", "Memoria", "メモリ"]),
    (Object::Process, &["Process", "Prozess", "Processus", "Proceso", "プロセス"]),
];

/// Counter names: (counter, names in en, de, fr, es, ja).
const COUNTERS: &[(Counter, &[&str])] = &[
    (
        Counter::PoolPagedBytes,
        &[
            "Pool Paged Bytes",
            "Auslagerungsseiten (Bytes)",
            "Octets de réserve paginée",
            "Bytes de bloque paginado",
            "プール ページ バイト",
        ],
    ),
    (
        Counter::PoolNonpagedBytes,
        &[
            "Pool Nonpaged Bytes",
            "Nicht-Auslagerungsseiten (Bytes)",
            "Octets de réserve non paginée",
            "Bytes de bloque no paginado",
            "プール非ページ バイト",
        ],
    ),
    (
        Counter::CommittedBytes,
        &[
            "Committed Bytes",
            "Zugesicherte verwendete Bytes",
            "Octets dédiés",
            "Bytes comprometidos",
            "コミット済みバイト",
        ],
    ),
    (
        Counter::CommitLimit,
        &["Commit Limit", "Zusagegrenze", "Limite de mémoire dédiée", "Límite de compromiso", "コミット制限"],
    ),
    (
        Counter::HandleCount,
        &["Handle Count", "Handleanzahl", "Nombre de handles", "Número de identificadores", "ハンドル数"],
    ),
    (Counter::IdProcess, &["ID Process", "Prozesskennung", "ID de processus", "Id. de proceso", "ID プロセス"]),
];

/// Lowercase with runs of whitespace made one space, for comparing names.
fn fold(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// The object a (possibly localized) object name is.
pub fn object(name: &str) -> Option<Object> {
    let name = fold(name);
    OBJECTS.iter().find(|(_, names)| names.iter().any(|n| fold(n) == name)).map(|(o, _)| *o)
}

/// The counter a (possibly localized) counter name is.
pub fn counter(name: &str) -> Option<Counter> {
    let name = fold(name);
    COUNTERS.iter().find(|(_, names)| names.iter().any(|n| fold(n) == name)).map(|(c, _)| *c)
}

/// Whether `counter` is read on `object` (`Committed Bytes` is a Memory counter, `Handle Count` a Process one).
pub fn used_on(object: Object, counter: Counter) -> bool {
    match counter {
        Counter::PoolPagedBytes | Counter::PoolNonpagedBytes => true,
        Counter::CommittedBytes | Counter::CommitLimit => object == Object::Memory,
        Counter::HandleCount | Counter::IdProcess => object == Object::Process,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_names_every_counter() {
        for (_, names) in COUNTERS {
            assert_eq!(names.len(), 5);
        }
        assert_eq!(counter("pool  paged bytes"), Some(Counter::PoolPagedBytes));
        assert_eq!(counter("Handleanzahl"), Some(Counter::HandleCount));
        assert_eq!(counter("ハンドル数"), Some(Counter::HandleCount));
        assert_eq!(object("MÉMOIRE"), Some(Object::Memory));
        assert_eq!(counter("% Processor Time"), None);
    }
}
