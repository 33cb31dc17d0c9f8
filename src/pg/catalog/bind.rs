//! The binder: resolves names and types in sqlparser's AST and produces a
//! plan (see plan.rs). PostgreSQL's rules are followed where clients can
//! tell the difference: untyped literals take the type of what they meet,
//! output columns are named as PostgreSQL names them, and errors carry
//! PostgreSQL's SQLSTATEs.

use sqlparser::ast::{
    self, BinaryOperator as BinOp, FunctionArg, FunctionArgExpr, FunctionArguments, SetExpr,
};

mod expr;
mod pushdown;

use expr::*;
use pushdown::push_down;

use super::functions::{self, TableFunc};
use super::plan::*;
use super::tables;
use super::types::{self, oid, Numeric, Oid, Value};
use crate::pg::error::{sqlstate, PgError};

/// How deeply expressions and subqueries may nest.
pub(crate) const MAX_DEPTH: usize = 64;

const AMBIGUOUS_COLUMN: &str = "42702";
const GROUPING_ERROR: &str = "42803";
const UNDEFINED_PARAMETER: &str = "42P02";
const INVALID_COLUMN_REFERENCE: &str = "42P10";
const AMBIGUOUS_FUNCTION: &str = "42725";
const INDETERMINATE_DATATYPE: &str = "42P18";
const DUPLICATE_ALIAS: &str = "42712";
const WRONG_OBJECT_TYPE: &str = "42809";

/// One FROM item as the binder sees it: its names and columns.
struct Entry {
    alias: String,
    /// The real schema and table name (None once aliased: PostgreSQL then
    /// hides the real name).
    qualified: Option<(String, String)>,
    columns: Vec<(String, Oid)>,
    /// Columns merged away by USING / NATURAL (not found unqualified).
    hidden: Vec<bool>,
    offset: usize,
}

/// One query level (a SELECT): its FROM items and aggregate state.
#[derive(Default)]
struct Level {
    entries: Vec<Entry>,
    sources: Vec<SourceSlot>,
    width: usize,
    /// A subquery in FROM cannot see its own level's items.
    hidden: bool,
    /// While binding JOIN ... ON: entries before this index are out of
    /// reach.
    visible_from: usize,
    /// Some while aggregates are allowed (select list, HAVING, ORDER BY).
    aggs: Option<Vec<AggCall>>,
    /// Where aggregates are not allowed, for the error message.
    agg_context: &'static str,
    in_aggregate: bool,
    /// While binding the select list: a set-returning function there
    /// becomes a FROM item (leaf index, lateral).
    srf_allowed: bool,
    srf: Option<(usize, bool)>,
}

#[derive(Clone)]
struct CteScope<'a> {
    /// The level index of the SELECT the WITH belongs to.
    level: usize,
    defs: Vec<(String, &'a ast::Cte)>,
}

/// A select-list item before binding.
enum Item<'a> {
    Ast(&'a ast::Expr, Option<String>),
    Column(Expr, String, Oid),
}

pub(crate) struct Binder<'a> {
    levels: Vec<Level>,
    ctes: Vec<CteScope<'a>>,
    /// Parameter types: given by the client or inferred (0 = unknown yet).
    param_types: Vec<Oid>,
    /// Number of parameter values supplied (None when describing).
    param_count: Option<usize>,
    depth: usize,
    database: String,
    /// The query reads kv, which only the fast path serves.
    pub references_kv: bool,
}

fn unsupported(what: impl std::fmt::Display) -> PgError {
    PgError::unsupported(format!(
        "{what} is not supported by corewire's catalog queries"
    ))
}

fn too_deep() -> PgError {
    PgError::new(
        sqlstate::PROGRAM_LIMIT_EXCEEDED,
        format!("statement is too deeply nested (more than {MAX_DEPTH} levels)"),
    )
}

/// An identifier as PostgreSQL reads it: unquoted names fold to lower case.
pub(crate) fn ident(i: &ast::Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_lowercase()
    }
}

fn object_name(name: &ast::ObjectName) -> Result<Vec<String>, PgError> {
    name.0
        .iter()
        .map(|p| {
            p.as_ident()
                .map(ident)
                .ok_or_else(|| unsupported(format!("the name {name}")))
        })
        .collect()
}

