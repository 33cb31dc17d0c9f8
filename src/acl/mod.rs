//! Access control: Redis 7.0-style ACL users shared by every worker (and,
//! for logins, by the PostgreSQL listener), the ACL log, and the limiter
//! of failed logins per client address.
//!
//! The store is read-mostly. Users live in an immutable map behind an
//! `Arc`, swapped whole under a lock by a change (ACL SETUSER, DELUSER,
//! CONFIG SET, reload), which also bumps a generation counter. Each
//! connection keeps its user's `Arc` and the generation it read it at; a
//! request compares that generation with the current one (one relaxed
//! load) and, for a user allowed every command and key, checks nothing
//! else. Only after a change does a connection look its user up again.

pub mod commands;
pub mod limiter;
pub mod log;
pub mod user;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};

use crate::config::Config;
pub use limiter::Limiter;
pub use log::AclLog;
pub use user::{Denied, RuleError, User};

/// Users by name, in byte order (ACL LIST and USERS list them so).
pub type Users = BTreeMap<Vec<u8>, Arc<User>>;

/// The default of `acllog-max-len` (Redis's).
pub const DEFAULT_LOG_MAX_LEN: usize = 128;

pub struct Acl {
    users: RwLock<Arc<Users>>,
    /// Bumped by every change of `users`.
    generation: AtomicU64,
    /// The default user needs a password (or is off): new connections
    /// start unauthenticated.
    default_needs_auth: AtomicBool,
    /// Some user other than `default` is on with a password PostgreSQL
    /// can check: PostgreSQL logins then need a password.
    pg_users: AtomicBool,
    /// Serializes changes (read, modify, swap).
    change: Mutex<()>,
    pub log: AclLog,
    log_max_len: AtomicUsize,
    pub limiter: Limiter,
}

/// Why a login failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginError {
    /// Unknown user, wrong password, or the user is off.
    Wrong,
    /// Too many failures from this address; blocked this much longer.
    Blocked(Duration),
}

/// The text of a blocked login, for every protocol.
pub fn blocked_text(remaining: Duration) -> String {
    format!(
        "too many failed authentication attempts from this address; try again in {} s \
         (auth-failure-limit, auth-failure-window-ms)",
        remaining.as_secs() + 1
    )
}

impl Acl {
    /// The store a configuration describes (config users, requirepass).
    pub fn new(config: &Config) -> Acl {
        let users = build(config, true).unwrap_or_else(|error| {
            // The loader validated every line; keep the default user only.
            crate::log_error!("ACL users: {error}");
            let mut users = Users::new();
            let default = default_user(config, true);
            users.insert(default.name.clone(), Arc::new(default));
            users
        });
        let acl = Acl {
            users: RwLock::new(Arc::new(Users::new())),
            generation: AtomicU64::new(0),
            default_needs_auth: AtomicBool::new(true),
            pg_users: AtomicBool::new(false),
            change: Mutex::new(()),
            log: AclLog::new(),
            log_max_len: AtomicUsize::new(config.acllog_max_len),
            limiter: Limiter::new(config.auth_failure_limit, config.auth_failure_window_ms),
        };
        acl.install(users);
        acl
    }

