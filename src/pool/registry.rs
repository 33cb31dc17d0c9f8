//! Process-wide pool state, one entry per upstream database: the server
//! connection count that enforces pool_size across workers, PAUSE, and
//! which workers have clients waiting (so others hand idle capacity over).
//! Workers keep an `Arc<DbShared>` per pool: the request path takes no lock.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::Arc;

use parking_lot::Mutex;

/// ParameterStatus pairs, as the server sent them.
pub type Parameters = Arc<[(String, String)]>;

/// One upstream database, shared by every worker.
#[derive(Default)]
pub struct DbShared {
    /// Server connections open or opening, across workers.
    pub servers: AtomicUsize,
    /// PAUSE (or KILL): no new transaction gets a server connection.
    pub paused: AtomicBool,
    /// Bit `worker % 64` set while that worker has clients waiting and no
    /// capacity: workers with idle servers close one for it.
    pub waiting_workers: AtomicU64,
    /// The ParameterStatus set of the first server login, sent to clients
    /// as they log in (server_version and the rest).
    welcome: Mutex<Option<Parameters>>,
}

impl DbShared {
    pub fn welcome(&self) -> Option<Parameters> {
        self.welcome.lock().clone()
    }

    /// Keeps the first login's parameters (later ones are alike).
    pub fn set_welcome(&self, parameters: Vec<(String, String)>) {
        let mut welcome = self.welcome.lock();
        if welcome.is_none() {
            *welcome = Some(parameters.into());
        }
    }

    /// Counts one more server connection if that stays within `limit`.
    pub fn try_reserve(&self, limit: usize) -> bool {
        self.servers
            .fetch_update(Relaxed, Relaxed, |open| (open < limit).then_some(open + 1))
            .is_ok()
    }

    /// Uncounts a server connection that closed (or never opened).
    pub fn release(&self) {
        let before = self.servers.fetch_sub(1, Relaxed);
        debug_assert!(before > 0, "server count underflow");
    }

    pub fn set_waiting(&self, worker: usize, waiting: bool) {
        let bit = 1u64 << (worker % 64);
        if waiting {
            self.waiting_workers.fetch_or(bit, Relaxed);
        } else {
            self.waiting_workers.fetch_and(!bit, Relaxed);
        }
    }

    /// Whether a worker other than `worker` waits for capacity.
    pub fn others_waiting(&self, worker: usize) -> bool {
        self.waiting_workers.load(Relaxed) & !(1u64 << (worker % 64)) != 0
    }
}

/// Every upstream database's shared state, by the name clients use.
#[derive(Default)]
pub struct Registry {
    databases: Mutex<HashMap<String, Arc<DbShared>>>,
}

impl Registry {
    /// The database's shared state, created on first use (a database a
    /// reload adds gets one too; a removed one keeps its entry).
    pub fn db(&self, name: &str) -> Arc<DbShared> {
        Arc::clone(self.databases.lock().entry(name.to_string()).or_default())
    }

    pub fn is_paused(&self, name: &str) -> bool {
        self.databases
            .lock()
            .get(name)
            .is_some_and(|db| db.paused.load(Relaxed))
    }

    /// Server connections open to `name` across workers.
    pub fn server_count(&self, name: &str) -> usize {
        self.databases
            .lock()
            .get(name)
            .map_or(0, |db| db.servers.load(Relaxed))
    }
}
