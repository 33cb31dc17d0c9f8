//! One ACL user: flags, password hashes, and the permissions of its root
//! selector (commands, key patterns, channel patterns), changed by Redis
//! 7.0's rules (ACLSetUser / ACLSetSelector) and described back in its
//! format (ACL LIST, ACL GETUSER).

use std::fmt;

use sha2::{Digest as _, Sha256};

use super::commands::{
    self, key_access, key_positions, table, AclCommand, CATEGORIES, COMMAND_BITS, FUTURE_BIT,
    KEY_READ, KEY_WRITE,
};
use crate::pg::auth::ScramVerifier;
use crate::resp::cmd::CommandSpec;
use crate::resp::glob::glob_match;
use crate::resp::Args;

/// Why a rule was refused: Redis's ACLSetUserStringError texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleError {
    /// EINVAL
    Syntax,
    /// ENOENT
    UnknownName,
    /// EEXIST
    PatternAfterAllKeys,
    /// EISDIR
    PatternAfterAllChannels,
    /// ENODEV
    NoSuchPassword,
    /// EBADMSG
    BadHash,
    /// ECHILD
    FirstArgOfSubcommand,
    /// Selectors, `(...)`: not supported by corewire.
    Selector,
}

impl RuleError {
    pub fn text(self) -> &'static str {
        match self {
            RuleError::Syntax => "Syntax error",
            RuleError::UnknownName => "Unknown command or category name in ACL",
            RuleError::PatternAfterAllKeys => {
                "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and \
                 does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
            }
            RuleError::PatternAfterAllChannels => {
                "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid \
                 and does not have any effect. Try 'resetchannels' to start with an empty list of \
                 channels"
            }
            RuleError::NoSuchPassword => {
                "The password you are trying to remove from the user does not exist"
            }
            RuleError::BadHash => {
                "The password hash must be exactly 64 characters and contain only lowercase \
                 hexadecimal characters"
            }
            RuleError::FirstArgOfSubcommand => {
                "Allowing first-arg of a subcommand is not supported"
            }
            RuleError::Selector => "ACL selectors are not supported by corewire",
        }
    }
}

/// A rule as error messages and logs may show it: the plaintext of `>`
/// and `<` is replaced (Redis echoes it; corewire never repeats a secret).
pub fn shown_rule(rule: &[u8]) -> String {
    match rule.first() {
        Some(b'>') | Some(b'<') => format!("{}<redacted>", rule[0] as char),
        _ => String::from_utf8_lossy(rule).into_owned(),
    }
}

/// Redis's ACLStringHasSpaces: names and patterns may not hold
/// whitespace or NUL.
pub fn has_spaces(text: &[u8]) -> bool {
    text.iter()
        .any(|&b| b == 0 || b.is_ascii_whitespace() || b == 0x0b)
}

/// A stored password: its SHA-256 (what Redis keeps) and, when it was
/// given in plaintext, a SCRAM-SHA-256 verifier for PostgreSQL logins.
#[derive(Clone)]
pub struct Password {
    pub sha256: [u8; 32],
    pub scram: Option<ScramVerifier>,
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPattern {
    /// KEY_READ | KEY_WRITE.
    pub access: u8,
    pub pattern: Vec<u8>,
}

/// Redis's root selector (the only one corewire has).
#[derive(Clone, Debug)]
pub struct Selector {
    /// SELECTOR_FLAG_ALLCOMMANDS: set by +@all, cleared by any removal.
    allcommands: bool,
    bits: [u64; COMMAND_BITS / 64],
    /// Allowed first arguments of otherwise refused commands (`+select|0`),
    /// by command bit.
    firstargs: Vec<(usize, Vec<Vec<u8>>)>,
    allkeys: bool,
    patterns: Vec<KeyPattern>,
    allchannels: bool,
    channels: Vec<Vec<u8>>,
    /// The command and category rules since the last `+@all` / `-@all`,
    /// lowercase, an earlier copy of a rule dropped when it is given again
    /// (Redis 7.2's command_rules): what ACL LIST shows after the
    /// `+@all` or `-@all` the bitmap implies.
    rules: Vec<String>,
}

impl Selector {
    fn empty() -> Selector {
        Selector {
            rules: Vec::new(),
            allcommands: false,
            bits: [0; COMMAND_BITS / 64],
            firstargs: Vec::new(),
            allkeys: false,
            patterns: Vec::new(),
            allchannels: false,
            channels: Vec::new(),
        }
    }