fn is_integer_literal(e: &ast::Expr) -> Option<i64> {
    match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

/// Whether an expression reads this query level's row (subqueries are
/// assumed to).
fn uses_current_level(e: &Expr) -> bool {
    match e {
        Expr::Column { up: 0, .. } => true,
        Expr::Subquery(_) | Expr::Exists(_) | Expr::ArraySubquery(_) | Expr::InSubquery { .. } => {
            true
        }
        _ => {
            let mut found = false;
            let _ = for_each_child(e, &mut |c| {
                found |= uses_current_level(c);
                Ok(())
            });
            found
        }
    }
}

impl<'a> Binder<'a> {
    /// `param_types`: types the client declared (0 = unspecified);
    /// `param_count`: values supplied, or None when only describing.
    pub fn new(param_types: &[Oid], param_count: Option<usize>, database: &str) -> Binder<'a> {
        Binder {
            levels: Vec::new(),
            ctes: Vec::new(),
            param_types: param_types.to_vec(),
            param_count,
            depth: 0,
            database: database.to_string(),
            references_kv: false,
        }
    }

    /// Parameter types after binding (inferred where not declared; text
    /// where nothing says otherwise).
    pub fn param_types(&self) -> Vec<Oid> {
        self.param_types
            .iter()
            .map(|&t| {
                if t == 0 || t == oid::UNKNOWN {
                    oid::TEXT
                } else {
                    t
                }
            })
            .collect()
    }

    fn level(&self) -> &Level {
        self.levels.last().expect("a query level is active")
    }

    fn level_mut(&mut self) -> &mut Level {
        self.levels.last_mut().expect("a query level is active")
    }

    /// Runs `f` one nesting level deeper, enforcing MAX_DEPTH.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, PgError>) -> Result<T, PgError> {
        if self.depth >= MAX_DEPTH {
            return Err(too_deep());
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    /// Runs `f` inside a fresh query level with no FROM items (VALUES,
    /// LIMIT, the output row of a set operation).
    fn in_level<T>(
        &mut self,
        level: Level,
        f: impl FnOnce(&mut Self) -> Result<T, PgError>,
    ) -> Result<T, PgError> {
        self.levels.push(level);
        let result = f(self);
        self.levels.pop();
        result
    }

    // -----------------------------------------------------------------
    // Queries

    pub fn bind_query(&mut self, q: &'a ast::Query) -> Result<Query, PgError> {
        self.nested(|b| {
            if q.for_clause.is_some()
                || q.settings.is_some()
                || q.format_clause.is_some()
                || !q.pipe_operators.is_empty()
            {
                return Err(unsupported(format!("the query {q}")));
            }
            let scoped = match &q.with {
                Some(with) if with.recursive => return Err(unsupported("WITH RECURSIVE")),
                Some(with) => {
                    let defs = with
                        .cte_tables
                        .iter()
                        .map(|c| (ident(&c.alias.name), c))
                        .collect();
                    b.ctes.push(CteScope {
                        level: b.levels.len(),
                        defs,
                    });
                    true
                }
                None => false,
            };
            let result = b.bind_query_body(q);
            if scoped {
                b.ctes.pop();
            }
            result
        })
    }

    fn bind_query_body(&mut self, q: &'a ast::Query) -> Result<Query, PgError> {
        let order: &[ast::OrderByExpr] = match &q.order_by {
            None => &[],
            Some(o) if o.interpolate.is_some() => {
                return Err(unsupported("ORDER BY ... INTERPOLATE"))
            }
            Some(o) => match &o.kind {
                ast::OrderByKind::Expressions(v) => v,
                ast::OrderByKind::All(_) => return Err(unsupported("ORDER BY ALL")),
            },
        };
        let mut query = match q.body.as_ref() {
            SetExpr::Select(s) => self.bind_select(s, order)?,
            body => {
                let mut inner = self.bind_set_expr(body)?;
                if !order.is_empty() {
                    if !inner.order.is_empty() || inner.limit.is_some() || inner.offset.is_some() {
                        inner = nest(inner);
                    }
                    inner.order = self.bind_output_order(&inner.columns, order)?;
                }
                inner
            }
        };
        let (mut limit, mut offset) = (None, None);
        match &q.limit_clause {
            None => {}
            Some(ast::LimitClause::LimitOffset {
                limit: l,
                offset: o,
                limit_by,
            }) => {
                if !limit_by.is_empty() {
                    return Err(unsupported("LIMIT BY"));
                }
                limit = l.as_ref();
                offset = o.as_ref().map(|o| &o.value);
            }
            Some(ast::LimitClause::OffsetCommaLimit { .. }) => {
                return Err(unsupported("LIMIT offset, count"))
            }
        }
        let mut fetch_one = None;
        if let Some(fetch) = &q.fetch {
            if fetch.with_ties || fetch.percent {
                return Err(unsupported("FETCH ... WITH TIES / PERCENT"));
            }
            if limit.is_some() {
                return Err(PgError::new(
                    sqlstate::SYNTAX_ERROR,
                    "multiple LIMIT clauses not allowed",
                ));
            }
            match &fetch.quantity {
                Some(e) => limit = Some(e),
                None => fetch_one = Some(Expr::Const(Value::Int(1))),
            }
        }
        if limit.is_some() || offset.is_some() || fetch_one.is_some() {
            if query.limit.is_some() || query.offset.is_some() {
                query = nest(query);
            }
            query.limit = match limit {
                Some(e) => Some(self.bind_limit(e, "LIMIT")?),
                None => fetch_one,
            };
            query.offset = offset.map(|e| self.bind_limit(e, "OFFSET")).transpose()?;
        }
        Ok(query)
    }

    /// LIMIT / OFFSET: a bigint, evaluated once, seeing only outer levels.
    fn bind_limit(&mut self, e: &'a ast::Expr, context: &'static str) -> Result<Expr, PgError> {
        let level = Level {
            agg_context: context,
            ..Level::default()
        };
        self.in_level(level, |b| {
            let (e, t) = b.bind_expr(e)?;
            if !types::is_numeric(t) && t != oid::UNKNOWN {
                return Err(PgError::new(
                    sqlstate::DATATYPE_MISMATCH,
                    format!(
                        "argument of {context} must be type bigint, not type {}",
                        types::format_type(t, None)
                    ),
                ));
            }
            Ok(b.coerce(e, t, oid::INT8))
        })
    }

    fn bind_set_expr(&mut self, s: &'a SetExpr) -> Result<Query, PgError> {
        match s {
            SetExpr::Select(sel) => self.bind_select(sel, &[]),
            SetExpr::Query(q) => self.bind_query(q),
            SetExpr::Values(v) => self.bind_values(v),
            SetExpr::SetOperation {
                op,
                set_quantifier,
                left,
                right,
            } => {
                let (op, name) = match op {
                    ast::SetOperator::Union => (SetOp::Union, "UNION"),
                    ast::SetOperator::Intersect => (SetOp::Intersect, "INTERSECT"),
                    ast::SetOperator::Except => (SetOp::Except, "EXCEPT"),
                    ast::SetOperator::Minus => return Err(unsupported("MINUS")),
                };
                let all = match set_quantifier {
                    ast::SetQuantifier::All => true,
                    ast::SetQuantifier::Distinct | ast::SetQuantifier::None => false,
                    other => return Err(unsupported(format!("{name} {other}"))),
                };
                let l = self.nested(|b| b.bind_set_expr(left))?;
                let r = self.nested(|b| b.bind_set_expr(right))?;
                if l.columns.len() != r.columns.len() {
                    return Err(PgError::new(
                        sqlstate::SYNTAX_ERROR,
                        format!("each {name} query must have the same number of columns"),
                    ));
                }
                let mut columns = Vec::new();
                for ((name_l, tl), (_, tr)) in l.columns.iter().zip(&r.columns) {
                    let ty = common_type(&[*tl, *tr], name)?;
                    columns.push((name_l.clone(), ty));
                }
                Ok(Query {
                    body: Body::SetOp {
                        op,
                        all,
                        left: Box::new(l),
                        right: Box::new(r),
                    },
                    columns,
                    order: Vec::new(),
                    limit: None,
                    offset: None,
                })
            }
            SetExpr::Table(_) => Err(unsupported("TABLE name")),
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
                Err(PgError::unsupported(
                    "data-modifying statements in WITH are not supported",
                ))
            }
        }
    }

    fn bind_values(&mut self, v: &'a ast::Values) -> Result<Query, PgError> {
        let level = Level {
            agg_context: "VALUES",
            ..Level::default()
        };
        self.in_level(level, |b| {
            let width = v.rows.first().map_or(0, Vec::len);
            let mut rows = Vec::new();
            for row in &v.rows {
                if row.len() != width {
                    return Err(PgError::new(
                        sqlstate::SYNTAX_ERROR,
                        "VALUES lists must all be the same length",
                    ));
                }
                rows.push(
                    row.iter()
                        .map(|e| b.bind_expr(e))
                        .collect::<Result<Vec<_>, _>>()?,
                );
            }
            let mut columns = Vec::new();
            for i in 0..width {
                let ty = common_type(&rows.iter().map(|r| r[i].1).collect::<Vec<_>>(), "VALUES")?;
                columns.push((format!("column{}", i + 1), ty));
            }
            let rows = rows
                .into_iter()
                .map(|row| {
                    row.into_iter()
                        .zip(&columns)
                        .map(|((e, t), c)| b.coerce(e, t, c.1))
                        .collect()
                })
                .collect();
            Ok(Query {
                body: Body::Values(rows),
                columns,
                order: Vec::new(),
                limit: None,
                offset: None,
            })
        })
    }

    /// ORDER BY over a query's output row (set operations, VALUES):
    /// output names and positions only.
    fn bind_output_order(
        &mut self,
        columns: &[(String, Oid)],
        order: &'a [ast::OrderByExpr],
    ) -> Result<Vec<SortKey>, PgError> {
        let entry = Entry {
            alias: String::new(),
            qualified: None,
            columns: columns
                .iter()
                .map(|(n, t)| (n.clone(), output_type(*t)))
                .collect(),
            hidden: vec![false; columns.len()],
            offset: 0,
        };
        let level = Level {
            entries: vec![entry],
            width: columns.len(),
            agg_context: "ORDER BY",
            ..Level::default()
        };
        self.in_level(level, |b| {
            order
                .iter()
                .map(|o| {
                    let expr = match is_integer_literal(&o.expr) {
                        Some(n) if n >= 1 && n as usize <= columns.len() => Expr::Column {
                            up: 0,
                            index: n as usize - 1,
                        },
                        Some(n) => return Err(order_position_error(n)),
                        None => b.bind_expr(&o.expr)?.0,
                    };
                    sort_key(expr, o)
                })
                .collect()
        })
    }

    fn bind_select(
        &mut self,
        sel: &'a ast::Select,
        order: &'a [ast::OrderByExpr],
    ) -> Result<Query, PgError> {
        if sel.top.is_some()
            || !sel.lateral_views.is_empty()
            || sel.prewhere.is_some()
            || !sel.cluster_by.is_empty()
            || !sel.distribute_by.is_empty()
            || !sel.sort_by.is_empty()
            || !sel.named_window.is_empty()
            || sel.qualify.is_some()
            || sel.connect_by.is_some()
            || sel.value_table_mode.is_some()
            || sel.exclude.is_some()
            || sel.flavor != ast::SelectFlavor::Standard
        {
            return Err(unsupported(format!("the SELECT form {sel}")));
        }
        if sel.into.is_some() {
            return Err(PgError::unsupported(
                "SELECT INTO is not supported: corewire serves the single table kv",
            ));
        }
        let distinct = match &sel.distinct {
            None => false,
            Some(ast::Distinct::Distinct) => true,
            Some(ast::Distinct::On(_)) => return Err(unsupported("SELECT DISTINCT ON")),
        };
        self.levels.push(Level::default());
        let result = self.bind_select_level(sel, order, distinct);
        self.levels.pop();
        result
    }

    fn bind_select_level(
        &mut self,
        sel: &'a ast::Select,
        order: &'a [ast::OrderByExpr],
        distinct: bool,
    ) -> Result<Query, PgError> {
        // FROM: comma-separated items are cross-joined, left to right.
        let mut from: Option<FromNode> = None;
        for item in &sel.from {
            let (node, lateral) = self.bind_table_with_joins(item)?;
            from = Some(match from {
                None => node,
                Some(left) => FromNode::Join {
                    kind: JoinKind::Inner,
                    left: Box::new(left),
                    right: Box::new(node),
                    on: None,
                    lateral,
                },
            });
        }
        let filter = sel
            .selection
            .as_ref()
            .map(|e| self.bind_condition(e, "WHERE"))
            .transpose()?;
        let (mut from, filter) = match (from, filter) {
            (Some(node), Some(f)) => {
                let (node, rest) = push_down(node, f, &self.level().sources);
                (Some(node), rest)
            }
            other => other,
        };

        let group_exprs: &[ast::Expr] = match &sel.group_by {
            ast::GroupByExpr::Expressions(exprs, modifiers) if modifiers.is_empty() => exprs,
            other => return Err(unsupported(format!("{other}"))),
        };
        let items = self.expand_select_list(&sel.projection)?;
        self.level_mut().agg_context = "GROUP BY";
        let keys = group_exprs
            .iter()
            .map(|g| self.bind_group_key(g, &items))
            .collect::<Result<Vec<_>, _>>()?;

        // Aggregates are collected from here on.
        self.level_mut().aggs = Some(Vec::new());
        let mut projections = Vec::new();
        let mut columns = Vec::new();
        self.level_mut().srf_allowed = true;
        for item in &items {
            let (expr, ty, name) = self.bind_item(item)?;
            projections.push(expr);
            columns.push((name, ty));
        }
        self.level_mut().srf_allowed = false;
        let having = match &sel.having {
            Some(h) => {
                let (e, t) = self.bind_expr(h)?;
                Some(self.require_bool(e, t, "HAVING")?)
            }
            None => None,
        };
        let mut sort = Vec::new();
        for o in order {
            let expr = match &o.expr {
                e if is_integer_literal(e).is_some() => {
                    let n = is_integer_literal(e).unwrap_or(0);
                    if n < 1 || n as usize > projections.len() {
                        return Err(order_position_error(n));
                    }
                    projections[n as usize - 1].clone()
                }
                // A bare name matching an output column means that column.
                ast::Expr::Identifier(i) if columns.iter().any(|c| c.0 == ident(i)) => {
                    let i = columns.iter().position(|c| c.0 == ident(i)).unwrap_or(0);
                    projections[i].clone()
                }
                e => self.bind_expr(e)?.0,
            };
            sort.push(sort_key(expr, o)?);
        }
        let aggs = self.level_mut().aggs.take().unwrap_or_default();

        let grouped = !keys.is_empty() || !aggs.is_empty() || having.is_some();
        if let Some((leaf, lateral)) = self.level_mut().srf.take() {
            if grouped {
                return Err(PgError::unsupported(
                    "set-returning functions in the select list of a grouped query are not supported",
                ));
            }
            let right = FromNode::Leaf {
                index: leaf,
                filter: Vec::new(),
            };
            from = Some(match from {
                None => right,
                Some(left) => FromNode::Join {
                    kind: JoinKind::Inner,
                    left: Box::new(left),
                    right: Box::new(right),
                    on: None,
                    lateral,
                },
            });
        }
        if grouped {
            let key_text: Vec<String> = keys.iter().map(|k| format!("{k:?}")).collect();
            for e in projections
                .iter()
                .chain(having.iter())
                .chain(sort.iter().map(|s| &s.expr))
            {
                self.check_grouped(e, &key_text)?;
            }
        }
        let level = self.level_mut();
        let select = Select {
            sources: std::mem::take(&mut level.sources),
            from,
            width: level.width,
            filter,
            group: grouped.then_some(Grouping { keys, aggs, having }),
            projections,
            distinct,
        };
        Ok(Query {
            body: Body::Select(Box::new(select)),
            columns,
            order: sort,
            limit: None,
            offset: None,
        })
    }

    /// `*` and `t.*` expand to columns; other items stay AST until bound.
    fn expand_select_list(
        &self,
        projection: &'a [ast::SelectItem],
    ) -> Result<Vec<Item<'a>>, PgError> {
        let level = self.level();
        let mut items = Vec::new();
        let check = |o: &ast::WildcardAdditionalOptions| {
            if o.opt_ilike.is_some()
                || o.opt_exclude.is_some()
                || o.opt_except.is_some()
                || o.opt_replace.is_some()
                || o.opt_rename.is_some()
            {
                return Err(unsupported("* with modifiers"));
            }
            Ok(())
        };
        for p in projection {
            match p {
                ast::SelectItem::UnnamedExpr(e) => items.push(Item::Ast(e, None)),
                ast::SelectItem::ExprWithAlias { expr, alias } => {
                    items.push(Item::Ast(expr, Some(ident(alias))))
                }
                ast::SelectItem::Wildcard(opts) => {
                    check(opts)?;
                    if level.entries.is_empty() {
                        return Err(PgError::new(
                            sqlstate::SYNTAX_ERROR,
                            "SELECT * with no tables specified is not valid",
                        ));
                    }
                    for entry in &level.entries {
                        for (i, (name, ty)) in entry.columns.iter().enumerate() {
                            if !entry.hidden[i] {
                                items.push(Item::Column(
                                    Expr::Column {
                                        up: 0,
                                        index: entry.offset + i,
                                    },
                                    name.clone(),
                                    *ty,
                                ));
                            }
                        }
                    }
                }
                ast::SelectItem::QualifiedWildcard(kind, opts) => {
                    check(opts)?;
                    let ast::SelectItemQualifiedWildcardKind::ObjectName(name) = kind else {
                        return Err(unsupported(format!("{p}")));
                    };
                    let parts = object_name(name)?;
                    let alias = parts.last().cloned().unwrap_or_default();
                    let entry = level
                        .entries
                        .iter()
                        .find(|e| e.alias == alias)
                        .ok_or_else(|| missing_from(&alias))?;
                    for (i, (name, ty)) in entry.columns.iter().enumerate() {
                        items.push(Item::Column(
                            Expr::Column {
                                up: 0,
                                index: entry.offset + i,
                            },
                            name.clone(),
                            *ty,
                        ));
                    }
                }
            }
        }
        Ok(items)
    }

    fn bind_item(&mut self, item: &Item<'a>) -> Result<(Expr, Oid, String), PgError> {
        match item {
            Item::Column(e, name, ty) => Ok((e.clone(), *ty, name.clone())),
            Item::Ast(e, alias) => {
                let (expr, ty) = self.bind_expr(e)?;
                let name = match alias {
                    Some(a) => a.clone(),
                    None => match (strip_nested(e), &expr) {
                        (ast::Expr::Subquery(_), Expr::Subquery(q)) => q.columns[0].0.clone(),
                        _ => figure_name(e).0,
                    },
                };
                Ok((expr, ty, name))
            }
        }
    }

    /// GROUP BY item: a position, an input column, or an output name.
    fn bind_group_key(&mut self, g: &'a ast::Expr, items: &[Item<'a>]) -> Result<Expr, PgError> {
        if let Some(n) = is_integer_literal(g) {
            if n < 1 || n as usize > items.len() {
                return Err(PgError::new(
                    INVALID_COLUMN_REFERENCE,
                    format!("GROUP BY position {n} is not in select list"),
                ));
            }
            return Ok(self.bind_item(&items[n as usize - 1])?.0);
        }
        if let ast::Expr::Identifier(i) = g {
            let name = ident(i);
            if self.resolve_column(std::slice::from_ref(&name))?.is_none() {
                for item in items {
                    let item_name = match item {
                        Item::Ast(e, alias) => alias.clone().unwrap_or_else(|| figure_name(e).0),
                        Item::Column(_, n, _) => n.clone(),
                    };
                    if item_name == name {
                        return Ok(self.bind_item(item)?.0);
                    }
                }
            }
        }
        Ok(self.bind_expr(g)?.0)
    }

    /// In a grouped query, columns must be grouped or inside aggregates.
    fn check_grouped(&self, e: &Expr, keys: &[String]) -> Result<(), PgError> {
        if !keys.is_empty() && keys.contains(&format!("{e:?}")) {
            return Ok(());
        }
        if let Expr::Column { up: 0, index } = e {
            let name = self
                .level()
                .entries
                .iter()
                .find(|en| (en.offset..en.offset + en.columns.len()).contains(index))
                .map(|en| {
                    let col = &en.columns[index - en.offset].0;
                    if en.alias.is_empty() {
                        col.clone()
                    } else {
                        format!("{}.{col}", en.alias)
                    }
                })
                .unwrap_or_default();
            return Err(PgError::new(
                GROUPING_ERROR,
                format!("column \"{name}\" must appear in the GROUP BY clause or be used in an aggregate function"),
            ));
        }
        for_each_child(e, &mut |c| self.check_grouped(c, keys))
    }

    // -----------------------------------------------------------------
    // FROM

    fn bind_table_with_joins(
        &mut self,
        twj: &'a ast::TableWithJoins,
    ) -> Result<(FromNode, bool), PgError> {
        let start = self.level().entries.len();
        let (mut node, lateral) = self.bind_table_factor(&twj.relation)?;
        for join in &twj.joins {
            let right_start = self.level().entries.len();
            let (right, right_lateral) = self.bind_table_factor(&join.relation)?;
            use ast::JoinOperator as J;
            let (kind, constraint) = match &join.join_operator {
                J::Join(c) | J::Inner(c) => (JoinKind::Inner, Some(c)),
                J::Left(c) | J::LeftOuter(c) => (JoinKind::Left, Some(c)),
                J::Right(c) | J::RightOuter(c) => (JoinKind::Right, Some(c)),
                J::FullOuter(c) => (JoinKind::Full, Some(c)),
                J::CrossJoin(_) => (JoinKind::Inner, None),
                other => return Err(unsupported(format!("the join {other:?}"))),
            };
            let on = match constraint {
                None | Some(ast::JoinConstraint::None) => None,
                Some(ast::JoinConstraint::On(e)) => {
                    // ON sees only this join's items.
                    let saved = std::mem::replace(&mut self.level_mut().visible_from, start);
                    let result = self.bind_condition(e, "JOIN conditions");
                    self.level_mut().visible_from = saved;
                    Some(result?)
                }
                Some(ast::JoinConstraint::Using(names)) => {
                    let names = names
                        .iter()
                        .map(|n| object_name(n).map(|p| p.last().cloned().unwrap_or_default()))
                        .collect::<Result<Vec<_>, _>>()?;
                    Some(self.bind_using(&names, start, right_start)?)
                }
                Some(ast::JoinConstraint::Natural) => {
                    let level = self.level();
                    let left_names: Vec<String> = level.entries[start..right_start]
                        .iter()
                        .flat_map(|e| e.columns.iter().map(|c| c.0.clone()))
                        .collect();
                    let common: Vec<String> = level.entries[right_start..]
                        .iter()
                        .flat_map(|e| e.columns.iter().map(|c| c.0.clone()))
                        .filter(|n| left_names.contains(n))
                        .collect();
                    if common.is_empty() {
                        None
                    } else {
                        Some(self.bind_using(&common, start, right_start)?)
                    }
                }
            };
            node = FromNode::Join {
                kind,
                left: Box::new(node),
                right: Box::new(right),
                on,
                lateral: right_lateral,
            };
        }
        Ok((node, lateral))
    }

    /// USING (a, b): equality of the same-named columns on both sides; the
    /// right side's copies are then hidden from unqualified references.
    fn bind_using(
        &mut self,
        names: &[String],
        start: usize,
        right_start: usize,
    ) -> Result<Expr, PgError> {
        let mut conditions = Vec::new();
        for name in names {
            let find = |entries: &[Entry], base: usize| -> Result<(usize, usize), PgError> {
                let hits: Vec<(usize, usize)> = entries
                    .iter()
                    .enumerate()
                    .flat_map(|(ei, e)| {
                        e.columns
                            .iter()
                            .enumerate()
                            .filter(|(ci, c)| c.0 == *name && !e.hidden[*ci])
                            .map(move |(ci, _)| (base + ei, ci))
                    })
                    .collect();
                match hits.as_slice() {
                    [one] => Ok(*one),
                    [] => Err(PgError::new(
                        sqlstate::UNDEFINED_COLUMN,
                        format!("column \"{name}\" specified in USING clause does not exist in left table"),
                    )),
                    _ => Err(PgError::new(
                        AMBIGUOUS_COLUMN,
                        format!("common column name \"{name}\" appears more than once in left table"),
                    )),
                }
            };
            let level = self.level();
            let (le, lc) = find(&level.entries[start..right_start], start)?;
            let (re, rc) = find(&level.entries[right_start..], right_start)?;
            let (l_entry, r_entry) = (&level.entries[le], &level.entries[re]);
            let left = (
                Expr::Column {
                    up: 0,
                    index: l_entry.offset + lc,
                },
                l_entry.columns[lc].1,
            );
            let right = (
                Expr::Column {
                    up: 0,
                    index: r_entry.offset + rc,
                },
                r_entry.columns[rc].1,
            );
            self.level_mut().entries[re].hidden[rc] = true;
            let (l, r, _) = self.unify_compare(left, right, "=")?;
            conditions.push(Expr::Compare {
                op: CmpOp::Eq,
                left: Box::new(l),
                right: Box::new(r),
            });
        }
        Ok(if conditions.len() == 1 {
            conditions.remove(0)
        } else {
            Expr::And(conditions)
        })
    }

    fn bind_table_factor(&mut self, tf: &'a ast::TableFactor) -> Result<(FromNode, bool), PgError> {
        use ast::TableFactor as T;
        match tf {
            T::Table {
                name,
                alias,
                args,
                with_hints,
                version,
                with_ordinality,
                partitions,
                json_path,
                sample,
                index_hints,
            } => {
                if !with_hints.is_empty()
                    || version.is_some()
                    || *with_ordinality
                    || !partitions.is_empty()
                    || json_path.is_some()
                    || sample.is_some()
                    || !index_hints.is_empty()
                {
                    return Err(unsupported(format!("the FROM item {tf}")));
                }
                // sqlparser takes `SELECT FROM WHERE` as reading a table
                // named "where"; PostgreSQL reserves the word.
                if let Some(word) = name.0.iter().filter_map(|p| p.as_ident()).find(|i| {
                    i.quote_style.is_none() && crate::pg::sql::is_reserved_keyword(&i.value)
                }) {
                    return Err(PgError::new(
                        sqlstate::SYNTAX_ERROR,
                        format!("syntax error at or near \"{}\"", word.value),
                    ));
                }
                let parts = object_name(name)?;
                match args {
                    Some(args) => {
                        let exprs = plain_args(&args.args)?;
                        self.bind_table_function(&parts, &exprs, alias.as_ref())
                    }
                    None => self.bind_relation(&parts, alias.as_ref()),
                }
            }
            T::Function {
                lateral: _,
                name,
                args,
                alias,
            } => {
                let parts = object_name(name)?;
                let exprs = plain_args(args)?;
                self.bind_table_function(&parts, &exprs, alias.as_ref())
            }
            T::UNNEST {
                alias,
                array_exprs,
                with_offset: false,
                with_ordinality: false,
                ..
            } => {
                let exprs: Vec<&ast::Expr> = array_exprs.iter().collect();
                self.bind_table_function(&["unnest".to_string()], &exprs, alias.as_ref())
            }
            T::Derived {
                lateral,
                subquery,
                alias,
            } => {
                if *lateral {
                    return Err(unsupported("LATERAL subqueries"));
                }
                // The subquery sees outer levels, not this level's items.
                self.level_mut().hidden = true;
                let result = self.bind_query(subquery);
                self.level_mut().hidden = false;
                let query = result?;
                let columns = query
                    .columns
                    .iter()
                    .map(|(n, t)| (n.clone(), output_type(*t)))
                    .collect();
                let leaf = self.add_entry(
                    alias.as_ref(),
                    "",
                    None,
                    columns,
                    Source::Query {
                        query: Box::new(query),
                        skip: 0,
                    },
                )?;
                Ok((
                    FromNode::Leaf {
                        index: leaf,
                        filter: Vec::new(),
                    },
                    false,
                ))
            }
            T::NestedJoin {
                table_with_joins,
                alias: None,
            } => self.bind_table_with_joins(table_with_joins),
            other => Err(unsupported(format!("the FROM item {other}"))),
        }
    }

    fn bind_relation(
        &mut self,
        parts: &[String],
        alias: Option<&ast::TableAlias>,
    ) -> Result<(FromNode, bool), PgError> {
        let written = parts.join(".");
        let (schema, name) = match parts {
            [name] => (None, name),
            [schema, name] => (Some(schema.as_str()), name),
            [db, schema, name] => {
                if *db != self.database {
                    return Err(PgError::unsupported(format!(
                        "cross-database references are not implemented: {written}"
                    )));
                }
                (Some(schema.as_str()), name)
            }
            _ => {
                return Err(PgError::new(
                    sqlstate::SYNTAX_ERROR,
                    format!("improper qualified name (too many dotted names): {written}"),
                ))
            }
        };
        if schema.is_none() {
            if let Some((scope, def)) = self.find_cte(name) {
                return self.bind_cte_reference(scope, def, alias);
            }
        }
        let is_kv = name == "kv" && schema.is_none_or(|s| s == "public");
        self.references_kv |= is_kv;
        let found = if is_kv {
            Some(&tables::KV_STUB)
        } else {
            tables::find_table(schema, name)
        };
        let def = found.ok_or_else(|| {
            PgError::new(
                sqlstate::UNDEFINED_TABLE,
                format!("relation \"{written}\" does not exist"),
            )
        })?;
        let columns = def
            .columns
            .iter()
            .map(|&(n, t)| (n.to_string(), t))
            .collect();
        let qualified = Some((def.schema.to_string(), def.name.to_string()));
        let leaf = self.add_entry(alias, def.name, qualified, columns, Source::Table(def))?;
        Ok((
            FromNode::Leaf {
                index: leaf,
                filter: Vec::new(),
            },
            false,
        ))
    }

    fn find_cte(&self, name: &str) -> Option<(usize, usize)> {
        self.ctes.iter().enumerate().rev().find_map(|(si, scope)| {
            scope
                .defs
                .iter()
                .position(|(n, _)| n == name)
                .map(|di| (si, di))
        })
    }

    /// A CTE is bound where it is referenced, but as if where it was
    /// defined: only the levels outside its WITH and the CTEs before it are
    /// in scope. At run time it skips the levels in between.
    fn bind_cte_reference(
        &mut self,
        scope: usize,
        def: usize,
        alias: Option<&ast::TableAlias>,
    ) -> Result<(FromNode, bool), PgError> {
        let defined_at = self.ctes[scope].level;
        let current = self.levels.len() - 1;
        let (name, cte) = self.ctes[scope].defs[def].clone();
        if cte.materialized.is_some() || cte.from.is_some() {
            return Err(unsupported("this WITH form"));
        }
        let saved_levels = self.levels.split_off(defined_at);
        self.levels.push(Level {
            hidden: true,
            ..Level::default()
        });
        let mut visible = self.ctes[..scope].to_vec();
        let mut own = self.ctes[scope].clone();
        own.defs.truncate(def);
        visible.push(own);
        let saved_ctes = std::mem::replace(&mut self.ctes, visible);
        let result = self.bind_query(&cte.query);
        self.ctes = saved_ctes;
        self.levels.pop();
        self.levels.extend(saved_levels);
        let query = result?;

        let mut columns: Vec<(String, Oid)> = query
            .columns
            .iter()
            .map(|(n, t)| (n.clone(), output_type(*t)))
            .collect();
        if cte.alias.columns.len() > columns.len() {
            return Err(PgError::new(
                INVALID_COLUMN_REFERENCE,
                format!(
                    "WITH query \"{name}\" has {} columns available but {} columns specified",
                    columns.len(),
                    cte.alias.columns.len()
                ),
            ));
        }
        for (c, a) in columns.iter_mut().zip(&cte.alias.columns) {
            c.0 = ident(&a.name);
        }
        let source = Source::Query {
            query: Box::new(query),
            skip: current - defined_at,
        };
        let leaf = self.add_entry(alias, &name, None, columns, source)?;
        Ok((
            FromNode::Leaf {
                index: leaf,
                filter: Vec::new(),
            },
            false,
        ))
    }

    fn bind_table_function(
        &mut self,
        parts: &[String],
        args: &[&'a ast::Expr],
        alias: Option<&ast::TableAlias>,
    ) -> Result<(FromNode, bool), PgError> {
        let name = match parts {
            [n] => n.as_str(),
            [s, n] if s == "pg_catalog" => n.as_str(),
            _ => "",
        };
        let mut bound = Vec::new();
        self.level_mut().agg_context = "functions in FROM";
        for a in args {
            bound.push(self.bind_expr(a)?);
        }
        let func = TableFunc::lookup(name).ok_or_else(|| {
            if functions::lookup(name, args.len()).is_some() {
                unsupported(format!("the scalar function {name}() in FROM"))
            } else {
                undefined_function(
                    &parts.join("."),
                    &bound.iter().map(|b| b.1).collect::<Vec<_>>(),
                )
            }
        })?;
        let (exprs, types_) = self.table_function_args(func, name, bound)?;
        let column_name = alias.map_or_else(|| name.to_string(), |a| ident(&a.name));
        let columns = vec![(column_name, func.column_type(&types_))];
        let lateral = exprs.iter().any(uses_current_level);
        let leaf = self.add_entry(
            alias,
            name,
            None,
            columns,
            Source::Function { func, args: exprs },
        )?;
        Ok((
            FromNode::Leaf {
                index: leaf,
                filter: Vec::new(),
            },
            lateral,
        ))
    }

    /// Arguments of a set-returning function, typed for it.
    fn table_function_args(
        &mut self,
        func: TableFunc,
        name: &str,
        bound: Vec<(Expr, Oid)>,
    ) -> Result<(Vec<Expr>, Vec<Oid>), PgError> {
        let mut exprs = Vec::new();
        let mut types_ = Vec::new();
        for (e, t) in bound {
            let declared = func.declared_arg();
            let (e, t) = if t == oid::UNKNOWN && declared != 0 {
                (self.coerce(e, t, declared), declared)
            } else {
                (e, t)
            };
            exprs.push(e);
            types_.push(t);
        }
        if !func.check_args(&types_) {
            return Err(undefined_function(name, &types_));
        }
        Ok((exprs, types_))
    }

    /// A set-returning function in the select list (`SELECT
    /// generate_series(1, 3)`): a lateral FROM item joined to this level's
    /// rows. One per select list (PostgreSQL runs several in lockstep).
    fn bind_select_list_srf(
        &mut self,
        func: TableFunc,
        name: &str,
        bound: Vec<(Expr, Oid)>,
    ) -> Result<(Expr, Oid), PgError> {
        if !self.level().srf_allowed {
            return Err(PgError::unsupported(format!(
                "set-returning function {name}() is supported only in FROM and the select list"
            )));
        }
        if self.level().srf.is_some() {
            return Err(PgError::unsupported(
                "more than one set-returning function in a select list is not supported",
            ));
        }
        let (args, types_) = self.table_function_args(func, name, bound)?;
        let ty = func.column_type(&types_);
        let lateral = args.iter().any(uses_current_level);
        let source = Source::Function { func, args };
        let leaf = self.add_entry(None, "", None, vec![(name.to_string(), ty)], source)?;
        let index = self.level().sources[leaf].offset;
        self.level_mut().srf = Some((leaf, lateral));
        Ok((Expr::Column { up: 0, index }, ty))
    }

    /// Adds a FROM item to the current level; returns its leaf index.
    fn add_entry(
        &mut self,
        alias: Option<&ast::TableAlias>,
        default_name: &str,
        qualified: Option<(String, String)>,
        mut columns: Vec<(String, Oid)>,
        source: Source,
    ) -> Result<usize, PgError> {
        let (name, qualified) = match alias {
            Some(a) => {
                if a.columns.len() > columns.len() {
                    return Err(PgError::new(
                        INVALID_COLUMN_REFERENCE,
                        format!(
                            "table \"{}\" has {} columns available but {} columns specified",
                            ident(&a.name),
                            columns.len(),
                            a.columns.len()
                        ),
                    ));
                }
                for (c, alias_col) in columns.iter_mut().zip(&a.columns) {
                    c.0 = ident(&alias_col.name);
                }
                (ident(&a.name), None)
            }
            None => (default_name.to_string(), qualified),
        };
        let level = self.level_mut();
        if !name.is_empty() && level.entries.iter().any(|e| e.alias == name) {
            return Err(PgError::new(
                DUPLICATE_ALIAS,
                format!("table name \"{name}\" specified more than once"),
            ));
        }
        let offset = level.width;
        let width = columns.len();
        level.width += width;
        level.entries.push(Entry {
            alias: name,
            qualified,
            hidden: vec![false; width],
            columns,
            offset,
        });
        level.sources.push(SourceSlot {
            source,
            offset,
            width,
        });
        Ok(level.sources.len() - 1)
    }

    // -----------------------------------------------------------------
    // Names

    /// Finds a column by its (folded) name parts, innermost level first.
    fn resolve_column(&self, parts: &[String]) -> Result<Option<(Expr, Oid)>, PgError> {
        let (qualifier, column) = match parts {
            [c] => (None, c),
            [t, c] => (Some((None, t)), c),
            [s, t, c] => (Some((Some(s), t)), c),
            [_, s, t, c] => (Some((Some(s), t)), c),
            _ => return Ok(None),
        };
        for (up, level) in self.levels.iter().rev().enumerate() {
            if level.hidden {
                continue;
            }
            let mut hits = Vec::new();
            let mut qualifier_seen = false;
            for (ei, entry) in level.entries.iter().enumerate() {
                let matches_qualifier = match qualifier {
                    None => true,
                    Some((None, t)) => entry.alias == *t,
                    Some((Some(s), t)) => entry
                        .qualified
                        .as_ref()
                        .is_some_and(|(es, et)| es == s && et == t),
                };
                if !matches_qualifier {
                    continue;
                }
                if up == 0 && ei < level.visible_from {
                    if qualifier.is_some() {
                        return Err(PgError::new(
                            sqlstate::UNDEFINED_TABLE,
                            format!(
                                "invalid reference to FROM-clause entry for table \"{}\"",
                                entry.alias
                            ),
                        ));
                    }
                    continue;
                }
                qualifier_seen = true;
                for (ci, (name, ty)) in entry.columns.iter().enumerate() {
                    if name == column && !(qualifier.is_none() && entry.hidden[ci]) {
                        hits.push((
                            Expr::Column {
                                up,
                                index: entry.offset + ci,
                            },
                            *ty,
                        ));
                    }
                }
            }
            match hits.len() {
                0 if qualifier.is_some() && qualifier_seen => {
                    return Err(PgError::new(
                        sqlstate::UNDEFINED_COLUMN,
                        format!("column {} does not exist", parts.join(".")),
                    ))
                }
                0 => continue,
                1 => return Ok(hits.pop()),
                _ => {
                    return Err(PgError::new(
                        AMBIGUOUS_COLUMN,
                        format!("column reference \"{}\" is ambiguous", parts.join(".")),
                    ))
                }
            }
        }
        if let Some((_, t)) = qualifier {
            // A qualifier naming nothing in scope.
            let known = self
                .levels
                .iter()
                .any(|l| l.entries.iter().any(|e| e.alias == *t));
            if !known {
                return Err(missing_from(t));
            }
        }
        Ok(None)
    }

    fn bind_column(&mut self, parts: &[String]) -> Result<(Expr, Oid), PgError> {
        if let Some(found) = self.resolve_column(parts)? {
            return Ok(found);
        }
        let message = match parts {
            [c] => format!("column \"{c}\" does not exist"),
            _ => format!("column {} does not exist", parts.join(".")),
        };
        Err(PgError::new(sqlstate::UNDEFINED_COLUMN, message))
    }
}

