//! What the ACL rules name: commands (each command and subcommand of the
//! RESP command table has a bit, its statistics slot), Redis's command
//! categories, and which access (read, write) each key of a command needs.

use std::sync::OnceLock;

use crate::resp::cmd::{self, CommandSpec};

/// Redis 7.0's categories, in its order (ACL CAT, the describe pass).
pub const CATEGORIES: [&str; 21] = [
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// Bits in a command bitmap; the last one is Redis's "future commands"
/// bit, set only by `+@all` / `allcommands`.
pub const COMMAND_BITS: usize = 256;
pub const FUTURE_BIT: usize = COMMAND_BITS - 1;

/// Key access a command needs (Redis's key-spec flags reduced to what
/// ACL checks: ACCESS reads, INSERT/DELETE/UPDATE write).
pub const KEY_READ: u8 = 1;
pub const KEY_WRITE: u8 = 2;

/// One command or subcommand as the ACL sees it.
pub struct AclCommand {
    /// `get`, `config|get`.
    pub name: &'static str,
    /// Its bit: the statistics slot (`cmd::slot_names`).
    pub bit: usize,
    pub spec: &'static CommandSpec,
    /// Index (in `Table::commands`) of the container, for a subcommand.
    pub parent: Option<usize>,
    /// Indices of the subcommands, for a container.
    pub subcommands: Vec<usize>,
    /// Category bits (1 << index in CATEGORIES).
    pub categories: u32,
}

pub struct Table {
    /// Top-level commands in command-table order, each followed by its
    /// subcommands.
    pub commands: Vec<AclCommand>,
    /// Index into `commands` by bit.
    by_bit: Vec<Option<usize>>,
}

impl Table {
    /// The command with this bit (a RESP statistics slot).
    pub fn by_bit(&self, bit: usize) -> Option<&AclCommand> {
        self.by_bit
            .get(bit)
            .copied()
            .flatten()
            .map(|i| &self.commands[i])
    }

    /// Redis's lookupCommandBySdsLogic: `name` or `container|sub`, case
    /// insensitive. A `|` after a command without subcommands names the
    /// command itself (as Redis does); more than one `|` names nothing.
    pub fn lookup(&self, name: &[u8]) -> Option<usize> {
        let mut parts = name.split(|&b| b == b'|');
        let base = parts.next()?;
        let sub = parts.next();
        if parts.next().is_some() {
            return None;
        }
        let top = self
            .commands
            .iter()
            .position(|c| c.parent.is_none() && c.name.as_bytes().eq_ignore_ascii_case(base))?;
        match sub {
            Some(sub) if !self.commands[top].subcommands.is_empty() => {
                self.commands[top].subcommands.iter().copied().find(|&i| {
                    let full = self.commands[i].name;
                    full.as_bytes()[full.find('|').map_or(0, |p| p + 1)..].eq_ignore_ascii_case(sub)
                })
            }
            _ => Some(top),
        }
    }
}

pub fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let names = cmd::slot_names();
        let bit_of = |name: &str| {
            let bit = names
                .iter()
                .position(|n| *n == name)
                .expect("every command has a statistics slot");
            assert!(bit < FUTURE_BIT, "more commands than ACL bits");
            bit
        };
        let mut commands = Vec::new();
        for &spec in cmd::COMMANDS {
            let top = commands.len();
            commands.push(AclCommand {
                name: spec.name,
                bit: bit_of(spec.name),
                spec,
                parent: None,
                subcommands: Vec::new(),
                categories: category_bits(spec),
            });
            for sub in spec.subcommands {
                let index = commands.len();
                commands.push(AclCommand {
                    name: sub.name,
                    bit: bit_of(sub.name),
                    spec: sub,
                    parent: Some(top),
                    subcommands: Vec::new(),
                    categories: category_bits(sub),
                });
                commands[top].subcommands.push(index);
            }
        }
        let mut by_bit = vec![None; COMMAND_BITS];
        for (index, command) in commands.iter().enumerate() {
            by_bit[command.bit] = Some(index);
        }
        Table { commands, by_bit }
    })
}

