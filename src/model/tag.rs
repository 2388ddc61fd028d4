//! A pool tag kept inline: the kernel's tag is four bytes, so a tag never needs a heap allocation of its own.
//!
//! Pool rows are the bulk of what an analysis holds (a week of 5-minute snapshots of 600 tags is over a million
//! rows per host). A `String` tag cost each row 24 bytes plus a heap block of 32 and an allocation while parsing;
//! [`PoolTag`] is 16 bytes, `Copy`, and compares, hashes, orders and serialises exactly like the text it holds,
//! so maps keyed by it behave as maps keyed by the string did.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes of UTF-8 a tag keeps: four characters of up to three bytes each (a tag decoded from UTF-16 or a code
/// page), with room to spare.
const CAPACITY: usize = 15;

/// A pool tag (`Toke`, `Key `, `Dh 1`), spaces kept, at most 15 bytes of UTF-8.
///
/// A longer text is not a pool tag; it is kept as its first 15 bytes (cut at a character boundary) so that a
/// garbled row still has a name, and the readers that could meet one say so.
#[derive(Clone, Copy, Default)]
pub struct PoolTag {
    /// Bytes in use at the start of `bytes`.
    len: u8,
    /// The tag's UTF-8, zero-padded.
    bytes: [u8; CAPACITY],
}

impl PoolTag {
    /// The tag for `text`, cut to 15 bytes at a character boundary when longer.
    pub fn new(text: &str) -> PoolTag {
        let mut end = text.len().min(CAPACITY);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0u8; CAPACITY];
        bytes[..end].copy_from_slice(&text.as_bytes()[..end]);
        PoolTag { len: end as u8, bytes }
    }

    /// Whether `text` fits a tag whole (15 bytes of UTF-8 or fewer).
    pub fn fits(text: &str) -> bool {
        text.len() <= CAPACITY
    }

    /// The tag's text.
    pub fn as_str(&self) -> &str {
        // Built only from whole characters of a `&str` by `new`, so always UTF-8; the fallback is unreachable
        // but keeps this free of `unsafe`.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or_default()
    }
}

impl Deref for PoolTag {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for PoolTag {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for PoolTag {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for PoolTag {
    fn eq(&self, other: &PoolTag) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for PoolTag {}

impl PartialOrd for PoolTag {
    fn partial_cmp(&self, other: &PoolTag) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PoolTag {
    /// The order of the text (as `String` orders), not of the length.
    fn cmp(&self, other: &PoolTag) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for PoolTag {
    /// Hashes as the text does, as [`Borrow<str>`] requires.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq<str> for PoolTag {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for PoolTag {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for PoolTag {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<PoolTag> for str {
    fn eq(&self, other: &PoolTag) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<PoolTag> for &str {
    fn eq(&self, other: &PoolTag) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<PoolTag> for String {
    fn eq(&self, other: &PoolTag) -> bool {
        self == other.as_str()
    }
}

impl From<&str> for PoolTag {
    fn from(text: &str) -> PoolTag {
        PoolTag::new(text)
    }
}

impl From<&String> for PoolTag {
    fn from(text: &String) -> PoolTag {
        PoolTag::new(text)
    }
}

impl From<String> for PoolTag {
    fn from(text: String) -> PoolTag {
        PoolTag::new(&text)
    }
}

impl From<PoolTag> for String {
    fn from(tag: PoolTag) -> String {
        tag.as_str().to_owned()
    }
}

impl fmt::Display for PoolTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` so that width and alignment (`{:<4}`) work as they do for a string.
        f.pad(self.as_str())
    }
}

impl fmt::Debug for PoolTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for PoolTag {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for PoolTag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PoolTag, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(PoolTag::new(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashMap};

    #[test]
    fn a_tag_is_sixteen_bytes_and_reads_back_as_written() {
        assert_eq!(std::mem::size_of::<PoolTag>(), 16);
        for text in ["Toke", "Key ", "Dh 1", "", "Ää€x", "ab"] {
            let tag = PoolTag::new(text);
            assert_eq!(tag.as_str(), text);
            assert_eq!(tag.to_string(), text);
            assert_eq!(format!("{tag:?}"), format!("{text:?}"));
            assert_eq!(serde_json::to_string(&tag).unwrap(), serde_json::to_string(text).unwrap());
            assert_eq!(serde_json::from_str::<PoolTag>(&serde_json::to_string(text).unwrap()).unwrap(), text);
        }
    }

    #[test]
    fn a_long_text_is_cut_at_a_character_boundary() {
        let tag = PoolTag::new("abcdefghijklmn€€");
        assert_eq!(tag.as_str(), "abcdefghijklmn");
        assert!(!PoolTag::fits("abcdefghijklmn€€"));
        assert!(PoolTag::fits("Toke"));
    }

    #[test]
    fn tags_order_hash_and_pad_like_their_text() {
        let tags: BTreeSet<PoolTag> = ["b", "ab", "Toke", "a"].into_iter().map(PoolTag::new).collect();
        let order: Vec<&str> = tags.iter().map(PoolTag::as_str).collect();
        assert_eq!(order, ["Toke", "a", "ab", "b"]);
        let mut map: HashMap<PoolTag, u32> = HashMap::new();
        map.insert(PoolTag::new("Toke"), 1);
        assert_eq!(map.get("Toke"), Some(&1));
        assert_eq!(format!("[{:<6}]", PoolTag::new("Irp")), "[Irp   ]");
        assert!(PoolTag::new("Toke") == "Toke" && "Toke" == PoolTag::new("Toke"));
    }
}
