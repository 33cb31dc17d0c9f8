//! Startup and authentication: the startup packet, SSLRequest and
//! GSSENCRequest, CancelRequest, pg_hba-style method choice, SCRAM and md5.

use super::*;

impl PgSession {
    pub(super) fn startup(&mut self, body: &[u8], ctx: &mut Ctx<'_>) -> Next {
        let mut reader = Reader::new(body);
        let Ok(code) = reader.i32().map(|c| c as u32) else {
            return self.fatal(
                ctx,
                &PgError::fatal(sqlstate::PROTOCOL_VIOLATION, "invalid startup packet"),
            );
        };
        match code {
            // The worker answers `S` and starts the handshake.
            protocol::SSL_REQUEST_CODE if !self.tls && ctx.limits.tls_available => {
                return Next::StartTls;
            }
            // No TLS here, and no GSSAPI: the client goes on in plaintext.
            // Over TLS already, either is an unsupported protocol (below),
            // as in PostgreSQL.
            protocol::SSL_REQUEST_CODE | protocol::GSSENC_REQUEST_CODE if !self.tls => {
                ctx.out.push(b'N');
                return Next::Continue;
            }
            protocol::CANCEL_REQUEST_CODE => {
                return match (reader.i32(), reader.i32()) {
                    (Ok(pid), Ok(secret)) => Next::Cancel { pid, secret },
                    _ => Next::Close,
                };
            }
            _ => {}
        }
        if code >> 16 != 3 {
            let error = PgError::fatal(
                sqlstate::FEATURE_NOT_SUPPORTED,
                format!(
                    "unsupported frontend protocol {}.{}: server supports 3.0 to 3.0",
                    code >> 16,
                    code & 0xffff
                ),
            );
            return self.fatal(ctx, &error);
        }
        let mut options = Vec::new();
        let mut unrecognized = Vec::new();
        loop {
            let name = match reader.cstr() {
                Ok("") => break,
                Ok(name) => name,
                Err(error) => return self.fatal(ctx, &error),
            };
            let value = match reader.cstr() {
                Ok(value) => value,
                Err(error) => return self.fatal(ctx, &error),
            };
            match name {
                "user" => self.user = value.to_string(),
                "database" => self.database = value.to_string(),
                "replication" if !matches!(value, "false" | "off" | "0" | "no") => {
                    let error = PgError::fatal(
                        sqlstate::FEATURE_NOT_SUPPORTED,
                        "replication connections are not supported",
                    );
                    return self.fatal(ctx, &error);
                }
                "replication" => {}
                "options" => match command_line_options(value) {
                    Ok(pairs) => options.extend(pairs),
                    Err(error) => return self.fatal(ctx, &error),
                },
                _ if name.starts_with("_pq_.") => unrecognized.push(name.to_string()),
                _ => options.push((name.to_string(), value.to_string())),
            }
        }
        if code & 0xffff != 0 || !unrecognized.is_empty() {
            let names: Vec<&str> = unrecognized.iter().map(String::as_str).collect();
            Writer { out: ctx.out }.negotiate_protocol_version(0, &names);
        }
        if self.user.is_empty() {
            let error = PgError::fatal(
                sqlstate::INVALID_AUTHORIZATION_SPECIFICATION,
                "no PostgreSQL user name specified in startup packet",
            );
            return self.fatal(ctx, &error);
        }
        if self.database.is_empty() {
            self.database = self.user.clone();
        }
        if ctx.limits.tls_required && !self.tls {
            // pg_hba with only hostssl lines: PostgreSQL's wording.
            let mut error = PgError::fatal(
                sqlstate::INVALID_AUTHORIZATION_SPECIFICATION,
                format!(
                    "no pg_hba.conf entry for host \"{}\", user \"{}\", database \"{}\", no encryption",
                    self.peer_ip, self.user, self.database
                ),
            );
            error.hint = Some(
                "SSL connection is required (pg-tls = require): connect with sslmode=require."
                    .into(),
            );
            return self.fatal(ctx, &error);
        }
        let pooled = ctx
            .limits
            .pooled_databases
            .iter()
            .any(|db| db.name == self.database);
        if pooled {
            // The upstream server judges them.
            self.startup_options = options;
        } else {
            match Params::for_login(&self.user, &options) {
                Ok(params) => self.params = params,
                Err(error) => return self.fatal(ctx, &error),
            }
        }
        self.choose_authentication(ctx)
    }

