//! CONFIG GET and CONFIG SET over the settings corewire really has.

use super::{command_spec, CommandSpec};
use crate::config::settings::{self, memory_value, Reload, Setting};
use crate::config::Config;
use crate::resp::{glob::glob_match, Args, Ctx};
use crate::runtime::Shared;

pub static CONFIG: CommandSpec = command_spec!("config", -2, None, group: "server", since: "2.0.0",
    summary: "A container for server configuration commands.", complexity: "Depends on subcommand.",
    flags: [], acl: ["@slow"], subcommands: CONFIG_SUBCOMMANDS);

static CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    command_spec!("config|get", -3, Some(get), group: "server", since: "2.0.0",
        summary: "Returns the effective values of configuration parameters.", complexity: "O(N) when N is the number of configuration parameters provided",
        flags: ["admin", "noscript", "loading", "stale"], acl: ["@admin", "@slow", "@dangerous"]),
    command_spec!("config|set", -4, Some(set), group: "server", since: "2.0.0",
        summary: "Sets configuration parameters in-flight.", complexity: "O(N) when N is the number of configuration parameters provided",
        flags: ["admin", "noscript", "loading", "stale"], acl: ["@admin", "@slow", "@dangerous"]),
];

/// Every parameter CONFIG GET reports: Redis's names first, in Redis's
/// formats, then corewire's own settings. Persistence in Redis's terms:
/// `appendonly` is whether a data-dir is set (every write is logged),
/// `save` the checkpoint interval as one "<seconds> 1" save point ("" when
/// none), `dir` the data-dir (or, without one, the working directory).
fn parameters(shared: &Shared) -> Vec<(&'static str, String)> {
    let config = shared.current_config();
    let durable = config.data_dir.is_some();
    let save = if durable && config.checkpoint_interval_s > 0 {
        format!("{} 1", config.checkpoint_interval_s)
    } else {
        String::new()
    };
    let dir = match &config.data_dir {
        Some(path) => path.display().to_string(),
        None => std::env::current_dir()
            .map(|path| path.display().to_string())
            .unwrap_or_default(),
    };
    let mut all = vec![
        ("save", save),
        ("appendonly", if durable { "yes" } else { "no" }.into()),
        ("appendfsync", config.appendfsync.name().into()),
        ("dir", dir),
        ("bind", config.bind.to_string()),
        ("port", shared.resp_port.to_string()),
        ("databases", shared.databases.to_string()),
        ("maxclients", config.max_clients.to_string()),
        ("proto-max-bulk-len", config.max_bulk_bytes.to_string()),
        (
            "client-query-buffer-limit",
            config.max_query_buffer_bytes.to_string(),
        ),
        (
            "client-output-buffer-limit",
            (setting("client-output-buffer-limit").get)(&config),
        ),
        ("tcp-backlog", config.listen_backlog.to_string()),
        ("timeout", config.idle_timeout_s.to_string()),
        ("protected-mode", "yes".into()),
        // Redis shows it to whoever may run CONFIG (an admin command);
        // corewire's other secrets (pg-user) are never shown.
        (
            "requirepass",
            config.requirepass.clone().unwrap_or_default(),
        ),
    ];
    for setting in settings::SETTINGS {
        if !setting.secret && !all.iter().any(|(name, _)| *name == setting.name) {
            all.push((setting.name, (setting.get)(&config)));
        }
    }
    all
}

/// CONFIG GET pattern [pattern ...]: each matching parameter once. A
/// pattern without glob characters names one parameter and is echoed as
/// given (Redis 7.0 answers `CONFIG GET SAVE` with "SAVE").
fn get(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let all = parameters(ctx.shared);
    let mut matches: Vec<(&[u8], &str)> = Vec::new();
    for pattern in args.iter_from(2) {
        let is_glob = pattern.iter().any(|b| matches!(b, b'*' | b'?' | b'['));
        for (name, value) in &all {
            let hit = if is_glob {
                glob_match(pattern, name.as_bytes(), true)
            } else {
                pattern.eq_ignore_ascii_case(name.as_bytes())
            };
            let seen = matches
                .iter()
                .any(|(m, _)| m.eq_ignore_ascii_case(name.as_bytes()));
            if hit && !seen {
                let shown = if is_glob { name.as_bytes() } else { pattern };
                matches.push((shown, value));
            }
        }
    }
    let mut reply = ctx.reply();
    reply.map_header(matches.len());
    for (name, value) in matches {
        reply.bulk(name);
        reply.bulk(value.as_bytes());
    }
}

