//! The command table and dispatch, in Redis's order: look up, check arity,
//! check authentication and ACL permissions (`crate::acl`), run.

mod acl;
pub mod client;
mod command;
mod config;
mod connection;
mod expire;
mod get;
mod incr;
mod info;
mod keys;
pub mod multi;
mod persistence;
mod rename;
mod scan;
mod set;
mod shutdown;
mod slowlog;
mod strings;

use super::{Args, Ctx};

/// One command (or subcommand), with what COMMAND INFO / DOCS report.
pub struct CommandSpec {
    /// Lowercase name as Redis reports it (`config|get` for subcommands).
    pub name: &'static str,
    /// Exact argument count when positive, minimum when negative (Redis).
    pub arity: i32,
    pub flags: &'static [&'static str],
    pub first_key: i32,
    pub last_key: i32,
    pub key_step: i32,
    pub acl_categories: &'static [&'static str],
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    /// None for a container whose subcommands do the work.
    pub run: Option<fn(&mut Ctx<'_>, &Args<'_>)>,
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    /// Whether `argc` arguments (name included) satisfy the arity.
    fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let arity = self.arity as i64;
        if arity > 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }

    fn allowed_without_auth(&self) -> bool {
        self.flags.contains(&"no_auth")
    }
}

/// Shorthand for table entries; fields not given are those of a keyless
/// command.
macro_rules! command_spec {
    ($name:literal, $arity:expr, $run:expr, group: $group:literal, since: $since:literal,
     summary: $summary:literal, complexity: $complexity:literal,
     flags: [$($flag:literal),*], acl: [$($acl:literal),*]
     $(, keys: ($first:expr, $last:expr, $step:expr))?
     $(, subcommands: $subcommands:expr)?) => {
        $crate::resp::cmd::CommandSpec {
            name: $name,
            arity: $arity,
            flags: &[$($flag),*],
            first_key: command_spec!(@key 0 $(, $first)?),
            last_key: command_spec!(@key 0 $(, $last)?),
            key_step: command_spec!(@key 0 $(, $step)?),
            acl_categories: &[$($acl),*],
            group: $group,
            since: $since,
            summary: $summary,
            complexity: $complexity,
            run: $run,
            subcommands: command_spec!(@subs $($subcommands)?),
        }
    };
    (@key $default:expr) => { $default };
    (@key $default:expr, $value:expr) => { $value };
    (@subs) => { &[] };
    (@subs $subs:expr) => { $subs };
}
pub(crate) use command_spec;

/// Every command (COMMAND lists them in this order).
pub static COMMANDS: &[&CommandSpec] = &[
    &get::GET,
    &set::SET,
    &incr::INCR,
    &connection::PING,
    &get::MGET,
    &set::MSET,
    &keys::DEL,
    &keys::EXISTS,
    &incr::INCRBY,
    &incr::DECR,
    &incr::DECRBY,
    &connection::ECHO,
    &connection::HELLO,
    &connection::AUTH,
    &connection::QUIT,
    &connection::SELECT,
    &keys::DBSIZE,
    &keys::FLUSHALL,
    &keys::FLUSHDB,
    &client::CLIENT,
    &config::CONFIG,
    &command::COMMAND,
    &info::INFO,
    &multi::MULTI,
    &multi::EXEC,
    &multi::DISCARD,
    &multi::WATCH,
    &multi::UNWATCH,
    &strings::APPEND,
    &strings::STRLEN,
    &strings::GETRANGE,
    &strings::SETRANGE,
    &strings::GETSET,
    &strings::SETNX,
    &strings::MSETNX,
    &keys::UNLINK,
    &keys::TOUCH,
    &keys::TYPE,
    &connection::TIME,
    &connection::RESET,
    &shutdown::SHUTDOWN,
    &incr::INCRBYFLOAT,
    &expire::SETEX,
    &expire::PSETEX,
    &expire::GETEX,
    &expire::GETDEL,
    &expire::EXPIRE,
    &expire::PEXPIRE,
    &expire::EXPIREAT,
    &expire::PEXPIREAT,
    &expire::TTL,
    &expire::PTTL,
    &expire::EXPIRETIME,
    &expire::PEXPIRETIME,
    &expire::PERSIST,
    &scan::KEYS,
    &scan::SCAN,
    &scan::RANDOMKEY,
    &rename::RENAME,
    &rename::RENAMENX,
    &rename::COPY,
    &rename::MOVE,
    &slowlog::SLOWLOG,
    &persistence::SAVE,
    &persistence::BGSAVE,
    &persistence::BGREWRITEAOF,
    &persistence::LASTSAVE,
    &acl::ACL,
];