    /// pg_hba, in short: configured users authenticate by the configured
    /// method; with no users, loopback is trusted; nobody else gets in.
    /// Configured users are the pg-user entries and the ACL users (other
    /// than `default`) that are on with a password given in plaintext;
    /// a name without a pg-user entry authenticates against its ACL
    /// user's SCRAM verifier.
    pub(super) fn choose_authentication(&mut self, ctx: &mut Ctx<'_>) -> Next {
        let acl = &ctx.shared.live.acl;
        if let Err(remaining) = acl.limiter.check(self.peer_addr_ip()) {
            ctx.stats.auth_failed(crate::stats::Protocol::Pg);
            ctx.stats.auth_rate_limited(crate::stats::Protocol::Pg);
            let error = PgError::fatal(
                sqlstate::INVALID_AUTHORIZATION_SPECIFICATION,
                crate::acl::blocked_text(remaining),
            );
            return self.fatal(ctx, &error);
        }
        let users = ctx.limits.users;
        let no_entry = || {
            PgError::fatal(
                sqlstate::INVALID_AUTHORIZATION_SPECIFICATION,
                format!(
                    "no pg_hba.conf entry for host \"{}\", user \"{}\", database \"{}\", no encryption",
                    self.peer_ip, self.user, self.database
                ),
            )
        };
        let no_users = users.is_empty() && !acl.has_pg_users();
        if no_users || ctx.limits.auth_method == PgAuthMethod::Trust {
            if !self.peer_loopback {
                return self.fatal(ctx, &no_entry());
            }
            return self.login(ctx);
        }
        // An ACL user that is off gets no secret: a doomed exchange.
        let acl_secret = match users.get(&self.user) {
            Some(_) => None,
            None => acl
                .user(self.user.as_bytes())
                .filter(|user| user.enabled())
                .and_then(|user| user.scram_verifier().cloned())
                .map(Secret::Scram),
        };
        let secret = users.get(&self.user).or(acl_secret.as_ref());
        // md5 with a SCRAM verifier upgrades to SCRAM, as PostgreSQL does.
        let use_md5 =
            ctx.limits.auth_method == PgAuthMethod::Md5 && secret.is_none_or(Secret::supports_md5);
        if use_md5 {
            let salt = auth::random_bytes::<4>();
            Writer { out: ctx.out }.auth_md5(salt);
            self.phase = Phase::Md5 { salt };
            return Next::Continue;
        }
        let nonce = auth::random_bytes();
        let server = match secret.and_then(Secret::scram_verifier) {
            Some(verifier) => ScramServer::new(verifier, nonce),
            // Unknown user, or only an md5 hash: a full exchange that fails.
            None => ScramServer::new_mock(&self.user, nonce),
        };
        Writer { out: ctx.out }.auth_sasl();
        self.phase = Phase::ScramFirst(server);
        Next::Continue
    }

