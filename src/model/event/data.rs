//! An event's EventData/UserData fields, stored compactly: a large log has hundreds of thousands of
//! events with a handful of fields each, and a map of owned strings costs two allocations per field plus
//! its nodes (issue 11: allocation and freeing were a third of reading a `.evtx`). Here every event holds
//! one text buffer (names and values back to back) and one index, built once by [`EventDataBuilder`].

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// EventData/UserData fields by name, in name order (as a `BTreeMap<String, String>` would keep them);
/// a name given twice keeps its last value. Serialized as a JSON object in name order.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EventData {
    /// Every name and value, back to back, in name order.
    text: Box<str>,
    /// For each field, in name order: where its name ends and where its value ends in `text` (its name
    /// starts where the previous value ends).
    ends: Box<[(usize, usize)]>,
}

impl EventData {
    /// No fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many fields there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The name and value of field `i` (in name order).
    fn field(&self, i: usize) -> (&str, &str) {
        let start = if i == 0 { 0 } else { self.ends[i - 1].1 };
        let (name_end, value_end) = self.ends[i];
        (&self.text[start..name_end], &self.text[name_end..value_end])
    }

    /// The value of the field named `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        let i = self.search(name).ok()?;
        Some(self.field(i).1)
    }

    /// Whether there is a field named `name`.
    pub fn contains_key(&self, name: &str) -> bool {
        self.search(name).is_ok()
    }

    /// Binary search of the names.
    fn search(&self, name: &str) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0, self.ends.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.field(mid).0.cmp(name) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    /// The fields as (name, value), in name order.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        (0..self.ends.len()).map(|i| self.field(i))
    }

    /// The names, in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.fields().map(|(k, _)| k)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for EventData {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut builder = EventDataBuilder::default();
        for (k, v) in iter {
            builder.push(k.as_ref(), v.as_ref());
        }
        builder.finish()
    }
}

impl fmt::Debug for EventData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.fields()).finish()
    }
}

impl Serialize for EventData {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.fields())
    }
}

impl<'de> Deserialize<'de> for EventData {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = EventData;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of event data names to values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EventData, A::Error> {
                let mut builder = EventDataBuilder::default();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    builder.push(&k, &v);
                }
                Ok(builder.finish())
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

/// Collects fields in the order they are read, then builds an [`EventData`]; its buffers are kept from
/// one event to the next, so a reader allocates only what each event keeps.
#[derive(Debug, Default)]
pub struct EventDataBuilder {
    /// Names and values as read, back to back.
    text: String,
    /// Per field as read: where its name starts, where its name ends, where its value ends in `text`.
    fields: Vec<(usize, usize, usize)>,
}

impl EventDataBuilder {
    /// Adds a field (a later field of the same name wins).
    pub fn push(&mut self, name: &str, value: &str) {
        let start = self.text.len();
        self.text.push_str(name);
        let name_end = self.text.len();
        self.text.push_str(value);
        self.fields.push((start, name_end, self.text.len()));
    }

    /// Forgets the fields added so far.
    pub fn clear(&mut self) {
        self.text.clear();
        self.fields.clear();
    }

    /// Whether no field was added since the last [`Self::finish`].
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The fields added so far, in name order, and an empty builder (its buffers kept).
    pub fn finish(&mut self) -> EventData {
        let text = &self.text;
        let name = |f: &(usize, usize, usize)| &text[f.0..f.1];
        // Stable, so among equal names the last one read is last; that one is kept.
        self.fields.sort_by(|a, b| name(a).cmp(name(b)));
        let mut kept = 0;
        for i in 0..self.fields.len() {
            if i + 1 < self.fields.len() && name(&self.fields[i]) == name(&self.fields[i + 1]) {
                continue;
            }
            self.fields[kept] = self.fields[i];
            kept += 1;
        }
        self.fields.truncate(kept);
        let size = self.fields.iter().map(|f| f.2 - f.0).sum();
        let mut out = String::with_capacity(size);
        let mut ends = Vec::with_capacity(self.fields.len());
        for &(start, name_end, value_end) in &self.fields {
            out.push_str(&text[start..name_end]);
            let name_ends = out.len();
            out.push_str(&text[name_end..value_end]);
            ends.push((name_ends, out.len()));
        }
        self.text.clear();
        self.fields.clear();
        EventData { text: out.into_boxed_str(), ends: ends.into_boxed_slice() }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn fields_are_in_name_order_and_the_last_of_a_name_wins() {
        let data: EventData = [("b", "1"), ("a", "2"), ("b", "3"), ("", "e"), ("aa", "")].into_iter().collect();
        let map: BTreeMap<&str, &str> = [("b", "3"), ("a", "2"), ("", "e"), ("aa", "")].into_iter().collect();
        assert_eq!(data.fields().collect::<Vec<_>>(), map.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>());
        assert_eq!(data.len(), 4);
        assert_eq!(data.get("b"), Some("3"));
        assert_eq!(data.get(""), Some("e"));
        assert_eq!(data.get("aa"), Some(""));
        assert_eq!(data.get("c"), None);
        assert!(!data.contains_key("ab"));
    }

    #[test]
    fn json_is_that_of_a_btreemap_and_reads_back() {
        let pairs = [("param2", "x\"y"), ("param1", "é"), ("0", "")];
        let data: EventData = pairs.into_iter().collect();
        let map: BTreeMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let json = serde_json::to_string(&data).unwrap();
        assert_eq!(json, serde_json::to_string(&map).unwrap());
        assert_eq!(serde_json::from_str::<EventData>(&json).unwrap(), data);
        assert_eq!(format!("{data:?}"), format!("{map:?}"));
    }

    #[test]
    fn builder_is_reused_without_leftovers() {
        let mut builder = EventDataBuilder::default();
        builder.push("k", "v");
        assert_eq!(builder.finish().get("k"), Some("v"));
        assert!(builder.is_empty());
        assert!(builder.finish().is_empty());
    }
}