/// Longest command name (bytes) the lookup considers.
const MAX_NAME_BYTES: usize = 32;
/// Slots of the name table (a power of two, well above COMMANDS.len()).
const NAME_TABLE_SLOTS: usize = 256;

/// FNV-1a over the lowercased name: case-insensitive and cheap.
fn name_hash(name: &[u8]) -> usize {
    name.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, &b| {
        (hash ^ b.to_ascii_lowercase() as u64).wrapping_mul(0x100_0000_01b3)
    }) as usize
}

/// COMMANDS by name hash, linear probing: a lookup is one hash and
/// usually one comparison (this runs for every request). Each entry
/// carries the command's index in COMMANDS.
type NameTable = [Option<(&'static CommandSpec, usize)>; NAME_TABLE_SLOTS];

fn name_table() -> &'static NameTable {
    static TABLE: std::sync::OnceLock<NameTable> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = [None; NAME_TABLE_SLOTS];
        for (index, &spec) in COMMANDS.iter().enumerate() {
            assert!(spec.name.len() <= MAX_NAME_BYTES);
            let mut slot = name_hash(spec.name.as_bytes()) % NAME_TABLE_SLOTS;
            while table[slot].is_some() {
                slot = (slot + 1) % NAME_TABLE_SLOTS;
            }
            table[slot] = Some((spec, index));
        }
        table
    })
}

/// Finds a top-level command, case-insensitively.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    lookup_indexed(name).map(|(spec, _)| spec)
}

/// Finds a top-level command and its index in COMMANDS.
fn lookup_indexed(name: &[u8]) -> Option<(&'static CommandSpec, usize)> {
    if name.len() > MAX_NAME_BYTES {
        return None;
    }
    let table = name_table();
    let mut slot = name_hash(name) % NAME_TABLE_SLOTS;
    // The table is at most a quarter full, so an empty slot ends every probe.
    while let Some((spec, index)) = table[slot] {
        if spec.name.len() == name.len() && spec.name.as_bytes().eq_ignore_ascii_case(name) {
            return Some((spec, index));
        }
        slot = (slot + 1) % NAME_TABLE_SLOTS;
    }
    None
}

/// Finds a subcommand of a container (`config`, `get` -> `config|get`) and
/// its position among the container's subcommands.
fn lookup_sub(parent: &'static CommandSpec, name: &[u8]) -> Option<(&'static CommandSpec, usize)> {
    parent
        .subcommands
        .iter()
        .enumerate()
        .find_map(|(position, spec)| {
            let short = &spec.name[parent.name.len() + 1..];
            short
                .as_bytes()
                .eq_ignore_ascii_case(name)
                .then_some((spec, position))
        })
}

/// Statistics slots of the RESP commands (`crate::stats`): one per
/// top-level command in COMMANDS order, then every container's
/// subcommands (counted apart, as Redis's `cmdstat_config|get`), then
/// `unknown` for requests naming no corewire command.
struct Slots {
    /// Each slot's name (the `command` label).
    names: Vec<&'static str>,
    /// Each slot's command (None for `unknown`).
    specs: Vec<Option<&'static CommandSpec>>,
    /// Per top-level command: the slot of its first subcommand.
    sub_base: Vec<usize>,
}

fn slots() -> &'static Slots {
    static SLOTS: std::sync::OnceLock<Slots> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let mut specs: Vec<Option<&'static CommandSpec>> =
            COMMANDS.iter().map(|&spec| Some(spec)).collect();
        let mut sub_base = Vec::with_capacity(COMMANDS.len());
        for &spec in COMMANDS {
            sub_base.push(specs.len());
            specs.extend(spec.subcommands.iter().map(Some));
        }
        specs.push(None);
        let names = specs
            .iter()
            .map(|spec| spec.map_or(UNKNOWN_COMMAND, |spec| spec.name))
            .collect();
        Slots {
            names,
            specs,
            sub_base,
        }
    })
}

/// The `command` label of requests naming no corewire command.
pub const UNKNOWN_COMMAND: &str = "unknown";

/// Every RESP statistics slot's name, by slot.
pub fn slot_names() -> &'static [&'static str] {
    &slots().names
}

/// The command of a statistics slot (None: `unknown`).
pub fn slot_spec(slot: usize) -> Option<&'static CommandSpec> {
    slots().specs.get(slot).copied().flatten()
}

