//! The simple query protocol: a Query's statements, one implicit
//! transaction when there are several.

use super::extended::{general_fields, prepare};
use super::*;

impl PgSession {
    pub(super) fn simple_query(&mut self, body: &[u8], ctx: &mut Ctx<'_>) -> Next {
        let mut reader = Reader::new(body);
        let query = match reader.cstr() {
            Ok(query) => query,
            Err(error) => {
                send_error(ctx, &error);
                self.ready(ctx);
                return Next::Continue;
            }
        };
        // A simple Query ends any unnamed portal and pending extended state.
        self.portals.remove("");
        let statements = match sql::parse(query) {
            Ok(statements) => statements,
            Err(error) => {
                let error = syntax_error(error);
                send_error(ctx, &error);
                self.fail_transaction();
                self.ready(ctx);
                return Next::Continue;
            }
        };
        let multi = statements.len() > 1;
        self.run_simple(Rc::from(query), statements, multi, ctx)
    }

    /// Runs a simple Query's statements from the front of `statements`.
    pub(super) fn run_simple(
        &mut self,
        query: Rc<str>,
        statements: Vec<sql::Parsed>,
        multi: bool,
        ctx: &mut Ctx<'_>,
    ) -> Next {
        let mut statements = statements.into_iter();
        while let Some(parsed) = statements.next() {
            let text = &query[parsed.text.clone()];
            // Statements of a multi-statement Query outside a block share
            // an implicit transaction (a new one after a COMMIT).
            let mut result = Ok(());
            if multi && matches!(self.txn, TxnState::Idle) {
                match PgTxn::begin(ctx.worker, false, &self.params) {
                    Ok(txn) => self.txn = TxnState::Implicit(txn),
                    Err(error) => result = Err(error),
                }
            }
            let kind = kind_of(&parsed.statement, text);
            if result.is_ok() {
                result = self.run_one_simple(text, parsed.statement, ctx);
            }
            self.statement_ran(ctx, kind, text, result.is_err());
            // Positions count from the start of the whole Query string.
            if let Err(error) = &mut result {
                if let Some(position) = &mut error.position {
                    *position += query[..parsed.text.start].chars().count();
                }
            }
            match result {
                Ok(()) if self.parked.is_some() => {
                    let parked = self.parked.as_mut().expect("parked");
                    parked.rest = Some(statements.collect());
                    parked.query = query;
                    parked.multi = multi;
                    return Next::Parked(parked.until);
                }
                Ok(()) if self.copy_in.is_some() => return Next::Continue,
                Ok(()) => {}
                Err(error) => {
                    send_error(ctx, &error);
                    self.fail_transaction();
                    break;
                }
            }
        }
        self.end_simple_query(ctx);
        Next::Continue
    }

    /// After the last statement: an implicit transaction commits.
    pub(super) fn end_simple_query(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(txn) = self.take_implicit() {
            if let Err(error) = txn.commit() {
                send_error(ctx, &error);
            }
        }
        self.ready(ctx);
    }

    pub(super) fn run_one_simple(
        &mut self,
        text: &str,
        statement: Statement,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), PgError> {
        if statement == Statement::Other {
            // Run once: the result carries its own description.
            self.check_not_failed_for(None)?;
            let result = catalog::execute(text, &[], self)?;
            let mut writer = Writer { out: ctx.out };
            if let Some(fields) = general_fields(&result) {
                writer.row_description(&fields, |_| false);
            }
            for row in &result.rows {
                let at = writer.begin_row(row.len());
                for value in row {
                    match value {
                        Some(text) => writer.value(text.as_bytes()),
                        None => writer.null(),
                    }
                }
                writer.end_row(at);
            }
            writer.command_complete(&result.command_tag);
            return Ok(());
        }
        self.check_not_failed_for(Some(&statement))?;
        let prepared = prepare(text, statement, &[], self)?;
        if let Some(fields) = &prepared.fields {
            if !matches!(prepared.statement, Statement::CopyTo(..)) {
                Writer { out: ctx.out }.row_description(fields, |_| false);
            }
        }
        let mut portal = Portal {
            prepared: Rc::new(prepared),
            params: Vec::new(),
            result_formats: Vec::new(),
            state: PortalState::NotRun,
        };
        self.execute(&mut portal, 0, true, ctx)
    }
}
