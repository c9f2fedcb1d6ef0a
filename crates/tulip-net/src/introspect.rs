//! tulip-net's part of the task dump: which socket a task waits on, in words.

use std::os::fd::{BorrowedFd, RawFd};
use std::sync::Once;

use tulip_core::introspect::{note_wait, set_fd_describer, Waiting};
use tulip_reactor::Direction;

/// Notes that the current task waits for `fd` to be ready for `dir`.
#[inline]
pub(crate) fn note_io(fd: RawFd, dir: Direction) {
    static DESCRIBER: Once = Once::new();
    DESCRIBER.call_once(|| set_fd_describer(describe));
    note_wait(match dir {
        Direction::Read => Waiting::Readable { fd },
        Direction::Write => Waiting::Writable { fd },
    });
}

/// A socket's local and peer addresses, for the dump (`None` if `fd` is no socket).
#[allow(unsafe_code)]
fn describe(fd: RawFd) -> Option<String> {
    if fd < 0 {
        return None;
    }
    // SAFETY: the descriptor is only borrowed for two `getsockname`/`getpeername`
    // calls and never closed here. It may have been closed (or reused) since the task
    // noted it: then the calls fail or describe the new file, which a dump taken from
    // another thread can only ever show as a snapshot anyway; no memory is touched.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    let sock = socket2::SockRef::from(&fd);
    let local = sock.local_addr().ok()?;
    let show = |a: &socket2::SockAddr| match a.as_socket() {
        Some(sa) => sa.to_string(),
        None => a
            .as_pathname()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "unix".into()),
    };
    Some(match sock.peer_addr() {
        Ok(peer) => format!("{} -> {}", show(&local), show(&peer)),
        Err(_) => format!("{} (no peer)", show(&local)),
    })
}