fn unknown_slot() -> usize {
    slots().names.len() - 1
}

/// What `dispatch` did with a request, for the statistics and slow log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dispatched {
    /// The statistics slot of the command it named.
    pub slot: usize,
    pub handled: Handled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// The command ran (its reply may be an error).
    Ran,
    /// Queued inside MULTI (or refused by the queue's limit).
    Queued,
    /// Refused before running: unknown, arity, authentication. Other data
    /// types' commands count here too: corewire does not run them.
    Refused,
}

pub fn dispatch(ctx: &mut Ctx<'_>, args: &Args<'_>) -> Dispatched {
    let (spec, slot) = match resolve(ctx, args) {
        Ok(found) => found,
        Err((slot, text)) => {
            // No text: the connection's user was deleted and it closes
            // without a reply.
            if !text.is_empty() {
                refuse(ctx, args, text);
            }
            return Dispatched {
                slot,
                handled: Handled::Refused,
            };
        }
    };
    if ctx.session.multi.is_some() && spec.flags.contains(&"no_multi") {
        // Redis refuses these (SAVE, SHUTDOWN, ...) at once and fails EXEC.
        flag_multi(ctx);
        ctx.reply()
            .error(b"ERR Command not allowed inside a transaction");
        return Dispatched {
            slot,
            handled: Handled::Refused,
        };
    }
    if ctx.session.multi.is_some() && !multi::runs_inside_multi(spec) {
        queue(ctx, args);
        return Dispatched {
            slot,
            handled: Handled::Queued,
        };
    }
    let run = spec.run.expect("a command without subcommands runs itself");
    ctx.session.last_command = spec.name;
    run(ctx, args);
    Dispatched {
        slot,
        handled: Handled::Ran,
    }
}

/// Answers a request `resolve` refused, as Redis would.
fn refuse(ctx: &mut Ctx<'_>, args: &Args<'_>, text: Vec<u8>) {
    if let Some(&(name, arity)) = other_type_command(args.get(0)) {
        return other_type(ctx, args, name, arity, text);
    }
    if args.get(0).eq_ignore_ascii_case(b"EXEC") {
        // A refused EXEC ends the transaction (execCommandAbort).
        ctx.session.multi = None;
        ctx.session.watch = None;
        let mut abort = b"EXECABORT Transaction discarded because of: ".to_vec();
        abort.extend_from_slice(text.strip_prefix(b"ERR ").unwrap_or(&text));
        return ctx.reply().error(&abort);
    }
    flag_multi(ctx);
    ctx.reply().error(&text);
}

/// Redis flags the transaction on any refusal while queueing.
fn flag_multi(ctx: &mut Ctx<'_>) {
    if let Some(queue) = ctx.session.multi.as_mut() {
        queue.failed = true;
    }
}

/// Another data type's command: checked like a Redis command (auth, then
/// arity), queued inside MULTI; run, it answers WRONGTYPE on an existing
/// key (always a string here) and the unknown-command error otherwise.
fn other_type(ctx: &mut Ctx<'_>, args: &Args<'_>, name: &str, arity: i32, unknown: Vec<u8>) {
    let arity_ok = if arity > 0 {
        args.len() as i32 == arity
    } else {
        args.len() as i32 >= -arity
    };
    let refusal = if !ctx.session.authenticated && ctx.shared.live.acl.default_needs_auth() {
        Some(b"NOAUTH Authentication required.".to_vec())
    } else if !arity_ok {
        Some(format!("ERR wrong number of arguments for '{name}' command").into_bytes())
    } else {
        None
    };
    if let Some(text) = refusal {
        flag_multi(ctx);
        return ctx.reply().error(&text);
    }
    let acl = &ctx.shared.live.acl;
    if !ctx.session.acl_user.unrestricted(acl) {
        if let Err(refused) = ctx.session.acl_user.check_unlisted(acl, args) {
            if let Some(text) = acl::refusal(ctx, refused, name, args) {
                flag_multi(ctx);
                ctx.reply().error(&text);
            }
            return;
        }
    }
    if ctx.session.multi.is_some() {
        return queue(ctx, args);
    }
    let key_exists = matches!(
        ctx.backend
            .store()
            .exists(&mut std::iter::once(args.get(1))),
        Ok(1)
    );
    if key_exists {
        ctx.reply()
            .error(b"WRONGTYPE Operation against a key holding the wrong kind of value");
    } else {
        ctx.reply().error(&unknown);
    }
}

