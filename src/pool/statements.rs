//! Named prepared statements in transaction pooling (as PgBouncer 1.21's
//! max_prepared_statements): a client's statement names map to
//! definitions shared by the worker's clients (same query text and
//! parameter types, same definition), and each definition is prepared on
//! a server as `cw_<id>` the first time a client uses it there.

use std::collections::HashMap;
use std::rc::{Rc, Weak};

use super::session_state::Effect;

/// A statement as a client's Parse defined it.
pub struct StatementDef {
    /// Upstream it is named `cw_<id>`.
    pub id: u64,
    /// The Parse body after the statement name: query, NUL, parameter
    /// type count and types, as the client sent them.
    pub body: Box<[u8]>,
    /// What running it does to session state (transaction mode), when it
    /// may do anything.
    pub effects: Option<Rc<[Effect]>>,
}

impl StatementDef {
    /// The Parse message that prepares it upstream.
    pub fn parse_message(&self, out: &mut Vec<u8>) {
        let name = server_name(self.id);
        let len = 4 + name.len() + 1 + self.body.len();
        out.push(b'P');
        out.extend_from_slice(&(len as u32).to_be_bytes());
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.extend_from_slice(&self.body);
    }
}

/// The upstream name of statement `id`.
pub fn server_name(id: u64) -> String {
    format!("cw_{id}")
}

/// The worker's definitions, by Parse body; entries die with their last
/// client reference.
#[derive(Default)]
pub struct StatementRegistry {
    by_body: HashMap<Box<[u8]>, Weak<StatementDef>>,
    next_id: u64,
    /// Dead entries are swept once the map grows past this.
    sweep_at: usize,
}

/// Entries at which the first sweep of dead definitions runs.
const FIRST_SWEEP_ENTRIES: usize = 1024;

impl StatementRegistry {
    /// The definition for `body`, shared with other clients that defined
    /// the same; `effects` computes its effects for a new one.
    pub fn intern(
        &mut self,
        body: &[u8],
        effects: impl FnOnce() -> Option<Rc<[Effect]>>,
    ) -> Rc<StatementDef> {
        if let Some(def) = self.by_body.get(body).and_then(Weak::upgrade) {
            return def;
        }
        if self.by_body.len() >= self.sweep_at.max(FIRST_SWEEP_ENTRIES) {
            self.by_body.retain(|_, def| def.strong_count() > 0);
            self.sweep_at = self.by_body.len() * 2;
        }
        self.next_id += 1;
        let def = Rc::new(StatementDef {
            id: self.next_id,
            body: body.into(),
            effects: effects(),
        });
        self.by_body.insert(body.into(), Rc::downgrade(&def));
        def
    }
}

/// The statements one server connection holds, least recently used
/// evicted past the limit.
#[derive(Default)]
pub struct ServerStatements {
    /// id -> last use (a counter, not a time).
    used: HashMap<u64, u64>,
    clock: u64,
}

impl ServerStatements {
    pub fn len(&self) -> usize {
        self.used.len()
    }

    pub fn is_empty(&self) -> bool {
        self.used.is_empty()
    }

    /// Whether it holds `id`, marking it used.
    pub fn touch(&mut self, id: u64) -> bool {
        self.clock += 1;
        match self.used.get_mut(&id) {
            Some(at) => {
                *at = self.clock;
                true
            }
            None => false,
        }
    }

    /// Records `id` as prepared; returns the id to close first when the
    /// server then holds more than `limit`.
    pub fn insert(&mut self, id: u64, limit: usize) -> Option<u64> {
        self.clock += 1;
        self.used.insert(id, self.clock);
        if self.used.len() <= limit.max(1) {
            return None;
        }
        let (&oldest, _) = self
            .used
            .iter()
            .filter(|(&other, _)| other != id)
            .min_by_key(|(_, &at)| at)?;
        self.used.remove(&oldest);
        Some(oldest)
    }

    pub fn remove(&mut self, id: u64) {
        self.used.remove(&id);
    }

    pub fn clear(&mut self) {
        self.used.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_text_shares_a_definition_until_no_client_holds_it() {
        let mut registry = StatementRegistry::default();
        let a = registry.intern(b"select 1\0\0\0", || None);
        let b = registry.intern(b"select 1\0\0\0", || None);
        assert_eq!(a.id, b.id);
        let c = registry.intern(b"select 2\0\0\0", || None);
        assert_ne!(a.id, c.id);
        let id = a.id;
        drop((a, b));
        assert_ne!(registry.intern(b"select 1\0\0\0", || None).id, id);
    }

    #[test]
    fn the_least_recently_used_statement_is_evicted() {
        let mut server = ServerStatements::default();
        assert_eq!(server.insert(1, 2), None);
        assert_eq!(server.insert(2, 2), None);
        assert!(server.touch(1));
        assert_eq!(server.insert(3, 2), Some(2));
        assert!(!server.touch(2));
        assert!(server.touch(1) && server.touch(3));
        assert_eq!(server.len(), 2);
    }

    #[test]
    fn parse_message_renames_the_statement() {
        let mut registry = StatementRegistry::default();
        let def = registry.intern(b"select $1\0\0\x01\0\0\0\x17", || None);
        let mut out = Vec::new();
        def.parse_message(&mut out);
        let name = server_name(def.id);
        assert_eq!(out[0], b'P');
        assert_eq!(
            u32::from_be_bytes(out[1..5].try_into().unwrap()) as usize,
            out.len() - 1
        );
        assert_eq!(&out[5..5 + name.len()], name.as_bytes());
        assert!(out.ends_with(b"select $1\0\0\x01\0\0\0\x17"));
    }
}