    /// The current generation: a connection whose user was read at it is
    /// up to date.
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation.load(Relaxed)
    }

    /// Whether a connection must authenticate before running commands
    /// (the default user is not `on nopass`): Redis's authRequired.
    #[inline]
    pub fn default_needs_auth(&self) -> bool {
        self.default_needs_auth.load(Relaxed)
    }

    /// Whether ACL users make PostgreSQL ask for passwords (see
    /// `crate::pg::session`'s choose_authentication).
    pub fn has_pg_users(&self) -> bool {
        self.pg_users.load(Relaxed)
    }

    pub fn users(&self) -> Arc<Users> {
        Arc::clone(&self.users.read())
    }

    pub fn user(&self, name: &[u8]) -> Option<Arc<User>> {
        self.users.read().get(name).cloned()
    }

    pub fn log_max_len(&self) -> usize {
        self.log_max_len.load(Relaxed)
    }

    /// Swaps in a new map (the caller holds `change`, or is `new`).
    fn install(&self, users: Users) {
        let needs_auth = users
            .get(&b"default"[..])
            .is_none_or(|default| default.needs_password());
        let pg_users = users.values().any(|user| {
            user.name != b"default" && user.enabled() && user.scram_verifier().is_some()
        });
        *self.users.write() = Arc::new(users);
        self.default_needs_auth.store(needs_auth, Relaxed);
        self.pg_users.store(pg_users, Relaxed);
        self.generation.fetch_add(1, Relaxed);
    }

    /// ACL SETUSER: every rule applies or none does. Err: the rule that
    /// failed (as it may be shown) and why.
    pub fn set_user(&self, name: &[u8], rules: &[&[u8]]) -> Result<(), (String, RuleError)> {
        let _change = self.change.lock();
        let mut users = (**self.users.read()).clone();
        let mut user = users
            .get(name)
            .map_or_else(|| User::new(name), |known| (**known).clone());
        for rule in rules {
            user.apply(rule, true)
                .map_err(|error| (user::shown_rule(rule), error))?;
        }
        users.insert(name.to_vec(), Arc::new(user));
        self.install(users);
        Ok(())
    }

    /// ACL DELUSER (the caller refuses `default`): how many existed.
    /// Connections logged in as them are closed at their next request.
    pub fn delete_users(&self, names: &[&[u8]]) -> usize {
        let _change = self.change.lock();
        let mut users = (**self.users.read()).clone();
        let deleted = names
            .iter()
            .filter(|name| users.remove(**name).is_some())
            .count();
        if deleted > 0 {
            self.install(users);
        }
        deleted
    }

    /// Checks a login (AUTH, HELLO AUTH, a PostgreSQL password is checked
    /// by SCRAM instead): the address's limit first, then the user, that
    /// it is on, and the password. A failure counts against the address.
    pub fn login(
        &self,
        name: &[u8],
        password: &[u8],
        ip: Option<IpAddr>,
    ) -> Result<Arc<User>, LoginError> {
        self.limiter.check(ip).map_err(LoginError::Blocked)?;
        match self.user(name) {
            Some(user) if user.enabled() && user.password_matches(password) => Ok(user),
            _ => {
                self.limiter.failure(ip);
                Err(LoginError::Wrong)
            }
        }
    }

    /// Puts a new configuration's users in force: a changed requirepass
    /// sets the default user's password (as CONFIG SET requirepass does
    /// in Redis), a changed or new `user` line redefines that user, a
    /// removed one deletes it (the default user goes back to its
    /// defaults). Users made by ACL SETUSER and unchanged lines stay as
    /// they are.
    pub fn reconfigure(&self, old: &Config, new: &Config) {
        self.limiter
            .configure(new.auth_failure_limit, new.auth_failure_window_ms);
        self.log_max_len.store(new.acllog_max_len, Relaxed);
        self.log.trim(new.acllog_max_len);
        let old_lines = config_lines(old);
        let new_lines = config_lines(new);
        if old.requirepass == new.requirepass && old_lines == new_lines {
            return;
        }
        let _change = self.change.lock();
        let mut users = (**self.users.read()).clone();
        if old.requirepass != new.requirepass {
            let mut default = users
                .get(&b"default"[..])
                .map_or_else(User::default_user, |known| (**known).clone());
            set_requirepass(&mut default, new.requirepass.as_deref(), true);
            users.insert(default.name.clone(), Arc::new(default));
        }
        for (name, _) in old_lines
            .iter()
            .filter(|(name, _)| !new_lines.contains_key(*name))
        {
            if *name == b"default" {
                let default = default_user(new, true);
                users.insert(default.name.clone(), Arc::new(default));
            } else {
                users.remove(*name);
            }
        }
        for (name, rules) in &new_lines {
            if old_lines.get(name) == Some(rules) {
                continue;
            }
            match configured_user(name, rules, new, true) {
                Ok(user) => {
                    users.insert(name.to_vec(), Arc::new(user));
                }
                // Validated when the configuration was read.
                Err(error) => crate::log_error!("user {}: {error}", String::from_utf8_lossy(name)),
            }
        }
        self.install(users);
    }

    /// Adds an ACL LOG entry (bounded by acllog-max-len).
    pub fn note(&self, entry: log::Entry) {
        let max = self.log_max_len();
        if max > 0 {
            self.log.add(entry, max);
        }
    }
}

/// A `user` line's name and rules.
pub fn parse_line(line: &str) -> Result<(&[u8], Vec<&[u8]>), String> {
    let mut words = line.split_ascii_whitespace().map(str::as_bytes);
    let name = words
        .next()
        .ok_or("expected a user name and its rules, e.g. \"alice on >secret ~app:* +@all\"")?;
    Ok((name, words.collect()))
}

/// The configuration's `user` lines by name.
fn config_lines(config: &Config) -> BTreeMap<&[u8], Vec<&[u8]>> {
    config
        .users
        .iter()
        .filter_map(|line| parse_line(line).ok())
        .collect()
}

/// Redis's ACLUpdateDefaultUserPassword.
fn set_requirepass(user: &mut User, password: Option<&str>, derive_scram: bool) {
    let _ = user.apply(b"resetpass", false);
    match password {
        Some(password) => {
            let rule = [b">", password.as_bytes()].concat();
            let _ = user.apply(&rule, derive_scram);
        }
        None => {
            let _ = user.apply(b"nopass", false);
        }
    }
}