/// Looks the command up and checks arity, authentication and ACL
/// permissions, in Redis's order: the command and its statistics slot, or
/// the slot and the error text if a check fails (empty: no reply, the
/// connection closes).
fn resolve(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
) -> Result<(&'static CommandSpec, usize), (usize, Vec<u8>)> {
    let Some((mut spec, index)) = lookup_indexed(args.get(0)) else {
        return Err((unknown_slot(), unknown_command(args)));
    };
    let mut slot = index;
    if !spec.subcommands.is_empty() && args.len() >= 2 {
        match lookup_sub(spec, args.get(1)) {
            Some((sub, position)) => {
                spec = sub;
                slot = slots().sub_base[index] + position;
            }
            None => return Err((unknown_slot(), unknown_subcommand(args))),
        }
    }
    if !spec.arity_ok(args.len()) {
        let text = format!("ERR wrong number of arguments for '{}' command", spec.name);
        return Err((slot, text.into_bytes()));
    }
    // Redis's authRequired: the default user needs a password now.
    if !ctx.session.authenticated
        && !spec.allowed_without_auth()
        && ctx.shared.live.acl.default_needs_auth()
    {
        return Err((slot, b"NOAUTH Authentication required.".to_vec()));
    }
    // The fast path: one load and compare for a user allowed everything.
    let acl = &ctx.shared.live.acl;
    if !ctx.session.acl_user.unrestricted(acl) {
        if let Err(refused) = ctx.session.acl_user.check(acl, spec, slot, args) {
            let text = acl::refusal(ctx, refused, spec.name, args).unwrap_or_default();
            return Err((slot, text));
        }
    }
    Ok((spec, slot))
}

/// Queues a command between MULTI and EXEC. The queue is bounded by the
/// client query buffer limit.
fn queue(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let limit = ctx.shared.live.max_query_buffer_bytes();
    let queue = ctx.session.multi.as_mut().expect("in MULTI");
    let request_bytes: usize = args.iter_from(0).map(<[u8]>::len).sum();
    if queue.queued_bytes() + request_bytes > limit {
        queue.failed = true;
        return ctx.reply().error(
            b"ERR MULTI queue over the client query buffer limit; transaction discarded at EXEC",
        );
    }
    queue.push(args);
    ctx.reply().simple(b"QUEUED");
}

/// Commands of the data types corewire does not store (lists, hashes,
/// sets, sorted sets, streams) whose first key is argument 1 and is read
/// before being written, with Redis 7.0's arity. Left out: commands that
/// take a key count first (SINTERCARD, ZUNION, ...) or overwrite their first
/// key (SINTERSTORE, ...), where a string key would not give WRONGTYPE.
const OTHER_TYPE_COMMANDS: &[(&str, i32)] = &[
    ("lpush", -3),
    ("rpush", -3),
    ("lpushx", -3),
    ("rpushx", -3),
    ("lpop", -2),
    ("rpop", -2),
    ("llen", 2),
    ("lrange", 4),
    ("lindex", 3),
    ("lset", 4),
    ("lrem", 4),
    ("ltrim", 4),
    ("linsert", 5),
    ("lpos", -3),
    ("lmove", 5),
    ("rpoplpush", 3),
    ("blpop", -3),
    ("brpop", -3),
    ("blmove", 6),
    ("hset", -4),
    ("hsetnx", 4),
    ("hget", 3),
    ("hmset", -4),
    ("hmget", -3),
    ("hgetall", 2),
    ("hdel", -3),
    ("hlen", 2),
    ("hexists", 3),
    ("hkeys", 2),
    ("hvals", 2),
    ("hincrby", 4),
    ("hincrbyfloat", 4),
    ("hstrlen", 3),
    ("hrandfield", -2),
    ("hscan", -3),
    ("sadd", -3),
    ("srem", -3),
    ("smembers", 2),
    ("sismember", 3),
    ("smismember", -3),
    ("scard", 2),
    ("spop", -2),
    ("srandmember", -2),
    ("smove", 4),
    ("sinter", -2),
    ("sunion", -2),
    ("sdiff", -2),
    ("sscan", -3),
    ("zadd", -4),
    ("zrem", -3),
    ("zrange", -4),
    ("zrangebyscore", -4),
    ("zrangebylex", -4),
    ("zrevrange", -4),
    ("zrevrangebyscore", -4),
    ("zrevrangebylex", -4),
    ("zscore", 3),
    ("zmscore", -3),
    ("zcard", 2),
    ("zcount", 4),
    ("zlexcount", 4),
    ("zincrby", 4),
    ("zrank", 3),
    ("zrevrank", 3),
    ("zpopmin", -2),
    ("zpopmax", -2),
    ("bzpopmin", -3),
    ("bzpopmax", -3),
    ("zremrangebyrank", 4),
    ("zremrangebyscore", 4),
    ("zremrangebylex", 4),
    ("zrandmember", -2),
    ("zscan", -3),
    ("xadd", -5),
    ("xlen", 2),
    ("xrange", -4),
    ("xrevrange", -4),
    ("xdel", -3),
    ("xtrim", -4),
];

