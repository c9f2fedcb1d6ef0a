//! A model of asyncio 3.11's `StreamReader` rules, and a checker that runs the same
//! operations on a tulip `StreamReader` fed by hand and compares every answer, the
//! buffered byte count and `at_eof` after each step.
//!
//! Shared by the cargo-fuzz target (`fuzz/fuzz_targets/stream_reader.rs`) and the
//! seeded random test on stable (`tests/streams_reader.rs`, which includes this file
//! with `#[path]`); both give `crate::tulip_net` (the fuzz crate re-exports the
//! crate, the test aliases `tulip::net`).
//!
//! Every operation is issued with all its data already fed, as one call: the model
//! answers `WouldWait` when asyncio's call would wait for more data, and the checker
//! then expects the tulip future to be `Pending` on its first poll and drops it
//! (reads are cancel safe, so nothing changes). The rules, from CPython 3.11's
//! `asyncio/streams.py`:
//! - every read raises the exception set with `set_exception` first, data or not;
//! - `read(0)` is `b''`; `read(n)` waits only while the buffer is empty and not at
//!   EOF, then takes up to `n` bytes;
//! - `readexactly(n)` takes `n` bytes, or at EOF raises `IncompleteReadError` with the
//!   whole buffer (consumed);
//! - `readuntil(sep)`: separator at `i > limit` → `LimitOverrunError(i)`, data kept;
//!   not found and `len + 1 - len(sep) > limit` → `LimitOverrunError(len + 1 -
//!   len(sep))`, data kept; at EOF → `IncompleteReadError(buffer)`, consumed;
//! - `readline()` is `readuntil(b"\n")`, with `IncompleteReadError` giving the partial
//!   line and `LimitOverrunError(c)` turned into `ValueError` after discarding
//!   `buffer[..c + 1]` when `buffer[c]` is the newline, or the whole buffer otherwise;
//! - `read()` (to the end) waits until EOF, then takes everything.
#![allow(dead_code)]

use std::future::Future;
use std::io::ErrorKind;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use crate::tulip_net::{Error, StreamReader};

/// One step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `feed_data` (ignored by the checker after `feed_eof`: asyncio asserts).
    Feed(Vec<u8>),
    /// `feed_eof`.
    FeedEof,
    /// `set_exception(ConnectionResetError)`.
    SetException,
    /// `read(n)`.
    Read(usize),
    /// `read()` to the end.
    ReadToEnd,
    /// `readexactly(n)`.
    ReadExactly(usize),
    /// `readline()`.
    ReadLine,
    /// `readuntil(sep)` (an empty `sep` is skipped: asyncio raises ValueError and
    /// tulip panics).
    ReadUntil(Vec<u8>),
}

/// What a read gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The bytes returned.
    Data(Vec<u8>),
    /// `LimitOverrunError(consumed)`.
    LimitOverrun(usize),
    /// readline's `ValueError`.
    ValueError {
        /// The newline was found (past the limit).
        separator_found: bool,
        /// Bytes discarded.
        discarded: usize,
    },
    /// `IncompleteReadError(partial, expected)`.
    Incomplete(Vec<u8>, Option<usize>),
    /// The exception set with `set_exception`.
    Exception,
    /// The call would wait for more data.
    WouldWait,
}

