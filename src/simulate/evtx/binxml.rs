//! One event record in `BinXML`, writer spec "Profile S": each record carries its own template
//! definition inline, every name is defined where it is used, and the chunk's string and template
//! tables stay empty (spec §7.1). Numbers are typed substitutions, everything else a String
//! substitution, the namespaces literal Value tokens (spec §6.10, P12).

use crate::simulate::events::{Content, Element, Value};

/// Record signature `2A 2A 00 00` (spec §5).
const RECORD_MAGIC: [u8; 4] = [0x2A, 0x2A, 0x00, 0x00];
/// `BinXML` tokens (spec §6.2).
const TOKEN_EOF: u8 = 0x00;
const TOKEN_OPEN_START_ELEMENT: u8 = 0x01;
const TOKEN_OPEN_START_ELEMENT_ATTRS: u8 = 0x41;
const TOKEN_CLOSE_START_ELEMENT: u8 = 0x02;
const TOKEN_CLOSE_EMPTY_ELEMENT: u8 = 0x03;
const TOKEN_END_ELEMENT: u8 = 0x04;
const TOKEN_VALUE: u8 = 0x05;
const TOKEN_ATTRIBUTE_LAST: u8 = 0x06;
const TOKEN_ATTRIBUTE_MORE: u8 = 0x46;
const TOKEN_TEMPLATE_INSTANCE: u8 = 0x0C;
const TOKEN_NORMAL_SUBSTITUTION: u8 = 0x0D;
/// `FragmentHeader`: token 0x0F, major 1, minor 1, flags 0.
const FRAGMENT_HEADER: [u8; 4] = [0x0F, 0x01, 0x01, 0x00];
/// Value types (spec §6.10).
const TYPE_STRING: u8 = 0x01;
const TYPE_UINT8: u8 = 0x04;
const TYPE_UINT16: u8 = 0x06;
const TYPE_UINT32: u8 = 0x08;
const TYPE_UINT64: u8 = 0x0A;

/// Largest record that fits in a chunk after its 512-byte header (spec §5).
pub(super) const MAX_RECORD_SIZE: usize = 65536 - 512;

/// `NameHash` of MS-EVEN6: h = h * 65599 + unit over the UTF-16 code units, low 16 bits (spec §6.4).
pub(super) fn name_hash(name: &str) -> u16 {
    let h = name.encode_utf16().fold(0u32, |h, u| h.wrapping_mul(65_599).wrapping_add(u32::from(u)));
    (h & 0xFFFF) as u16
}

