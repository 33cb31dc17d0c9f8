//! Where settings come from, in order of precedence: command-line flags,
//! then `COREWIRE_*` environment variables, then the TOML file given with
//! `--config`, then the defaults. Errors name their source: the file and
//! line, the variable, or the flag.

use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{Arg, ArgAction};
use toml::de::{DeTable, DeValue};

use super::settings::{self, Setting, SETTINGS};
use super::{check, Config};

/// What the command line asked for.
#[derive(Debug)]
pub enum Command {
    /// Start the server.
    Run(Loaded),
    /// `--check-config`: the configuration is valid; print and exit 0.
    CheckConfig(Loaded),
    /// `--help` or `--version`: print this and exit 0.
    Print(String),
}

/// A configuration and what it was made from, kept for reloads.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub config: Config,
    pub source: Source,
}

/// The inputs a reload reads again: the same flags, the environment as it
/// is then, and the file as it is then.
#[derive(Clone, Debug, Default)]
pub struct Source {
    /// Command-line arguments without argv[0].
    pub args: Vec<String>,
    pub file: Option<PathBuf>,
}

/// Where a setting's value came from, for error messages.
#[derive(Clone)]
enum Origin {
    File { path: String, line: usize },
    Env(String),
    Flag,
}

impl Origin {
    fn prefix(&self, setting: &Setting) -> String {
        match self {
            Origin::File { path, line } => format!("{path}:{line}: {}", setting.name),
            Origin::Env(var) => var.clone(),
            Origin::Flag => format!("--{}", setting.name),
        }
    }
}

/// Parses the command line (without argv[0]) and loads the configuration
/// it names, reading the process environment.
pub fn parse_args(args: Vec<String>) -> Result<Command, String> {
    parse_args_with_env(args, &|name| std::env::var(name).ok())
}

/// As `parse_args`, with the environment given (tests).
pub fn parse_args_with_env(
    args: Vec<String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Command, String> {
    let matches = match cli()
        .try_get_matches_from(std::iter::once("corewire".to_string()).chain(args.iter().cloned()))
    {
        Ok(matches) => matches,
        Err(error) => {
            use clap::error::ErrorKind;
            return match error.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    Ok(Command::Print(error.to_string()))
                }
                _ => Err(error.to_string().trim_end().to_string()),
            };
        }
    };
    let file = matches
        .get_one::<String>("config")
        .cloned()
        .or_else(|| env("COREWIRE_CONFIG"))
        .filter(|path| !path.is_empty())
        .map(PathBuf::from);
    let source = Source { args, file };
    let config = load_from(&source, &matches, env)?;
    let loaded = Loaded { config, source };
    if matches.get_flag("check-config") {
        Ok(Command::CheckConfig(loaded))
    } else {
        Ok(Command::Run(loaded))
    }
}

/// Loads the configuration again from the same source (a reload).
pub fn reload(source: &Source) -> Result<Config, String> {
    let matches = cli()
        .try_get_matches_from(
            std::iter::once("corewire".to_string()).chain(source.args.iter().cloned()),
        )
        .map_err(|error| error.to_string())?;
    load_from(source, &matches, &|name| std::env::var(name).ok())
}

