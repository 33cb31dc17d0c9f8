//! CLIENT ID, SETNAME, GETNAME, SETINFO.

use super::{command_spec, CommandSpec};
use crate::resp::{Args, Ctx};

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
];

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