    pub(super) fn auth_message(&mut self, tag: u8, body: &[u8], ctx: &mut Ctx<'_>) -> Next {
        if tag != b'p' {
            let error = PgError::fatal(
                sqlstate::PROTOCOL_VIOLATION,
                // A number, as PostgreSQL prints it: the byte may be anything.
                format!("expected password response, got message type {tag}"),
            );
            return self.fatal(ctx, &error);
        }
        let failed = |user: &str| {
            PgError::fatal(
                sqlstate::INVALID_PASSWORD,
                auth::password_failed_message(user),
            )
        };
        match std::mem::replace(&mut self.phase, Phase::Startup) {
            Phase::Md5 { salt } => {
                let ok =
                    ctx.limits.users.get(&self.user).is_some_and(|secret| {
                        auth::md5_response_ok(secret, &self.user, salt, body)
                    });
                if ok {
                    self.login(ctx)
                } else {
                    self.auth_failed(ctx);
                    self.fatal(ctx, &failed(&self.user))
                }
            }
            Phase::ScramFirst(mut server) => {
                let result = auth::parse_sasl_initial_response(body)
                    .and_then(|data| server.client_first(data));
                match result {
                    Ok(reply) => {
                        Writer { out: ctx.out }.auth_sasl_continue(&reply);
                        self.phase = Phase::ScramFinal(server);
                        Next::Continue
                    }
                    Err(failure) => {
                        self.auth_failed(ctx);
                        self.fatal(ctx, &failure.to_pg_error(&self.user))
                    }
                }
            }
            Phase::ScramFinal(mut server) => match server.client_final(body) {
                Ok(reply) => {
                    Writer { out: ctx.out }.auth_sasl_final(&reply);
                    self.login(ctx)
                }
                Err(failure) => {
                    self.auth_failed(ctx);
                    self.fatal(ctx, &failure.to_pg_error(&self.user))
                }
            },
            Phase::Startup | Phase::Ready => unreachable!("not authenticating"),
        }
    }

    pub(super) fn login(&mut self, ctx: &mut Ctx<'_>) -> Next {
        // An ACL user that is off logs in on neither protocol (checked
        // after the password, as PostgreSQL checks rolcanlogin).
        let disabled = ctx
            .shared
            .live
            .acl
            .user(self.user.as_bytes())
            .is_some_and(|user| !user.enabled());
        if disabled {
            self.auth_failed(ctx);
            let error = PgError::fatal(
                sqlstate::INVALID_AUTHORIZATION_SPECIFICATION,
                format!("role \"{}\" is not permitted to log in", self.user),
            );
            return self.fatal(ctx, &error);
        }
        if let Err(refused) = self.admit_admin(ctx) {
            return refused;
        }
        let mut writer = Writer { out: ctx.out };
        writer.auth_ok();
        if !self.admin_console
            && ctx
                .limits
                .pooled_databases
                .iter()
                .any(|db| db.name == self.database)
        {
            // The pool sends the server's parameters, BackendKeyData and
            // ReadyForQuery once it has them.
            self.phase = Phase::Ready;
            self.pooled = true;
            return Next::Pooled;
        }
        self.reported = self.params.reported();
        for (name, value) in &self.reported {
            writer.parameter_status(name, value);
        }
        writer.backend_key_data(self.pid, self.secret);
        writer.ready_for_query(TxnStatus::Idle);
        self.phase = Phase::Ready;
        Next::Continue
    }
}

impl PgSession {
    /// The client's address, for the failed-login limiter.
    fn peer_addr_ip(&self) -> Option<std::net::IpAddr> {
        self.peer_ip.parse().ok()
    }

    /// Counts a failed login: stats, and against the client's address.
    fn auth_failed(&self, ctx: &mut Ctx<'_>) {
        ctx.stats.auth_failed(crate::stats::Protocol::Pg);
        ctx.shared.live.acl.limiter.failure(self.peer_addr_ip());
    }
}

/// `options` in the startup packet: `-c name=value` and `--name=value`.
pub(super) fn command_line_options(text: &str) -> Result<Vec<(String, String)>, PgError> {
    let mut pairs = Vec::new();
    let mut words = text.split_whitespace();
    while let Some(word) = words.next() {
        let setting = if word == "-c" {
            words.next().unwrap_or("")
        } else if let Some(rest) = word.strip_prefix("-c").or_else(|| word.strip_prefix("--")) {
            rest
        } else {
            return Err(PgError::fatal(
                sqlstate::FEATURE_NOT_SUPPORTED,
                format!("unsupported startup option \"{word}\""),
            ));
        };
        let (name, value) = setting.split_once('=').ok_or_else(|| {
            PgError::fatal(
                sqlstate::SYNTAX_ERROR,
                format!("-c {setting} requires a value"),
            )
        })?;
        pairs.push((name.replace('-', "_"), value.to_string()));
    }
    Ok(pairs)
}