/// One validated CONFIG SET change.
enum Change {
    MaxClients(usize),
    MaxBulkBytes(usize),
    MaxQueryBufferBytes(usize),
    RequirePass(Option<String>),
    /// One of corewire's own live settings, as text.
    Setting(&'static Setting, String),
    /// Accepted and already in effect (`appendonly` as it is).
    Unchanged,
}

/// A memory setting with Redis's bounds (1 MiB .. i64::MAX).
fn memory_setting(value: &[u8]) -> Result<usize, String> {
    let bytes = memory_value(value).ok_or("argument must be a memory value")?;
    if !(1024 * 1024..=i64::MAX as u64).contains(&bytes) {
        return Err("argument must be between 1048576 and 9223372036854775807 inclusive".into());
    }
    Ok(bytes as usize)
}

/// A corewire setting by name (one that exists: the table is static).
fn setting(name: &str) -> &'static Setting {
    settings::find(name).expect("a corewire setting")
}

/// Redis's `save` value ("" or "<seconds> <changes> ..." pairs, seconds
/// at least 1, changes at least 0) as checkpoint-interval-s: the first
/// pair's seconds, 0 for "". A checkpoint is taken whenever anything
/// changed, so the change counts do not matter.
fn save_interval_s(text: &str) -> Result<u64, String> {
    let invalid = || "Invalid save parameters".to_string();
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() % 2 != 0 {
        return Err(invalid());
    }
    for (i, word) in words.iter().enumerate() {
        let value: i64 = word.parse().map_err(|_| invalid())?;
        let minimum = if i % 2 == 0 { 1 } else { 0 };
        if value < minimum {
            return Err(invalid());
        }
    }
    Ok(words
        .first()
        .map_or(0, |seconds| seconds.parse::<u64>().expect("checked above")))
}

/// Validates one parameter; Err(reason) for Redis's "CONFIG SET failed".
/// `durable`: a data-dir is in force.
fn validate(name: &str, value: &[u8], durable: bool) -> Result<Change, String> {
    let text = String::from_utf8_lossy(value).into_owned();
    match name {
        "maxclients" => {
            let n: u64 = text
                .parse()
                .map_err(|_| "argument couldn't be parsed into an integer")?;
            if !(1..=u32::MAX as u64).contains(&n) {
                return Err("argument must be between 1 and 4294967295 inclusive".into());
            }
            Ok(Change::MaxClients(n as usize))
        }
        "proto-max-bulk-len" => memory_setting(value).map(Change::MaxBulkBytes),
        "client-query-buffer-limit" => memory_setting(value).map(Change::MaxQueryBufferBytes),
        // Redis's classes and errors; only the classes named change.
        "client-output-buffer-limit" => {
            settings::set_output_buffer_limit(&mut Config::default(), &text)?;
            Ok(Change::Setting(setting(name), text))
        }
        "requirepass" => Ok(Change::RequirePass(Some(text).filter(|p| !p.is_empty()))),
        "appendonly" => match (text.as_str(), durable) {
            ("yes", true) | ("no", false) => Ok(Change::Unchanged),
            ("yes", false) => Err(
                "appendonly follows data-dir, a restart setting: set data-dir and restart to turn persistence on"
                    .into(),
            ),
            ("no", true) => Err(
                "appendonly follows data-dir, a restart setting: unset data-dir and restart to turn persistence off"
                    .into(),
            ),
            _ => Err("argument must be 'yes' or 'no'".into()),
        },
        "save" => Ok(Change::Setting(
            setting("checkpoint-interval-s"),
            save_interval_s(&text)?.to_string(),
        )),
        "appendfsync" => match crate::engine::FsyncPolicy::parse(&text) {
            Some(_) => Ok(Change::Setting(setting("appendfsync"), text)),
            None => {
                Err("argument(s) must be one of the following: everysec, always, no".into())
            }
        },
        "timeout" => {
            let seconds: i64 = text
                .parse()
                .map_err(|_| "argument couldn't be parsed into an integer")?;
            if !(0..=i32::MAX as i64).contains(&seconds) {
                return Err("argument must be between 0 and 2147483647 inclusive".into());
            }
            Ok(Change::Setting(setting("timeout"), seconds.to_string()))
        }
        _ => match settings::find(name) {
            Some(setting) if setting.reload == Reload::Live => {
                let mut scratch = Config::default();
                if let Some(clear) = setting.clear {
                    clear(&mut scratch);
                }
                for item in list_items(setting, &text) {
                    (setting.set)(&mut scratch, item)?;
                }
                Ok(Change::Setting(setting, text))
            }
            _ => Err("can't set immutable config".into()),
        },
    }
}

