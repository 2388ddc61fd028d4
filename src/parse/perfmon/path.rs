//! Counter paths: `\\HOST\Object(Parent/Instance#Index)\Counter` and their shorter forms (relog docs;
//! reference peers.md §2.6).

/// The parts of one counter path, borrowed from the header cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterPath<'a> {
    /// The machine (`\\HOST`), when the path names one.
    pub host: Option<&'a str>,
    /// The object (performance counter set), as written (localized).
    pub object: &'a str,
    /// The instance in parentheses (`svchost#1`, `_Total`), when the object has instances.
    pub instance: Option<&'a str>,
    /// The counter, as written (localized).
    pub counter: &'a str,
}

/// Splits a counter path; `None` when the cell is not one.
pub fn counter_path(cell: &str) -> Option<CounterPath<'_>> {
    let cell = cell.trim();
    let (host, rest) = match cell.strip_prefix("\\\\") {
        Some(r) => {
            let (h, rest) = r.split_once('\\')?;
            (Some(h).filter(|h| !h.is_empty()), rest)
        }
        None => (None, cell.strip_prefix('\\')?),
    };
    let (object_part, counter) = rest.rsplit_once('\\')?;
    let (object, instance) = match object_part.find('(') {
        Some(i) if object_part.ends_with(')') => (&object_part[..i], Some(&object_part[i + 1..object_part.len() - 1])),
        _ => (object_part, None),
    };
    (!object.trim().is_empty() && !counter.trim().is_empty()).then_some(CounterPath {
        host,
        object: object.trim(),
        instance,
        counter: counter.trim(),
    })
}

/// An instance without its parent (`Parent/`) and its duplicate index (`#1`): `svchost#1` → `svchost`.
pub fn base_instance(instance: &str) -> &str {
    let name = instance.rsplit_once('/').map_or(instance, |(_, i)| i);
    match name.rsplit_once('#') {
        Some((base, index)) if !base.is_empty() && !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()) => {
            base
        }
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_path_with_instance() {
        let p = counter_path(r"\\WEB01\Process(svchost#1)\Handle Count").unwrap();
        assert_eq!(
            p,
            CounterPath {
                host: Some("WEB01"),
                object: "Process",
                instance: Some("svchost#1"),
                counter: "Handle Count"
            }
        );
        assert_eq!(base_instance("svchost#1"), "svchost");
        assert_eq!(base_instance("a/b#12"), "b");
        assert_eq!(base_instance("#1"), "#1");
    }

    #[test]
    fn short_forms_and_non_paths() {
        let p = counter_path(r"\Memory\Pool Paged Bytes").unwrap();
        assert_eq!((p.host, p.object, p.instance), (None, "Memory", None));
        let p = counter_path(r"\\H\Process(a (x))\ID Process").unwrap();
        assert_eq!(p.instance, Some("a (x)"));
        assert_eq!(counter_path("Time"), None);
        assert_eq!(counter_path(r"\\H"), None);
    }
}
