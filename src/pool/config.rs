//! What `[databases]` and `[users]` say, and the pool modes.
//!
//! A database entry is a PgBouncer connection string:
//! `app = "host=127.0.0.1 port=5432 dbname=app user=app password=secret pool_size=20"`.
//! A user entry sets that user's pool mode: `alice = "pool_mode=session"`.

use std::fmt;

/// When a client's server connection goes back to the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolMode {
    /// When the client disconnects (after server-reset-query).
    Session,
    /// At the end of each transaction (ReadyForQuery `I`).
    Transaction,
}

impl PoolMode {
    pub fn name(self) -> &'static str {
        match self {
            PoolMode::Session => "session",
            PoolMode::Transaction => "transaction",
        }
    }

    pub fn parse(text: &str) -> Result<PoolMode, String> {
        match text.to_ascii_lowercase().as_str() {
            "session" => Ok(PoolMode::Session),
            "transaction" => Ok(PoolMode::Transaction),
            "statement" => Err("pool_mode statement is not supported (use transaction)".into()),
            _ => Err(format!(
                "pool_mode must be session or transaction, not \"{text}\""
            )),
        }
    }
}

/// One `[databases]` entry: clients that ask for `name` are served by
/// `dbname` on `host:port` through the pool.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseConfig {
    /// The database name clients connect to.
    pub name: String,
    /// Upstream host name or address (default 127.0.0.1).
    pub host: String,
    /// Upstream port (default 5432).
    pub port: u16,
    /// Upstream database (default: `name`).
    pub dbname: String,
    /// Upstream user; None: the client's own user (auth passthrough).
    pub user: Option<String>,
    /// Upstream password; None: the client's pg-user password when it is
    /// configured in plaintext, else none (trust).
    pub password: Option<String>,
    /// Server connections to this database across all workers (None:
    /// default-pool-size).
    pub pool_size: Option<usize>,
    /// Server connections kept open even when idle (None: min-pool-size).
    pub min_pool_size: Option<usize>,
    /// Extra connections allowed once a client waited
    /// reserve-pool-timeout-ms (None: reserve-pool-size).
    pub reserve_pool: Option<usize>,
    /// None: the user's pool mode, else pool-mode.
    pub pool_mode: Option<PoolMode>,
}

impl fmt::Debug for DatabaseConfig {
    // The password is never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseConfig({})", self.describe())
    }
}

/// One `[users]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolUserConfig {
    pub name: String,
    /// Overrides pool-mode for this user (a database's own pool_mode wins).
    pub pool_mode: Option<PoolMode>,
}

/// Database names clients reach without a `[databases]` entry: the
/// engine's own (`kv`) and the admin console (`corewire`).
pub const RESERVED_DATABASES: &[&str] = &["kv", "corewire"];

/// What `describe` shows for a password.
const REDACTED: &str = "<redacted>";

/// The keys a `[databases]` entry may have.
const DATABASE_KEYS: &str =
    "host, port, dbname, user, password, pool_size, min_pool_size, reserve_pool, pool_mode";

