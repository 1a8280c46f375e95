//! The incremental frame decoder: bytes in, whole messages out.

use super::deflate::Inflater;
use crate::exchange::opcode;

/// Longest frame header: 2 bytes, an 8-byte length, a 4-byte mask key.
const MAX_HEAD: usize = 14;

/// One message, reassembled from its frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub opcode: u8,
    /// Payload bytes on the wire, across all its frames.
    pub size: u64,
    /// The payload kept (unmasked, inflated), at most the budget allowed.
    pub data: Vec<u8>,
    /// True when `data` is not the whole payload.
    pub truncated: bool,
    /// Sent with permessage-deflate.
    pub compressed: bool,
}

/// The frame being read.
#[derive(Debug, Clone, Copy)]
struct Frame {
    fin: bool,
    opcode: u8,
    mask: Option<[u8; 4]>,
    remaining: u64,
    /// Payload bytes of this frame already read (the mask key's phase).
    read: u64,
}

/// A message (or control frame) being assembled.
#[derive(Debug, Default)]
struct Partial {
    opcode: u8,
    compressed: bool,
    size: u64,
    data: Vec<u8>,
    truncated: bool,
}

/// Decodes one direction of a WebSocket connection.
#[derive(Debug)]
pub struct Decoder {
    /// Payload bytes this direction may still keep.
    budget: usize,
    /// permessage-deflate was negotiated: RSV1 marks a compressed message.
    deflate: bool,
    /// Dropped once the shared window is unknown (a message was cut).
    inflater: Option<Inflater>,
    /// Header bytes seen so far of the next frame.
    head: [u8; MAX_HEAD],
    head_len: usize,
    frame: Option<Frame>,
    /// A fragmented data message in progress.
    message: Option<Partial>,
    /// The control frame in progress (they may arrive between fragments).
    control: Option<Partial>,
    broken: Option<String>,
}

impl Decoder {
    /// A decoder keeping at most `budget` payload bytes; `inflater` when
    /// the connection negotiated permessage-deflate for this direction.
    pub(super) fn with(budget: usize, inflater: Option<Inflater>) -> Self {
        Decoder {
            budget,
            deflate: inflater.is_some(),
            inflater,
            head: [0; MAX_HEAD],
            head_len: 0,
            frame: None,
            message: None,
            control: None,
            broken: None,
        }
    }

    /// A decoder for a connection without extensions.
    pub fn new(budget: usize) -> Self {
        Decoder::with(budget, None)
    }

    /// Why decoding stopped, after a protocol error.
    pub fn broken(&self) -> Option<&str> {
        self.broken.as_deref()
    }

