//! Running a statement: kv reads and writes, transaction control,
//! settings, the general path, COPY.

use super::*;

impl PgSession {
    /// Runs (or continues) a portal: up to `max_rows` rows (0: all), then
    /// CommandComplete or PortalSuspended.
    pub(super) fn execute(
        &mut self,
        portal: &mut Portal,
        max_rows: u64,
        simple: bool,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), PgError> {
        self.check_not_failed_for(Some(&portal.prepared.statement))?;
        let prepared = Rc::clone(&portal.prepared);
        let params = std::mem::take(&mut portal.params);
        // Only a write that opens an implicit transaction, alone in it, is
        // rerun at Sync: any other statement forgets it.
        let opens_implicit = !simple && matches!(self.txn, TxnState::Idle);
        self.implicit_write = None;
        let mark = ctx.out.len();
        let result = self.execute_inner(portal, &prepared, &params, max_rows, simple, ctx);
        if result.is_ok()
            && opens_implicit
            && matches!(self.txn, TxnState::Implicit(_))
            && exec::is_single_key(&prepared.statement)
            && ctx.out.len() - mark <= MAX_IMPLICIT_WRITE_OUTPUT_BYTES
        {
            self.implicit_write = Some(ImplicitWrite {
                prepared: Rc::clone(&prepared),
                params: params.clone(),
                result_formats: portal.result_formats.clone(),
                output: ctx.out[mark..].to_vec(),
            });
        }
        portal.params = params;
        result
    }

    /// An implicit transaction of one single-key write failed validation at
    /// Sync: runs the write again (at most AUTOCOMMIT_RETRIES times). The
    /// client has its reply already, so a rerun commits only if it would
    /// have answered the same bytes; otherwise 40001 as before.
    pub(super) fn rerun_implicit_write(
        &mut self,
        write: &ImplicitWrite,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), PgError> {
        let mut output = Vec::with_capacity(write.output.len());
        for _ in 0..AUTOCOMMIT_RETRIES {
            output.clear();
            let mut txn = PgTxn::begin(ctx.worker, false, &self.params)?;
            let tag = {
                let mut access = Access::Txn(ctx.worker, &mut txn);
                let mut writer = Writer { out: &mut output };
                let statement = &write.prepared.statement;
                exec::run_write(
                    statement,
                    &write.params,
                    &mut access,
                    &mut writer,
                    &write.result_formats,
                )?
            };
            Writer { out: &mut output }.command_complete(&tag);
            if output != write.output {
                return Err(serialization_failure());
            }
            match txn.commit() {
                Ok(()) => return Ok(()),
                Err(error) if error.code == sqlstate::SERIALIZATION_FAILURE => {}
                Err(error) => return Err(error),
            }
        }
        Err(serialization_failure())
    }

