//! Session run-time parameters (PostgreSQL's GUCs): defaults, SET / SHOW /
//! RESET with transactional undo, and the ones reported to the client in
//! ParameterStatus.

use std::collections::BTreeMap;

use super::error::{sqlstate, PgError};

/// server_version as reported; drivers parse it for feature checks.
pub const SERVER_VERSION: &str = "15.0";

/// How a parameter behaves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Any text.
    Text,
    /// on / off (true, yes, 1 ...), shown as on / off.
    Bool,
    /// An integer in a range.
    Integer(i64, i64),
    /// Only the value shown (server-set, read-only).
    ReadOnly,
    /// Validated by its own rule (client_encoding, DateStyle).
    Special,
}

struct Spec {
    /// Canonical spelling (names are case-insensitive).
    name: &'static str,
    default: &'static str,
    kind: Kind,
    /// Sent in ParameterStatus at startup and whenever it changes.
    reported: bool,
}

const fn spec(name: &'static str, default: &'static str, kind: Kind, reported: bool) -> Spec {
    Spec {
        name,
        default,
        kind,
        reported,
    }
}

/// Every parameter corewire knows. `session_authorization` and
/// `is_superuser` defaults are placeholders set at login.
const SPECS: &[Spec] = &[
    spec("application_name", "", Kind::Text, true),
    spec("bytea_output", "hex", Kind::Text, false),
    spec("client_encoding", "UTF8", Kind::Special, true),
    spec("client_min_messages", "notice", Kind::Text, false),
    spec("DateStyle", "ISO, MDY", Kind::Special, true),
    spec(
        "default_transaction_isolation",
        "serializable",
        Kind::Text,
        false,
    ),
    spec("default_transaction_read_only", "off", Kind::Bool, true),
    spec("extra_float_digits", "1", Kind::Integer(-15, 3), false),
    spec(
        "idle_in_transaction_session_timeout",
        "0",
        Kind::Text,
        false,
    ),
    spec("in_hot_standby", "off", Kind::ReadOnly, true),
    spec("integer_datetimes", "on", Kind::ReadOnly, true),
    spec("IntervalStyle", "postgres", Kind::Text, true),
    spec("is_superuser", "on", Kind::ReadOnly, true),
    spec("lc_collate", "C.UTF-8", Kind::ReadOnly, false),
    spec("lc_ctype", "C.UTF-8", Kind::ReadOnly, false),
    spec("lc_messages", "C.UTF-8", Kind::Text, false),
    spec("lc_monetary", "C.UTF-8", Kind::Text, false),
    spec("lc_numeric", "C.UTF-8", Kind::Text, false),
    spec("lc_time", "C.UTF-8", Kind::Text, false),
    spec("lock_timeout", "0", Kind::Text, false),
    spec("max_identifier_length", "63", Kind::ReadOnly, false),
    spec("search_path", "\"$user\", public", Kind::Text, false),
    spec("server_encoding", "UTF8", Kind::ReadOnly, true),
    spec("server_version", SERVER_VERSION, Kind::ReadOnly, true),
    spec("server_version_num", "150000", Kind::ReadOnly, false),
    spec("session_authorization", "", Kind::ReadOnly, true),
    spec("standard_conforming_strings", "on", Kind::ReadOnly, true),
    spec("statement_timeout", "0", Kind::Text, false),
    spec("synchronous_commit", "on", Kind::Text, false),
    spec("TimeZone", "UTC", Kind::Text, true),
    spec("transaction_isolation", "serializable", Kind::Text, false),
    spec("transaction_read_only", "off", Kind::Bool, false),
];

fn find(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name.eq_ignore_ascii_case(name))
}

/// Most parameters a session may set (custom `x.y` ones included).
const MAX_SETTINGS: usize = 1000;
/// Longest parameter value accepted.
const MAX_VALUE_BYTES: usize = 64 * 1024;

/// One session's parameters. Values differing from the defaults live in a
/// map keyed by lowercase name; a transaction's changes can be undone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params {
    /// Values from the startup packet: what RESET returns to.
    startup: BTreeMap<String, String>,
    /// Session-level values (SET, set_config(..., false)).
    session: BTreeMap<String, String>,
    /// SET LOCAL values, dropped at the end of the transaction.
    local: BTreeMap<String, String>,
}

impl Params {
    /// Parameters for a new session: the startup packet's options on top
    /// of the defaults. Unknown startup options are refused as PostgreSQL
    /// does (FATAL 42704).
    pub fn for_login(user: &str, startup: &[(String, String)]) -> Result<Params, PgError> {
        let mut params = Params::default();
        params
            .session
            .insert("session_authorization".into(), user.to_string());
        for (name, value) in startup {
            params
                .set(name, Some(value), false, true)
                .map_err(|mut e| {
                    e.severity = super::error::Severity::Fatal;
                    e
                })?;
        }
        params.startup = std::mem::take(&mut params.session);
        Ok(params)
    }

