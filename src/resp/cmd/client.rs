//! CLIENT ID, SETNAME, GETNAME, SETINFO.

use super::{command_spec, CommandSpec, SYNTAX_ERROR};
use crate::resp::parse::parse_strict_i64;
use crate::resp::{Args, Backend, Ctx};

/// A CLIENT request that needs the whole worker (and, for LIST and KILL,
/// every worker): the worker runs it after the current request.
#[derive(Clone, Debug)]
pub enum AdminRequest {
    /// CLIENT INFO: this connection's line.
    Info,
    /// CLIENT LIST, optionally only some ids; `none` = TYPE master,
    /// replica or pubsub, which match nobody here.
    List { ids: Option<Vec<u64>>, none: bool },
    /// CLIENT KILL; `old_form` answers +OK / "No such client".
    Kill { filter: KillFilter, old_form: bool },
}

/// Which clients CLIENT KILL closes (all given fields must match).
#[derive(Clone, Debug, Default)]
pub struct KillFilter {
    pub id: Option<u64>,
    pub addr: Option<String>,
    pub local_addr: Option<String>,
    /// TYPE master / replica / pubsub.
    pub matches_nobody: bool,
    /// USER: the ACL user the connection runs as.
    pub user: Option<Vec<u8>>,
    /// SKIPME yes (the default of the new form): the caller's id.
    pub skip_id: Option<u64>,
}

impl KillFilter {
    pub fn matches(&self, id: u64, addr: &str, local_addr: &str, user: &[u8]) -> bool {
        !self.matches_nobody
            && self.user.as_deref().is_none_or(|want| want == user)
            && self.skip_id != Some(id)
            && self.id.is_none_or(|want| want == id)
            && self.addr.as_deref().is_none_or(|want| want == addr)
            && self
                .local_addr
                .as_deref()
                .is_none_or(|want| want == local_addr)
    }
}

pub static CLIENT: CommandSpec = command_spec!("client", -2, None, group: "connection", since: "2.4.0",
    summary: "A container for client connection commands.", complexity: "Depends on subcommand.",
    flags: [], acl: ["@slow"], subcommands: CLIENT_SUBCOMMANDS);

static CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    command_spec!("client|id", 2, Some(id), group: "connection", since: "5.0.0",
        summary: "Returns the unique client ID of the connection.", complexity: "O(1)",
        flags: ["noscript", "loading", "stale"], acl: ["@slow", "@connection"]),
    command_spec!("client|setname", 3, Some(setname), group: "connection", since: "2.6.9",
        summary: "Sets the connection name.", complexity: "O(1)",
        flags: ["noscript", "loading", "stale"], acl: ["@slow", "@connection"]),
    command_spec!("client|getname", 2, Some(getname), group: "connection", since: "2.6.9",
        summary: "Returns the name of the connection.", complexity: "O(1)",
        flags: ["noscript", "loading", "stale"], acl: ["@slow", "@connection"]),
    command_spec!("client|setinfo", 4, Some(setinfo), group: "connection", since: "7.2.0",
        summary: "Sets information specific to the client or connection.", complexity: "O(1)",
        flags: ["noscript", "loading", "stale"], acl: ["@slow", "@connection"]),
    command_spec!("client|info", 2, Some(info), group: "connection", since: "6.2.0",
        summary: "Returns information about the connection.", complexity: "O(1)",
        flags: ["noscript", "loading", "stale"], acl: ["@slow", "@connection"]),
    command_spec!("client|list", -2, Some(list), group: "connection", since: "2.4.0",
        summary: "Lists open connections.", complexity: "O(N) where N is the number of client connections",
        flags: ["admin", "noscript", "loading", "stale"], acl: ["@admin", "@slow", "@dangerous", "@connection"]),
    command_spec!("client|kill", -3, Some(kill), group: "connection", since: "2.4.0",
        summary: "Terminates open connections.", complexity: "O(N) where N is the number of client connections",
        flags: ["admin", "noscript", "loading", "stale"], acl: ["@admin", "@slow", "@dangerous", "@connection"]),
    command_spec!("client|no-evict", 3, Some(no_evict), group: "connection", since: "7.0.0",
        summary: "Sets the client eviction mode of the connection.", complexity: "O(1)",
        flags: ["admin", "noscript", "loading", "stale"], acl: ["@admin", "@slow", "@dangerous", "@connection"]),
    command_spec!("client|no-touch", 3, Some(no_touch), group: "connection", since: "7.2.0",
        summary: "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", complexity: "O(1)",
        flags: ["noscript", "loading", "stale"], acl: ["@slow", "@connection"]),
];

