//! The extended query protocol (Parse, Bind, Describe, Execute, Close) and
//! parse analysis: parameter types and result descriptions.

use super::*;

impl PgSession {
    pub(super) fn parse_message(&mut self, body: &[u8], ctx: &mut Ctx<'_>) -> Result<(), PgError> {
        let mut reader = Reader::new(body);
        let name = reader.cstr()?.to_string();
        let query = reader.cstr()?;
        let count = reader.count16()?;
        let mut declared = Vec::with_capacity(count);
        for _ in 0..count {
            declared.push(reader.i32()? as u32);
        }
        reader.finish()?;
        if !name.is_empty() && self.statements.contains_key(&name) {
            return Err(PgError::new(
                sqlstate::DUPLICATE_PREPARED_STATEMENT,
                format!("prepared statement \"{name}\" already exists"),
            ));
        }
        let named = self.statements.len() - self.statements.contains_key("") as usize;
        if !name.is_empty() && named >= ctx.limits.max_prepared_statements {
            return Err(PgError::new(
                sqlstate::PROGRAM_LIMIT_EXCEEDED,
                format!(
                    "more than {} prepared statements in one session",
                    ctx.limits.max_prepared_statements
                ),
            )
            .with_hint("close unused statements, or raise --pg-max-prepared-statements"));
        }
        self.check_not_failed_for(None)?;
        let mut statements = sql::parse(query).map_err(syntax_error)?;
        if statements.len() > 1 {
            return Err(PgError::new(
                sqlstate::SYNTAX_ERROR,
                "cannot insert multiple commands into a prepared statement",
            ));
        }
        let parsed = statements.pop().unwrap_or(sql::Parsed {
            statement: Statement::Empty,
            text: 0..0,
            param_count: 0,
        });
        let text = &query[parsed.text.clone()];
        let prepared = prepare(text, parsed.statement, &declared, self)?;
        self.statements.insert(name, Rc::new(prepared));
        Writer { out: ctx.out }.parse_complete();
        Ok(())
    }

    pub(super) fn bind(&mut self, body: &[u8], ctx: &mut Ctx<'_>) -> Result<(), PgError> {
        let mut reader = Reader::new(body);
        let portal_name = reader.cstr()?.to_string();
        let statement_name = reader.cstr()?;
        let prepared = self
            .statements
            .get(statement_name)
            .cloned()
            .ok_or_else(|| {
                PgError::new(
                    sqlstate::INVALID_SQL_STATEMENT_NAME,
                    format!("prepared statement \"{statement_name}\" does not exist"),
                )
            })?;
        let format_count = reader.count16()?;
        let mut param_formats = Vec::with_capacity(format_count);
        for _ in 0..format_count {
            param_formats.push(Format::from_code(reader.i16()?)?);
        }
        let param_count = reader.count16()?;
        if param_count != prepared.param_types.len() {
            return Err(PgError::new(
                sqlstate::PROTOCOL_VIOLATION,
                format!(
                    "bind message supplies {param_count} parameters, but prepared statement \"{statement_name}\" requires {}",
                    prepared.param_types.len()
                ),
            ));
        }
        if format_count > 1 && format_count != param_count {
            return Err(PgError::new(
                sqlstate::PROTOCOL_VIOLATION,
                format!("bind message has {format_count} parameter formats but {param_count} parameters"),
            ));
        }
        let mut params = Vec::with_capacity(param_count);
        for i in 0..param_count {
            let format = exec::format_of(&param_formats, i);
            params.push(match reader.value()? {
                None => None,
                Some(raw) => {
                    Some(types::decode_param(prepared.param_types[i], format, raw)?.into_owned())
                }
            });
        }
        let result_count = reader.count16()?;
        let mut result_formats = Vec::with_capacity(result_count);
        for _ in 0..result_count {
            result_formats.push(Format::from_code(reader.i16()?)?);
        }
        reader.finish()?;
        self.check_not_failed_for(Some(&prepared.statement))?;
        if !portal_name.is_empty() && self.portals.contains_key(&portal_name) {
            return Err(PgError::new(
                sqlstate::DUPLICATE_CURSOR,
                format!("portal \"{portal_name}\" already exists"),
            ));
        }
        if self.portals.len() >= ctx.limits.max_portals && !self.portals.contains_key(&portal_name)
        {
            return Err(PgError::new(
                sqlstate::PROGRAM_LIMIT_EXCEEDED,
                format!(
                    "more than {} open portals in one session",
                    ctx.limits.max_portals
                ),
            )
            .with_hint("close portals, or raise --pg-max-portals"));
        }
        self.portals.insert(
            portal_name,
            Portal {
                prepared,
                params,
                result_formats,
                state: PortalState::NotRun,
            },
        );
        Writer { out: ctx.out }.bind_complete();
        Ok(())
    }

