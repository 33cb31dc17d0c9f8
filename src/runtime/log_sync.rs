//! `appendfsync always` without stalling the loop. The worker writes each
//! batch's log records itself, then hands the batch's sync ticket to this
//! helper thread, which fsyncs while the worker reads and runs the next
//! batch. When a ticket is durable the helper wakes the worker, whose
//! waiting replies then go out. Batches pile up behind a slow fsync and are
//! covered by the next one: group commit, pipelined.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use super::poller::Waker;
use crate::engine::LogSyncHandle;

/// One worker's sync helper. Dropping it syncs what was requested, then
/// joins the thread.
pub struct LogSyncer {
    state: Arc<SyncState>,
    thread: Option<JoinHandle<()>>,
}

struct SyncState {
    /// Highest ticket asked for, and whether to stop.
    wanted: Mutex<(u64, bool)>,
    asked: Condvar,
    /// Highest ticket known durable.
    synced: AtomicU64,
    /// An fsync failed: nothing after `synced` will ever be durable.
    failed: AtomicBool,
}

impl LogSyncer {
    pub fn start(handle: LogSyncHandle, waker: Arc<Waker>, worker: usize) -> std::io::Result<Self> {
        let state = Arc::new(SyncState {
            wanted: Mutex::new((0, false)),
            asked: Condvar::new(),
            synced: AtomicU64::new(0),
            failed: AtomicBool::new(false),
        });
        let thread_state = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name(format!("corewire-sync-{worker}"))
            .spawn(move || sync_loop(&thread_state, &handle, &waker))?;
        Ok(LogSyncer {
            state,
            thread: Some(thread),
        })
    }

    /// Asks for everything up to `ticket` to be made durable.
    pub fn request(&self, ticket: u64) {
        let mut wanted = lock(&self.state.wanted);
        if ticket > wanted.0 {
            wanted.0 = ticket;
            self.state.asked.notify_one();
        }
    }

    pub fn synced(&self) -> u64 {
        self.state.synced.load(Ordering::Acquire)
    }

    pub fn failed(&self) -> bool {
        self.state.failed.load(Ordering::Acquire)
    }

    /// Waits until `ticket` is durable or an fsync failed (for shutdown).
    pub fn wait_for(&self, ticket: u64) {
        self.request(ticket);
        while self.synced() < ticket && !self.failed() {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    }
}

impl Drop for LogSyncer {
    fn drop(&mut self) {
        lock(&self.state.wanted).1 = true;
        self.state.asked.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn sync_loop(state: &SyncState, handle: &LogSyncHandle, waker: &Waker) {
    let mut done = 0u64;
    loop {
        let ticket = {
            let mut wanted = lock(&state.wanted);
            while wanted.0 <= done && !wanted.1 {
                wanted = state
                    .asked
                    .wait(wanted)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            if wanted.0 <= done {
                return; // stopping, nothing left to sync
            }
            wanted.0
        };
        if handle.sync(ticket) {
            done = ticket;
            state.synced.store(ticket, Ordering::Release);
        } else {
            state.failed.store(true, Ordering::Release);
            waker.wake();
            return; // the engine refuses writes from now on
        }
        waker.wake();
    }
}
