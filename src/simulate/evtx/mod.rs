//! Binary `.evtx` writer for simulated events (writer spec: `reference/evtx-writer-spec.md`).
//!
//! Layout (spec §2): a 4096-byte file header, then 64 KiB chunks, each a 512-byte header followed
//! by records back to back. Records are self-contained ("Profile S", spec §7.1), so no state crosses
//! records or chunks; a record that does not fit in the current chunk is encoded again for the next
//! one, because all its offsets are chunk-relative (spec P14).

mod binxml;
mod crc32;

use crate::simulate::events::{event_tree, filetime, Content, Element, SimEvent};

pub use self::crc32::{crc32, Crc32};

/// Size of the file header block, where chunk 0 starts (spec §3).
const FILE_HEADER_BLOCK: usize = 4096;
/// Size of a chunk (spec §4).
const CHUNK_SIZE: usize = 65536;
/// Size of a chunk header, where its first record starts (spec §4.1).
const CHUNK_HEADER_SIZE: usize = 512;

/// Writes a complete `.evtx` file holding `events`, in the given order.
///
/// The output is deterministic, passes the evtx crate with checksum validation and python-evtx's
/// `verify()` (spec §12), and both read every record back with the same XML as
/// [`to_wevtutil_xml`](crate::simulate::events::to_wevtutil_xml) prints. Record ids are written as
/// given; readers expect them to rise by one from record to record, as Windows writes them.
///
/// A record too large for a 64 KiB chunk (Windows has the same limit) is shrunk until it fits:
/// first its text values are cut to 16384, 4096, … UTF-16 units, and as a last resort everything
/// after `<System>` is left out. An empty `events` gives a header-only file with no chunks.
pub fn write_evtx(events: &[SimEvent]) -> Vec<u8> {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    let mut chunk = ChunkBuilder::new();
    for event in events {
        let tree = event_tree(event);
        let written = filetime(event.time);
        if chunk.push(&tree, event.record_id, written) {
            continue;
        }
        if !chunk.is_empty() {
            chunks.push(std::mem::replace(&mut chunk, ChunkBuilder::new()).finish());
        }
        if !chunk.push(&tree, event.record_id, written) {
            // Cannot fail: a System-only record with short text always fits in an empty chunk.
            let _ = shrink_until_it_fits(&mut chunk, &tree, event.record_id, written);
        }
    }
    if !chunk.is_empty() {
        chunks.push(chunk.finish());
    }
    let next_record_id = events.iter().map(|e| e.record_id).max().map_or(1, |id| id.saturating_add(1));
    let mut file = Vec::with_capacity(FILE_HEADER_BLOCK + chunks.len() * CHUNK_SIZE);
    file.extend_from_slice(&file_header(chunks.len(), next_record_id));
    for chunk in &chunks {
        file.extend_from_slice(chunk);
    }
    file
}

/// Pushes a smaller version of a record that is too big for an empty chunk (see [`write_evtx`]).
fn shrink_until_it_fits(chunk: &mut ChunkBuilder, tree: &Element, record_id: u64, written: u64) -> bool {
    for limit in [16_384, 4096, 1024, 256, 64, 16, 0] {
        let mut smaller = tree.clone();
        smaller.truncate_text(limit);
        if chunk.push(&smaller, record_id, written) {
            return true;
        }
    }
    // Too many elements even with empty text: keep only `<System>`.
    let mut system_only = tree.clone();
    if let Content::Children(children) = &mut system_only.content {
        children.truncate(1);
    }
    system_only.truncate_text(256);
    chunk.push(&system_only, record_id, written)
}

/// The 4096-byte file header block (spec §3): version 3.1, the exact chunk count, CRC32 of
/// bytes `[0, 120)` at 124, flags 0 (clean).
fn file_header(chunk_count: usize, next_record_id: u64) -> Vec<u8> {
    let mut h = vec![0u8; FILE_HEADER_BLOCK];
    h[..8].copy_from_slice(b"ElfFile\0");
    // first chunk 0 (offset 8); last chunk (offset 16).
    let last_chunk = chunk_count.saturating_sub(1) as u64;
    h[16..24].copy_from_slice(&last_chunk.to_le_bytes());
    h[24..32].copy_from_slice(&next_record_id.to_le_bytes());
    h[32..36].copy_from_slice(&128u32.to_le_bytes());
    h[36..38].copy_from_slice(&1u16.to_le_bytes());
    h[38..40].copy_from_slice(&3u16.to_le_bytes());
    h[40..42].copy_from_slice(&(FILE_HEADER_BLOCK as u16).to_le_bytes());
    // python-evtx reads only this many chunks (spec P3); more than 65535 chunks cannot be counted.
    let count = u16::try_from(chunk_count).unwrap_or(u16::MAX);
    h[42..44].copy_from_slice(&count.to_le_bytes());
    let checksum = crc32(&h[..120]);
    h[124..128].copy_from_slice(&checksum.to_le_bytes());
    h
}

/// A chunk being filled with records.
struct ChunkBuilder {
    data: Vec<u8>,
    /// Chunk offset where the next record goes (the free space offset once finished).
    free: usize,
    first_id: u64,
    last_id: u64,
    last_offset: usize,
    records: usize,
}