    pub(super) fn describe(&mut self, body: &[u8], ctx: &mut Ctx<'_>) -> Result<(), PgError> {
        let mut reader = Reader::new(body);
        let kind = reader.u8()?;
        let name = reader.cstr()?;
        reader.finish()?;
        let mut writer = Writer { out: ctx.out };
        match kind {
            b'S' => {
                let prepared = self.statements.get(name).ok_or_else(|| {
                    PgError::new(
                        sqlstate::INVALID_SQL_STATEMENT_NAME,
                        format!("prepared statement \"{name}\" does not exist"),
                    )
                })?;
                writer.parameter_description(&prepared.param_types);
                match &prepared.fields {
                    Some(fields) => writer.row_description(fields, |_| false),
                    None => writer.no_data(),
                }
            }
            b'P' => {
                let portal = self.portals.get(name).ok_or_else(|| no_portal(name))?;
                match &portal.prepared.fields {
                    Some(fields) => {
                        let formats = &portal.result_formats;
                        writer.row_description(fields, |i| {
                            exec::format_of(formats, i) == Format::Binary
                        })
                    }
                    None => writer.no_data(),
                }
            }
            _ => {
                return Err(PgError::new(
                    sqlstate::PROTOCOL_VIOLATION,
                    format!("invalid DESCRIBE message subtype {kind}"),
                ))
            }
        }
        Ok(())
    }

    pub(super) fn execute_message(
        &mut self,
        body: &[u8],
        ctx: &mut Ctx<'_>,
    ) -> Result<(), PgError> {
        let mut reader = Reader::new(body);
        let name = reader.cstr()?.to_string();
        let max_rows = reader.i32()?.max(0) as u64;
        reader.finish()?;
        let mut portal = self.portals.remove(&name).ok_or_else(|| no_portal(&name))?;
        self.check_not_failed_for(Some(&portal.prepared.statement))?;
        let result = self.execute(&mut portal, max_rows, false, ctx);
        let kind = kind_of(&portal.prepared.statement, &portal.prepared.text);
        self.statement_ran(ctx, kind, &portal.prepared.text, result.is_err());
        // COMMIT / ROLLBACK end the transaction and its portals.
        let keep = !matches!(
            portal.prepared.statement,
            Statement::Commit | Statement::Rollback
        );
        if keep {
            self.portals.insert(name, portal);
        }
        result
    }

    pub(super) fn close(&mut self, body: &[u8], ctx: &mut Ctx<'_>) -> Result<(), PgError> {
        let mut reader = Reader::new(body);
        let kind = reader.u8()?;
        let name = reader.cstr()?;
        reader.finish()?;
        match kind {
            b'S' => drop(self.statements.remove(name)),
            b'P' => drop(self.portals.remove(name)),
            _ => {
                return Err(PgError::new(
                    sqlstate::PROTOCOL_VIOLATION,
                    format!("invalid CLOSE message subtype {kind}"),
                ))
            }
        }
        Writer { out: ctx.out }.close_complete();
        Ok(())
    }

    /// In a failed block only ROLLBACK [TO] and COMMIT may run.
    pub(super) fn check_not_failed_for(
        &self,
        statement: Option<&Statement>,
    ) -> Result<(), PgError> {
        let allowed = matches!(
            statement,
            Some(
                Statement::Rollback
                    | Statement::RollbackTo(_)
                    | Statement::Commit
                    | Statement::Empty
            )
        );
        if matches!(self.txn, TxnState::Failed(_)) && !allowed {
            return Err(aborted());
        }
        Ok(())
    }
}

pub(super) fn no_portal(name: &str) -> PgError {
    PgError::new(
        sqlstate::INVALID_CURSOR_NAME,
        format!("portal \"{name}\" does not exist"),
    )
}