/// Wraps a query so that another ORDER BY / LIMIT can apply on top.
fn nest(inner: Query) -> Query {
    let columns = inner.columns.clone();
    Query {
        body: Body::Nested(Box::new(inner)),
        columns,
        order: Vec::new(),
        limit: None,
        offset: None,
    }
}

fn strip_nested(e: &ast::Expr) -> &ast::Expr {
    let mut e = e;
    while let ast::Expr::Nested(inner) = e {
        e = inner;
    }
    e
}

/// What a column of type `ty` is reported as: untyped literals become text.
pub(crate) fn output_type(ty: Oid) -> Oid {
    if ty == oid::UNKNOWN {
        oid::TEXT
    } else {
        ty
    }
}

fn plain_args(args: &[FunctionArg]) -> Result<Vec<&ast::Expr>, PgError> {
    args.iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e),
            other => Err(unsupported(format!("the argument {other}"))),
        })
        .collect()
}

fn sort_key(expr: Expr, o: &ast::OrderByExpr) -> Result<SortKey, PgError> {
    if o.with_fill.is_some() {
        return Err(unsupported("ORDER BY ... WITH FILL"));
    }
    let desc = o.options.asc == Some(false);
    Ok(SortKey {
        expr,
        desc,
        nulls_first: o.options.nulls_first.unwrap_or(desc),
    })
}

fn order_position_error(n: i64) -> PgError {
    PgError::new(
        INVALID_COLUMN_REFERENCE,
        format!("ORDER BY position {n} is not in select list"),
    )
}

fn missing_from(table: &str) -> PgError {
    PgError::new(
        sqlstate::UNDEFINED_TABLE,
        format!("missing FROM-clause entry for table \"{table}\""),
    )
}