impl DatabaseConfig {
    /// Parses a PgBouncer connection string for database `name`:
    /// `key=value` pairs separated by spaces, a value in single quotes
    /// when it holds spaces (`\'` or `''` for a quote, `\\` for a
    /// backslash). Errors start with the database's name.
    pub fn parse(name: &str, connstr: &str) -> Result<DatabaseConfig, String> {
        check_name("database", name)?;
        if RESERVED_DATABASES
            .iter()
            .any(|reserved| reserved.eq_ignore_ascii_case(name))
        {
            return Err(format!(
                "{name}: the database name {name} is reserved ({} are corewire's own)",
                RESERVED_DATABASES.join(" and ")
            ));
        }
        let mut config = DatabaseConfig {
            name: name.to_string(),
            host: "127.0.0.1".into(),
            port: 5432,
            dbname: name.to_string(),
            user: None,
            password: None,
            pool_size: None,
            min_pool_size: None,
            reserve_pool: None,
            pool_mode: None,
        };
        let pairs = pairs(connstr).map_err(|reason| format!("{name}: {reason}"))?;
        for (key, value) in pairs {
            let invalid = |reason: String| format!("{name}: {key}: {reason}");
            match key.as_str() {
                "host" => {
                    if value.is_empty() {
                        return Err(invalid("cannot be empty".into()));
                    }
                    config.host = value;
                }
                "port" => {
                    config.port = match value.parse::<u16>() {
                        Ok(0) | Err(_) => {
                            return Err(invalid(format!("\"{value}\" is not a port (1 to 65535)")))
                        }
                        Ok(port) => port,
                    }
                }
                "dbname" => {
                    if value.is_empty() {
                        return Err(invalid("cannot be empty".into()));
                    }
                    config.dbname = value;
                }
                "user" => config.user = Some(value).filter(|user| !user.is_empty()),
                "password" if value == REDACTED => {
                    return Err(invalid(format!(
                        "{REDACTED} is how a password is shown, not a password"
                    )))
                }
                "password" => config.password = Some(value).filter(|password| !password.is_empty()),
                "pool_size" => match count(&value).map_err(invalid)? {
                    0 => return Err(invalid("must be at least 1".into())),
                    size => config.pool_size = Some(size),
                },
                "min_pool_size" => config.min_pool_size = Some(count(&value).map_err(invalid)?),
                "reserve_pool" => config.reserve_pool = Some(count(&value).map_err(invalid)?),
                "pool_mode" => {
                    config.pool_mode = Some(
                        PoolMode::parse(&value).map_err(|reason| format!("{name}: {reason}"))?,
                    )
                }
                _ => {
                    return Err(format!(
                        "{name}: unknown key \"{key}\" (keys: {DATABASE_KEYS})"
                    ))
                }
            }
        }
        if let (Some(min), Some(size)) = (config.min_pool_size, config.pool_size) {
            if min > size {
                return Err(format!(
                    "{name}: min_pool_size {min} is above pool_size {size}"
                ));
            }
        }
        Ok(config)
    }

    /// The entry as a connection string, password redacted (CONFIG GET,
    /// SHOW CONFIG, logs). Without a password it parses back to the same
    /// entry.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "host={} port={} dbname={}",
            quote(&self.host),
            self.port,
            quote(&self.dbname)
        );
        if let Some(user) = &self.user {
            text.push_str(&format!(" user={}", quote(user)));
        }
        if self.password.is_some() {
            text.push_str(&format!(" password={REDACTED}"));
        }
        for (key, value) in [
            ("pool_size", self.pool_size),
            ("min_pool_size", self.min_pool_size),
            ("reserve_pool", self.reserve_pool),
        ] {
            if let Some(value) = value {
                text.push_str(&format!(" {key}={value}"));
            }
        }
        if let Some(mode) = self.pool_mode {
            text.push_str(&format!(" pool_mode={}", mode.name()));
        }
        text
    }
}

impl PoolUserConfig {
    /// Parses a `[users]` entry for user `name`: `pool_mode=session` (the
    /// same syntax as a database entry; pool_mode is the only key).
    pub fn parse(name: &str, text: &str) -> Result<PoolUserConfig, String> {
        check_name("user", name)?;
        let mut config = PoolUserConfig {
            name: name.to_string(),
            pool_mode: None,
        };
        for (key, value) in pairs(text).map_err(|reason| format!("{name}: {reason}"))? {
            match key.as_str() {
                "pool_mode" => {
                    config.pool_mode = Some(
                        PoolMode::parse(&value).map_err(|reason| format!("{name}: {reason}"))?,
                    )
                }
                _ => return Err(format!("{name}: unknown key \"{key}\" (keys: pool_mode)")),
            }
        }
        Ok(config)
    }

    /// The entry as it is written (`pool_mode=session`, or "").
    pub fn describe(&self) -> String {
        self.pool_mode
            .map(|mode| format!("pool_mode={}", mode.name()))
            .unwrap_or_default()
    }
}