fn load_from(
    source: &Source,
    matches: &clap::ArgMatches,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, String> {
    let mut config = Config::default();
    let mut origins: Vec<(&'static str, Origin)> = Vec::new();
    if let Some(path) = &source.file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the configuration: {e}", path.display()))?;
        apply_file(&mut config, &mut origins, path, &text)?;
    }
    for setting in SETTINGS {
        let var = setting.env_var();
        if let Some(value) = env(&var) {
            let values: Vec<&str> = if setting.list {
                value.split(',').filter(|v| !v.trim().is_empty()).collect()
            } else {
                vec![value.as_str()]
            };
            apply(
                &mut config,
                &mut origins,
                setting,
                &values,
                Origin::Env(var),
            )?;
        }
    }
    for setting in SETTINGS {
        if matches.value_source(setting.name) != Some(ValueSource::CommandLine) {
            continue;
        }
        let values: Vec<&str> = matches
            .get_many::<String>(setting.name)
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        apply(&mut config, &mut origins, setting, &values, Origin::Flag)?;
    }
    check(&config).map_err(|(name, reason)| {
        match origins.iter().rev().find(|(set, _)| *set == name) {
            Some((_, origin)) => {
                let setting = settings::find(name).expect("a known setting");
                format!("{}: {reason}", origin.prefix(setting))
            }
            None => format!("{name}: {reason}"),
        }
    })?;
    Ok(config)
}

/// Sets one setting from one source; a list is replaced, not extended.
fn apply(
    config: &mut Config,
    origins: &mut Vec<(&'static str, Origin)>,
    setting: &'static Setting,
    values: &[&str],
    origin: Origin,
) -> Result<(), String> {
    if let Some(clear) = setting.clear {
        clear(config);
    }
    for value in values {
        (setting.set)(config, value)
            .map_err(|reason| format!("{}: {reason}", origin.prefix(setting)))?;
    }
    origins.push((setting.name, origin));
    Ok(())
}

fn apply_file(
    config: &mut Config,
    origins: &mut Vec<(&'static str, Origin)>,
    path: &Path,
    text: &str,
) -> Result<(), String> {
    let shown = path.display().to_string();
    let table = DeTable::parse(text).map_err(|error| {
        let line = error.span().map_or(1, |span| line_of(text, span.start));
        format!("{shown}:{line}: {}", error.message().trim_end())
    })?;
    for (key, value) in table.get_ref().iter() {
        let line = line_of(text, key.span().start);
        let name: &str = key.get_ref();
        if let (Some(setting), DeValue::Table(entries)) = (section(name), value.get_ref()) {
            for (entry, connstr) in entries.iter() {
                let origin = Origin::File {
                    path: shown.clone(),
                    line: line_of(text, entry.span().start),
                };
                let entry: &str = entry.get_ref();
                let DeValue::String(connstr) = connstr.get_ref() else {
                    return Err(format!(
                        "{}: {entry}: expected a string such as \"{}\"",
                        origin.prefix(setting),
                        if setting.name == "database" {
                            "host=127.0.0.1 port=5432 dbname=app"
                        } else {
                            "pool_mode=session"
                        }
                    ));
                };
                if entry.contains('=') {
                    return Err(format!(
                        "{}: {entry}: a name cannot contain '='",
                        origin.prefix(setting)
                    ));
                }
                // Added to what the file already set (no clear): the
                // `database` key and the table may both be used.
                (setting.set)(config, &format!("{entry}={connstr}"))
                    .map_err(|reason| format!("{}: {reason}", origin.prefix(setting)))?;
                origins.push((setting.name, origin));
            }
            continue;
        }
        let Some(setting) = settings::find(name) else {
            let hint = closest(name)
                .map(|known| format!(" (did you mean \"{known}\"?)"))
                .unwrap_or_default();
            return Err(format!("{shown}:{line}: unknown setting \"{name}\"{hint}"));
        };
        let origin = Origin::File {
            path: shown.clone(),
            line,
        };
        let invalid = |reason: &str| format!("{}: {reason}", origin.prefix(setting));
        let values: Vec<String> = match value.get_ref() {
            DeValue::Array(items) if setting.list => items
                .iter()
                .map(|item| {
                    scalar(item.get_ref()).ok_or_else(|| invalid("a list holds strings or numbers"))
                })
                .collect::<Result<_, _>>()?,
            DeValue::Array(_) => return Err(invalid("takes one value, not a list")),
            other => vec![scalar(other)
                .ok_or_else(|| invalid("expected a string, a number or true/false"))?],
        };
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        apply(config, origins, setting, &values, origin)?;
    }
    Ok(())
}

/// The list setting a table of the file fills, one entry per key:
/// `[databases]` (`database`) and `[users]` (`pool-user`), as in
/// PgBouncer's ini file.
fn section(name: &str) -> Option<&'static Setting> {
    match name {
        "databases" => settings::find("database"),
        "users" => settings::find("pool-user"),
        _ => None,
    }
}

/// A TOML string, integer or boolean as the text a flag would carry.
fn scalar(value: &DeValue) -> Option<String> {
    match value {
        DeValue::String(text) => Some(text.to_string()),
        DeValue::Integer(integer) => {
            let number =
                i128::from_str_radix(&integer.as_str().replace('_', ""), integer.radix()).ok()?;
            Some(number.to_string())
        }
        DeValue::Boolean(flag) => Some(if *flag { "yes" } else { "no" }.into()),
        _ => None,
    }
}

/// 1-based line of byte offset `at`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The known setting nearest to a misspelt one (edit distance at most 2).
fn closest(name: &str) -> Option<&'static str> {
    let name = name.replace('_', "-").to_ascii_lowercase();
    SETTINGS
        .iter()
        .map(|setting| (edit_distance(&name, setting.name), setting.name))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, known)| known)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != b[j]))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The flag parser; `--help` text comes from here.
