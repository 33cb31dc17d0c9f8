//! One worker's pools: a pool per (database, upstream user), the clients
//! it serves, and the server connections it owns. The worker
//! (`runtime::proxy`) moves bytes; this holds the state.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use super::config::{DatabaseConfig, PoolMode};
use super::registry::DbShared;
use super::server::Server;
use super::session_state::{Effect, ParamValue};
use super::snapshot::PoolTotals;
use super::statements::{StatementDef, StatementRegistry};
use super::upstream_startup::StartupError;

/// A client connection slot and its generation (stale once reused).
pub type ClientRef = (usize, u32);

/// One (database, upstream user) pool on this worker.
pub struct Pool {
    /// The name clients connect to.
    pub database: String,
    /// Who logs in upstream, with what.
    pub user: String,
    pub password: Option<String>,
    pub config: DatabaseConfig,
    /// Resolved once, when the pool is made.
    pub addr: Option<SocketAddr>,
    /// The mode SHOW POOLS reports (clients carry their own).
    pub mode: PoolMode,
    pub db: Arc<DbShared>,
    /// Idle server slots, most recently used last (reused first).
    pub idle: Vec<usize>,
    /// Clients waiting for a server, oldest first.
    pub waiting: VecDeque<ClientRef>,
    /// Clients waiting for the server's parameters to finish logging in.
    pub login_waiting: Vec<ClientRef>,
    /// This worker's server connections in any state, and those still
    /// connecting or logging in.
    pub servers: usize,
    pub connecting: usize,
    /// Logged-in clients.
    pub clients: usize,
    /// The database's welcome parameters, once known (saves the shared
    /// lock on every link).
    pub welcome: Option<super::registry::Parameters>,
    /// The last failed connect or login: when, and why.
    pub last_failure: Option<(Instant, StartupError)>,
    pub totals: PoolTotals,
}

impl Pool {
    pub fn new(
        config: &DatabaseConfig,
        user: String,
        password: Option<String>,
        mode: PoolMode,
        db: Arc<DbShared>,
    ) -> Pool {
        // getaddrinfo blocks: once per pool, not per connection. An
        // address literal or /etc/hosts name costs nothing.
        let addr = std::net::ToSocketAddrs::to_socket_addrs(&(config.host.as_str(), config.port))
            .ok()
            .and_then(|mut addrs| addrs.next());
        Pool {
            database: config.name.clone(),
            user,
            password,
            config: config.clone(),
            addr,
            mode,
            db,
            idle: Vec::new(),
            waiting: VecDeque::new(),
            login_waiting: Vec::new(),
            servers: 0,
            connecting: 0,
            clients: 0,
            welcome: None,
            last_failure: None,
            totals: PoolTotals::default(),
        }
    }
}

/// A client of an upstream database.
pub struct ProxyClient {
    /// Index of its pool in `Local::pools`.
    pub pool: usize,
    pub mode: PoolMode,
    /// The server slot it is linked to.
    pub server: Option<usize>,
    /// Logged in: the client got ReadyForQuery.
    pub ready: bool,
    /// Waiting for a server since.
    pub waiting_since: Option<Instant>,
    /// Parameters it wants on any server, by lowercase name: (name as
    /// given, value). From the startup packet, then its SETs.
    pub params: HashMap<String, (String, ParamValue)>,
    /// The startup packet's, for RESET ALL.
    pub startup_params: HashMap<String, (String, ParamValue)>,
    /// Its named statements.
    pub statements: HashMap<Box<str>, Rc<StatementDef>>,
    /// Session effects of its unnamed statement and of its portals
    /// (transaction mode; only those that have some).
    pub unnamed_effects: Option<Rc<[Effect]>>,
    pub portal_effects: HashMap<Box<str>, Rc<[Effect]>>,
    /// Effects of statements that completed in the transaction running;
    /// they stand if it commits.
    pub pending_effects: Vec<Effect>,
    /// A hash of `params`: a server last set up for the same fingerprint
    /// needs no SETs (clients of one application usually share one).
    pub params_fingerprint: u64,
}

impl ProxyClient {
    pub fn new(pool: usize, mode: PoolMode, startup: &[(String, String)]) -> ProxyClient {
        let params: HashMap<_, _> = startup
            .iter()
            .map(|(name, value)| {
                (
                    name.to_ascii_lowercase(),
                    (name.clone(), ParamValue::Literal(value.clone())),
                )
            })
            .collect();
        let mut client = ProxyClient {
            pool,
            mode,
            server: None,
            ready: false,
            waiting_since: None,
            startup_params: params.clone(),
            params,
            statements: HashMap::new(),
            unnamed_effects: None,
            portal_effects: HashMap::new(),
            pending_effects: Vec::new(),
            params_fingerprint: 0,
        };
        client.refresh_fingerprint();
        client
    }

    /// Recomputes `params_fingerprint` after `params` changed.
    pub fn refresh_fingerprint(&mut self) {
        use std::hash::{Hash, Hasher};
        let mut entries: Vec<_> = self.params.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        entries.hash(&mut hasher);
        self.params_fingerprint = hasher.finish();
    }
}

/// Everything of the pooler one worker owns.
#[derive(Default)]
pub struct Local {
    pub pools: Vec<Pool>,
    /// Server slab; the token is (generation << 32) | SERVER_TOKEN | slot.
    pub servers: Vec<Option<Server>>,
    pub free_servers: Vec<usize>,
    pub statements: StatementRegistry,
}

impl Local {
    pub fn pool_index(&self, database: &str, user: &str) -> Option<usize> {
        self.pools
            .iter()
            .position(|pool| pool.database == database && pool.user == user)
    }

    pub fn server(&mut self, slot: usize) -> &mut Server {
        self.servers[slot].as_mut().expect("live server slot")
    }
}