/// The default user before any `user default` line: Redis's, with
/// requirepass as its password.
fn default_user(config: &Config, derive_scram: bool) -> User {
    let mut user = User::default_user();
    if config.requirepass.is_some() {
        set_requirepass(&mut user, config.requirepass.as_deref(), derive_scram);
    }
    user
}

/// A user as a `user` line defines it: created fresh (the default user:
/// reset), then the rules.
fn configured_user(
    name: &[u8],
    rules: &[&[u8]],
    config: &Config,
    derive_scram: bool,
) -> Result<User, String> {
    if user::has_spaces(name) {
        return Err("Usernames can't contain spaces or null characters".into());
    }
    let mut user = if name == b"default" {
        let mut user = default_user(config, derive_scram);
        let _ = user.apply(b"reset", false);
        user
    } else {
        User::new(name)
    };
    for rule in rules {
        user.apply(rule, derive_scram).map_err(|error| {
            format!(
                "Error in applying operation '{}': {}",
                user::shown_rule(rule),
                error.text()
            )
        })?;
    }
    Ok(user)
}

/// Every user a configuration defines.
fn build(config: &Config, derive_scram: bool) -> Result<Users, String> {
    let mut users = Users::new();
    let default = default_user(config, derive_scram);
    users.insert(default.name.clone(), Arc::new(default));
    for line in &config.users {
        let (name, rules) = parse_line(line)?;
        let user = configured_user(name, &rules, config, derive_scram)?;
        users.insert(name.to_vec(), Arc::new(user));
    }
    Ok(users)
}

/// Checks one `user` line (the settings loader): the reason, without the
/// setting's name, if it is invalid. No password is hashed for PostgreSQL.
pub fn check_line(line: &str) -> Result<(), String> {
    let (name, rules) = parse_line(line)?;
    configured_user(name, &rules, &Config::default(), false).map(drop)
}

/// Whether the default user will need a password (or be off) under this
/// configuration: what protected mode asks for.
pub fn default_needs_password(config: &Config) -> bool {
    build(config, false)
        .ok()
        .and_then(|users| users.get(&b"default"[..]).map(|u| u.needs_password()))
        .unwrap_or(config.requirepass.is_some())
}

/// The user a connection runs as, and the store generation it was read
/// at.
#[derive(Clone, Debug)]
pub struct SessionUser {
    /// None: the default user, not looked up yet.
    user: Option<Arc<User>>,
    generation: u64,
    /// `generation` when the user may run everything, else u64::MAX: the
    /// request path compares only this.
    fast: u64,
}

impl Default for SessionUser {
    fn default() -> Self {
        SessionUser {
            user: None,
            generation: u64::MAX,
            fast: u64::MAX,
        }
    }
}

/// What `SessionUser::check` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Denied(Denied),
    /// ACL DELUSER removed the user: the connection is closed (Redis
    /// closes it at once).
    UserRemoved,
}

impl SessionUser {
    /// A connection that just logged in as `user`.
    pub fn logged_in(user: Arc<User>, acl: &Acl) -> SessionUser {
        let generation = acl.generation();
        let fast = if user.unrestricted {
            generation
        } else {
            u64::MAX
        };
        SessionUser {
            user: Some(user),
            generation,
            fast,
        }
    }

    pub fn name(&self) -> &[u8] {
        self.user.as_deref().map_or(b"default", |u| &u.name[..])
    }

    /// The fast path: nothing changed and the user may run everything.
    #[inline]
    pub fn unrestricted(&self, acl: &Acl) -> bool {
        self.fast == acl.generation()
    }

    /// Looks the user up again after a change; false if it is gone.
    fn refresh(&mut self, acl: &Acl) -> bool {
        let generation = acl.generation();
        if generation == self.generation && self.user.is_some() {
            return true;
        }
        let name = self.name().to_vec();
        match acl.user(&name) {
            Some(user) => {
                *self = SessionUser::logged_in(user, acl);
                true
            }
            None => {
                self.user = None;
                self.generation = u64::MAX;
                self.fast = u64::MAX;
                false
            }
        }
    }

    /// After a refresh, the selector a command must pass; None when the
    /// user may run every command on every key (the fast path).
    fn restricting_selector(&mut self, acl: &Acl) -> Result<Option<&user::Selector>, Refusal> {
        if !self.refresh(acl) {
            return Err(Refusal::UserRemoved);
        }
        if self.fast == self.generation {
            return Ok(None);
        }
        Ok(Some(&self.user.as_ref().expect("refreshed").selector))
    }

    /// Whether the user may run this command (`bit`: its RESP statistics
    /// slot) with these arguments.
    pub fn check(
        &mut self,
        acl: &Acl,
        spec: &crate::resp::cmd::CommandSpec,
        bit: usize,
        args: &crate::resp::Args<'_>,
    ) -> Result<(), Refusal> {
        match self.restricting_selector(acl)? {
            Some(selector) => selector.check(spec, bit, args).map_err(Refusal::Denied),
            None => Ok(()),
        }
    }