    /// Current value, or `None` for an unknown name.
    pub fn get(&self, name: &str) -> Option<String> {
        let key = name.to_ascii_lowercase();
        let set = self.local.get(&key).or_else(|| self.session.get(&key));
        if let Some(value) = set.or_else(|| self.startup.get(&key)) {
            return Some(value.clone());
        }
        find(name).map(|spec| spec.default.to_string())
    }

    /// SET name = value (None: DEFAULT). `at_startup` allows what only the
    /// startup packet may set (e.g. a custom option before any SET).
    pub fn set(
        &mut self,
        name: &str,
        value: Option<&str>,
        local: bool,
        at_startup: bool,
    ) -> Result<(), PgError> {
        let key = name.to_ascii_lowercase();
        let spec = find(name);
        if spec.is_none() && !key.contains('.') {
            return Err(unrecognized(name));
        }
        if let Some(spec) = spec {
            if spec.kind == Kind::ReadOnly && !(at_startup && key == "session_authorization") {
                return Err(PgError::new(
                    sqlstate::CANT_CHANGE_RUNTIME_PARAM,
                    format!("parameter \"{}\" cannot be changed", spec.name),
                ));
            }
        }
        let Some(value) = value else {
            let map = if local {
                &mut self.local
            } else {
                &mut self.session
            };
            map.remove(&key);
            if !local {
                self.local.remove(&key);
            }
            return Ok(());
        };
        if value.len() > MAX_VALUE_BYTES {
            return Err(invalid_value(name, value));
        }
        let value = match spec {
            Some(spec) => normalize(spec, value, &self.get(spec.name).unwrap_or_default())?,
            None => value.to_string(),
        };
        if self.session.len() + self.local.len() >= MAX_SETTINGS && self.get(&key).is_none() {
            return Err(PgError::new(
                sqlstate::PROGRAM_LIMIT_EXCEEDED,
                format!("more than {MAX_SETTINGS} parameters set in one session"),
            ));
        }
        if local {
            self.local.insert(key, value);
        } else {
            self.local.remove(&key);
            self.session.insert(key, value);
        }
        Ok(())
    }

    /// RESET name / RESET ALL (None).
    pub fn reset(&mut self, name: Option<&str>) -> Result<(), PgError> {
        match name {
            Some(name) => self.set(name, None, false, false),
            None => {
                self.session.clear();
                self.local.clear();
                Ok(())
            }
        }
    }

    /// End of a transaction: SET LOCAL values lapse.
    pub fn end_transaction(&mut self) {
        self.local.clear();
    }

    /// The reported parameters and their values, in a stable order.
    pub fn reported(&self) -> Vec<(&'static str, String)> {
        SPECS
            .iter()
            .filter(|s| s.reported)
            .map(|s| (s.name, self.get(s.name).unwrap_or_default()))
            .collect()
    }

    /// Every known parameter and custom setting, for SHOW ALL.
    pub fn all(&self) -> Vec<(String, String)> {
        let mut rows: Vec<(String, String)> = SPECS
            .iter()
            .map(|s| (s.name.to_string(), self.get(s.name).unwrap_or_default()))
            .collect();
        let keys = self.startup.keys().chain(self.session.keys());
        for key in keys.chain(self.local.keys()) {
            if find(key).is_none() && !rows.iter().any(|(name, _)| name == key) {
                rows.push((key.clone(), self.get(key).unwrap_or_default()));
            }
        }
        rows.sort_by_key(|(name, _)| name.to_ascii_lowercase());
        rows
    }

    /// The canonical spelling of a known name (SHOW's column title).
    pub fn canonical_name(name: &str) -> String {
        find(name).map_or_else(|| name.to_ascii_lowercase(), |s| s.name.to_string())
    }
}

fn unrecognized(name: &str) -> PgError {
    PgError::new(
        sqlstate::UNDEFINED_OBJECT,
        format!("unrecognized configuration parameter \"{name}\""),
    )
}

fn invalid_value(name: &str, value: &str) -> PgError {
    PgError::new(
        sqlstate::INVALID_PARAMETER_VALUE,
        format!("invalid value for parameter \"{name}\": \"{value}\""),
    )
}

