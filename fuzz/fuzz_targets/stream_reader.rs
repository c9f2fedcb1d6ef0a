//! `cargo +nightly fuzz run stream_reader` (from `fuzz/`): random operations on a
//! `StreamReader` fed by hand, checked against the model of asyncio 3.11's rules
//! (`fuzz/src/model.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tulip_net_fuzz::model::{check, Op};

/// Decodes the fuzzer's bytes into a limit and a list of operations.
fn decode(data: &[u8]) -> (usize, Vec<Op>) {
    let mut it = data.iter().copied();
    let limit = usize::from(it.next().unwrap_or(8) % 32) + 1;
    let mut ops = Vec::new();
    while let Some(b) = it.next() {
        let arg = usize::from(it.next().unwrap_or(0) % 40);
        ops.push(match b % 16 {
            0..=4 => {
                let take: Vec<u8> = it
                    .by_ref()
                    .take(arg % 24)
                    .map(|c| b"ab\n|"[usize::from(c % 4)])
                    .collect();
                Op::Feed(take)
            }
            5 => Op::FeedEof,
            6 if b == 6 => Op::SetException,
            6 | 7 => Op::Read(arg),
            8 => Op::ReadToEnd,
            9 | 10 => Op::ReadExactly(arg),
            11..=13 => Op::ReadLine,
            _ => Op::ReadUntil(if arg % 2 == 0 {
                b"|".to_vec()
            } else {
                b"a|".to_vec()
            }),
        });
    }
    (limit, ops)
}

fuzz_target!(|data: &[u8]| {
    let (limit, ops) = decode(data);
    if let Err(e) = check(limit, &ops) {
        panic!("limit {limit}: {e}");
    }
});
