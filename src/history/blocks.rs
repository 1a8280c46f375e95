//! What waits for the database: finished exchanges packed as they arrive.
//! Each masked exchange's JSON is written straight into the block being
//! filled, and a full block is compressed at once, so until its batch is
//! written an exchange costs its summary row and its share of a compressed
//! block. (Before, each document waited uncompressed in a buffer of its
//! own, grown to up to twice its size: a batch of 256 KiB exchanges held
//! megabytes the allocator then kept.)

use std::collections::VecDeque;

use super::rows::Row;
use crate::capture::Record;

/// Documents are compressed at zstd's fastest level: JSON of one
/// conversation still shrinks several times over, and the writer's CPU is
/// CPU the relay does not get.
const ZSTD_LEVEL: i32 = 1;
/// A block is sealed once it holds this much JSON, and an exchange this
/// big starts a block of its own: reading one exchange back decompresses
/// its whole block.
pub(super) const BLOCK_MAX: usize = 1024 * 1024;

/// Documents packed back to back (compressed once sealed), and the rows
/// pointing into them.
pub(super) struct Block {
    pub(super) data: Vec<u8>,
    pub(super) rows: Vec<Row>,
}

/// The blocks not yet written, the last one still open.
pub(super) struct Pending {
    sealed: VecDeque<Block>,
    open: Block,
    /// One compression context and one output buffer for every block
    /// (making a context per block cost more than compressing).
    compressor: Option<zstd::bulk::Compressor<'static>>,
    scratch: Vec<u8>,
    rows: usize,
    /// Bytes held: sealed blocks as stored, the open one as JSON.
    held: usize,
    /// JSON bytes queued since the last write (the size of the batch).
    json: usize,
}

impl Pending {
    pub(super) fn new() -> Pending {
        Pending {
            sealed: VecDeque::new(),
            open: Block {
                data: Vec::new(),
                rows: Vec::new(),
            },
            compressor: zstd::bulk::Compressor::new(ZSTD_LEVEL).ok(),
            scratch: Vec::new(),
            rows: 0,
            held: 0,
            json: 0,
        }
    }

    /// Exchanges waiting.
    pub(super) fn rows(&self) -> usize {
        self.rows
    }

    /// Bytes waiting, compressed where sealed.
    #[cfg(test)]
    pub(super) fn held_bytes(&self) -> usize {
        self.held
    }

    /// JSON bytes queued since the last [`Pending::clear`].
    pub(super) fn json_bytes(&self) -> usize {
        self.json
    }

    /// Mask `record`, pack its document and keep its row.
    pub(super) fn push(&mut self, record: &Record) {
        let masked = crate::redact::masked(&record.exchange);
        // A big exchange starts a block of its own (its size as captured is
        // known before its JSON is; the JSON is a little bigger).
        if !self.open.rows.is_empty()
            && self.open.data.len() + record.exchange.captured_bytes() >= BLOCK_MAX
        {
            self.seal();
        }
        let offset = self.open.data.len();
        crate::export::native_write::write(&masked, &mut self.open.data);
        let len = self.open.data.len() - offset;
        self.open
            .rows
            .push(Row::of(record, masked.url(), offset as u64, len as u64));
        self.rows += 1;
        self.held += len;
        self.json += len;
        if self.open.data.len() >= BLOCK_MAX {
            self.seal();
        }
    }

    /// Compress the open block and start another.
    fn seal(&mut self) {
        if self.open.rows.is_empty() {
            return;
        }
        let raw = std::mem::take(&mut self.open.data);
        let raw_len = raw.len();
        self.scratch.clear();
        self.scratch
            .reserve(zstd::zstd_safe::compress_bound(raw_len));
        let compressed = self
            .compressor
            .as_mut()
            .is_some_and(|c| c.compress_to_buffer(&raw, &mut self.scratch).is_ok());
        let data = if compressed && self.scratch.len() < raw_len {
            // The open block's buffer is kept for the next one, and the
            // stored copy is exact (the scratch buffer's capacity is the
            // compression bound).
            self.open.data = raw;
            self.open.data.clear();
            self.scratch.clone()
        } else {
            raw
        };
        self.held = self.held - raw_len + data.len();
        let rows = std::mem::take(&mut self.open.rows);
        self.sealed.push_back(Block { data, rows });
    }

    /// Every block, the open one sealed, oldest first.
    pub(super) fn blocks(&mut self) -> impl Iterator<Item = &Block> {
        self.seal();
        self.sealed.iter()
    }

    /// Forget what was written.
    pub(super) fn clear(&mut self) {
        self.sealed.clear();
        self.open.rows.clear();
        self.open.data.clear();
        self.rows = 0;
        self.held = 0;
        self.json = 0;
    }

    /// Drop the oldest block while more than `max_rows` exchanges or
    /// `max_bytes` wait (the newest block is always kept); how many
    /// exchanges went.
    pub(super) fn shed(&mut self, max_rows: usize, max_bytes: usize) -> usize {
        let mut dropped = 0;
        while (self.rows > max_rows || self.held > max_bytes)
            && let Some(oldest) = self.sealed.pop_front()
        {
            self.rows -= oldest.rows.len();
            self.held -= oldest.data.len();
            dropped += oldest.rows.len();
        }
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::Exchange;

    fn record(id: u64, body: Vec<u8>) -> Record {
        let mut exchange = Exchange::builder().body(body).build();
        exchange.id = id;
        Record {
            exchange,
            summary: None,
            thread: None,
        }
    }

    fn unpack(block: &Block) -> Vec<u8> {
        if block.data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            zstd::decode_all(block.data.as_slice()).unwrap()
        } else {
            block.data.clone()
        }
    }

    #[test]
    fn each_row_points_at_its_own_document_in_a_compressed_block() {
        let mut p = Pending::new();
        for id in 1..=3 {
            p.push(&record(id, format!("body number {id} ").repeat(50).into()));
        }
        assert_eq!(p.rows(), 3);
        let blocks: Vec<&Block> = p.blocks().collect();
        assert_eq!(blocks.len(), 1, "small documents share a block");
        let raw = unpack(blocks[0]);
        assert!(blocks[0].data.len() < raw.len(), "the block is compressed");
        for (row, id) in blocks[0].rows.iter().zip(1..) {
            let doc = &raw[row.doc_offset as usize..][..row.doc_len as usize];
            let json: serde_json::Value = serde_json::from_slice(doc).unwrap();
            assert_eq!(json["id"], id);
        }
    }

    #[test]
    fn a_big_exchange_gets_a_block_of_its_own_and_shedding_drops_whole_blocks() {
        let mut p = Pending::new();
        p.push(&record(1, b"small".to_vec()));
        p.push(&record(2, vec![b'y'; BLOCK_MAX]));
        p.push(&record(3, b"small".to_vec()));
        let sizes: Vec<usize> = p.blocks().map(|b| b.rows.len()).collect();
        assert_eq!(sizes, vec![1, 1, 1]);
        assert!(p.held_bytes() < BLOCK_MAX / 10, "held compressed");
        assert_eq!(p.shed(1, usize::MAX), 2, "the two oldest blocks go");
        let left: Vec<u64> = p
            .blocks()
            .flat_map(|b| b.rows.iter().map(|r| r.id))
            .collect();
        assert_eq!(left, vec![3]);
        p.clear();
        assert_eq!((p.rows(), p.held_bytes(), p.blocks().count()), (0, 0, 0));
    }
}