/// Checks a value and brings it to the form SHOW prints.
fn normalize(spec: &Spec, value: &str, current: &str) -> Result<String, PgError> {
    let trimmed = value.trim();
    match spec.kind {
        Kind::Text | Kind::ReadOnly => Ok(value.to_string()),
        Kind::Bool => match trimmed.to_ascii_lowercase().as_str() {
            "on" | "true" | "yes" | "1" | "t" | "y" => Ok("on".into()),
            "off" | "false" | "no" | "0" | "f" | "n" => Ok("off".into()),
            _ => Err(PgError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                format!("parameter \"{}\" requires a Boolean value", spec.name),
            )),
        },
        Kind::Integer(min, max) => {
            let number: i64 = trimmed.parse().map_err(|_| {
                PgError::new(
                    sqlstate::INVALID_PARAMETER_VALUE,
                    format!("invalid value for parameter \"{}\": \"{value}\"", spec.name),
                )
            })?;
            if !(min..=max).contains(&number) {
                return Err(PgError::new(
                    sqlstate::INVALID_PARAMETER_VALUE,
                    format!(
                        "{number} is outside the valid range for parameter \"{}\" ({min} .. {max})",
                        spec.name
                    ),
                ));
            }
            Ok(number.to_string())
        }
        Kind::Special if spec.name == "client_encoding" => {
            // asyncpg sends 'utf-8' with its quotes.
            match trimmed
                .trim_matches('\'')
                .to_ascii_uppercase()
                .replace(['-', '_'], "")
                .as_str()
            {
                "UTF8" | "UNICODE" => Ok("UTF8".into()),
                _ => Err(invalid_value(spec.name, value).with_detail("corewire speaks UTF8 only")),
            }
        }
        Kind::Special => normalize_datestyle(value, current),
    }
}

/// DateStyle: an output style and/or a field order, the other kept.
fn normalize_datestyle(value: &str, current: &str) -> Result<String, PgError> {
    let (mut style, mut order) = current.split_once(", ").unwrap_or(("ISO", "MDY"));
    for word in value.split(',').map(str::trim) {
        match word.to_ascii_uppercase().as_str() {
            "ISO" => style = "ISO",
            "SQL" => style = "SQL",
            "POSTGRES" => style = "Postgres",
            "GERMAN" => style = "German",
            "DMY" | "EURO" | "EUROPEAN" => order = "DMY",
            "MDY" | "US" | "NONEURO" | "NONEUROPEAN" => order = "MDY",
            "YMD" => order = "YMD",
            "DEFAULT" => (style, order) = ("ISO", "MDY"),
            _ => return Err(invalid_value("DateStyle", value)),
        }
    }
    Ok(format!("{style}, {order}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_set_local_and_reset() {
        let mut params =
            Params::for_login("alice", &[("application_name".into(), "t".into())]).unwrap();
        assert_eq!(params.get("APPLICATION_NAME").unwrap(), "t");
        assert_eq!(params.get("session_authorization").unwrap(), "alice");
        params
            .set("datestyle", Some("German"), false, false)
            .unwrap();
        assert_eq!(params.get("DateStyle").unwrap(), "German, MDY");
        params
            .set("extra_float_digits", Some("3"), true, false)
            .unwrap();
        assert_eq!(params.get("extra_float_digits").unwrap(), "3");
        params.end_transaction();
        assert_eq!(params.get("extra_float_digits").unwrap(), "1");
        params
            .set("application_name", Some("u"), false, false)
            .unwrap();
        params.reset(Some("application_name")).unwrap();
        assert_eq!(params.get("application_name").unwrap(), "t");
        params.reset(None).unwrap();
        assert_eq!(params.get("DateStyle").unwrap(), "ISO, MDY");
        assert_eq!(params.get("application_name").unwrap(), "t");
        assert_eq!(params.get("session_authorization").unwrap(), "alice");
    }

    #[test]
    fn bad_names_and_values_are_refused() {
        let mut params = Params::default();
        let error = params.set("no_such", Some("1"), false, false).unwrap_err();
        assert_eq!(error.code, sqlstate::UNDEFINED_OBJECT);
        assert_eq!(
            error.message,
            "unrecognized configuration parameter \"no_such\""
        );
        params.set("myapp.tenant", Some("7"), false, false).unwrap();
        assert_eq!(params.get("myapp.tenant").unwrap(), "7");
        assert_eq!(
            params
                .set("server_version", Some("9"), false, false)
                .unwrap_err()
                .code,
            sqlstate::CANT_CHANGE_RUNTIME_PARAM
        );
        assert!(params
            .set("client_encoding", Some("LATIN1"), false, false)
            .is_err());
        params
            .set("client_encoding", Some("utf-8"), false, false)
            .unwrap();
        assert_eq!(params.get("client_encoding").unwrap(), "UTF8");
        assert!(params
            .set("extra_float_digits", Some("9"), false, false)
            .is_err());
        assert!(params
            .set("transaction_read_only", Some("maybe"), false, false)
            .is_err());
    }

    #[test]
    fn reported_parameters_include_what_jdbc_checks() {
        let params = Params::for_login("u", &[]).unwrap();
        let reported = params.reported();
        let value = |name: &str| reported.iter().find(|(n, _)| *n == name).unwrap().1.clone();
        assert_eq!(value("client_encoding"), "UTF8");
        assert_eq!(value("DateStyle"), "ISO, MDY");
        assert_eq!(value("integer_datetimes"), "on");
        assert_eq!(value("standard_conforming_strings"), "on");
        assert_eq!(value("server_version"), SERVER_VERSION);
    }
}