/// A 16-byte template GUID from the template body: two FNV-1a 64 hashes with different seeds.
/// Any 16 bytes do (spec §6.7); a hash keeps the output deterministic.
fn template_guid(body: &[u8]) -> [u8; 16] {
    let fnv = |seed: u64| body.iter().fold(seed, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    let mut guid = [0u8; 16];
    guid[..8].copy_from_slice(&fnv(0xcbf2_9ce4_8422_2325).to_le_bytes());
    guid[8..].copy_from_slice(&fnv(0x8422_2325_cbf2_9ce4).to_le_bytes());
    guid
}

/// Encodes one record whose first byte sits at chunk offset `base`. `None` when it does not fit in
/// a chunk (a string over 32767 UTF-16 units, or a record over [`MAX_RECORD_SIZE`]).
pub(super) fn encode_record(tree: &Element, record_id: u64, written: u64, base: usize) -> Option<Vec<u8>> {
    let mut w = RecordWriter { buf: Vec::with_capacity(2048), base, values: Vec::new() };
    w.buf.extend_from_slice(&RECORD_MAGIC);
    w.put_u32(0); // record size, patched below
    w.put_u64(record_id);
    w.put_u64(written);
    w.buf.extend_from_slice(&FRAGMENT_HEADER);

    // TemplateInstance (spec §6.6) whose definition follows directly (spec §6.4 case 1).
    w.buf.push(TOKEN_TEMPLATE_INSTANCE);
    w.buf.push(0x01);
    let template_id_pos = w.buf.len();
    w.put_u32(0); // template id = first 4 GUID bytes, patched below
    let definition_offset = w.chunk_offset(4)?;
    w.put_u32(definition_offset);

    // TemplateDefinition (spec §6.7).
    w.put_u32(0); // next in the template-table bucket: none
    let guid_pos = w.buf.len();
    w.buf.extend_from_slice(&[0; 16]);
    let data_size_pos = w.buf.len();
    w.put_u32(0);
    let body_start = w.buf.len();
    w.buf.extend_from_slice(&FRAGMENT_HEADER);
    w.element(tree)?;
    w.buf.push(TOKEN_EOF);
    let body_len = u32::try_from(w.buf.len() - body_start).ok()?;
    w.patch_u32(data_size_pos, body_len);
    let guid = template_guid(&w.buf[body_start..]);
    w.buf[guid_pos..guid_pos + 16].copy_from_slice(&guid);
    w.buf[template_id_pos..template_id_pos + 4].copy_from_slice(&guid[..4]);

    // Substitution values: descriptors, then the data (spec §6.6).
    let values = std::mem::take(&mut w.values);
    w.put_u32(u32::try_from(values.len()).ok()?);
    for (value_type, bytes) in &values {
        w.put_u16(u16::try_from(bytes.len()).ok()?);
        w.buf.push(*value_type);
        w.buf.push(0);
    }
    for (_, bytes) in &values {
        w.buf.extend_from_slice(bytes);
    }
    w.buf.push(TOKEN_EOF);

    // Zero padding to a multiple of 8 as Windows writes, then the size copy (spec §5).
    while (w.buf.len() + 4) % 8 != 0 {
        w.buf.push(0);
    }
    let size = w.buf.len() + 4;
    if size > MAX_RECORD_SIZE {
        return None;
    }
    let size = u32::try_from(size).ok()?;
    w.put_u32(size);
    w.patch_u32(4, size);
    Some(w.buf)
}

struct RecordWriter {
    buf: Vec<u8>,
    /// Chunk offset of the record's first byte: names and templates are referenced by chunk offset.
    base: usize,
    /// Substitution values in index order: (value type, bytes).
    values: Vec<(u8, Vec<u8>)>,
}

impl RecordWriter {
    fn put_u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    fn put_u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    fn put_u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    fn patch_u32(&mut self, pos: usize, v: u32) {
        self.buf[pos..pos + 4].copy_from_slice(&v.to_le_bytes());
    }

    /// The chunk offset `ahead` bytes past the current end of the record.
    fn chunk_offset(&self, ahead: usize) -> Option<u32> {
        u32::try_from(self.base + self.buf.len() + ahead).ok()
    }

    /// A name reference immediately followed by its NAME structure (spec §6.4 case 1).
    fn name(&mut self, name: &str) -> Option<()> {
        let offset = self.chunk_offset(4)?;
        self.put_u32(offset);
        self.put_u32(0); // next in the string-table bucket: none (the table stays empty)
        self.put_u16(name_hash(name));
        let units: Vec<u16> = name.encode_utf16().collect();
        self.put_u16(u16::try_from(units.len()).ok()?);
        for u in units {
            self.put_u16(u);
        }
        self.put_u16(0);
        Some(())
    }

    /// An element with its data size and attribute list size computed exactly (spec §6.3, P11).
    fn element(&mut self, element: &Element) -> Option<()> {
        let has_attrs = !element.attrs.is_empty();
        self.buf.push(if has_attrs { TOKEN_OPEN_START_ELEMENT_ATTRS } else { TOKEN_OPEN_START_ELEMENT });
        self.put_u16(0xFFFF); // dependency id: none
        let size_pos = self.buf.len();
        self.put_u32(0);
        self.name(element.name)?;
        if has_attrs {
            let attr_size_pos = self.buf.len();
            self.put_u32(0);
            for (i, (name, value)) in element.attrs.iter().enumerate() {
                let last = i + 1 == element.attrs.len();
                self.buf.push(if last { TOKEN_ATTRIBUTE_LAST } else { TOKEN_ATTRIBUTE_MORE });
                self.name(name)?;
                self.value(value)?;
            }
            let attr_size = u32::try_from(self.buf.len() - attr_size_pos - 4).ok()?;
            self.patch_u32(attr_size_pos, attr_size);
        }
        match &element.content {
            // An empty value has no token at all: a zero-length value is rendered differently by
            // the two readers, an empty element the same (spec §10 rule 7).
            Content::Empty => self.buf.push(TOKEN_CLOSE_EMPTY_ELEMENT),
            Content::Value(value) if value.is_empty() => self.buf.push(TOKEN_CLOSE_EMPTY_ELEMENT),
            Content::Children(children) if children.is_empty() => self.buf.push(TOKEN_CLOSE_EMPTY_ELEMENT),
            Content::Value(value) => {
                self.buf.push(TOKEN_CLOSE_START_ELEMENT);
                self.value(value)?;
                self.buf.push(TOKEN_END_ELEMENT);
            }
            Content::Children(children) => {
                self.buf.push(TOKEN_CLOSE_START_ELEMENT);
                for child in children {
                    self.element(child)?;
                }
                self.buf.push(TOKEN_END_ELEMENT);
            }
        }
        let size = u32::try_from(self.buf.len() - size_pos - 4).ok()?;
        self.patch_u32(size_pos, size);
        Some(())
    }

    /// Exactly one value token: a literal string Value token for constants, a substitution for
    /// everything else (spec §6.5, §6.8, §6.9).
    fn value(&mut self, value: &Value) -> Option<()> {
        let utf16 = |s: &str| s.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>();
        let (value_type, bytes) = match value {
            Value::Literal(s) => {
                let units = u16::try_from(s.encode_utf16().count()).ok()?;
                self.buf.push(TOKEN_VALUE);
                self.buf.push(TYPE_STRING);
                self.put_u16(units);
                self.buf.extend_from_slice(&utf16(s));
                return Some(());
            }
            Value::Text(s) => (TYPE_STRING, utf16(s)),
            Value::U8(v) => (TYPE_UINT8, vec![*v]),
            Value::U16(v) => (TYPE_UINT16, v.to_le_bytes().to_vec()),
            Value::U32(v) => (TYPE_UINT32, v.to_le_bytes().to_vec()),
            Value::U64(v) => (TYPE_UINT64, v.to_le_bytes().to_vec()),
        };
        u16::try_from(bytes.len()).ok()?;
        let index = u16::try_from(self.values.len()).ok()?;
        self.buf.push(TOKEN_NORMAL_SUBSTITUTION);
        self.put_u16(index);
        self.buf.push(value_type);
        self.values.push((value_type, bytes));
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(name: &'static str, value: Value) -> Element {
        Element { name, attrs: Vec::new(), content: Content::Value(value) }
    }

    #[test]
    fn name_hash_matches_spec_vectors() {
        // Writer spec §6.4 table (checked against a real System.evtx).
        for (name, hash) in [
            ("Event", 0x0cba),
            ("xmlns", 0x0fbc),
            ("System", 0x546f),
            ("Provider", 0x7bf1),
            ("Name", 0x954b),
            ("EventID", 0x61f5),
            ("Qualifiers", 0xda29),
            ("TimeCreated", 0x8e3b),
            ("SystemTime", 0x7b3c),
            ("EventRecordID", 0x0346),
            ("UserData", 0x4435),
        ] {
            assert_eq!(name_hash(name), hash, "{name}");
        }
    }

    #[test]
    fn record_layout_matches_spec_example() {
        // Writer spec §8: the 6005 example record, first in its chunk (offset 0x200), is 568 bytes,
        // defines its template at 0x226 and its Event name at 0x24d.
        let tree = Element {
            name: "Event",
            attrs: vec![("xmlns", Value::Literal("http://schemas.microsoft.com/win/2004/08/events/event"))],
            content: Content::Children(vec![Element {
                name: "System",
                attrs: Vec::new(),
                content: Content::Children(vec![
                    Element {
                        name: "Provider",
                        attrs: vec![("Name", Value::Literal("EventLog"))],
                        content: Content::Empty,
                    },
                    leaf("EventID", Value::U16(6005)),
                    Element {
                        name: "TimeCreated",
                        attrs: vec![("SystemTime", Value::Text("2024-03-01T08:00:00.0000000Z".into()))],
                        content: Content::Empty,
                    },
                ]),
            }]),
        };
        let rec = encode_record(&tree, 1, 133_537_536_000_000_000, 0x200).unwrap();
        assert_eq!(rec.len(), 568);
        assert_eq!(&rec[..4], &RECORD_MAGIC);
        assert_eq!(u32::from_le_bytes(rec[4..8].try_into().unwrap()), 568);
        assert_eq!(u32::from_le_bytes(rec[rec.len() - 4..].try_into().unwrap()), 568);
        // Template definition offset (record offset 0x22) and the Event name offset (0x49).
        assert_eq!(u32::from_le_bytes(rec[0x22..0x26].try_into().unwrap()), 0x226);
        assert_eq!(u32::from_le_bytes(rec[0x49..0x4d].try_into().unwrap()), 0x24d);
        // Template data size 425, element data size 413, attribute list size 135.
        assert_eq!(u32::from_le_bytes(rec[0x3a..0x3e].try_into().unwrap()), 425);
        assert_eq!(u32::from_le_bytes(rec[0x45..0x49].try_into().unwrap()), 413);
        assert_eq!(u32::from_le_bytes(rec[0x61..0x65].try_into().unwrap()), 135);
        // Two substitutions: UInt16 (size 2) and String (56 bytes), then 6005.
        assert_eq!(&rec[0x1e7..0x1f5], &[2, 0, 0, 0, 2, 0, 6, 0, 56, 0, 1, 0, 0x75, 0x17]);
    }

    #[test]
    fn empty_value_is_an_empty_element() {
        let rec = encode_record(&leaf("Data", Value::Text(String::new())), 1, 0, 0x200).unwrap();
        // No substitution values at all.
        let body = &rec[24..];
        assert!(body.windows(2).any(|w| w == [0x03, 0x00]));
        assert!(!body.contains(&TOKEN_NORMAL_SUBSTITUTION));
    }

    #[test]
    fn oversized_record_is_refused() {
        let tree = leaf("Data", Value::Text("x".repeat(40_000)));
        assert!(encode_record(&tree, 1, 0, 0x200).is_none());
        let tree = leaf("Data", Value::Text("x".repeat(30_000)));
        assert!(encode_record(&tree, 1, 0, 0x200).unwrap().len() <= MAX_RECORD_SIZE);
    }

    #[test]
    fn records_are_padded_to_eight() {
        for n in 0..9 {
            let rec = encode_record(&leaf("Data", Value::Text("y".repeat(n))), 7, 0, 0x200).unwrap();
            assert_eq!(rec.len() % 8, 0);
        }
    }
}
