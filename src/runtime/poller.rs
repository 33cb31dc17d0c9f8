//! A thin epoll wrapper: one readiness wait per loop iteration, level
//! triggered, with a u64 token per registration.

use std::io;
use std::os::fd::RawFd;

/// Readiness interest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interest {
    Read,
    ReadWrite,
    /// Writes only: reading is paused (the peer's buffer is full).
    Write,
    /// Neither: only errors and hang-ups report.
    None,
}

impl Interest {
    fn bits(self) -> u32 {
        let read = (libc::EPOLLIN | libc::EPOLLRDHUP) as u32;
        match self {
            Interest::Read => read,
            Interest::ReadWrite => read | libc::EPOLLOUT as u32,
            Interest::Write => libc::EPOLLOUT as u32,
            Interest::None => 0,
        }
    }
}

/// One ready registration.
#[derive(Clone, Copy, Debug)]
pub struct Event {
    pub token: u64,
    pub readable: bool,
}

pub struct Poller {
    epoll_fd: RawFd,
    events: Vec<libc::epoll_event>,
}

impl Poller {
    /// `max_events` bounds how many ready registrations one wait returns.
    pub fn new(max_events: usize) -> io::Result<Poller> {
        assert!(max_events > 0);
        // SAFETY: plain syscall; the fd is owned by the Poller from here.
        let epoll_fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if epoll_fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Poller {
            epoll_fd,
            events: vec![libc::epoll_event { events: 0, u64: 0 }; max_events],
        })
    }

    pub fn add(&self, fd: RawFd, token: u64, interest: Interest) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, token, interest)
    }

    pub fn modify(&self, fd: RawFd, token: u64, interest: Interest) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, token, interest)
    }

    pub fn remove(&self, fd: RawFd) -> io::Result<()> {
        // SAFETY: epoll_fd is ours; a NULL event is allowed for DEL.
        let rc = unsafe {
            libc::epoll_ctl(self.epoll_fd, libc::EPOLL_CTL_DEL, fd, std::ptr::null_mut())
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn ctl(&self, op: i32, fd: RawFd, token: u64, interest: Interest) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: interest.bits(),
            u64: token,
        };
        // SAFETY: epoll_fd is ours and event is a valid epoll_event.
        let rc = unsafe { libc::epoll_ctl(self.epoll_fd, op, fd, &mut event) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Blocks until something is ready or `timeout_ms` passes, then appends
    /// the ready registrations to `ready`.
    pub fn wait(&mut self, ready: &mut Vec<Event>, timeout_ms: i32) -> io::Result<()> {
        ready.clear();
        // SAFETY: events has room for events.len() entries.
        let n = unsafe {
            libc::epoll_wait(
                self.epoll_fd,
                self.events.as_mut_ptr(),
                self.events.len() as i32,
                timeout_ms,
            )
        };
        if n < 0 {
            let error = io::Error::last_os_error();
            return if error.kind() == io::ErrorKind::Interrupted {
                Ok(())
            } else {
                Err(error)
            };
        }
        let error_bits = (libc::EPOLLERR | libc::EPOLLHUP | libc::EPOLLRDHUP) as u32;
        for event in &self.events[..n as usize] {
            let bits = event.events;
            ready.push(Event {
                token: event.u64,
                // Errors and hang-ups surface as readable: the read sees them.
                // Writability needs no flag: every event ends in a flush.
                readable: bits & (libc::EPOLLIN as u32 | error_bits) != 0,
            });
        }
        Ok(())
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        // SAFETY: we own epoll_fd and close it once.
        unsafe { libc::close(self.epoll_fd) };
    }
}

/// An eventfd that wakes a worker's wait from another thread.
pub struct Waker {
    fd: RawFd,
}

impl Waker {
    pub fn new() -> io::Result<Waker> {
        // SAFETY: plain syscall; the fd is owned by the Waker.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Waker { fd })
    }

    pub fn fd(&self) -> RawFd {
        self.fd
    }

    pub fn wake(&self) {
        let one: u64 = 1;
        // SAFETY: writing 8 bytes from a valid u64 to our eventfd. A full
        // counter (EAGAIN) still leaves the fd readable, which is the point.
        unsafe { libc::write(self.fd, &one as *const u64 as *const libc::c_void, 8) };
    }

    /// Resets the counter so level-triggered epoll stops reporting it.
    pub fn drain(&self) {
        let mut value: u64 = 0;
        // SAFETY: reading 8 bytes into a valid u64 from our eventfd.
        unsafe { libc::read(self.fd, &mut value as *mut u64 as *mut libc::c_void, 8) };
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        // SAFETY: we own fd and close it once.
        unsafe { libc::close(self.fd) };
    }
}