/// Parse analysis: parameter types and the result description.
pub(super) fn prepare(
    text: &str,
    statement: Statement,
    declared: &[u32],
    session: &mut PgSession,
) -> Result<Prepared, PgError> {
    let param_count = max_param(&statement).max(declared.len());
    let mut param_types: Vec<u32> = (0..param_count)
        .map(|i| {
            declared
                .get(i)
                .copied()
                .filter(|&oid| oid != 0)
                .unwrap_or(0)
        })
        .collect();
    infer_param_types(&statement, &mut param_types);
    for oid in &mut param_types {
        if *oid == 0 {
            *oid = types::TEXT;
        }
    }
    let fields = match &statement {
        Statement::Select(select) => {
            let columns = exec::expand(&select.columns);
            exec::check_columns(&columns)?;
            Some(exec::fields(&columns))
        }
        Statement::Insert(sql::Insert { returning, .. })
        | Statement::Update(sql::Update { returning, .. })
        | Statement::Delete(sql::Delete { returning, .. })
            if !returning.is_empty() =>
        {
            Some(exec::fields(&exec::expand(returning)))
        }
        Statement::Sleep(_) => Some(vec![Field {
            name: "pg_sleep".into(),
            type_oid: 2278,
            type_size: 4,
            table_oid: 0,
            column_number: 0,
        }]),
        Statement::Show(name) if name.eq_ignore_ascii_case("all") => Some(
            ["name", "setting", "description"]
                .iter()
                .map(|name| text_field(name))
                .collect(),
        ),
        Statement::Show(name) => {
            session.params.get(name).ok_or_else(|| {
                PgError::new(
                    sqlstate::UNDEFINED_OBJECT,
                    format!("unrecognized configuration parameter \"{name}\""),
                )
            })?;
            Some(vec![text_field(&Params::canonical_name(name))])
        }
        Statement::Other => {
            // Parse analysis only: nothing runs until Execute.
            let description = catalog::describe(text, declared, session)?;
            param_types = description.params;
            Some(description.columns.iter().map(general_field).collect())
        }
        _ => None,
    };
    Ok(Prepared {
        text: text.to_string(),
        statement,
        param_types,
        fields,
    })
}

/// The description of a general-path result (`None`: it returns no rows).
pub(super) fn general_fields(result: &catalog::ResultSet) -> Option<Vec<Field>> {
    if result.columns.is_empty() && !result.command_tag.starts_with("SELECT") {
        return None;
    }
    Some(result.columns.iter().map(general_field).collect())
}

pub(super) fn general_field(column: &catalog::Column) -> Field {
    Field {
        name: column.name.clone(),
        type_oid: column.type_oid,
        type_size: types::type_size(column.type_oid),
        table_oid: 0,
        column_number: 0,
    }
}

pub(super) fn text_field(name: &str) -> Field {
    Field {
        name: name.to_string(),
        type_oid: types::TEXT,
        type_size: -1,
        table_oid: 0,
        column_number: 0,
    }
}

/// Calls `visit` for every scalar of a statement, with the type its
/// context implies.
pub(super) fn visit_scalars(statement: &Statement, visit: &mut dyn FnMut(&Scalar, u32)) {
    use sql::KeyFilter;
    let filter = |filter: &KeyFilter, visit: &mut dyn FnMut(&Scalar, u32)| match filter {
        KeyFilter::Eq(s) | KeyFilter::Like(s) => visit(s, types::TEXT),
        KeyFilter::In(list) => list.iter().for_each(|s| visit(s, types::TEXT)),
        KeyFilter::All => {}
    };
    let select = |select: &sql::Select, visit: &mut dyn FnMut(&Scalar, u32)| {
        filter(&select.filter, visit);
        for s in select.limit.iter().chain(select.offset.iter()) {
            visit(s, types::INT8);
        }
    };
    match statement {
        Statement::Select(s) => select(s, visit),
        Statement::CopyTo(_, Some(s)) => select(s, visit),
        Statement::Insert(insert) => {
            for (k, v) in &insert.rows {
                visit(k, types::TEXT);
                visit(v, types::TEXT);
            }
            if let sql::OnConflict::DoUpdate(Some(s)) = &insert.on_conflict {
                visit(s, types::TEXT);
            }
        }
        Statement::Update(update) => {
            visit(&update.value, types::TEXT);
            filter(&update.filter, visit);
        }
        Statement::Delete(delete) => filter(&delete.filter, visit),
        Statement::Sleep(s) => visit(s, types::FLOAT8),
        _ => {}
    }
}

pub(super) fn max_param(statement: &Statement) -> usize {
    let mut max = 0;
    visit_scalars(statement, &mut |scalar, _| {
        if let Scalar::Param { index, .. } = scalar {
            max = max.max(*index);
        }
    });
    max
}

/// Undeclared parameter types: from a cast, else from the context.
pub(super) fn infer_param_types(statement: &Statement, param_types: &mut [u32]) {
    visit_scalars(statement, &mut |scalar, context| {
        if let Scalar::Param { index, cast } = scalar {
            let slot = &mut param_types[index - 1];
            if *slot == 0 {
                *slot = match cast {
                    Some(SqlType::Bytea) => types::BYTEA,
                    Some(SqlType::Integer) => types::INT8,
                    Some(SqlType::Text) => types::TEXT,
                    None => context,
                };
            }
        }
    });
}