impl ChunkBuilder {
    fn new() -> Self {
        ChunkBuilder {
            data: vec![0; CHUNK_SIZE],
            free: CHUNK_HEADER_SIZE,
            first_id: 0,
            last_id: 0,
            last_offset: 0,
            records: 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Appends the record if it fits in this chunk.
    fn push(&mut self, tree: &Element, record_id: u64, written: u64) -> bool {
        let Some(record) = binxml::encode_record(tree, record_id, written, self.free) else {
            return false;
        };
        if self.free + record.len() > CHUNK_SIZE {
            return false;
        }
        self.data[self.free..self.free + record.len()].copy_from_slice(&record);
        if self.records == 0 {
            self.first_id = record_id;
        }
        self.last_id = record_id;
        self.last_offset = self.free;
        self.free += record.len();
        self.records += 1;
        true
    }

    /// Fills the chunk header (spec §4.1): the records CRC first, the header CRC last, since it
    /// covers the records CRC.
    fn finish(mut self) -> Vec<u8> {
        let d = &mut self.data;
        d[..8].copy_from_slice(b"ElfChnk\0");
        d[8..16].copy_from_slice(&self.first_id.to_le_bytes());
        d[16..24].copy_from_slice(&self.last_id.to_le_bytes());
        d[24..32].copy_from_slice(&self.first_id.to_le_bytes());
        d[32..40].copy_from_slice(&self.last_id.to_le_bytes());
        d[40..44].copy_from_slice(&128u32.to_le_bytes());
        // Offsets are below 65536, so they fit in u32.
        d[44..48].copy_from_slice(&(self.last_offset as u32).to_le_bytes());
        d[48..52].copy_from_slice(&(self.free as u32).to_le_bytes());
        let records_crc = crc32(&d[CHUNK_HEADER_SIZE..self.free]);
        d[52..56].copy_from_slice(&records_crc.to_le_bytes());
        let mut header_crc = Crc32::new();
        header_crc.update(&d[..120]);
        header_crc.update(&d[128..CHUNK_HEADER_SIZE]);
        d[124..128].copy_from_slice(&header_crc.finish().to_le_bytes());
        self.data
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::simulate::events::Payload;

    fn u32_at(b: &[u8], off: usize) -> u32 {
        u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
    }

    fn u64_at(b: &[u8], off: usize) -> u64 {
        u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
    }

    fn events(n: u64) -> Vec<SimEvent> {
        let t = Utc.with_ymd_and_hms(2024, 3, 1, 8, 0, 0).unwrap();
        (1..=n).map(|i| SimEvent::uptime(t + chrono::Duration::seconds(i as i64), i, "HOST", i * 60)).collect()
    }

    #[test]
    fn file_header_fields_and_checksum() {
        let file = write_evtx(&events(3));
        assert_eq!(file.len(), FILE_HEADER_BLOCK + CHUNK_SIZE);
        assert_eq!(&file[..8], b"ElfFile\0");
        assert_eq!(u64_at(&file, 16), 0);
        assert_eq!(u64_at(&file, 24), 4);
        assert_eq!(&file[36..44], &[1, 0, 3, 0, 0, 0x10, 1, 0]);
        assert_eq!(u32_at(&file, 124), crc32(&file[..120]));
    }

    #[test]
    fn chunk_header_fields_and_checksums() {
        let file = write_evtx(&events(5));
        let chunk = &file[FILE_HEADER_BLOCK..];
        assert_eq!(&chunk[..8], b"ElfChnk\0");
        assert_eq!((u64_at(chunk, 8), u64_at(chunk, 16), u64_at(chunk, 24), u64_at(chunk, 32)), (1, 5, 1, 5));
        let free = u32_at(chunk, 48) as usize;
        let last = u32_at(chunk, 44) as usize;
        assert_eq!(u64_at(chunk, last + 8), 5);
        assert_eq!(last + u32_at(chunk, last + 4) as usize, free);
        assert!(chunk[free..].iter().all(|&b| b == 0));
        assert_eq!(u32_at(chunk, 52), crc32(&chunk[512..free]));
        let mut crc = Crc32::new();
        crc.update(&chunk[..120]);
        crc.update(&chunk[128..512]);
        assert_eq!(u32_at(chunk, 124), crc.finish());
    }

    #[test]
    fn many_records_span_chunks_with_contiguous_ids() {
        let file = write_evtx(&events(400));
        let n = (file.len() - FILE_HEADER_BLOCK) / CHUNK_SIZE;
        assert!(n > 1, "400 records need several chunks");
        assert_eq!(usize::from(u16::from_le_bytes([file[42], file[43]])), n);
        assert_eq!(u64_at(&file, 16), n as u64 - 1);
        let mut expected_first = 1;
        for i in 0..n {
            let chunk = &file[FILE_HEADER_BLOCK + i * CHUNK_SIZE..][..CHUNK_SIZE];
            assert_eq!(u64_at(chunk, 8), expected_first);
            expected_first = u64_at(chunk, 16) + 1;
        }
        assert_eq!(expected_first, 401);
    }

    #[test]
    fn output_is_deterministic() {
        assert_eq!(write_evtx(&events(50)), write_evtx(&events(50)));
    }

    #[test]
    fn empty_input_is_a_header_only_file() {
        let file = write_evtx(&[]);
        assert_eq!(file.len(), FILE_HEADER_BLOCK);
        assert_eq!(u64_at(&file, 24), 1);
        assert_eq!(&file[42..44], &[0, 0]);
    }

    #[test]
    fn oversized_event_is_shrunk_not_dropped() {
        let mut e = events(1).remove(0);
        e.payload = Payload::EventData(vec![(None, "z".repeat(100_000))]);
        let file = write_evtx(&[e.clone()]);
        assert_eq!(file.len(), FILE_HEADER_BLOCK + CHUNK_SIZE);
        e.payload = Payload::EventData(vec![(None, String::new()); 20_000]);
        let file = write_evtx(&[e]);
        assert_eq!(file.len(), FILE_HEADER_BLOCK + CHUNK_SIZE);
        assert_eq!(u64_at(&file[FILE_HEADER_BLOCK..], 8), 1);
    }
}