    pub(super) fn execute_inner(
        &mut self,
        portal: &mut Portal,
        prepared: &Prepared,
        params: &[Option<Vec<u8>>],
        max_rows: u64,
        simple: bool,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), PgError> {
        let formats = portal.result_formats.clone();
        match std::mem::replace(&mut portal.state, PortalState::NotRun) {
            PortalState::Done(tag) => {
                Writer { out: ctx.out }.command_complete(&tag);
                portal.state = PortalState::Done(tag);
                return Ok(());
            }
            PortalState::Rows(mut source) => {
                let fetched = source_fetch(&mut source, self, ctx, &formats, max_rows);
                return self.send_rows(portal, fetched, source, ctx);
            }
            PortalState::Materialized { rows, tag } => {
                return self.send_materialized(portal, rows, tag, &formats, max_rows, ctx);
            }
            PortalState::NotRun => {}
        }
        let statement = &prepared.statement;
        match statement {
            Statement::Empty => {
                Writer { out: ctx.out }.empty_query();
                Ok(())
            }
            Statement::Select(select) => {
                let mut source = {
                    let mut access = self.access(ctx.worker);
                    RowSource::open(select, params, &mut access)?
                };
                let fetched = source_fetch(&mut source, self, ctx, &formats, max_rows);
                self.send_rows(portal, fetched, source, ctx)
            }
            Statement::Insert(_)
            | Statement::Update(_)
            | Statement::Delete(_)
            | Statement::Truncate => {
                // Extended-protocol writes outside a block commit at Sync,
                // so an error before it rolls them back (PostgreSQL).
                let implicit = !simple && !matches!(statement, Statement::Truncate);
                if implicit && matches!(self.txn, TxnState::Idle) {
                    self.txn = TxnState::Implicit(PgTxn::begin(ctx.worker, false, &self.params)?);
                }
                let tag = self.run_write(statement, params, &formats, ctx)?;
                Writer { out: ctx.out }.command_complete(&tag);
                portal.state = PortalState::Done(tag);
                Ok(())
            }
            Statement::Begin { read_only } => {
                let start = prepared
                    .text
                    .get(..5)
                    .is_some_and(|w| w.eq_ignore_ascii_case("start"));
                self.begin(
                    *read_only,
                    if start { "START TRANSACTION" } else { "BEGIN" },
                    ctx,
                )
            }
            Statement::Commit => self.commit(ctx),
            Statement::Rollback => self.rollback(ctx),
            Statement::Savepoint(name) => {
                let TxnState::Block(txn) = &mut self.txn else {
                    return Err(no_block("SAVEPOINT"));
                };
                txn.savepoint(name, &self.params)?;
                Writer { out: ctx.out }.command_complete("SAVEPOINT");
                Ok(())
            }
            Statement::RollbackTo(name) => {
                let txn = match std::mem::replace(&mut self.txn, TxnState::Idle) {
                    TxnState::Block(txn) | TxnState::Failed(txn) => txn,
                    other => {
                        self.txn = other;
                        return Err(no_block("ROLLBACK TO SAVEPOINT"));
                    }
                };
                let mut txn = txn;
                let restored = txn.rollback_to(name);
                let failed = restored.is_err();
                match restored {
                    Ok(params) => {
                        self.set_params(params);
                        self.txn = TxnState::Block(txn);
                    }
                    Err(_) => self.txn = TxnState::Failed(txn),
                }
                if failed {
                    return Err(PgError::new(
                        sqlstate::INVALID_SAVEPOINT_SPECIFICATION,
                        format!("savepoint \"{name}\" does not exist"),
                    ));
                }
                Writer { out: ctx.out }.command_complete("ROLLBACK");
                Ok(())
            }
            Statement::Release(name) => {
                let TxnState::Block(txn) = &mut self.txn else {
                    return Err(no_block("RELEASE SAVEPOINT"));
                };
                txn.release(name)?;
                Writer { out: ctx.out }.command_complete("RELEASE");
                Ok(())
            }
            Statement::Set { name, value, local } => {
                let in_block = matches!(self.txn, TxnState::Block(_));
                if *local && !in_block {
                    Writer { out: ctx.out }.error(&PgError {
                        severity: Severity::Warning,
                        ..PgError::new(
                            sqlstate::NO_ACTIVE_SQL_TRANSACTION,
                            "SET LOCAL can only be used in transaction blocks",
                        )
                    });
                } else {
                    let mut params = self.params.clone();
                    params.set(name, value.as_deref(), *local, false)?;
                    self.set_params(params);
                }
                Writer { out: ctx.out }.command_complete("SET");
                Ok(())
            }
            Statement::Reset(name) => {
                let mut params = self.params.clone();
                params.reset(name.as_deref())?;
                self.set_params(params);
                Writer { out: ctx.out }.command_complete("RESET");
                Ok(())
            }
            Statement::Show(_) | Statement::Other => {
                let result = self.run_general(prepared, params)?;
                self.send_materialized(
                    portal,
                    result.rows.into(),
                    result.command_tag,
                    &formats,
                    max_rows,
                    ctx,
                )
            }
            Statement::Discard { all } => {
                if !all {
                    Writer { out: ctx.out }.command_complete("DISCARD PLANS");
                    return Ok(());
                }
                if !matches!(self.txn, TxnState::Idle) {
                    return Err(PgError::new(
                        sqlstate::ACTIVE_SQL_TRANSACTION,
                        "DISCARD ALL cannot run inside a transaction block",
                    ));
                }
                let mut params = self.params.clone();
                params.reset(None)?;
                self.set_params(params);
                self.statements.clear();
                self.portals.clear();
                Writer { out: ctx.out }.command_complete("DISCARD ALL");
                Ok(())
            }
            Statement::CloseCursor(None) => {
                Writer { out: ctx.out }.command_complete("CLOSE CURSOR ALL");
                Ok(())
            }
            Statement::CloseCursor(Some(name)) => Err(PgError::new(
                sqlstate::INVALID_CURSOR_NAME,
                format!("cursor \"{name}\" does not exist"),
            )),
            Statement::Unlisten => {
                Writer { out: ctx.out }.command_complete("UNLISTEN");
                Ok(())
            }
            Statement::Sleep(seconds) => {
                let seconds = sleep_seconds(seconds, params)?;
                self.parked = Some(Parked {
                    until: Instant::now() + Duration::from_secs_f64(seconds).min(MAX_SLEEP),
                    rest: None,
                    query: Rc::from(""),
                    multi: false,
                });
                portal.state = PortalState::Done("SELECT 1".into());
                Ok(())
            }
            Statement::CopyFrom(options) => {
                let copy = CopyIn::new(options, ctx.limits.max_copy_row_bytes)?;
                if let TxnState::Block(txn) = &self.txn {
                    if txn.read_only {
                        return Err(PgError::new(
                            sqlstate::READ_ONLY_SQL_TRANSACTION,
                            "cannot execute COPY FROM in a read-only transaction",
                        ));
                    }
                }
                if matches!(self.txn, TxnState::Idle) {
                    self.txn = TxnState::Implicit(PgTxn::begin(ctx.worker, false, &self.params)?);
                }
                Writer { out: ctx.out }.copy_response(true, false, 2);
                self.copy_in = Some(CopyInState { copy, simple });
                Ok(())
            }
            Statement::CopyTo(options, select) => {
                self.copy_out(options, select.as_deref(), params, ctx)
            }
        }
    }