/// Hands a request to the worker; refused inside EXEC, whose replies must
/// all come from the transaction.
fn request_admin(ctx: &mut Ctx<'_>, request: AdminRequest) {
    if matches!(ctx.backend, Backend::Txn(_)) {
        return ctx
            .reply()
            .error(b"ERR CLIENT INFO, LIST and KILL are not supported inside MULTI");
    }
    ctx.session.admin = Some(request);
}

fn info(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    request_admin(ctx, AdminRequest::Info);
}

/// CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id [id ...]]
fn list(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let (mut ids, mut none) = (None, false);
    let mut index = 2;
    while index < args.len() {
        let option = args.get(index);
        if option.eq_ignore_ascii_case(b"TYPE") && index + 1 < args.len() {
            match client_type(args.get(index + 1)) {
                Some(normal) => none |= !normal,
                None => return unknown_type(ctx, args.get(index + 1)),
            }
            index += 2;
        } else if option.eq_ignore_ascii_case(b"ID") && index + 1 < args.len() {
            let mut wanted = Vec::new();
            for id in args.iter_from(index + 1) {
                match parse_strict_i64(id) {
                    Some(id) if id > 0 => wanted.push(id as u64),
                    _ => return ctx.reply().error(b"ERR Invalid client ID"),
                }
            }
            ids = Some(wanted);
            index = args.len();
        } else {
            return ctx.reply().error(SYNTAX_ERROR);
        }
    }
    request_admin(ctx, AdminRequest::List { ids, none });
}

/// Some(true) for "normal", Some(false) for the types corewire never has.
fn client_type(name: &[u8]) -> Option<bool> {
    let is = |want: &[u8]| name.eq_ignore_ascii_case(want);
    if is(b"normal") {
        Some(true)
    } else if is(b"master") || is(b"replica") || is(b"slave") || is(b"pubsub") {
        Some(false)
    } else {
        None
    }
}

fn unknown_type(ctx: &mut Ctx<'_>, name: &[u8]) {
    let mut text = b"ERR Unknown client type '".to_vec();
    text.extend_from_slice(name);
    text.push(b'\'');
    ctx.reply().error(&text);
}