    /// The same for a command of another data type, which corewire does
    /// not have: needs `+@all` (the future-commands bit), and its key
    /// (argument 1) must match a pattern.
    pub fn check_unlisted(
        &mut self,
        acl: &Acl,
        args: &crate::resp::Args<'_>,
    ) -> Result<(), Refusal> {
        let Some(selector) = self.restricting_selector(acl)? else {
            return Ok(());
        };
        if !selector.allows_unlisted_commands() {
            return Err(Refusal::Denied(Denied::Command));
        }
        if args.len() > 1 && !selector.key_allowed(args.get(1), 0) {
            return Err(Refusal::Denied(Denied::Key(1)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(users: &[&str], requirepass: Option<&str>) -> Config {
        Config {
            users: users.iter().map(|s| s.to_string()).collect(),
            requirepass: requirepass.map(Into::into),
            ..Config::default()
        }
    }

    #[test]
    fn the_default_user_follows_requirepass_and_its_line() {
        let acl = Acl::new(&config(&[], None));
        assert!(!acl.default_needs_auth());
        assert_eq!(
            acl.user(b"default").unwrap().describe(),
            "on nopass ~* &* +@all"
        );
        let acl = Acl::new(&config(&[], Some("pw")));
        assert!(acl.default_needs_auth());
        assert!(acl.login(b"default", b"pw", None).is_ok());
        assert_eq!(
            acl.login(b"default", b"no", None).unwrap_err(),
            LoginError::Wrong
        );
        // A `user default` line wins over requirepass.
        let acl = Acl::new(&config(&["default on nopass ~* +@all"], Some("pw")));
        assert!(!acl.default_needs_auth());
        assert!(!default_needs_password(&config(
            &["default on nopass"],
            Some("pw")
        )));
        assert!(default_needs_password(&config(&["default off"], None)));
        assert!(default_needs_password(&config(&["default on >x"], None)));
        assert!(!default_needs_password(&config(&["alice on >x"], None)));
    }

    #[test]
    fn reconfigure_touches_only_what_changed() {
        let old = config(&["alice on >a ~* +@all", "bob on >b"], None);
        let acl = Acl::new(&old);
        acl.set_user(b"carol", &[b"on", b"nopass"]).unwrap();
        acl.set_user(b"bob", &[b"+get"]).unwrap();
        let new = config(&["alice on >a2 ~* +@all", "bob on >b"], Some("pw"));
        let before = acl.generation();
        acl.reconfigure(&old, &new);
        assert!(acl.generation() > before);
        assert!(acl.login(b"alice", b"a2", None).is_ok());
        assert!(acl.login(b"alice", b"a", None).is_err());
        // bob's line did not change: ACL SETUSER's +get stays.
        assert!(acl.user(b"bob").unwrap().describe().ends_with("+get"));
        assert!(acl.user(b"carol").is_some());
        assert!(acl.default_needs_auth());
        let newer = config(&["bob on >b"], Some("pw"));
        acl.reconfigure(&new, &newer);
        assert!(acl.user(b"alice").is_none());
    }

    #[test]
    fn lines_are_checked_without_echoing_passwords() {
        assert!(check_line("alice on >secret ~app:* +@all -@dangerous").is_ok());
        let error = check_line("alice on >secret <other").unwrap_err();
        assert!(
            !error.contains("other") && error.contains("does not exist"),
            "{error}"
        );
        assert!(check_line("alice +nosuch")
            .unwrap_err()
            .contains("Unknown command"));
        assert!(check_line("").is_err());
    }

    #[test]
    fn sessions_follow_changes() {
        let acl = Acl::new(&config(&["alice on >a ~* +@all"], None));
        let alice = acl.login(b"alice", b"a", None).unwrap();
        let mut session = SessionUser::logged_in(alice, &acl);
        assert!(session.unrestricted(&acl));
        acl.set_user(b"alice", &[b"-get"]).unwrap();
        assert!(!session.unrestricted(&acl));
        let get = crate::resp::cmd::lookup(b"get").unwrap();
        let bit = commands::table().commands[commands::table().lookup(b"get").unwrap()].bit;
        let base = b"getk";
        let ranges = [0..3, 3..4];
        let args = crate::resp::Args::new(base, &ranges);
        assert_eq!(
            session.check(&acl, get, bit, &args),
            Err(Refusal::Denied(Denied::Command))
        );
        acl.delete_users(&[b"alice"]);
        assert_eq!(
            session.check(&acl, get, bit, &args),
            Err(Refusal::UserRemoved)
        );
    }
}