    fn bit(&self, bit: usize) -> bool {
        self.bits[bit / 64] & (1 << (bit % 64)) != 0
    }

    fn set_bit(&mut self, bit: usize, value: bool) {
        if value {
            self.bits[bit / 64] |= 1 << (bit % 64);
        } else {
            self.bits[bit / 64] &= !(1 << (bit % 64));
            self.allcommands = false;
        }
    }

    /// ACLChangeSelectorPerm: a command and, for a container, all its
    /// subcommands.
    fn change_perm(&mut self, command: &AclCommand, allow: bool) {
        self.set_bit(command.bit, allow);
        self.firstargs.retain(|(bit, _)| *bit != command.bit);
        for &sub in &command.subcommands {
            self.set_bit(table().commands[sub].bit, allow);
        }
    }

    /// ACLSetSelectorCommandBitsForCategory.
    fn change_category(&mut self, category: usize, allow: bool) {
        let flag = 1u32 << category;
        let table = table();
        for command in table.commands.iter().filter(|c| c.parent.is_none()) {
            if command.categories & flag != 0 {
                self.change_perm(command, allow);
            }
            for &sub in &command.subcommands {
                let sub = &table.commands[sub];
                if sub.categories & flag != 0 {
                    self.change_perm(sub, allow);
                }
            }
        }
    }

    fn all_commands(&mut self, allow: bool) {
        self.bits = [if allow { u64::MAX } else { 0 }; COMMAND_BITS / 64];
        self.allcommands = allow;
        self.firstargs.clear();
        self.rules.clear();
    }

    /// Redis 7.2's ACLUpdateCommandRules. A rule for a whole command also
    /// drops earlier rules for its subcommands or first arguments, which
    /// it overrides.
    fn note_rule(&mut self, name: &str, allow: bool) {
        let name = name.to_ascii_lowercase();
        let prefix = format!("{name}|");
        self.rules
            .retain(|rule| rule[1..] != name && !rule[1..].starts_with(&prefix));
        self.rules
            .push(format!("{}{name}", if allow { '+' } else { '-' }));
    }