fn cli() -> clap::Command {
    let defaults = Config::default();
    let mut command = clap::Command::new("corewire")
        .version(env!("CARGO_PKG_VERSION"))
        .about("corewire: thread-per-core Redis and PostgreSQL front end over a C++ transactional engine")
        .after_help(
            "Every setting is also a TOML key in the --config file and an environment variable; \
             precedence: flag, then environment, then file, then default. Settings marked \
             [restart] need a restart; the others change on SIGHUP, CONFIG SET or RELOAD.",
        )
        .arg(
            Arg::new("config")
                .long("config")
                .value_name("FILE")
                .help("TOML configuration file [env: COREWIRE_CONFIG]"),
        )
        .arg(
            Arg::new("check-config")
                .long("check-config")
                .action(ArgAction::SetTrue)
                .help("validate the configuration and exit (0: valid, 1: not)"),
        );
    for setting in SETTINGS {
        let default = setting.shown_value(&defaults);
        let default = if default.is_empty() {
            "none".into()
        } else {
            default
        };
        let restart = if setting.reload == settings::Reload::Restart {
            " [restart]"
        } else {
            ""
        };
        let mut arg = Arg::new(setting.name)
            .long(setting.name)
            // -1 turns some settings off: a value, not a flag.
            .allow_negative_numbers(true)
            .value_name(setting.value_name)
            .help(format!(
                "{} [default: {default}] [env: {}]{restart}",
                setting.help,
                setting.env_var()
            ));
        arg = if setting.list {
            arg.action(ArgAction::Append)
        } else {
            arg.action(ArgAction::Set)
        };
        if setting.value_name == "yes|no" {
            arg = arg.num_args(0..=1).default_missing_value("yes");
        }
        command = command.arg(arg);
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str], env: &[(&str, &str)]) -> Result<Config, String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        match parse_args_with_env(args.iter().map(|s| s.to_string()).collect(), &lookup)? {
            Command::Run(loaded) | Command::CheckConfig(loaded) => Ok(loaded.config),
            Command::Print(text) => Err(format!("printed: {text}")),
        }
    }

    fn file(text: &str) -> (tempfile_path::TempPath, String) {
        let path = tempfile_path::TempPath::new(text);
        let shown = path.0.display().to_string();
        (path, shown)
    }

    /// A file removed when dropped (no tempfile crate needed for this).
    mod tempfile_path {
        pub struct TempPath(pub std::path::PathBuf);
        impl TempPath {
            pub fn new(text: &str) -> TempPath {
                use std::sync::atomic::{AtomicUsize, Ordering};
                static NEXT: AtomicUsize = AtomicUsize::new(0);
                let path = std::env::temp_dir().join(format!(
                    "corewire-config-test-{}-{}.toml",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::Relaxed)
                ));
                std::fs::write(&path, text).unwrap();
                TempPath(path)
            }
        }
        impl Drop for TempPath {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
    }

    #[test]
    fn flag_beats_env_beats_file_beats_default() {
        let (_keep, path) = file("port = 7001\nmaxclients = 50\nthreads = 3\n");
        let config = run(
            &["--config", &path, "--port", "7003"],
            &[("COREWIRE_PORT", "7002"), ("COREWIRE_MAXCLIENTS", "60")],
        )
        .unwrap();
        assert_eq!(config.resp_port, 7003, "flag wins");
        assert_eq!(config.max_clients, 60, "env beats the file");
        assert_eq!(config.workers, 3, "the file beats the default");
        assert_eq!(config.pg_port, 5433, "default");
        let config = run(&["--config", &path], &[]).unwrap();
        assert_eq!(config.resp_port, 7001);
        // The file may also come from the environment.
        let config = run(&[], &[("COREWIRE_CONFIG", &path)]).unwrap();
        assert_eq!(config.max_clients, 50);
    }

    #[test]
    fn lists_are_replaced_by_a_higher_source() {
        let (_keep, path) = file("admin-users = [\"ann\", \"bob\"]\npg_user = [\"ann:pw1\"]\n");
        let config = run(&["--config", &path], &[]).unwrap();
        assert_eq!(config.admin_users, ["ann", "bob"]);
        assert_eq!(config.pg_users, [("ann".to_string(), "pw1".to_string())]);
        let config = run(
            &[
                "--config",
                &path,
                "--admin-users",
                "cid",
                "--admin-users=dee",
            ],
            &[("COREWIRE_PG_USER", "x:1,y:2")],
        )
        .unwrap();
        assert_eq!(config.admin_users, ["cid", "dee"]);
        assert_eq!(config.pg_users.len(), 2);
    }

    #[test]
    fn file_errors_name_the_file_the_line_and_the_reason() {
        let (_keep, path) = file("# comment\nport = 6390\nprot = 1\n");
        let error = run(&["--config", &path], &[]).unwrap_err();
        assert_eq!(
            error,
            format!("{path}:3: unknown setting \"prot\" (did you mean \"port\"?)")
        );
        let (_keep, path) = file("\n\nport = \"abc\"\n");
        let error = run(&["--config", &path], &[]).unwrap_err();
        assert_eq!(
            error,
            format!("{path}:3: port: \"abc\" is not a valid number")
        );
        let (_keep, path) = file("threads = [1, 2]\n");
        assert!(run(&["--config", &path], &[])
            .unwrap_err()
            .ends_with("threads: takes one value, not a list"));
        let (_keep, path) = file("port = \n");
        assert!(run(&["--config", &path], &[])
            .unwrap_err()
            .starts_with(&format!("{path}:1: ")));
        // A check across settings points at the line of the one that broke it.
        let (_keep, path) = file("threads = 2\nbind = \"0.0.0.0\"\n");
        let error = run(&["--config", &path], &[]).unwrap_err();
        assert!(error.starts_with(&format!("{path}:2: bind: ")), "{error}");
        assert!(error.contains("protected mode"), "{error}");
        assert!(run(&["--config", "/nonexistent/corewire.toml"], &[])
            .unwrap_err()
            .contains("cannot read"));
    }

    #[test]
    fn env_and_flag_errors_name_their_source() {
        assert_eq!(
            run(&[], &[("COREWIRE_MAXCLIENTS", "many")]).unwrap_err(),
            "COREWIRE_MAXCLIENTS: \"many\" is not a valid number"
        );
        assert_eq!(
            run(&["--port", "0"], &[]).unwrap_err(),
            "--port: a port must be between 1 and 65535"
        );
        assert!(run(&["--nope", "1"], &[]).unwrap_err().contains("--nope"));
        assert!(run(&["--threads", "300"], &[]).unwrap_err().contains("256"));
        assert!(run(&["--bind", "0.0.0.0", "--requirepass", "x"], &[]).is_ok());
        let config = run(&["--slowlog-log-slower-than", "-1"], &[]).unwrap();
        assert_eq!(config.slowlog_log_slower_than_us, -1);
    }

    #[test]
    fn values_take_units_booleans_and_numbers() {
        let (_keep, path) = file(
            "proto-max-bulk-len = \"1mb\"\nmetrics_enabled = false\nhttp-enabled = \"no\"\nclient-query-buffer-limit = 0x100000\n",
        );
        let config = run(&["--config", &path], &[]).unwrap();
        assert_eq!(config.max_bulk_bytes, 1 << 20);
        assert_eq!(config.max_query_buffer_bytes, 1 << 20);
        assert!(!config.metrics_enabled && !config.http_enabled);
        let config = run(&["--config", &path, "--metrics-enabled"], &[]).unwrap();
        assert!(config.metrics_enabled);
    }

    #[test]
    fn databases_and_users_tables_become_list_entries() {
        let (_keep, path) = file(
            "pool-mode = \"transaction\"\ndefault-pool-size = 5\nserver-reset-query = \"\"\n\
             database = [\"old=port=1\"]\n\
             [databases]\n\
             app = \"host=10.0.0.1 port=6432 dbname=appdb user=app password='s p' pool_size=3\"\n\
             other = \"\"\n\
             [users]\n\
             alice = \"pool_mode=session\"\n",
        );
        let config = run(&["--config", &path], &[]).unwrap();
        assert_eq!(config.pool_mode, crate::pool::config::PoolMode::Transaction);
        assert_eq!(config.default_pool_size, 5);
        assert_eq!(config.server_reset_query, "");
        assert_eq!(config.server_check_query, "select 1", "default");
        let names: Vec<&str> = config.databases.iter().map(|db| db.name.as_str()).collect();
        assert_eq!(names.len(), 3);
        for name in ["old", "app", "other"] {
            assert!(names.contains(&name), "{names:?}");
        }
        let app = config.databases.iter().find(|db| db.name == "app").unwrap();
        assert_eq!((app.host.as_str(), app.port), ("10.0.0.1", 6432));
        assert_eq!(app.password.as_deref(), Some("s p"));
        assert_eq!(app.pool_size, Some(3));
        let other = config
            .databases
            .iter()
            .find(|db| db.name == "other")
            .unwrap();
        assert_eq!((other.dbname.as_str(), other.port), ("other", 5432));
        assert_eq!(config.pool_users.len(), 1);
        assert_eq!(
            config.pool_users[0].pool_mode,
            Some(crate::pool::config::PoolMode::Session)
        );
        // The environment and flags replace the file's list, as for any list.
        let config = run(
            &["--config", &path],
            &[("COREWIRE_DATABASE", "x=port=7,y=host=h")],
        )
        .unwrap();
        let names: Vec<&str> = config.databases.iter().map(|db| db.name.as_str()).collect();
        assert_eq!(names, ["x", "y"]);
        let config = run(
            &[
                "--config",
                &path,
                "--database",
                "z=host=a b=1",
                "--database=w=dbname='my db'",
                "--pool-user",
                "bob=pool_mode=transaction",
            ],
            &[("COREWIRE_DATABASE", "x=port=7")],
        )
        .unwrap_err();
        assert_eq!(
            config,
            "--database: z: unknown key \"b\" (keys: host, port, dbname, user, password, \
             pool_size, min_pool_size, reserve_pool, pool_mode)"
        );
        let config = run(
            &[
                "--database",
                "z=host=a",
                "--database=w=dbname='my db'",
                "--pool-user",
                "bob=pool_mode=transaction",
                "--default-pool-size",
                "7",
            ],
            &[("COREWIRE_SERVER_LIFETIME_S", "0")],
        )
        .unwrap();
        let names: Vec<&str> = config.databases.iter().map(|db| db.name.as_str()).collect();
        assert_eq!(names, ["z", "w"]);
        assert_eq!(config.databases[1].dbname, "my db");
        assert_eq!(config.pool_users[0].name, "bob");
        assert_eq!(config.default_pool_size, 7);
        assert_eq!(config.server_lifetime_s, 0);
    }

    #[test]
    fn databases_errors_name_the_line_of_the_entry() {
        let (_keep, path) = file("[databases]\napp = \"host=x\"\nbad = \"hots=x\"\n");
        assert_eq!(
            run(&["--config", &path], &[]).unwrap_err(),
            format!(
                "{path}:3: database: bad: unknown key \"hots\" (keys: host, port, dbname, user, \
                 password, pool_size, min_pool_size, reserve_pool, pool_mode)"
            )
        );
        let (_keep, path) = file("[databases]\n\nkv = \"\"\n");
        assert!(run(&["--config", &path], &[])
            .unwrap_err()
            .starts_with(&format!(
                "{path}:3: database: kv: the database name kv is reserved"
            )));
        let (_keep, path) = file("[databases]\napp = 5432\n");
        assert!(run(&["--config", &path], &[])
            .unwrap_err()
            .starts_with(&format!("{path}:2: database: app: expected a string")));
        let (_keep, path) = file("[databases]\n\"a=b\" = \"\"\n");
        assert_eq!(
            run(&["--config", &path], &[]).unwrap_err(),
            format!("{path}:2: database: a=b: a name cannot contain '='")
        );
        let (_keep, path) = file("[users]\nalice = \"pool_mode=statement\"\n");
        assert!(run(&["--config", &path], &[])
            .unwrap_err()
            .starts_with(&format!("{path}:2: pool-user: alice: pool_mode statement")));
        // Other tables are still refused.
        let (_keep, path) = file("port = 1\n[pgbouncer]\nlisten_port = 1\n");
        assert_eq!(
            run(&["--config", &path], &[]).unwrap_err(),
            format!("{path}:2: unknown setting \"pgbouncer\"")
        );
        let (_keep, path) = file("[threads]\nx = 1\n");
        assert!(run(&["--config", &path], &[])
            .unwrap_err()
            .ends_with("threads: expected a string, a number or true/false"));
        assert_eq!(
            run(&["--default-pool-size", "0"], &[]).unwrap_err(),
            "--default-pool-size: must be at least 1"
        );
        assert_eq!(
            run(&["--pool-mode", "statement"], &[]).unwrap_err(),
            "--pool-mode: pool_mode statement is not supported (use transaction)"
        );
    }

    #[test]
    fn the_example_file_loads_with_its_tables_commented_or_not() {
        let example = concat!(env!("CARGO_MANIFEST_DIR"), "/corewire.example.toml");
        let text = std::fs::read_to_string(example).unwrap();
        let config = run(&["--config", example], &[]).unwrap();
        assert!(config.databases.is_empty());
        for setting in SETTINGS {
            assert!(
                text.contains(&format!("{} = ", setting.name)),
                "the example shows {}",
                setting.name
            );
        }
        // The commented [databases] and [users] examples are valid.
        let uncommented: String = text
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest)
                    if rest.starts_with('[')
                        || rest.starts_with("app = ")
                        || rest.starts_with("reports = ")
                        || rest.starts_with("alice = ") =>
                {
                    format!("{rest}\n")
                }
                _ => format!("{line}\n"),
            })
            .collect();
        let (_keep, path) = file(&uncommented);
        let config = run(&["--config", &path], &[]).unwrap();
        assert_eq!(config.databases.len(), 2);
        assert_eq!(config.pool_users.len(), 1);
    }

    #[test]
    fn help_lists_every_setting_with_default_and_env() {
        let Ok(Command::Print(help)) = parse_args_with_env(vec!["--help".into()], &|_| None) else {
            panic!("--help prints");
        };
        for setting in SETTINGS {
            assert!(
                help.contains(&format!("--{}", setting.name)),
                "{}",
                setting.name
            );
            assert!(help.contains(&setting.env_var()), "{}", setting.name);
        }
        assert!(help.contains("[default: 6380]"));
        assert!(help.contains("--check-config"));
    }
}
