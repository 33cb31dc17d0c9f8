//! The admin console's side of a session (database `corewire`): the
//! admission check at login, and message handling for the simple query
//! protocol only. A Query becomes an [`admin::Command`] that the session
//! hands to its worker (`admin_request`); the worker runs it (gathering
//! every worker's sessions when needed) and then calls `admin_done`.

use super::*;
use crate::pg::admin::{self, ClientInfo, ClientState};

impl PgSession {
    /// At login: the console takes only `admin_users`, after they
    /// authenticated as anyone else does.
    pub(super) fn admit_admin(&mut self, ctx: &mut Ctx<'_>) -> Result<(), Next> {
        if self.database != admin::DATABASE {
            return Ok(());
        }
        if !admin::allowed(&self.user, ctx.limits.admin_users) {
            let error = admin::not_allowed(&self.user);
            return Err(self.fatal(ctx, &error));
        }
        self.admin_console = true;
        Ok(())
    }

    /// A message of a console session (after login, outside skip mode).
    pub(super) fn admin_message(&mut self, tag: u8, body: &[u8], ctx: &mut Ctx<'_>) -> Next {
        match tag {
            b'Q' => {
                let query = match Reader::new(body).cstr() {
                    Ok(query) => query,
                    Err(error) => {
                        send_error(ctx, &error);
                        self.ready(ctx);
                        return Next::Continue;
                    }
                };
                match admin::parse(query) {
                    // The worker runs it next, then calls admin_done.
                    Ok(command) => self.admin_request = Some(command),
                    Err(error) => {
                        send_error(ctx, &error);
                        self.ready(ctx);
                    }
                }
            }
            b'P' | b'B' | b'D' | b'E' | b'C' => {
                send_error(ctx, &admin::extended_protocol_refused());
                self.skip_until_sync = true;
            }
            b'S' => {
                self.skip_until_sync = false;
                self.ready(ctx);
            }
            // Flush, and copy messages outside COPY: nothing to do.
            b'H' | b'd' | b'c' | b'f' => {}
            _ => {
                let error = PgError::fatal(
                    sqlstate::PROTOCOL_VIOLATION,
                    format!("invalid frontend message type {}", tag),
                );
                return self.fatal(ctx, &error);
            }
        }
        Next::Continue
    }

    /// A console command waiting for the worker, taken out to run.
    pub fn take_admin_request(&mut self) -> Option<admin::Command> {
        self.admin_request.take()
    }

    /// Whether a console command waits for the worker (input after it
    /// waits too).
    pub fn admin_pending(&self) -> bool {
        self.admin_request.is_some()
    }

    /// The worker wrote the command's result: end the Query.
    pub fn admin_done(&mut self, out: &mut Vec<u8>) {
        Writer { out }.ready_for_query(self.status());
    }

    /// What SHOW CLIENTS says about this session; None before login.
    /// `common` holds the connection's addresses and times.
    pub fn client_info(&self, common: &crate::resp::Session, worker: usize) -> Option<ClientInfo> {
        if !self.is_ready() {
            return None;
        }
        let busy = self.parked.is_some()
            || self.copy_in.is_some()
            || matches!(self.txn, TxnState::Block(_) | TxnState::Failed(_));
        Some(ClientInfo {
            worker,
            client_id: self.client_id,
            user: self.user.clone(),
            database: if self.admin_console {
                admin::DATABASE.to_string()
            } else if self.pooled {
                self.database.clone()
            } else {
                "kv".to_string()
            },
            state: if busy {
                ClientState::Active
            } else {
                ClientState::Idle
            },
            peer_addr: common.peer_addr.clone(),
            local_addr: common.local_addr.clone(),
            connect_time: admin::clients::wall_clock(common.created),
            request_time: admin::clients::wall_clock(common.last_interaction),
            application_name: self.params.get("application_name").unwrap_or_default(),
            prepared_statements: self.statements.len(),
            pid: self.pid,
            tls: String::new(), // the worker fills it in
        })
    }
}
