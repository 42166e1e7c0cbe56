//! A raw Kafka Fetch client, so the suite can see record batches exactly as the broker
//! stored them: librdkafka's consumer decompresses batches and hides their headers, but
//! the codec bits, producer id and base sequence live in those headers.
//!
//! Tansu's memory engine stores each produced batch as the client encoded it (compressed
//! records and batch header untouched) and serves it back on Fetch, so what this reads is
//! what kprod put on the wire.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The compression codec in bits 0-2 of a record batch's attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

impl Codec {
    fn from_attributes(a: i16) -> Result<Codec, String> {
        Ok(match a & 0x7 {
            0 => Codec::None,
            1 => Codec::Gzip,
            2 => Codec::Snappy,
            3 => Codec::Lz4,
            4 => Codec::Zstd,
            c => return Err(format!("unknown codec bits {c} in attributes {a:#x}")),
        })
    }
    /// The name librdkafka's `compression.codec` uses.
    pub fn name(self) -> &'static str {
        match self {
            Codec::None => "none",
            Codec::Gzip => "gzip",
            Codec::Snappy => "snappy",
            Codec::Lz4 => "lz4",
            Codec::Zstd => "zstd",
        }
    }
}

/// The header of one stored record batch (magic 2).
#[derive(Debug, Clone)]
pub struct Batch {
    pub partition: i32,
    pub base_offset: i64,
    pub records: i32,
    pub last_offset_delta: i32,
    pub codec: Codec,
    pub transactional: bool,
    pub control: bool,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    /// Bytes of the batch on the wire (header included).
    pub bytes: usize,
}

const FETCH: i16 = 1;
const FETCH_VERSION: i16 = 4;
const MAX_BYTES: i32 = 16 << 20;

struct Buf<'a>(&'a [u8]);