    /// ACLSetSelector.
    fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if is("allkeys") || is("~*") {
            self.allkeys = true;
            self.patterns.clear();
        } else if is("resetkeys") {
            self.allkeys = false;
            self.patterns.clear();
        } else if is("allchannels") || is("&*") {
            self.allchannels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.allchannels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.all_commands(true);
        } else if is("nocommands") || is("-@all") {
            self.all_commands(false);
        } else if op[0] == b'~' || op[0] == b'%' {
            if self.allkeys {
                return Err(RuleError::PatternAfterAllKeys);
            }
            let (access, offset) = key_pattern_prefix(op)?;
            let pattern = &op[offset..];
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            match self.patterns.iter_mut().find(|p| p.pattern == pattern) {
                Some(known) => known.access |= access,
                None => self.patterns.push(KeyPattern {
                    access,
                    pattern: pattern.to_vec(),
                }),
            }
        } else if op[0] == b'&' {
            if self.allchannels {
                return Err(RuleError::PatternAfterAllChannels);
            }
            let pattern = &op[1..];
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pattern) {
                self.channels.push(pattern.to_vec());
            }
        } else if op.len() > 1 && (op[0] == b'+' || op[0] == b'-') && op[1] == b'@' {
            let category = commands::category(&op[2..]).ok_or(RuleError::UnknownName)?;
            self.change_category(category, op[0] == b'+');
            self.note_rule(&format!("@{}", CATEGORIES[category]), op[0] == b'+');
        } else if op[0] == b'+' {
            self.allow_command(&op[1..])?;
        } else if op[0] == b'-' {
            let table = table();
            let index = table.lookup(&op[1..]).ok_or(RuleError::UnknownName)?;
            self.change_perm(&table.commands[index], false);
            self.note_rule(table.commands[index].name, false);
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    /// `+name`, `+container|sub`, or `+command|first-arg`.
    fn allow_command(&mut self, name: &[u8]) -> Result<(), RuleError> {
        let table = table();
        let Some(bar) = name.iter().rposition(|&b| b == b'|') else {
            let index = table.lookup(name).ok_or(RuleError::UnknownName)?;
            self.change_perm(&table.commands[index], true);
            self.note_rule(table.commands[index].name, true);
            return Ok(());
        };
        let (base, sub) = (&name[..bar], &name[bar + 1..]);
        let index = table.lookup(base).ok_or(RuleError::UnknownName)?;
        let command = &table.commands[index];
        if command.parent.is_some() {
            return Err(RuleError::FirstArgOfSubcommand);
        }
        if sub.is_empty() {
            return Err(RuleError::Syntax);
        }
        if !command.subcommands.is_empty() {
            let index = table.lookup(name).ok_or(RuleError::UnknownName)?;
            self.change_perm(&table.commands[index], true);
            self.note_rule(table.commands[index].name, true);
        } else {
            let bit = command.bit;
            match self.firstargs.iter_mut().find(|(b, _)| *b == bit) {
                Some((_, args)) => {
                    if !args.iter().any(|a| a.eq_ignore_ascii_case(sub)) {
                        args.push(sub.to_vec());
                    }
                }
                None => self.firstargs.push((bit, vec![sub.to_vec()])),
            }
            let rule = format!("{}|{}", command.name, String::from_utf8_lossy(sub));
            self.note_rule(&rule, true);
        }
        Ok(())
    }

    /// The command rules as ACL LIST shows them: `+@all` when the
    /// future-commands bit is set (the rules began with `+@all`), else
    /// `-@all`, then the rules given since, as given (Redis 7.2's form;
    /// Redis 7.0 recomputes a best-fit list of categories and commands
    /// instead, which needs its whole command table).
    pub fn describe_commands(&self) -> String {
        let mut out = String::from(if self.bit(FUTURE_BIT) {
            "+@all"
        } else {
            "-@all"
        });
        for rule in &self.rules {
            out.push(' ');
            out.push_str(rule);
        }
        out
    }

    /// Key patterns as ACL GETUSER shows them (`~*`, or the patterns
    /// joined by spaces).
    pub fn describe_keys(&self) -> String {
        if self.allkeys {
            return "~*".into();
        }
        let shown: Vec<String> = self.patterns.iter().map(pattern_text).collect();
        shown.join(" ")
    }

    /// Channel patterns as ACL GETUSER shows them.
    pub fn describe_channels(&self) -> String {
        if self.allchannels {
            return "&*".into();
        }
        let shown: Vec<String> = self
            .channels
            .iter()
            .map(|c| format!("&{}", String::from_utf8_lossy(c)))
            .collect();
        shown.join(" ")
    }

    /// ACLDescribeSelector: keys, channels and commands, as ACL LIST.
    fn describe(&self) -> String {
        let mut out = String::new();
        if self.allkeys {
            out.push_str("~* ");
        } else {
            for pattern in &self.patterns {
                out.push_str(&pattern_text(pattern));
                out.push(' ');
            }
        }
        if self.allchannels {
            out.push_str("&* ");
        } else {
            out.push_str("resetchannels ");
            for channel in &self.channels {
                out.push('&');
                out.push_str(&String::from_utf8_lossy(channel));
                out.push(' ');
            }
        }
        out.push_str(&self.describe_commands());
        out
    }

    /// Whether this selector may run `spec` (bit `bit`) with `args`
    /// (ACLSelectorCheckCmd). Err: the refusal and, for a key, the
    /// position of the argument refused.
    pub fn check(&self, spec: &CommandSpec, bit: usize, args: &Args<'_>) -> Result<(), Denied> {
        if !self.allcommands && !spec.flags.contains(&"no_auth") && !self.bit(bit) {
            let index = if spec.name.contains('|') { 2 } else { 1 };
            let allowed = args.len() > index
                && self.firstargs.iter().any(|(b, allowed)| {
                    *b == bit
                        && allowed
                            .iter()
                            .any(|a| a.eq_ignore_ascii_case(args.get(index)))
                });
            if !allowed {
                return Err(Denied::Command);
            }
        }
        if !self.allkeys {
            for (ordinal, position) in key_positions(spec, args.len()).enumerate() {
                let access = key_access(spec.name, ordinal, args);
                if !self.key_allowed(args.get(position), access) {
                    return Err(Denied::Key(position));
                }
            }
        }
        Ok(())
    }

    /// ACLSelectorCheckKey.
    pub fn key_allowed(&self, key: &[u8], access: u8) -> bool {
        self.allkeys
            || self
                .patterns
                .iter()
                .any(|p| p.access & access == access && glob_match(&p.pattern, key, false))
    }

    /// Commands corewire does not have (other data types): allowed only
    /// with the future-commands bit (`+@all ...`), as Redis would allow a
    /// command that appeared after the rules were written.
    pub fn allows_unlisted_commands(&self) -> bool {
        self.allcommands || self.bit(FUTURE_BIT)
    }

    /// Whether every command and every key is allowed: the request path
    /// then checks nothing.
    fn unrestricted(&self) -> bool {
        self.allkeys && (self.allcommands || table().commands.iter().all(|c| self.bit(c.bit)))
    }
}

fn pattern_text(pattern: &KeyPattern) -> String {
    let prefix = match pattern.access {
        KEY_READ => "%R~",
        KEY_WRITE => "%W~",
        _ => "~",
    };
    format!("{prefix}{}", String::from_utf8_lossy(&pattern.pattern))
}

/// `~` or `%R~`, `%W~`, `%RW~`: the access and where the pattern starts.
fn key_pattern_prefix(op: &[u8]) -> Result<(u8, usize), RuleError> {
    if op[0] == b'~' {
        return Ok((KEY_READ | KEY_WRITE, 1));
    }
    let mut access = 0;
    let mut offset = 1;
    while offset < op.len() {
        match op[offset].to_ascii_uppercase() {
            b'R' if access & KEY_READ == 0 => access |= KEY_READ,
            b'W' if access & KEY_WRITE == 0 => access |= KEY_WRITE,
            b'~' => {
                offset += 1;
                break;
            }
            _ => return Err(RuleError::Syntax),
        }
        offset += 1;
    }
    Ok((access, offset))
}

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    Command,
    /// The argument position of the key refused.
    Key(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sanitize {
    Unset,
    On,
    Skip,
}

/// One user. Immutable once in the store: a change builds a new one.
#[derive(Clone, Debug)]
pub struct User {
    pub name: Vec<u8>,
    enabled: bool,
    nopass: bool,
    sanitize: Sanitize,
    passwords: Vec<Password>,
    pub selector: Selector,
    /// All commands, all keys: the request path checks nothing.
    pub unrestricted: bool,
}

impl User {
    /// A new user as ACL SETUSER creates it: off, no passwords, no
    /// commands, no keys, no channels (acl-pubsub-default resetchannels).
    pub fn new(name: &[u8]) -> User {
        User {
            name: name.to_vec(),
            enabled: false,
            nopass: false,
            sanitize: Sanitize::Unset,
            passwords: Vec::new(),
            selector: Selector::empty(),
            unrestricted: false,
        }
    }

    /// Redis's default user: `on nopass ~* &* +@all`.
    pub fn default_user() -> User {
        let mut user = User::new(b"default");
        for rule in ["+@all", "~*", "&*", "on", "nopass"] {
            user.apply(rule.as_bytes(), false)
                .expect("the default user's rules are valid");
        }
        user
    }

    pub fn name_text(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn nopass(&self) -> bool {
        self.nopass
    }

    /// Whether a password is needed to log in as this user: off, or not
    /// `nopass` (a user with neither passwords nor nopass cannot log in).
    pub fn needs_password(&self) -> bool {
        !self.enabled || !self.nopass
    }

    /// Whether any password is set.
    pub fn has_passwords(&self) -> bool {
        !self.passwords.is_empty()
    }

    /// The verifier PostgreSQL logins use: that of the newest password
    /// given in plaintext that is still set.
    pub fn scram_verifier(&self) -> Option<&ScramVerifier> {
        self.passwords.iter().rev().find_map(|p| p.scram.as_ref())
    }

    /// Checks a password in constant time per stored hash (Redis's
    /// ACLCheckUserCredentials, without the enabled check).
    pub fn password_matches(&self, password: &[u8]) -> bool {
        if self.nopass {
            return true;
        }
        let hash: [u8; 32] = Sha256::digest(password).into();
        let mut found = false;
        for stored in &self.passwords {
            let diff = stored
                .sha256
                .iter()
                .zip(hash.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b));
            found |= std::hint::black_box(diff) == 0;
        }
        found
    }

    /// Applies one rule (ACLSetUser). `derive_scram`: keep a SCRAM
    /// verifier for a plaintext password (PBKDF2: skipped when the rule is
    /// only being validated).
    pub fn apply(&mut self, op: &[u8], derive_scram: bool) -> Result<(), RuleError> {
        let result = self.apply_inner(op, derive_scram);
        self.unrestricted = self.selector.unrestricted();
        result
    }

    fn apply_inner(&mut self, op: &[u8], derive_scram: bool) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if is("on") {
            self.enabled = true;
        } else if is("off") {
            self.enabled = false;
        } else if is("skip-sanitize-payload") {
            self.sanitize = Sanitize::Skip;
        } else if is("sanitize-payload") {
            self.sanitize = Sanitize::On;
        } else if is("nopass") {
            self.nopass = true;
            self.passwords.clear();
        } else if is("resetpass") {
            self.nopass = false;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let password = &op[1..];
            let sha256 = if op[0] == b'>' {
                Sha256::digest(password).into()
            } else {
                parse_hash(password)?
            };
            if !self.passwords.iter().any(|p| p.sha256 == sha256) {
                let scram = (op[0] == b'>' && derive_scram)
                    .then(|| std::str::from_utf8(password).ok())
                    .flatten()
                    .map(|text| {
                        let salt: [u8; crate::pg::auth::DEFAULT_SALT_LEN] =
                            crate::pg::auth::random_bytes();
                        ScramVerifier::from_password(
                            text,
                            &salt,
                            crate::pg::auth::DEFAULT_ITERATIONS,
                        )
                    });
                self.passwords.push(Password { sha256, scram });
            }
            self.nopass = false;
        } else if op[0] == b'<' || op[0] == b'!' {
            let sha256: [u8; 32] = if op[0] == b'<' {
                Sha256::digest(&op[1..]).into()
            } else {
                parse_hash(&op[1..])?
            };
            let at = self
                .passwords
                .iter()
                .position(|p| p.sha256 == sha256)
                .ok_or(RuleError::NoSuchPassword)?;
            self.passwords.remove(at);
        } else if op[0] == b'(' && op[op.len() - 1] == b')' {
            return Err(RuleError::Selector);
        } else if is("clearselectors") {
            // Only the root selector exists.
        } else if is("reset") {
            for rule in [
                "resetpass",
                "resetkeys",
                "resetchannels",
                "off",
                "sanitize-payload",
                "-@all",
            ] {
                self.apply_inner(rule.as_bytes(), false)?;
            }
        } else {
            self.selector.apply(op)?;
        }
        Ok(())
    }

    /// ACLDescribeUser, after `user <name> `: the ACL LIST line's rest.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for flag in self.flags() {
            out.push_str(flag);
            out.push(' ');
        }
        for password in &self.passwords {
            out.push('#');
            out.push_str(&hex(&password.sha256));
            out.push(' ');
        }
        out.push_str(&self.selector.describe());
        out
    }

    /// The flags in ACL GETUSER's order.
    pub fn flags(&self) -> Vec<&'static str> {
        let mut flags = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            flags.push("nopass");
        }
        match self.sanitize {
            Sanitize::Skip => flags.push("skip-sanitize-payload"),
            Sanitize::On => flags.push("sanitize-payload"),
            Sanitize::Unset => {}
        }
        flags
    }

    /// The password hashes, lowercase hex (ACL GETUSER).
    pub fn password_hashes(&self) -> Vec<String> {
        self.passwords.iter().map(|p| hex(&p.sha256)).collect()
    }
}