    /// The engine access for reads in the current transaction state.
    pub(super) fn access<'w>(&'w mut self, worker: &'w mut EngineWorker) -> Access<'w> {
        match &mut self.txn {
            TxnState::Implicit(txn) | TxnState::Block(txn) | TxnState::Failed(txn) => {
                Access::Txn(worker, txn)
            }
            TxnState::Idle => Access::Direct(worker),
        }
    }

    pub(super) fn send_rows(
        &mut self,
        portal: &mut Portal,
        fetched: Result<bool, PgError>,
        source: RowSource,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), PgError> {
        if fetched? {
            let tag = format!("SELECT {}", source.sent_last_fetch);
            Writer { out: ctx.out }.command_complete(&tag);
            portal.state = PortalState::Done(tag);
        } else {
            Writer { out: ctx.out }.portal_suspended();
            portal.state = PortalState::Rows(source);
        }
        Ok(())
    }

    pub(super) fn send_materialized(
        &mut self,
        portal: &mut Portal,
        mut rows: std::collections::VecDeque<Vec<Option<String>>>,
        tag: String,
        formats: &[Format],
        max_rows: u64,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), PgError> {
        let mut writer = Writer { out: ctx.out };
        let fields = portal.prepared.fields.clone().unwrap_or_default();
        let mut now = 0;
        while max_rows == 0 || now < max_rows {
            let Some(row) = rows.pop_front() else { break };
            let at = writer.begin_row(row.len());
            for (i, value) in row.iter().enumerate() {
                match value {
                    None => writer.null(),
                    Some(text) => {
                        let oid = fields.get(i).map_or(types::TEXT, |f| f.type_oid);
                        write_general_value(&mut writer, text, oid, exec::format_of(formats, i));
                    }
                }
            }
            writer.end_row(at);
            now += 1;
        }
        if rows.is_empty() {
            let tag = if tag.starts_with("SELECT") {
                format!("SELECT {now}")
            } else {
                tag
            };
            writer.command_complete(&tag);
            portal.state = PortalState::Done(tag);
        } else {
            writer.portal_suspended();
            portal.state = PortalState::Materialized { rows, tag };
        }
        Ok(())
    }