impl Buf<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        if self.0.len() < n {
            return Err(format!(
                "truncated response: wanted {n} bytes, {} left",
                self.0.len()
            ));
        }
        let (h, t) = self.0.split_at(n);
        self.0 = t;
        Ok(h)
    }
    fn i8(&mut self) -> Result<i8, String> {
        Ok(self.take(1)?[0] as i8)
    }
    fn i16(&mut self) -> Result<i16, String> {
        Ok(i16::from_be_bytes(self.take(2)?.try_into().unwrap()))
    }
    fn i32(&mut self) -> Result<i32, String> {
        Ok(i32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_be_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn string(&mut self) -> Result<String, String> {
        let n = self.i16()?;
        if n < 0 {
            return Ok(String::new());
        }
        Ok(String::from_utf8_lossy(self.take(n as usize)?).into_owned())
    }
}

/// One Fetch v4 round trip for one partition from `offset`. Returns the partition's error
/// code, high watermark and record bytes.
fn fetch_once(
    s: &mut TcpStream,
    corr: i32,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<(i16, i64, Vec<u8>), String> {
    let mut b = Vec::new();
    b.extend(FETCH.to_be_bytes());
    b.extend(FETCH_VERSION.to_be_bytes());
    b.extend(corr.to_be_bytes());
    let client = b"kprod-real-broker-test";
    b.extend((client.len() as i16).to_be_bytes());
    b.extend(client);
    b.extend((-1i32).to_be_bytes()); // replica id: a consumer
    b.extend(500i32.to_be_bytes()); // max wait ms
    b.extend(1i32.to_be_bytes()); // min bytes
    b.extend(MAX_BYTES.to_be_bytes());
    b.push(0); // read_uncommitted: every stored batch, control batches included
    b.extend(1i32.to_be_bytes());
    b.extend((topic.len() as i16).to_be_bytes());
    b.extend(topic.as_bytes());
    b.extend(1i32.to_be_bytes());
    b.extend(partition.to_be_bytes());
    b.extend(offset.to_be_bytes());
    b.extend(MAX_BYTES.to_be_bytes());
    let mut frame = (b.len() as i32).to_be_bytes().to_vec();
    frame.extend(b);
    s.write_all(&frame)
        .map_err(|e| format!("send Fetch: {e}"))?;

    let mut len = [0u8; 4];
    s.read_exact(&mut len)
        .map_err(|e| format!("read Fetch response: {e}"))?;
    let mut resp = vec![0u8; i32::from_be_bytes(len) as usize];
    s.read_exact(&mut resp)
        .map_err(|e| format!("read Fetch response: {e}"))?;
    let mut r = Buf(&resp);
    let got = r.i32()?;
    if got != corr {
        return Err(format!("correlation id {got}, expected {corr}"));
    }
    r.i32()?; // throttle
    let topics = r.i32()?;
    for _ in 0..topics {
        let name = r.string()?;
        let parts = r.i32()?;
        for _ in 0..parts {
            let p = r.i32()?;
            let err = r.i16()?;
            let hw = r.i64()?;
            r.i64()?; // last stable offset
            let aborted = r.i32()?;
            for _ in 0..aborted.max(0) {
                r.i64()?;
                r.i64()?;
            }
            let n = r.i32()?;
            let records = if n > 0 {
                r.take(n as usize)?.to_vec()
            } else {
                Vec::new()
            };
            if name == topic && p == partition {
                return Ok((err, hw, records));
            }
        }
    }
    Err(format!("the Fetch response has no {topic}/{partition}"))
}

/// Parse the complete batches in a Fetch response's record bytes (a trailing partial
/// batch, allowed by the protocol, is left for the next fetch).
pub fn parse_batches(partition: i32, mut bytes: &[u8], out: &mut Vec<Batch>) -> Result<(), String> {
    while bytes.len() >= 12 {
        let mut r = Buf(bytes);
        let base_offset = r.i64()?;
        let len = r.i32()? as usize;
        if bytes.len() < 12 + len {
            break;
        }
        r.i32()?; // partition leader epoch
        let magic = r.i8()?;
        if magic != 2 {
            return Err(format!(
                "batch at offset {base_offset} has magic {magic}, not 2"
            ));
        }
        r.i32()?; // crc
        let attributes = r.i16()?;
        let last_offset_delta = r.i32()?;
        r.i64()?; // base timestamp
        r.i64()?; // max timestamp
        let producer_id = r.i64()?;
        let producer_epoch = r.i16()?;
        let base_sequence = r.i32()?;
        let records = r.i32()?;
        out.push(Batch {
            partition,
            base_offset,
            records,
            last_offset_delta,
            codec: Codec::from_attributes(attributes)?,
            transactional: attributes & 0x10 != 0,
            control: attributes & 0x20 != 0,
            producer_id,
            producer_epoch,
            base_sequence,
            bytes: 12 + len,
        });
        bytes = &bytes[12 + len..];
    }
    Ok(())
}

/// Every stored batch of `topic`/`partition`, in offset order, from offset 0 to the high
/// watermark.
pub fn batches(bootstrap: &str, topic: &str, partition: i32) -> Result<Vec<Batch>, String> {
    let addr = bootstrap.split(',').next().unwrap_or(bootstrap);
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut out = Vec::new();
    let mut offset = 0i64;
    for corr in 1.. {
        let (err, hw, bytes) = fetch_once(&mut s, corr, topic, partition, offset)?;
        if err != 0 {
            return Err(format!(
                "Fetch {topic}/{partition} at {offset}: error code {err}"
            ));
        }
        if offset >= hw {
            break;
        }
        let before = out.len();
        parse_batches(partition, &bytes, &mut out)?;
        if out.len() == before {
            if Instant::now() > deadline {
                return Err(format!(
                    "no progress fetching {topic}/{partition} at {offset} (hw {hw})"
                ));
            }
            continue;
        }
        let last = &out[out.len() - 1];
        offset = last.base_offset + i64::from(last.last_offset_delta) + 1;
    }
    Ok(out)
}