    /// Feed the next bytes; returns the messages they completed.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Vec<Decoded> {
        let mut out = Vec::new();
        while self.broken.is_none() {
            if self.frame.is_none() {
                if bytes.is_empty() {
                    break;
                }
                let used = self.read_head(bytes);
                bytes = &bytes[used..];
            } else {
                let used = self.read_payload(bytes);
                bytes = &bytes[used..];
            }
            match self.frame {
                Some(f) if f.remaining == 0 => self.end_frame(f, &mut out),
                Some(_) if bytes.is_empty() => break,
                _ => {}
            }
        }
        out
    }

    /// Take header bytes; once the header is whole, start its frame.
    fn read_head(&mut self, bytes: &[u8]) -> usize {
        let mut used = 0;
        loop {
            let need = head_len(&self.head[..self.head_len]);
            if self.head_len == need {
                break;
            }
            let Some(&b) = bytes.get(used) else {
                return used;
            };
            self.head[self.head_len] = b;
            self.head_len += 1;
            used += 1;
        }
        let head = self.head;
        let len = self.head_len;
        self.head_len = 0;
        match self.start_frame(&head[..len]) {
            Ok(frame) => self.frame = Some(frame),
            Err(why) => self.broken = Some(why),
        }
        used
    }

    /// Check a whole header against RFC 6455 §5.2 and the message state.
    fn start_frame(&mut self, head: &[u8]) -> Result<Frame, String> {
        let (b0, b1) = (head[0], head[1]);
        let fin = b0 & 0x80 != 0;
        let rsv1 = b0 & 0x40 != 0;
        let op = b0 & 0x0F;
        if b0 & 0x30 != 0 {
            return Err("a frame set RSV2/RSV3 (an extension llmspy does not decode)".into());
        }
        let remaining = payload_len(head);
        let control = op >= 0x8;
        if control && (!fin || remaining > 125) {
            return Err(format!(
                "a {} frame was fragmented or longer than 125 bytes",
                opcode::label(op)
            ));
        }
        if rsv1 && (control || op == opcode::CONTINUATION || !self.deflate) {
            return Err("a frame set RSV1 without permessage-deflate".into());
        }
        if remaining >> 63 != 0 {
            return Err("a frame length has its top bit set".into());
        }
        let mask = (b1 & 0x80 != 0).then(|| {
            let k = &head[head.len() - 4..];
            [k[0], k[1], k[2], k[3]]
        });
        self.open_message(op, rsv1)?;
        Ok(Frame {
            fin,
            opcode: op,
            mask,
            remaining,
            read: 0,
        })
    }

    /// Begin the message (or control frame) a new frame belongs to.
    fn open_message(&mut self, op: u8, compressed: bool) -> Result<(), String> {
        let fresh = Partial {
            opcode: op,
            compressed,
            ..Partial::default()
        };
        match op {
            opcode::CLOSE | opcode::PING | opcode::PONG => self.control = Some(fresh),
            opcode::TEXT | opcode::BINARY if self.message.is_none() => self.message = Some(fresh),
            opcode::TEXT | opcode::BINARY => {
                return Err("a new message began before the last one ended".into());
            }
            opcode::CONTINUATION if self.message.is_none() => {
                return Err("a continuation frame came without a message to continue".into());
            }
            opcode::CONTINUATION => {}
            other => return Err(format!("a frame used reserved opcode {other}")),
        }
        Ok(())
    }

    /// Take payload bytes of the current frame, keeping what the budget
    /// allows (compressed bytes too: a message too big to keep compressed
    /// is too big to keep inflated).
    fn read_payload(&mut self, bytes: &[u8]) -> usize {
        let Some(frame) = self.frame.as_mut() else {
            return 0;
        };
        let n = bytes
            .len()
            .min(usize::try_from(frame.remaining).unwrap_or(usize::MAX));
        let partial = if frame.opcode >= 0x8 {
            self.control.as_mut()
        } else {
            self.message.as_mut()
        };
        if let Some(p) = partial {
            p.size += n as u64;
            let room = self.budget.saturating_sub(p.data.len());
            let keep = n.min(room);
            let start = p.data.len();
            p.data.extend_from_slice(&bytes[..keep]);
            if let Some(key) = frame.mask {
                unmask(&mut p.data[start..], key, frame.read);
            }
            p.truncated |= keep < n;
        }
        frame.read += n as u64;
        frame.remaining -= n as u64;
        n
    }

    /// A frame is read: emit its control message, or the data message it
    /// completes.
    fn end_frame(&mut self, frame: Frame, out: &mut Vec<Decoded>) {
        self.frame = None;
        let done = if frame.opcode >= 0x8 {
            self.control.take()
        } else if frame.fin {
            self.message.take()
        } else {
            None
        };
        if let Some(p) = done {
            out.push(self.finish(p));
        }
    }

    /// Inflate if needed and charge the kept bytes to the budget.
    fn finish(&mut self, p: Partial) -> Decoded {
        let (mut data, mut truncated) = (p.data, p.truncated);
        if p.compressed {
            (data, truncated) = self.inflate(&data, truncated);
        }
        // A control frame between fragments may have used the room.
        if data.len() > self.budget {
            data.truncate(self.budget);
            truncated = true;
        }
        self.budget -= data.len();
        Decoded {
            opcode: p.opcode,
            size: p.size,
            truncated: truncated || (data.is_empty() && p.size > 0),
            data,
            compressed: p.compressed,
        }
    }

    /// Inflate a whole message. A message cut at the cap, or one that
    /// inflates past it, leaves the shared window unknown: later messages
    /// are then listed without their data.
    fn inflate(&mut self, data: &[u8], cut: bool) -> (Vec<u8>, bool) {
        let Some(inflater) = self.inflater.as_mut().filter(|_| !cut) else {
            self.inflater = None;
            return (Vec::new(), true);
        };
        match inflater.inflate(data, self.budget) {
            Ok((plain, false)) => (plain, false),
            Ok((plain, true)) => {
                self.inflater = None;
                (plain, true)
            }
            Err(why) => {
                self.inflater = None;
                self.broken = Some(why);
                (Vec::new(), true)
            }
        }
    }
}

/// How long the header starting with `seen` is (2 until the length byte
/// is known).
fn head_len(seen: &[u8]) -> usize {
    let Some(&b1) = seen.get(1) else {
        return 2;
    };
    let ext = match b1 & 0x7F {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let mask = if b1 & 0x80 != 0 { 4 } else { 0 };
    2 + ext + mask
}

/// The payload length a whole header declares.
fn payload_len(head: &[u8]) -> u64 {
    match head[1] & 0x7F {
        126 => u64::from(u16::from_be_bytes([head[2], head[3]])),
        127 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&head[2..10]);
            u64::from_be_bytes(b)
        }
        n => u64::from(n),
    }
}

/// XOR `data` with the mask key, starting at payload offset `at`.
fn unmask(data: &mut [u8], key: [u8; 4], at: u64) {
    let phase = (at % 4) as usize;
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= key[(phase + i) % 4];
    }
}

/// One frame as it goes on the wire: for tests and test servers that need
/// to speak WebSocket without a library.
pub fn encode(op: u8, fin: bool, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + MAX_HEAD);
    out.push(if fin { 0x80 } else { 0 } | (op & 0x0F));
    let masked = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(masked | n as u8),
        n if n <= usize::from(u16::MAX) => {
            out.push(masked | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(masked | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let start = out.len();
    if let Some(key) = mask {
        out.extend_from_slice(&key);
    }
    let body = start + if mask.is_some() { 4 } else { 0 };
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        unmask(&mut out[body..], key, 0);
    }
    out
}