/// asyncio's reader state.
#[derive(Debug, Clone)]
pub struct Model {
    buf: Vec<u8>,
    eof: bool,
    exc: bool,
    limit: usize,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl Model {
    /// A fresh reader with `limit`.
    pub fn new(limit: usize) -> Model {
        Model {
            buf: Vec::new(),
            eof: false,
            exc: false,
            limit,
        }
    }

    /// Bytes buffered.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// asyncio's `at_eof()`.
    pub fn at_eof(&self) -> bool {
        self.eof && self.buf.is_empty()
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        self.buf.drain(..n).collect()
    }

    fn readuntil(&mut self, sep: &[u8]) -> Outcome {
        let buflen = self.buf.len();
        if buflen >= sep.len() {
            if let Some(isep) = find(&self.buf, sep) {
                if isep > self.limit {
                    return Outcome::LimitOverrun(isep);
                }
                return Outcome::Data(self.take(isep + sep.len()));
            }
            let offset = buflen + 1 - sep.len();
            if offset > self.limit {
                return Outcome::LimitOverrun(offset);
            }
        }
        if self.eof {
            return Outcome::Incomplete(self.take(buflen), None);
        }
        Outcome::WouldWait
    }

    /// Applies `op`; the outcome for a read, `None` otherwise.
    pub fn apply(&mut self, op: &Op) -> Option<Outcome> {
        let read = !matches!(op, Op::Feed(_) | Op::FeedEof | Op::SetException);
        if read && self.exc {
            return Some(Outcome::Exception);
        }
        Some(match op {
            Op::Feed(d) => {
                self.buf.extend_from_slice(d);
                return None;
            }
            Op::FeedEof => {
                self.eof = true;
                return None;
            }
            Op::SetException => {
                self.exc = true;
                return None;
            }
            Op::Read(0) => Outcome::Data(Vec::new()),
            Op::Read(n) => {
                if self.buf.is_empty() && !self.eof {
                    Outcome::WouldWait
                } else {
                    let k = (*n).min(self.buf.len());
                    Outcome::Data(self.take(k))
                }
            }
            Op::ReadToEnd => {
                if self.eof {
                    let k = self.buf.len();
                    Outcome::Data(self.take(k))
                } else {
                    Outcome::WouldWait
                }
            }
            Op::ReadExactly(n) => {
                if self.buf.len() >= *n {
                    Outcome::Data(self.take(*n))
                } else if self.eof {
                    let k = self.buf.len();
                    Outcome::Incomplete(self.take(k), Some(*n))
                } else {
                    Outcome::WouldWait
                }
            }
            Op::ReadUntil(sep) => self.readuntil(sep),
            Op::ReadLine => match self.readuntil(b"\n") {
                Outcome::Incomplete(p, _) => Outcome::Data(p),
                Outcome::LimitOverrun(c) => {
                    let separator_found = self.buf.get(c) == Some(&b'\n');
                    let discarded = if separator_found {
                        c + 1
                    } else {
                        self.buf.len()
                    };
                    self.take(discarded);
                    Outcome::ValueError {
                        separator_found,
                        discarded,
                    }
                }
                o => o,
            },
        })
    }
}

/// Polls `f` once: its output, or `WouldWait` when it is pending (it is dropped).
fn poll_once<F: Future<Output = Result<Vec<u8>, Error>>>(f: F) -> Outcome {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Pending => Outcome::WouldWait,
        Poll::Ready(Ok(v)) => Outcome::Data(v),
        Poll::Ready(Err(e)) => match e {
            Error::LimitOverrun { consumed, .. } => Outcome::LimitOverrun(consumed),
            Error::LineTooLong {
                separator_found,
                discarded,
                ..
            } => Outcome::ValueError {
                separator_found,
                discarded,
            },
            Error::IncompleteRead { partial, expected } => Outcome::Incomplete(partial, expected),
            Error::Io(io) if io.kind() == ErrorKind::ConnectionReset => Outcome::Exception,
            other => panic!("unexpected error {other:?}"),
        },
    }
}

/// Runs `ops` on the model and on a tulip `StreamReader::new(limit)` (fed by hand,
/// no loop needed: every call is polled once); the first difference, described.
pub fn check(limit: usize, ops: &[Op]) -> Result<(), String> {
    let limit = limit.max(1);
    let mut model = Model::new(limit);
    let mut r = StreamReader::new(limit);
    for (i, op) in ops.iter().enumerate() {
        let op = match op {
            Op::Feed(_) if model.eof => continue,
            Op::ReadUntil(sep) if sep.is_empty() => continue,
            op => op,
        };
        let want = model.apply(op);
        let got = match op {
            Op::Feed(d) => {
                r.feed_data(d);
                None
            }
            Op::FeedEof => {
                r.feed_eof();
                None
            }
            Op::SetException => {
                r.set_exception(Error::Io(std::io::Error::new(
                    ErrorKind::ConnectionReset,
                    "set by the model",
                )));
                None
            }
            Op::Read(n) => Some(poll_once(r.read(*n))),
            Op::ReadToEnd => Some(poll_once(r.read_to_end())),
            Op::ReadExactly(n) => Some(poll_once(r.readexactly(*n))),
            Op::ReadLine => Some(poll_once(r.readline())),
            Op::ReadUntil(sep) => Some(poll_once(r.readuntil(sep))),
        };
        if want != got {
            return Err(format!("step {i} {op:?}: asyncio {want:?}, tulip {got:?}"));
        }
        if model.buffered() != r.buffered() || model.at_eof() != r.at_eof() {
            return Err(format!(
                "after step {i} {op:?}: asyncio buffered {} at_eof {}, tulip buffered {} at_eof {}",
                model.buffered(),
                model.at_eof(),
                r.buffered(),
                r.at_eof()
            ));
        }
    }
    Ok(())
}