fn other_type_command(name: &[u8]) -> Option<&'static (&'static str, i32)> {
    OTHER_TYPE_COMMANDS
        .iter()
        .find(|(known, _)| known.as_bytes().eq_ignore_ascii_case(name))
}

/// `%.Ns` of a C string: stops at a NUL byte and after `max_bytes`.
fn c_string_prefix(bytes: &[u8], max_bytes: usize) -> &[u8] {
    let end = bytes
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(bytes.len())
        .min(max_bytes);
    &bytes[..end]
}

/// Redis: "unknown command '%.128s', with args beginning with: " followed
/// by "'%.*s' " per argument until 128 bytes of them are written.
fn unknown_command(args: &Args<'_>) -> Vec<u8> {
    let mut text = b"ERR unknown command '".to_vec();
    text.extend_from_slice(c_string_prefix(args.get(0), 128));
    text.extend_from_slice(b"', with args beginning with: ");
    let mut listed = Vec::new();
    for arg in args.iter_from(1) {
        if listed.len() >= 128 {
            break;
        }
        listed.push(b'\'');
        listed.extend_from_slice(c_string_prefix(arg, 128 - listed.len() + 1));
        listed.extend_from_slice(b"' ");
    }
    text.extend_from_slice(&listed);
    text
}

fn unknown_subcommand(args: &Args<'_>) -> Vec<u8> {
    let mut text = b"ERR unknown subcommand '".to_vec();
    text.extend_from_slice(c_string_prefix(args.get(1), 128));
    text.extend_from_slice(b"'. Try ");
    text.extend(args.get(0).to_ascii_uppercase());
    text.extend_from_slice(b" HELP.");
    text
}

/// A subcommand's HELP reply: its text as one simple string a line.
pub fn help_reply(ctx: &mut Ctx<'_>, lines: &[&str]) {
    let mut reply = ctx.reply();
    reply.array_header(lines.len());
    for line in lines {
        reply.simple(line.as_bytes());
    }
}

/// Parses an integer argument as Redis's getLongLongFromObject does,
/// answering the standard error when it is not one.
pub fn integer_arg(ctx: &mut Ctx<'_>, arg: &[u8]) -> Option<i64> {
    let value = super::parse::parse_strict_i64(arg);
    if value.is_none() {
        ctx.reply()
            .error(b"ERR value is not an integer or out of range");
    }
    value
}

pub const SYNTAX_ERROR: &[u8] = b"ERR syntax error";

#[cfg(test)]
mod tests {
    use super::{lookup, slot_names, slot_spec, COMMANDS, UNKNOWN_COMMAND};

    #[test]
    fn every_command_is_found_in_any_case() {
        for spec in COMMANDS {
            assert!(std::ptr::eq(lookup(spec.name.as_bytes()).unwrap(), *spec));
            let upper = spec.name.to_ascii_uppercase();
            assert!(std::ptr::eq(lookup(upper.as_bytes()).unwrap(), *spec));
        }
        assert!(lookup(b"nosuchcommand").is_none());
        assert!(lookup(b"").is_none());
        assert!(lookup(&[b'x'; 100]).is_none());
    }

    #[test]
    fn every_command_and_subcommand_has_a_slot() {
        let names = slot_names();
        let subcommands: usize = COMMANDS.iter().map(|s| s.subcommands.len()).sum();
        assert_eq!(names.len(), COMMANDS.len() + subcommands + 1);
        assert_eq!(names[0], "get");
        assert!(names.contains(&"config|get"));
        assert_eq!(*names.last().unwrap(), UNKNOWN_COMMAND);
        for (slot, name) in names.iter().enumerate() {
            assert_eq!(slot_spec(slot).map_or(UNKNOWN_COMMAND, |s| s.name), *name);
        }
    }
}
