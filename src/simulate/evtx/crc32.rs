//! CRC-32 (IEEE 802.3 / zlib) for the EVTX header and record checksums (writer spec §1).
//!
//! The ordinary reflected CRC-32: polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF.
//! Written here (a 256-entry table built at compile time) because the writer needs only this one
//! function and the evtx crate may not be imported outside `parse/events/evtx.rs`.

/// The byte-at-a-time lookup table, built at compile time.
const TABLE: [u32; 256] = build_table();

const fn build_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// A running CRC-32, for checksums over several byte ranges (the chunk header CRC covers
/// `[0, 120)` and `[128, 512)`, spec §4.1).
#[derive(Debug, Clone, Copy)]
pub struct Crc32(u32);

impl Crc32 {
    /// A fresh checksum.
    pub fn new() -> Self {
        Crc32(0xFFFF_FFFF)
    }

    /// Feeds more bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        let mut crc = self.0;
        for &b in bytes {
            crc = TABLE[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
        }
        self.0 = crc;
    }

    /// The checksum of everything fed so far.
    pub fn finish(self) -> u32 {
        self.0 ^ 0xFFFF_FFFF
    }
}

impl Default for Crc32 {
    fn default() -> Self {
        Self::new()
    }
}

/// CRC-32 of one byte slice.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = Crc32::new();
    crc.update(bytes);
    crc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value_of_the_standard_test_string() {
        // The catalogued check value of CRC-32/ISO-HDLC (spec §1).
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn empty_input_is_zero() {
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn split_updates_equal_one_pass() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let mut crc = Crc32::new();
        crc.update(&data[..120]);
        crc.update(&data[120..]);
        assert_eq!(crc.finish(), crc32(&data));
    }

    #[test]
    fn spec_file_header_example() {
        // Writer spec §8: a file header with 1 chunk, next record id 3, version 3.1, block 4096
        // has CRC32(0..120) = 0x0FF995D2.
        let mut header = [0u8; 120];
        header[..8].copy_from_slice(b"ElfFile\0");
        header[24] = 3;
        header[32] = 0x80;
        header[36] = 1;
        header[38] = 3;
        header[40..42].copy_from_slice(&4096u16.to_le_bytes());
        header[42] = 1;
        assert_eq!(crc32(&header), 0x0FF9_95D2);
    }
}