    /// A write statement: in the open transaction, or on its own (one
    /// engine call for a single key, else a retried transaction).
    pub(super) fn run_write(
        &mut self,
        statement: &Statement,
        params: &[Option<Vec<u8>>],
        formats: &[Format],
        ctx: &mut Ctx<'_>,
    ) -> Result<String, PgError> {
        let access = match &mut self.txn {
            TxnState::Implicit(txn) | TxnState::Block(txn) => {
                if txn.read_only {
                    return Err(PgError::new(
                        sqlstate::READ_ONLY_SQL_TRANSACTION,
                        format!(
                            "cannot execute {} in a read-only transaction",
                            statement_name(statement)
                        ),
                    ));
                }
                Some(Access::Txn(ctx.worker, txn))
            }
            _ if exec::is_single_key(statement) => Some(Access::Direct(ctx.worker)),
            _ => None,
        };
        if let Some(mut access) = access {
            let mut writer = Writer { out: ctx.out };
            return exec::run_write(statement, params, &mut access, &mut writer, formats);
        }
        let mark = ctx.out.len();
        for _ in 0..AUTOCOMMIT_RETRIES {
            let mut txn = PgTxn::begin(ctx.worker, false, &self.params)?;
            let tag = {
                let mut access = Access::Txn(ctx.worker, &mut txn);
                let mut writer = Writer { out: ctx.out };
                exec::run_write(statement, params, &mut access, &mut writer, formats)?
            };
            match txn.commit() {
                Ok(()) => return Ok(tag),
                Err(error) if error.code == sqlstate::SERIALIZATION_FAILURE => {
                    ctx.out.truncate(mark)
                }
                Err(error) => return Err(error),
            }
        }
        Err(serialization_failure())
    }

    pub(super) fn begin(
        &mut self,
        read_only: bool,
        tag: &str,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), PgError> {
        match std::mem::replace(&mut self.txn, TxnState::Idle) {
            TxnState::Idle => {
                self.txn = TxnState::Block(PgTxn::begin(ctx.worker, read_only, &self.params)?)
            }
            TxnState::Implicit(mut txn) => {
                txn.read_only = read_only;
                self.txn = TxnState::Block(txn);
            }
            state @ (TxnState::Block(_) | TxnState::Failed(_)) => {
                self.txn = state;
                Writer { out: ctx.out }.error(&PgError {
                    severity: Severity::Warning,
                    ..PgError::new(
                        sqlstate::ACTIVE_SQL_TRANSACTION,
                        "there is already a transaction in progress",
                    )
                });
            }
        }
        Writer { out: ctx.out }.command_complete(tag);
        Ok(())
    }

    pub(super) fn commit(&mut self, ctx: &mut Ctx<'_>) -> Result<(), PgError> {
        match std::mem::replace(&mut self.txn, TxnState::Idle) {
            TxnState::Block(txn) | TxnState::Implicit(txn) => {
                let params_at_begin = txn.params_at_begin.clone();
                self.params.end_transaction();
                self.end_block_portals();
                if let Err(error) = txn.commit() {
                    self.set_params(params_at_begin);
                    return Err(error);
                }
                Writer { out: ctx.out }.command_complete("COMMIT");
            }
            TxnState::Failed(txn) => {
                // COMMIT of a failed block rolls back, as PostgreSQL does.
                self.set_params(txn.params_at_begin.clone());
                self.end_block_portals();
                Writer { out: ctx.out }.command_complete("ROLLBACK");
            }
            TxnState::Idle => {
                warn_no_transaction(ctx);
                Writer { out: ctx.out }.command_complete("COMMIT");
            }
        }
        Ok(())
    }

    pub(super) fn rollback(&mut self, ctx: &mut Ctx<'_>) -> Result<(), PgError> {
        match std::mem::replace(&mut self.txn, TxnState::Idle) {
            TxnState::Block(txn) | TxnState::Failed(txn) | TxnState::Implicit(txn) => {
                self.set_params(txn.params_at_begin.clone());
                self.end_block_portals();
            }
            TxnState::Idle => warn_no_transaction(ctx),
        }
        Writer { out: ctx.out }.command_complete("ROLLBACK");
        Ok(())
    }

