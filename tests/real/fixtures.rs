//! Hand-made inputs for the suite's checks, so each check is shown to reject what it
//! exists to catch without needing a broker.

use super::{Consumed, SHAPE};

/// A consumed record shaped as [`SHAPE`] says, carrying key number `key`.
pub fn record(partition: i32, offset: i64, key: u64) -> Consumed {
    let s = &SHAPE;
    let mut headers = vec![(s.fixed_name.to_string(), s.fixed_value.as_bytes().to_vec())];
    headers
        .extend((0..s.header_count).map(|i| (format!("h{i}"), vec![b'x'; s.header_value_bytes])));
    Consumed {
        partition,
        offset,
        key: Some(format!("{key:012}").into_bytes()),
        value_len: s.value_bytes,
        headers,
    }
}

/// A record batch header as a producer writes it (no records after it are needed).
pub fn batch_bytes(base_offset: i64, attributes: i16, pid: i64, seq: i32, records: i32) -> Vec<u8> {
    let mut tail = Vec::new();
    tail.extend(0i32.to_be_bytes()); // leader epoch
    tail.push(2); // magic
    tail.extend(0u32.to_be_bytes()); // crc
    tail.extend(attributes.to_be_bytes());
    tail.extend((records - 1).to_be_bytes());
    tail.extend(0i64.to_be_bytes());
    tail.extend(0i64.to_be_bytes());
    tail.extend(pid.to_be_bytes());
    tail.extend(0i16.to_be_bytes());
    tail.extend(seq.to_be_bytes());
    tail.extend(records.to_be_bytes());
    let mut b = base_offset.to_be_bytes().to_vec();
    b.extend((tail.len() as i32).to_be_bytes());
    b.extend(tail);
    b
}