/// CLIENT KILL addr:port, or CLIENT KILL <filter value> ... with ID, TYPE,
/// USER, ADDR, LADDR and SKIPME.
fn kill(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if args.len() == 3 {
        let filter = KillFilter {
            addr: Some(String::from_utf8_lossy(args.get(2)).into_owned()),
            ..KillFilter::default()
        };
        return request_admin(
            ctx,
            AdminRequest::Kill {
                filter,
                old_form: true,
            },
        );
    }
    if args.len() % 2 != 0 {
        return ctx.reply().error(SYNTAX_ERROR);
    }
    let mut filter = KillFilter {
        skip_id: Some(ctx.session.client_id),
        ..KillFilter::default()
    };
    for pair in (2..args.len()).step_by(2) {
        let (option, value) = (args.get(pair), args.get(pair + 1));
        let is = |want: &[u8]| option.eq_ignore_ascii_case(want);
        let text = || String::from_utf8_lossy(value).into_owned();
        if is(b"ID") {
            match parse_strict_i64(value) {
                Some(id) if id > 0 => filter.id = Some(id as u64),
                _ => return ctx.reply().error(b"ERR client-id should be greater than 0"),
            }
        } else if is(b"TYPE") {
            match client_type(value) {
                Some(normal) => filter.matches_nobody |= !normal,
                None => return unknown_type(ctx, value),
            }
        } else if is(b"USER") {
            if ctx.shared.live.acl.user(value).is_none() {
                let mut text = b"ERR No such user '".to_vec();
                text.extend_from_slice(value);
                text.push(b'\'');
                return ctx.reply().error(&text);
            }
            filter.user = Some(value.to_vec());
        } else if is(b"ADDR") {
            filter.addr = Some(text());
        } else if is(b"LADDR") {
            filter.local_addr = Some(text());
        } else if is(b"SKIPME") && value.eq_ignore_ascii_case(b"yes") {
            filter.skip_id = Some(ctx.session.client_id);
        } else if is(b"SKIPME") && value.eq_ignore_ascii_case(b"no") {
            filter.skip_id = None;
        } else {
            return ctx.reply().error(SYNTAX_ERROR);
        }
    }
    request_admin(
        ctx,
        AdminRequest::Kill {
            filter,
            old_form: false,
        },
    );
}

/// CLIENT NO-EVICT / NO-TOUCH on|off.
fn on_off(ctx: &mut Ctx<'_>, args: &Args<'_>) -> Option<bool> {
    let value = args.get(2);
    if value.eq_ignore_ascii_case(b"on") {
        Some(true)
    } else if value.eq_ignore_ascii_case(b"off") {
        Some(false)
    } else {
        ctx.reply().error(SYNTAX_ERROR);
        None
    }
}

fn no_evict(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if let Some(on) = on_off(ctx, args) {
        ctx.session.no_evict = on;
        ctx.reply().ok();
    }
}

fn no_touch(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if let Some(on) = on_off(ctx, args) {
        ctx.session.no_touch = on;
        ctx.reply().ok();
    }
}

fn id(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let id = ctx.session.client_id as i64;
    ctx.reply().integer(id);
}

fn setname(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if set_name(ctx, args.get(2)) {
        ctx.reply().ok();
    }
}

fn getname(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let name = ctx.session.name.take();
    ctx.reply().bulk_or_null(name.as_deref());
    ctx.session.name = name;
}

/// Names must be printable ASCII without spaces so CLIENT LIST stays
/// splittable; an empty name clears it. Replies with the error if invalid.
pub fn set_name(ctx: &mut Ctx<'_>, name: &[u8]) -> bool {
    if !is_printable_word(name) {
        ctx.reply()
            .error(b"ERR Client names cannot contain spaces, newlines or special characters.");
        return false;
    }
    ctx.session.name = (!name.is_empty()).then(|| name.to_vec());
    true
}

fn is_printable_word(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

/// CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2).
fn setinfo(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let (attribute, value) = (args.get(2), args.get(3));
    let label: &[u8] = if attribute.eq_ignore_ascii_case(b"lib-name") {
        b"lib-name"
    } else if attribute.eq_ignore_ascii_case(b"lib-ver") {
        b"lib-ver"
    } else {
        let mut text = b"ERR Unrecognized option '".to_vec();
        text.extend_from_slice(attribute);
        text.push(b'\'');
        return ctx.reply().error(&text);
    };
    if !is_printable_word(value) {
        let mut text = b"ERR ".to_vec();
        text.extend_from_slice(label);
        text.extend_from_slice(b" cannot contain spaces, newlines or special characters.");
        return ctx.reply().error(&text);
    }
    let value = (!value.is_empty()).then(|| value.to_vec());
    if label == b"lib-name" {
        ctx.session.lib_name = value;
    } else {
        ctx.session.lib_version = value;
    }
    ctx.reply().ok();
}