/// A database or user name: not empty, and nothing that would not read
/// back from `NAME=...` or a comma-separated list.
fn check_name(what: &str, name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err(format!("a {what} name cannot be empty"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| matches!(c, '=' | ',') || c.is_control())
    {
        return Err(format!("{name}: a {what} name cannot contain {bad:?}"));
    }
    Ok(())
}

fn count(value: &str) -> Result<usize, String> {
    value
        .parse()
        .map_err(|_| format!("\"{value}\" is not a number"))
}

/// A value as a connection string writes it: quoted when it is empty or
/// holds spaces, quotes or backslashes.
fn quote(value: &str) -> String {
    if !value.is_empty()
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c == '\'' || c == '\\')
    {
        return value.to_string();
    }
    let mut text = String::from("'");
    for c in value.chars() {
        if c == '\'' || c == '\\' {
            text.push('\\');
        }
        text.push(c);
    }
    text.push('\'');
    text
}

/// The `key=value` pairs of a connection string, keys lowercased; a key
/// given twice is an error.
fn pairs(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(pairs);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c.to_ascii_lowercase());
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(format!("expected key=value, found \"{key}\" without ="));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    None => return Err(format!("{key}: the quoted value is not closed")),
                    Some('\\') => match chars.next() {
                        Some(c) => value.push(c),
                        None => return Err(format!("{key}: the quoted value is not closed")),
                    },
                    Some('\'') if chars.next_if_eq(&'\'').is_some() => value.push('\''),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                }
            }
            if chars.peek().is_some_and(|c| !c.is_whitespace()) {
                return Err(format!("{key}: expected a space after the quoted value"));
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    if let Some(next) = chars.next() {
                        value.push(next);
                        continue;
                    }
                }
                value.push(c);
            }
        }
        if pairs.iter().any(|(known, _)| *known == key) {
            return Err(format!("{key} is given twice"));
        }
        pairs.push((key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_entry_takes_every_key() {
        let db = DatabaseConfig::parse(
            "app",
            "host=db.local port=6432 dbname=appdb user=app password=secret pool_size=20 \
             min_pool_size=2 reserve_pool=3 pool_mode=transaction",
        )
        .unwrap();
        assert_eq!(db.name, "app");
        assert_eq!(db.host, "db.local");
        assert_eq!(db.port, 6432);
        assert_eq!(db.dbname, "appdb");
        assert_eq!(db.user.as_deref(), Some("app"));
        assert_eq!(db.password.as_deref(), Some("secret"));
        assert_eq!(db.pool_size, Some(20));
        assert_eq!(db.min_pool_size, Some(2));
        assert_eq!(db.reserve_pool, Some(3));
        assert_eq!(db.pool_mode, Some(PoolMode::Transaction));
    }

    #[test]
    fn defaults_are_loopback_5432_and_the_same_name() {
        for text in ["", "   "] {
            let db = DatabaseConfig::parse("app", text).unwrap();
            assert_eq!((db.host.as_str(), db.port), ("127.0.0.1", 5432));
            assert_eq!(db.dbname, "app");
            assert_eq!((db.user, db.password, db.pool_size), (None, None, None));
            assert_eq!(db.pool_mode, None);
        }
        // Spaces around = are allowed, keys are not case-sensitive.
        let db = DatabaseConfig::parse("app", " PORT = 5 ").unwrap();
        assert_eq!(db.port, 5);
    }

    #[test]
    fn quoted_values_take_spaces_and_escaped_quotes() {
        let db = DatabaseConfig::parse(
            "app",
            r"password='it''s a \'secret\' \\o/' dbname='my db' user=a\ b",
        )
        .unwrap();
        assert_eq!(db.password.as_deref(), Some(r"it's a 'secret' \o/"));
        assert_eq!(db.dbname, "my db");
        assert_eq!(db.user.as_deref(), Some("a b"));
        let db = DatabaseConfig::parse("app", "password='' user=''").unwrap();
        assert_eq!((db.password, db.user), (None, None));
    }

    #[test]
    fn errors_name_the_database_and_the_key() {
        for (name, text, wanted) in [
            (
                "app",
                "hots=x",
                "app: unknown key \"hots\" (keys: host, port,",
            ),
            ("app", "port=0", "app: port: \"0\" is not a port"),
            ("app", "port=99999", "app: port: \"99999\" is not a port"),
            ("app", "port=abc", "app: port: \"abc\" is not a port"),
            ("app", "pool_size=0", "app: pool_size: must be at least 1"),
            (
                "app",
                "pool_size=-1",
                "app: pool_size: \"-1\" is not a number",
            ),
            (
                "app",
                "reserve_pool=x",
                "app: reserve_pool: \"x\" is not a number",
            ),
            (
                "app",
                "pool_mode=statement",
                "app: pool_mode statement is not supported",
            ),
            (
                "app",
                "pool_mode=x",
                "app: pool_mode must be session or transaction",
            ),
            ("app", "host=", "app: host: cannot be empty"),
            ("app", "dbname=''", "app: dbname: cannot be empty"),
            (
                "app",
                "host",
                "app: expected key=value, found \"host\" without =",
            ),
            (
                "app",
                "password='abc",
                "app: password: the quoted value is not closed",
            ),
            (
                "app",
                "password='a'b",
                "app: password: expected a space after the quoted value",
            ),
            ("app", "port=1 port=2", "app: port is given twice"),
            (
                "app",
                "password=<redacted>",
                "app: password: <redacted> is how a password is shown",
            ),
            (
                "app",
                "pool_size=2 min_pool_size=3",
                "app: min_pool_size 3 is above pool_size 2",
            ),
            ("", "host=x", "a database name cannot be empty"),
            (" ", "host=x", "a database name cannot be empty"),
            ("a=b", "", "a=b: a database name cannot contain '='"),
            ("a,b", "", "a,b: a database name cannot contain ','"),
            ("kv", "", "kv: the database name kv is reserved"),
            (
                "corewire",
                "",
                "corewire: the database name corewire is reserved",
            ),
            ("KV", "", "KV: the database name KV is reserved"),
        ] {
            let error = DatabaseConfig::parse(name, text).unwrap_err();
            assert!(error.starts_with(wanted), "{name} {text:?}: {error}");
        }
    }

    #[test]
    fn describe_redacts_the_password_and_reads_back() {
        let text =
            "host=h port=1 dbname='my db' user=u password=hunter2 pool_size=5 pool_mode=session";
        let db = DatabaseConfig::parse("app", text).unwrap();
        let shown = db.describe();
        assert_eq!(
            shown,
            "host=h port=1 dbname='my db' user=u password=<redacted> pool_size=5 pool_mode=session"
        );
        assert!(!format!("{db:?}").contains("hunter2"));
        let db = DatabaseConfig {
            password: None,
            dbname: r"it's \ odd".into(),
            ..db
        };
        assert_eq!(DatabaseConfig::parse("app", &db.describe()), Ok(db));
    }

    #[test]
    fn a_user_entry_takes_pool_mode_only() {
        let user = PoolUserConfig::parse("alice", "pool_mode=session").unwrap();
        assert_eq!(user.pool_mode, Some(PoolMode::Session));
        assert_eq!(user.describe(), "pool_mode=session");
        assert_eq!(PoolUserConfig::parse("bob", "").unwrap().pool_mode, None);
        assert_eq!(
            PoolUserConfig::parse("bob", "pool_size=1").unwrap_err(),
            "bob: unknown key \"pool_size\" (keys: pool_mode)"
        );
        assert!(PoolUserConfig::parse("bob", "pool_mode=statement")
            .unwrap_err()
            .starts_with("bob: pool_mode statement is not supported"));
        assert!(PoolUserConfig::parse("", "pool_mode=session").is_err());
    }
}