    pub(super) fn end_block_portals(&mut self) {
        self.portals.clear();
    }

    pub(super) fn run_general(
        &mut self,
        prepared: &Prepared,
        params: &[Option<Vec<u8>>],
    ) -> Result<catalog::ResultSet, PgError> {
        if let Statement::Show(name) = &prepared.statement {
            return self.show(name);
        }
        let text_params: Vec<Option<String>> = params
            .iter()
            .map(|p| p.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()))
            .collect();
        catalog::execute_typed(&prepared.text, &text_params, &prepared.param_types, self)
    }

    pub(super) fn show(&self, name: &str) -> Result<catalog::ResultSet, PgError> {
        if name.eq_ignore_ascii_case("all") {
            return Ok(catalog::ResultSet {
                columns: vec![],
                rows: self
                    .params
                    .all()
                    .into_iter()
                    .map(|(name, value)| vec![Some(name), Some(value), Some(String::new())])
                    .collect(),
                command_tag: "SHOW".into(),
            });
        }
        let value = self.params.get(name).ok_or_else(|| {
            PgError::new(
                sqlstate::UNDEFINED_OBJECT,
                format!("unrecognized configuration parameter \"{name}\""),
            )
        })?;
        Ok(catalog::ResultSet {
            columns: vec![],
            rows: vec![vec![Some(value)]],
            command_tag: "SHOW".into(),
        })
    }

    pub(super) fn copy_out(
        &mut self,
        options: &sql::CopyOptions,
        select: Option<&sql::Select>,
        params: &[Option<Vec<u8>>],
        ctx: &mut Ctx<'_>,
    ) -> Result<(), PgError> {
        let select = match select {
            Some(select) => select.clone(),
            None => sql::Select {
                columns: copy_columns(&options.columns),
                filter: sql::KeyFilter::All,
                order: sql::Order::None,
                limit: None,
                offset: None,
            },
        };
        let mut access = self.access(ctx.worker);
        let mut source = RowSource::open(&select, params, &mut access)?;
        let format = CopyOutFormat::new(options, source.columns.clone())?;
        let mut writer = Writer { out: ctx.out };
        writer.copy_response(false, false, format.columns.len());
        if let Some(header) = format.header() {
            writer.copy_data(&header);
        }
        let result = source.fetch_with(&mut access, 0, &mut |row| {
            let line = match row {
                exec::Row::Pair(key, value) => format.row(key, value),
                exec::Row::Count(count) => format.count_row(count),
            };
            writer.copy_data(&line);
        });
        result?;
        writer.copy_done();
        writer.command_complete(&format!("COPY {}", source.sent_last_fetch));
        Ok(())
    }

    pub(super) fn copy_message(&mut self, tag: u8, body: &[u8], ctx: &mut Ctx<'_>) -> Next {
        let state = self.copy_in.as_mut().expect("copying");
        let txn = match &mut self.txn {
            TxnState::Implicit(txn) | TxnState::Block(txn) => txn,
            _ => unreachable!("COPY FROM runs in a transaction"),
        };
        let result = match tag {
            b'd' => state.copy.data(body, txn).map(|()| None),
            b'c' => state.copy.finish(txn).map(Some),
            b'f' => {
                let reason = Reader::new(body).cstr().unwrap_or("").to_string();
                Err(PgError::new(
                    sqlstate::QUERY_CANCELED,
                    format!("COPY from stdin failed: {reason}"),
                ))
            }
            // Flush and Sync mean nothing during COPY.
            b'H' | b'S' => Ok(None),
            b'X' => return Next::Close,
            _ => Err(PgError::new(
                sqlstate::PROTOCOL_VIOLATION,
                format!("unexpected message type 0x{tag:02X} during COPY from stdin"),
            )),
        };
        match result {
            Ok(None) => Next::Continue,
            Ok(Some(rows)) => {
                let simple = self.copy_in.take().expect("copying").simple;
                let committed = match std::mem::replace(&mut self.txn, TxnState::Idle) {
                    TxnState::Implicit(txn) if simple => txn.commit(),
                    other => {
                        self.txn = other;
                        Ok(())
                    }
                };
                let failed = committed.is_err();
                match committed {
                    Ok(()) => Writer { out: ctx.out }.command_complete(&format!("COPY {rows}")),
                    Err(error) => send_error(ctx, &error),
                }
                self.pending_statement_ended(ctx, failed);
                if simple {
                    self.ready(ctx);
                }
                Next::Continue
            }
            Err(error) => {
                let simple = self.copy_in.take().expect("copying").simple;
                self.fail_statement(&error, simple, ctx);
                self.pending_statement_ended(ctx, true);
                Next::Continue
            }
        }
    }
}