/// CONFIG SET parameter value [parameter value ...]: all or nothing, as in
/// Redis 7, and in force on every worker through the same path as a
/// reload. Settable: maxclients, proto-max-bulk-len,
/// client-query-buffer-limit, client-output-buffer-limit (every class;
/// only normal is used), timeout,
/// requirepass, appendfsync, save (as checkpoint-interval-s), and every
/// corewire setting a reload can change; bind, port, databases,
/// tcp-backlog, dir and data-dir need a restart, and appendonly only takes
/// the value it has (it follows data-dir).
fn set(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if args.len() % 2 != 0 {
        return ctx
            .reply()
            .error(b"ERR wrong number of arguments for 'config|set' command");
    }
    // pg-user is settable but never shown by CONFIG GET.
    let mut known: Vec<&str> = parameters(ctx.shared)
        .iter()
        .map(|(name, _)| *name)
        .collect();
    known.extend(
        settings::SETTINGS
            .iter()
            .filter(|s| s.secret)
            .map(|s| s.name),
    );
    let mut changes = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for pair in (2..args.len()).step_by(2) {
        let name = String::from_utf8_lossy(args.get(pair)).to_ascii_lowercase();
        let Some(&name) = known.iter().find(|known| **known == name) else {
            let mut text = b"ERR Unknown option or number of arguments for CONFIG SET - '".to_vec();
            text.extend_from_slice(args.get(pair));
            text.push(b'\'');
            return ctx.reply().error(&text);
        };
        let failed = |reason: &str| {
            format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")
        };
        if seen.iter().any(|s| s == name) {
            return ctx.reply().error(failed("duplicate parameter").as_bytes());
        }
        seen.push(name.to_string());
        let durable = ctx.shared.storage.is_some();
        match validate(name, args.get(pair + 1), durable) {
            Ok(change) => changes.push(change),
            Err(reason) => return ctx.reply().error(failed(&reason).as_bytes()),
        }
    }
    let mut config = (*ctx.shared.current_config()).clone();
    for change in changes {
        match change {
            Change::MaxClients(n) => config.max_clients = n,
            Change::MaxBulkBytes(n) => config.max_bulk_bytes = n,
            Change::MaxQueryBufferBytes(n) => config.max_query_buffer_bytes = n,
            Change::RequirePass(password) => config.requirepass = password,
            Change::Setting(setting, text) => {
                if let Some(clear) = setting.clear {
                    clear(&mut config);
                }
                for item in list_items(setting, &text) {
                    // Validated above on a scratch copy.
                    let _ = (setting.set)(&mut config, item);
                }
            }
            Change::Unchanged => {}
        }
    }
    match ctx.shared.apply_config(config, "CONFIG SET") {
        Ok(_) => ctx.reply().ok(),
        Err(reason) => ctx
            .reply()
            .error(format!("ERR CONFIG SET failed - {reason}").as_bytes()),
    }
}

/// A list setting takes comma-separated values, as in the environment.
fn list_items<'a>(setting: &Setting, text: &'a str) -> Vec<&'a str> {
    if setting.list {
        text.split(',')
            .filter(|item| !item.trim().is_empty())
            .collect()
    } else {
        vec![text]
    }
}

#[cfg(test)]
mod tests {
    use super::save_interval_s;

    #[test]
    fn save_points_read_as_redis_checks_them() {
        assert_eq!(save_interval_s(""), Ok(0));
        assert_eq!(save_interval_s("3600 1"), Ok(3600));
        assert_eq!(save_interval_s("900 1 300 10 60 10000"), Ok(900));
        assert_eq!(save_interval_s("60 0"), Ok(60));
        for bad in ["0 1", "1 2 3", "abc 1", "10 -1", "10"] {
            assert_eq!(
                save_interval_s(bad),
                Err("Invalid save parameters".to_string()),
                "{bad}"
            );
        }
    }
}