fn category_bits(spec: &CommandSpec) -> u32 {
    spec.acl_categories
        .iter()
        .filter_map(|name| category(name.trim_start_matches('@').as_bytes()))
        .fold(0, |bits, index| bits | 1 << index)
}

/// The index of a category name (case-insensitive), as Redis's
/// ACLGetCommandCategoryFlagByName.
pub fn category(name: &[u8]) -> Option<usize> {
    CATEGORIES
        .iter()
        .position(|known| known.as_bytes().eq_ignore_ascii_case(name))
}

/// The argument positions of a request's keys (the spec's first, last and
/// step; a negative last counts from the end).
pub fn key_positions(spec: &CommandSpec, argc: usize) -> impl Iterator<Item = usize> {
    let first = spec.first_key.max(0) as i64;
    let last = if spec.last_key < 0 {
        argc as i64 + spec.last_key as i64
    } else {
        spec.last_key as i64
    };
    // No keys: an empty range.
    let last = if first == 0 {
        -1
    } else {
        last.min(argc as i64 - 1)
    };
    (first..=last)
        .step_by(spec.key_step.max(1) as usize)
        .map(|p| p as usize)
}

/// The access key number `ordinal` (0-based) of a request needs, from
/// Redis 7.0's key specs (COMMAND GETKEYSANDFLAGS): RO/RW with ACCESS
/// read, INSERT/DELETE/UPDATE write, RO without ACCESS (EXISTS, TYPE,
/// STRLEN, TOUCH, WATCH) needs neither.
pub fn key_access(name: &str, ordinal: usize, args: &crate::resp::Args<'_>) -> u8 {
    match name {
        "get" | "mget" | "getrange" | "ttl" | "pttl" | "expiretime" | "pexpiretime" => KEY_READ,
        "exists" | "touch" | "type" | "strlen" | "watch" => 0,
        "incr" | "decr" | "incrby" | "decrby" | "incrbyfloat" | "getset" | "getex" | "getdel"
        | "move" => KEY_READ | KEY_WRITE,
        "rename" | "renamenx" if ordinal == 0 => KEY_READ | KEY_WRITE,
        "copy" if ordinal == 0 => KEY_READ,
        // SET k v GET reads the old value too (Redis's setGetKeys).
        "set"
            if args
                .iter_from(3)
                .any(|arg| arg.eq_ignore_ascii_case(b"GET")) =>
        {
            KEY_READ | KEY_WRITE
        }
        _ => KEY_WRITE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_bit_and_categories() {
        let table = table();
        for command in &table.commands {
            assert!(std::ptr::eq(table.by_bit(command.bit).unwrap(), command));
            assert_ne!(command.categories, 0, "{} has no category", command.name);
        }
        let get = table.lookup(b"GET").unwrap();
        assert_eq!(table.commands[get].name, "get");
        let config_get = table.lookup(b"config|GET").unwrap();
        assert_eq!(table.commands[config_get].name, "config|get");
        assert!(table.lookup(b"config|nosuch").is_none());
        // Redis: a `|` after a command without subcommands names it.
        assert_eq!(table.lookup(b"get|x"), Some(get));
        assert!(table.lookup(b"a|b|c").is_none());
        assert!(table.lookup(b"nosuch").is_none());
    }

    #[test]
    fn key_positions_follow_the_spec() {
        let mset = cmd::lookup(b"mset").unwrap();
        assert_eq!(key_positions(mset, 5).collect::<Vec<_>>(), [1, 3]);
        let mget = cmd::lookup(b"mget").unwrap();
        assert_eq!(key_positions(mget, 4).collect::<Vec<_>>(), [1, 2, 3]);
        let ping = cmd::lookup(b"ping").unwrap();
        assert_eq!(key_positions(ping, 2).count(), 0);
        let rename = cmd::lookup(b"rename").unwrap();
        assert_eq!(key_positions(rename, 3).collect::<Vec<_>>(), [1, 2]);
    }
}