pub(super) fn source_fetch(
    source: &mut RowSource,
    session: &mut PgSession,
    ctx: &mut Ctx<'_>,
    formats: &[Format],
    max_rows: u64,
) -> Result<bool, PgError> {
    let mut access = session.access(ctx.worker);
    source.fetch(&mut access, &mut Writer { out: ctx.out }, formats, max_rows)
}

/// A write statement's name in PostgreSQL's messages.
pub(super) fn statement_name(statement: &Statement) -> &'static str {
    match statement {
        Statement::Insert(_) => "INSERT",
        Statement::Update(_) => "UPDATE",
        Statement::Delete(_) => "DELETE",
        Statement::Truncate => "TRUNCATE TABLE",
        Statement::CopyFrom(_) => "COPY FROM",
        _ => "this statement",
    }
}

pub(super) fn warn_no_transaction(ctx: &mut Ctx<'_>) {
    Writer { out: ctx.out }.error(&PgError {
        severity: Severity::Warning,
        ..PgError::new(
            sqlstate::NO_ACTIVE_SQL_TRANSACTION,
            "there is no transaction in progress",
        )
    });
}

pub(super) fn no_block(what: &str) -> PgError {
    PgError::new(
        sqlstate::NO_ACTIVE_SQL_TRANSACTION,
        format!("{what} can only be used in transaction blocks"),
    )
}

pub(super) fn copy_columns(columns: &[sql::CopyColumn]) -> Vec<OutputColumn> {
    let all = [sql::CopyColumn::Key, sql::CopyColumn::Value];
    let columns = if columns.is_empty() {
        &all[..]
    } else {
        columns
    };
    columns
        .iter()
        .map(|c| OutputColumn {
            expr: match c {
                sql::CopyColumn::Key => sql::ColumnExpr::Key(None),
                sql::CopyColumn::Value => sql::ColumnExpr::Value(None),
            },
            alias: None,
        })
        .collect()
}

pub(super) fn sleep_seconds(scalar: &Scalar, params: &[Option<Vec<u8>>]) -> Result<f64, PgError> {
    let Some(bytes) = exec::eval(scalar, params)? else {
        return Ok(0.0);
    };
    let text = String::from_utf8_lossy(&bytes);
    let seconds: f64 = text.trim().parse().map_err(|_| {
        PgError::new(
            sqlstate::INVALID_TEXT_REPRESENTATION,
            format!("invalid input syntax for type double precision: \"{text}\""),
        )
    })?;
    Ok(if seconds.is_finite() {
        seconds.max(0.0)
    } else {
        0.0
    })
}

/// A general-path value in the requested format: text as is; binary for
/// the fixed-size types drivers ask for.
pub(super) fn write_general_value(writer: &mut Writer<'_>, text: &str, oid: u32, format: Format) {
    if format == Format::Binary {
        match oid {
            types::INT8 => {
                if let Ok(v) = text.parse::<i64>() {
                    return writer.value(&v.to_be_bytes());
                }
            }
            types::INT4 | types::OID => {
                if let Ok(v) = text.parse::<i64>() {
                    return writer.value(&(v as i32).to_be_bytes());
                }
            }
            types::INT2 => {
                if let Ok(v) = text.parse::<i16>() {
                    return writer.value(&v.to_be_bytes());
                }
            }
            types::BOOL => return writer.value(&[(text == "t") as u8]),
            _ => {}
        }
    }
    writer.value(text.as_bytes());
}
