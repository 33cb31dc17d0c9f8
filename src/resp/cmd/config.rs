//! CONFIG GET over the settings corewire really has.

use super::{command_spec, CommandSpec};
use crate::config::Config;
use crate::resp::{glob::glob_match, Args, Ctx};

pub static CONFIG: CommandSpec = command_spec!("config", -2, None, group: "server", since: "2.0.0",
    summary: "A container for server configuration commands.", complexity: "Depends on subcommand.",
    flags: [], acl: ["@slow"], subcommands: CONFIG_SUBCOMMANDS);

static CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    command_spec!("config|get", -3, Some(get), group: "server", since: "2.0.0",
    summary: "Returns the effective values of configuration parameters.", complexity: "O(N) when N is the number of configuration parameters provided",
    flags: ["admin", "noscript", "loading", "stale"], acl: ["@admin", "@slow", "@dangerous"]),
];

/// Every parameter CONFIG GET reports, under Redis's names, with its value.
/// Nothing is persisted yet, hence `save ""` and `appendonly no`.
fn parameters(config: &Config, resp_port: u16, databases: u32) -> Vec<(&'static str, String)> {
    vec![
        ("save", String::new()),
        ("appendonly", "no".into()),
        ("bind", config.bind.to_string()),
        ("port", resp_port.to_string()),
        ("databases", databases.to_string()),
        ("maxclients", config.max_clients.to_string()),
        ("proto-max-bulk-len", config.max_bulk_bytes.to_string()),
        (
            "client-query-buffer-limit",
            config.max_query_buffer_bytes.to_string(),
        ),
        (
            "client-output-buffer-limit",
            format!("normal {} 0 0", config.max_output_buffer_bytes),
        ),
        ("tcp-backlog", config.listen_backlog.to_string()),
        ("timeout", "0".into()),
        ("protected-mode", "yes".into()),
    ]
}

/// CONFIG GET pattern [pattern ...]: each matching parameter once. A
/// pattern without glob characters names one parameter and is echoed as
/// given (Redis 7.0 answers `CONFIG GET SAVE` with "SAVE").
fn get(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let all = parameters(
        &ctx.shared.config,
        ctx.shared.resp_port,
        ctx.shared.databases,
    );
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