fn parse_hash(text: &[u8]) -> Result<[u8; 32], RuleError> {
    if text.len() != 64 || !text.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(RuleError::BadHash);
    }
    let mut out = [0u8; 32];
    for (i, pair) in text.chunks(2).enumerate() {
        let digit = |b: u8| {
            if b.is_ascii_digit() {
                b - b'0'
            } else {
                b - b'a' + 10
            }
        };
        out[i] = digit(pair[0]) << 4 | digit(pair[1]);
    }
    Ok(out)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(rules: &[&str]) -> User {
        let mut user = User::new(b"u");
        for rule in rules {
            user.apply(rule.as_bytes(), false).unwrap();
        }
        user
    }

    #[test]
    fn describes_as_redis_does() {
        assert_eq!(User::default_user().describe(), "on nopass ~* &* +@all");
        let alice = user(&["on", ">secret", "~app:*", "+@all", "-@dangerous"]);
        assert_eq!(
            alice.describe(),
            "on #2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b ~app:* \
             resetchannels +@all -@dangerous"
        );
        let bob = user(&["+get", "+set"]);
        assert_eq!(bob.describe(), "off resetchannels -@all +get +set");
        let dave = user(&["~*", "-@all", "+@read", "+@write", "-del"]);
        assert_eq!(
            dave.selector.describe_commands(),
            "-@all +@read +@write -del"
        );
        let x = user(&["~foo", "%R~bar", "%W~baz", "%RW~qux"]);
        assert_eq!(x.selector.describe_keys(), "~foo %R~bar %W~baz ~qux");
        let first = user(&["+select|0", "+config|get"]);
        assert_eq!(
            first.selector.describe_commands(),
            "-@all +select|0 +config|get"
        );
        assert_eq!(user(&["reset"]).flags(), ["off", "sanitize-payload"]);
    }

    #[test]
    fn rules_fail_as_redis_does() {
        let mut u = User::new(b"u");
        let err = |u: &mut User, rule: &str| u.apply(rule.as_bytes(), false).unwrap_err();
        assert_eq!(err(&mut u, "badrule"), RuleError::Syntax);
        assert_eq!(err(&mut u, "+nosuch"), RuleError::UnknownName);
        assert_eq!(err(&mut u, "+@nosuch"), RuleError::UnknownName);
        assert_eq!(err(&mut u, "#abc"), RuleError::BadHash);
        assert_eq!(err(&mut u, "<nothere"), RuleError::NoSuchPassword);
        assert_eq!(err(&mut u, "%X~a"), RuleError::Syntax);
        assert_eq!(
            err(&mut u, "+config|get|x"),
            RuleError::FirstArgOfSubcommand
        );
        assert_eq!(err(&mut u, "(~x +get)"), RuleError::Selector);
        u.apply(b"allkeys", false).unwrap();
        assert_eq!(err(&mut u, "~foo"), RuleError::PatternAfterAllKeys);
    }

    #[test]
    fn passwords_are_hashed_and_checked() {
        let mut u = user(&["on", ">a", ">b", ">a"]);
        assert_eq!(u.password_hashes().len(), 2);
        assert!(u.password_matches(b"a") && u.password_matches(b"b"));
        assert!(!u.password_matches(b"c"));
        u.apply(b"<a", false).unwrap();
        assert!(!u.password_matches(b"a"));
        u.apply(b"nopass", false).unwrap();
        assert!(u.password_matches(b"anything") && !u.has_passwords());
        assert_eq!(shown_rule(b">hunter2"), "><redacted>");
    }

    #[test]
    fn unrestricted_only_with_every_command_and_key() {
        assert!(User::default_user().unrestricted);
        assert!(!user(&["+@all"]).unrestricted);
        assert!(user(&["-@all", "+@all", "allkeys"]).unrestricted);
        assert!(!user(&["+@all", "allkeys", "-get"]).unrestricted);
        assert!(user(&["+@all", "allkeys", "-get", "+get"]).unrestricted);
    }
}
