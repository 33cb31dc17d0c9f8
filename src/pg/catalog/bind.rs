//! The binder: resolves names and types in sqlparser's AST and produces a
//! plan (see plan.rs). PostgreSQL's rules are followed where clients can
//! tell the difference: untyped literals take the type of what they meet,
//! output columns are named as PostgreSQL names them, and errors carry
//! PostgreSQL's SQLSTATEs.

use sqlparser::ast::{self, BinaryOperator as BinOp, FunctionArg, FunctionArgExpr, FunctionArguments, SetExpr};

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
}

fn unsupported(what: impl std::fmt::Display) -> PgError {
    PgError::unsupported(format!("{what} is not supported by corewire's catalog queries"))
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
        .map(|p| p.as_ident().map(ident).ok_or_else(|| unsupported(format!("the name {name}"))))
        .collect()
}

/// Same representation (`Value` variant) for two types: no conversion is
/// needed between them.
fn same_repr(a: Oid, b: Oid) -> bool {
    fn class(t: Oid) -> u8 {
        if types::is_int(t) {
            1
        } else if t == oid::FLOAT4 || t == oid::FLOAT8 {
            2
        } else if t == oid::NUMERIC {
            3
        } else if t == oid::BOOL {
            4
        } else if types::subscript_elem(t).is_some() {
            5
        } else {
            6
        }
    }
    class(a) == class(b) && !(class(a) == 5 && types::subscript_elem(a) != types::subscript_elem(b))
}

fn cmp_op(op: &BinOp) -> Option<(CmpOp, &'static str)> {
    Some(match op {
        BinOp::Eq => (CmpOp::Eq, "="),
        BinOp::NotEq => (CmpOp::Ne, "<>"),
        BinOp::Lt => (CmpOp::Lt, "<"),
        BinOp::LtEq => (CmpOp::Le, "<="),
        BinOp::Gt => (CmpOp::Gt, ">"),
        BinOp::GtEq => (CmpOp::Ge, ">="),
        _ => return None,
    })
}

/// `OPERATOR(pg_catalog.~)` and friends: the operator they name.
fn custom_operator(parts: &[String]) -> Option<BinOp> {
    let (schema, op) = match parts {
        [op] => (None, op),
        [schema, op] => (Some(schema), op),
        _ => return None,
    };
    if schema.is_some_and(|s| s != "pg_catalog") {
        return None;
    }
    Some(match op.as_str() {
        "=" => BinOp::Eq,
        "<>" | "!=" => BinOp::NotEq,
        "<" => BinOp::Lt,
        "<=" => BinOp::LtEq,
        ">" => BinOp::Gt,
        ">=" => BinOp::GtEq,
        "~" => BinOp::PGRegexMatch,
        "~*" => BinOp::PGRegexIMatch,
        "!~" => BinOp::PGRegexNotMatch,
        "!~*" => BinOp::PGRegexNotIMatch,
        "~~" => BinOp::PGLikeMatch,
        "~~*" => BinOp::PGILikeMatch,
        "!~~" => BinOp::PGNotLikeMatch,
        "!~~*" => BinOp::PGNotILikeMatch,
        "||" => BinOp::StringConcat,
        "+" => BinOp::Plus,
        "-" => BinOp::Minus,
        "*" => BinOp::Multiply,
        "/" => BinOp::Divide,
        "%" => BinOp::Modulo,
        _ => return None,
    })
}

/// A type written in a cast: (OID, typmod).
fn data_type(dt: &ast::DataType) -> Result<(Oid, i32), PgError> {
    let written = dt.to_string();
    types::parse_type_name(&written).ok_or_else(|| {
        let name = written.trim_end_matches("[]").trim_matches('"').to_lowercase();
        PgError::new(sqlstate::UNDEFINED_OBJECT, format!("type \"{name}\" does not exist"))
    })
}

/// The pg_type name PostgreSQL uses as a cast's column name (`int4` for
/// `integer[]`).
fn type_column_name(ty: Oid) -> String {
    let base = types::array_elem(ty).unwrap_or(ty);
    types::type_info(base).map_or("?column?", |t| t.name).to_string()
}

/// PostgreSQL's FigureColname: the default name of a select-list item and
/// how sure it is (2: a real name, 1: a type name, 0: `?column?`).
fn figure_name(e: &ast::Expr) -> (String, u8) {
    use ast::Expr as E;
    match e {
        E::Identifier(i) => (ident(i), 2),
        E::CompoundIdentifier(parts) => (parts.last().map(ident).unwrap_or_default(), 2),
        E::Function(f) => {
            let name = f.name.0.last().and_then(|p| p.as_ident()).map(ident).unwrap_or_default();
            (name, 2)
        }
        // A cast keeps a real name (`c.oid::regclass` is "oid"), else it
        // names its type (`'kv'::regclass::oid` is "oid").
        E::Cast { expr, data_type: dt, .. } => match figure_name(expr) {
            (_, 0 | 1) => match data_type(dt) {
                Ok((ty, _)) => (type_column_name(ty), 1),
                Err(_) => ("?column?".into(), 0),
            },
            named => named,
        },
        E::TypedString(t) => match data_type(&t.data_type) {
            Ok((ty, _)) => (type_column_name(ty), 1),
            Err(_) => ("?column?".into(), 0),
        },
        E::Nested(inner) | E::Collate { expr: inner, .. } => figure_name(inner),
        E::Case { else_result, .. } => match else_result.as_deref().map(figure_name) {
            Some((name, 2)) => (name, 2),
            _ => ("case".into(), 1),
        },
        E::Array(_) => ("array".into(), 2),
        // NOT EXISTS is an operator over EXISTS: unnamed.
        E::Exists { negated: false, .. } => ("exists".into(), 2),
        E::CompoundFieldAccess { root, access_chain } => match access_chain.last() {
            Some(ast::AccessExpr::Dot(E::Identifier(i))) => (ident(i), 2),
            _ => figure_name(root),
        },
        E::Substring { shorthand: true, .. } => ("substr".into(), 2),
        E::Substring { .. } => ("substring".into(), 2),
        E::Position { .. } => ("position".into(), 2),
        E::Trim { trim_where, .. } => {
            let name = match trim_where {
                Some(ast::TrimWhereField::Leading) => "ltrim",
                Some(ast::TrimWhereField::Trailing) => "rtrim",
                _ => "btrim",
            };
            (name.into(), 2)
        }
        E::Ceil { .. } => ("ceil".into(), 2),
        E::Floor { .. } => ("floor".into(), 2),
        _ => ("?column?".into(), 0),
    }
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

/// Calls `f` on each direct sub-expression (not into subqueries).
fn for_each_child(e: &Expr, f: &mut dyn FnMut(&Expr) -> Result<(), PgError>) -> Result<(), PgError> {
    match e {
        Expr::Const(_) | Expr::Param(_) | Expr::Column { .. } | Expr::Agg(_) => Ok(()),
        Expr::Subquery(_) | Expr::Exists(_) | Expr::ArraySubquery(_) => Ok(()),
        Expr::Not(x) | Expr::IsNull { expr: x, .. } | Expr::IsBool { expr: x, .. } | Expr::Cast { expr: x, .. } => f(x),
        Expr::InSubquery { expr, .. } => f(expr),
        Expr::And(xs) | Expr::Or(xs) | Expr::Coalesce(xs) | Expr::Array(xs) => xs.iter().try_for_each(f),
        Expr::Extreme { args, .. } | Expr::Call { args, .. } => args.iter().try_for_each(f),
        Expr::Compare { left, right, .. }
        | Expr::Arith { left, right, .. }
        | Expr::Concat { left, right, .. }
        | Expr::ArrayCat { left, right, .. }
        | Expr::IsDistinct { left, right, .. }
        | Expr::NullIf(left, right)
        | Expr::Like { expr: left, pattern: right, .. }
        | Expr::Regex { expr: left, pattern: right, .. }
        | Expr::Quantified { left, array: right, .. }
        | Expr::Subscript { expr: left, index: right, .. } => {
            f(left)?;
            f(right)
        }
        Expr::InList { expr, list, .. } => {
            f(expr)?;
            list.iter().try_for_each(f)
        }
        Expr::Case { operand, whens, otherwise } => {
            if let Some(o) = operand {
                f(o)?;
            }
            for (w, r) in whens {
                f(w)?;
                f(r)?;
            }
            otherwise.as_deref().map_or(Ok(()), f)
        }
    }
}

/// Whether an expression reads this query level's row (subqueries are
/// assumed to).
fn uses_current_level(e: &Expr) -> bool {
    match e {
        Expr::Column { up: 0, .. } => true,
        Expr::Subquery(_) | Expr::Exists(_) | Expr::ArraySubquery(_) | Expr::InSubquery { .. } => true,
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
        }
    }

    /// Parameter types after binding (inferred where not declared; text
    /// where nothing says otherwise).
    pub fn param_types(&self) -> Vec<Oid> {
        self.param_types.iter().map(|&t| if t == 0 || t == oid::UNKNOWN { oid::TEXT } else { t }).collect()
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
    fn in_level<T>(&mut self, level: Level, f: impl FnOnce(&mut Self) -> Result<T, PgError>) -> Result<T, PgError> {
        self.levels.push(level);
        let result = f(self);
        self.levels.pop();
        result
    }

    // -----------------------------------------------------------------
    // Queries

    pub fn bind_query(&mut self, q: &'a ast::Query) -> Result<Query, PgError> {
        self.nested(|b| {
            if q.for_clause.is_some() || q.settings.is_some() || q.format_clause.is_some() || !q.pipe_operators.is_empty()
            {
                return Err(unsupported(format!("the query {q}")));
            }
            let scoped = match &q.with {
                Some(with) if with.recursive => return Err(unsupported("WITH RECURSIVE")),
                Some(with) => {
                    let defs = with.cte_tables.iter().map(|c| (ident(&c.alias.name), c)).collect();
                    b.ctes.push(CteScope { level: b.levels.len(), defs });
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
            Some(o) if o.interpolate.is_some() => return Err(unsupported("ORDER BY ... INTERPOLATE")),
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
            Some(ast::LimitClause::LimitOffset { limit: l, offset: o, limit_by }) => {
                if !limit_by.is_empty() {
                    return Err(unsupported("LIMIT BY"));
                }
                limit = l.as_ref();
                offset = o.as_ref().map(|o| &o.value);
            }
            Some(ast::LimitClause::OffsetCommaLimit { .. }) => return Err(unsupported("LIMIT offset, count")),
        }
        let mut fetch_one = None;
        if let Some(fetch) = &q.fetch {
            if fetch.with_ties || fetch.percent {
                return Err(unsupported("FETCH ... WITH TIES / PERCENT"));
            }
            if limit.is_some() {
                return Err(PgError::new(sqlstate::SYNTAX_ERROR, "multiple LIMIT clauses not allowed"));
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
        let level = Level { agg_context: context, ..Level::default() };
        self.in_level(level, |b| {
            let (e, t) = b.bind_expr(e)?;
            if !types::is_numeric(t) && t != oid::UNKNOWN {
                return Err(PgError::new(
                    sqlstate::DATATYPE_MISMATCH,
                    format!("argument of {context} must be type bigint, not type {}", types::format_type(t, None)),
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
            SetExpr::SetOperation { op, set_quantifier, left, right } => {
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
                    body: Body::SetOp { op, all, left: Box::new(l), right: Box::new(r) },
                    columns,
                    order: Vec::new(),
                    limit: None,
                    offset: None,
                })
            }
            SetExpr::Table(_) => Err(unsupported("TABLE name")),
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
                Err(PgError::unsupported("data-modifying statements in WITH are not supported"))
            }
        }
    }

    fn bind_values(&mut self, v: &'a ast::Values) -> Result<Query, PgError> {
        let level = Level { agg_context: "VALUES", ..Level::default() };
        self.in_level(level, |b| {
            let width = v.rows.first().map_or(0, Vec::len);
            let mut rows = Vec::new();
            for row in &v.rows {
                if row.len() != width {
                    return Err(PgError::new(sqlstate::SYNTAX_ERROR, "VALUES lists must all be the same length"));
                }
                rows.push(row.iter().map(|e| b.bind_expr(e)).collect::<Result<Vec<_>, _>>()?);
            }
            let mut columns = Vec::new();
            for i in 0..width {
                let ty = common_type(&rows.iter().map(|r| r[i].1).collect::<Vec<_>>(), "VALUES")?;
                columns.push((format!("column{}", i + 1), ty));
            }
            let rows = rows
                .into_iter()
                .map(|row| row.into_iter().zip(&columns).map(|((e, t), c)| b.coerce(e, t, c.1)).collect())
                .collect();
            Ok(Query { body: Body::Values(rows), columns, order: Vec::new(), limit: None, offset: None })
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
            columns: columns.iter().map(|(n, t)| (n.clone(), output_type(*t))).collect(),
            hidden: vec![false; columns.len()],
            offset: 0,
        };
        let level = Level { entries: vec![entry], width: columns.len(), agg_context: "ORDER BY", ..Level::default() };
        self.in_level(level, |b| {
            order
                .iter()
                .map(|o| {
                    let expr = match is_integer_literal(&o.expr) {
                        Some(n) if n >= 1 && n as usize <= columns.len() => Expr::Column { up: 0, index: n as usize - 1 },
                        Some(n) => return Err(order_position_error(n)),
                        None => b.bind_expr(&o.expr)?.0,
                    };
                    sort_key(expr, o)
                })
                .collect()
        })
    }

    fn bind_select(&mut self, sel: &'a ast::Select, order: &'a [ast::OrderByExpr]) -> Result<Query, PgError> {
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
            return Err(PgError::unsupported("SELECT INTO is not supported: corewire serves the single table kv"));
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
        let filter = sel.selection.as_ref().map(|e| self.bind_condition(e, "WHERE")).transpose()?;
        let (from, filter) = match (from, filter) {
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
        let keys = group_exprs.iter().map(|g| self.bind_group_key(g, &items)).collect::<Result<Vec<_>, _>>()?;

        // Aggregates are collected from here on.
        self.level_mut().aggs = Some(Vec::new());
        let mut projections = Vec::new();
        let mut columns = Vec::new();
        for item in &items {
            let (expr, ty, name) = self.bind_item(item)?;
            projections.push(expr);
            columns.push((name, ty));
        }
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
        if grouped {
            let key_text: Vec<String> = keys.iter().map(|k| format!("{k:?}")).collect();
            for e in projections.iter().chain(having.iter()).chain(sort.iter().map(|s| &s.expr)) {
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
        Ok(Query { body: Body::Select(Box::new(select)), columns, order: sort, limit: None, offset: None })
    }

    /// `*` and `t.*` expand to columns; other items stay AST until bound.
    fn expand_select_list(&self, projection: &'a [ast::SelectItem]) -> Result<Vec<Item<'a>>, PgError> {
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
                ast::SelectItem::ExprWithAlias { expr, alias } => items.push(Item::Ast(expr, Some(ident(alias)))),
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
                                    Expr::Column { up: 0, index: entry.offset + i },
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
                    let entry = level.entries.iter().find(|e| e.alias == alias).ok_or_else(|| missing_from(&alias))?;
                    for (i, (name, ty)) in entry.columns.iter().enumerate() {
                        items.push(Item::Column(Expr::Column { up: 0, index: entry.offset + i }, name.clone(), *ty));
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

    fn bind_table_with_joins(&mut self, twj: &'a ast::TableWithJoins) -> Result<(FromNode, bool), PgError> {
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
            node = FromNode::Join { kind, left: Box::new(node), right: Box::new(right), on, lateral: right_lateral };
        }
        Ok((node, lateral))
    }

    /// USING (a, b): equality of the same-named columns on both sides; the
    /// right side's copies are then hidden from unqualified references.
    fn bind_using(&mut self, names: &[String], start: usize, right_start: usize) -> Result<Expr, PgError> {
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
            let left = (Expr::Column { up: 0, index: l_entry.offset + lc }, l_entry.columns[lc].1);
            let right = (Expr::Column { up: 0, index: r_entry.offset + rc }, r_entry.columns[rc].1);
            self.level_mut().entries[re].hidden[rc] = true;
            let (l, r, _) = self.unify_compare(left, right, "=")?;
            conditions.push(Expr::Compare { op: CmpOp::Eq, left: Box::new(l), right: Box::new(r) });
        }
        Ok(if conditions.len() == 1 { conditions.remove(0) } else { Expr::And(conditions) })
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
                let parts = object_name(name)?;
                match args {
                    Some(args) => {
                        let exprs = plain_args(&args.args)?;
                        self.bind_table_function(&parts, &exprs, alias.as_ref())
                    }
                    None => self.bind_relation(&parts, alias.as_ref()),
                }
            }
            T::Function { lateral: _, name, args, alias } => {
                let parts = object_name(name)?;
                let exprs = plain_args(args)?;
                self.bind_table_function(&parts, &exprs, alias.as_ref())
            }
            T::UNNEST { alias, array_exprs, with_offset: false, with_ordinality: false, .. } => {
                let exprs: Vec<&ast::Expr> = array_exprs.iter().collect();
                self.bind_table_function(&["unnest".to_string()], &exprs, alias.as_ref())
            }
            T::Derived { lateral, subquery, alias } => {
                if *lateral {
                    return Err(unsupported("LATERAL subqueries"));
                }
                // The subquery sees outer levels, not this level's items.
                self.level_mut().hidden = true;
                let result = self.bind_query(subquery);
                self.level_mut().hidden = false;
                let query = result?;
                let columns = query.columns.iter().map(|(n, t)| (n.clone(), output_type(*t))).collect();
                let leaf =
                    self.add_entry(alias.as_ref(), "", None, columns, Source::Query { query: Box::new(query), skip: 0 })?;
                Ok((FromNode::Leaf(leaf), false))
            }
            T::NestedJoin { table_with_joins, alias: None } => self.bind_table_with_joins(table_with_joins),
            other => Err(unsupported(format!("the FROM item {other}"))),
        }
    }

    fn bind_relation(&mut self, parts: &[String], alias: Option<&ast::TableAlias>) -> Result<(FromNode, bool), PgError> {
        let written = parts.join(".");
        let (schema, name) = match parts {
            [name] => (None, name),
            [schema, name] => (Some(schema.as_str()), name),
            [db, schema, name] => {
                if *db != self.database {
                    return Err(PgError::unsupported(format!("cross-database references are not implemented: {written}")));
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
        if name == "kv" && schema.is_none_or(|s| s == "public") {
            return Err(super::kv_select_unsupported());
        }
        let def = tables::find_table(schema, name).ok_or_else(|| {
            PgError::new(sqlstate::UNDEFINED_TABLE, format!("relation \"{written}\" does not exist"))
        })?;
        let columns = def.columns.iter().map(|&(n, t)| (n.to_string(), t)).collect();
        let qualified = Some((def.schema.to_string(), def.name.to_string()));
        let leaf = self.add_entry(alias, def.name, qualified, columns, Source::Table(def))?;
        Ok((FromNode::Leaf(leaf), false))
    }

    fn find_cte(&self, name: &str) -> Option<(usize, usize)> {
        self.ctes
            .iter()
            .enumerate()
            .rev()
            .find_map(|(si, scope)| scope.defs.iter().position(|(n, _)| n == name).map(|di| (si, di)))
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
        self.levels.push(Level { hidden: true, ..Level::default() });
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

        let mut columns: Vec<(String, Oid)> = query.columns.iter().map(|(n, t)| (n.clone(), output_type(*t))).collect();
        if cte.alias.columns.len() > columns.len() {
            return Err(PgError::new(
                INVALID_COLUMN_REFERENCE,
                format!("WITH query \"{name}\" has {} columns available but {} columns specified", columns.len(), cte.alias.columns.len()),
            ));
        }
        for (c, a) in columns.iter_mut().zip(&cte.alias.columns) {
            c.0 = ident(&a.name);
        }
        let source = Source::Query { query: Box::new(query), skip: current - defined_at };
        let leaf = self.add_entry(alias, &name, None, columns, source)?;
        Ok((FromNode::Leaf(leaf), false))
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
                undefined_function(&parts.join("."), &bound.iter().map(|b| b.1).collect::<Vec<_>>())
            }
        })?;
        let mut exprs = Vec::new();
        let mut types_ = Vec::new();
        for (e, t) in bound {
            let declared = func.declared_arg();
            let (e, t) = if t == oid::UNKNOWN && declared != 0 { (self.coerce(e, t, declared), declared) } else { (e, t) };
            exprs.push(e);
            types_.push(t);
        }
        if !func.check_args(&types_) {
            return Err(undefined_function(name, &types_));
        }
        let column_name = alias.map_or_else(|| name.to_string(), |a| ident(&a.name));
        let columns = vec![(column_name, func.column_type(&types_))];
        let lateral = exprs.iter().any(uses_current_level);
        let leaf = self.add_entry(alias, name, None, columns, Source::Function { func, args: exprs })?;
        Ok((FromNode::Leaf(leaf), lateral))
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
            return Err(PgError::new(DUPLICATE_ALIAS, format!("table name \"{name}\" specified more than once")));
        }
        let offset = level.width;
        let width = columns.len();
        level.width += width;
        level.entries.push(Entry { alias: name, qualified, hidden: vec![false; width], columns, offset });
        level.sources.push(SourceSlot { source, offset, width });
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
                    Some((Some(s), t)) => entry.qualified.as_ref().is_some_and(|(es, et)| es == s && et == t),
                };
                if !matches_qualifier {
                    continue;
                }
                if up == 0 && ei < level.visible_from {
                    if qualifier.is_some() {
                        return Err(PgError::new(
                            sqlstate::UNDEFINED_TABLE,
                            format!("invalid reference to FROM-clause entry for table \"{}\"", entry.alias),
                        ));
                    }
                    continue;
                }
                qualifier_seen = true;
                for (ci, (name, ty)) in entry.columns.iter().enumerate() {
                    if name == column && !(qualifier.is_none() && entry.hidden[ci]) {
                        hits.push((Expr::Column { up, index: entry.offset + ci }, *ty));
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
            let known = self.levels.iter().any(|l| l.entries.iter().any(|e| e.alias == *t));
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

    // -----------------------------------------------------------------
    // Expressions

    pub fn bind_expr(&mut self, e: &'a ast::Expr) -> Result<(Expr, Oid), PgError> {
        self.nested(|b| b.bind_expr_inner(e))
    }

    fn bind_expr_inner(&mut self, e: &'a ast::Expr) -> Result<(Expr, Oid), PgError> {
        use ast::Expr as E;
        match e {
            E::Identifier(i) => {
                let name = ident(i);
                // SQL keywords that are functions (current_schema, ...).
                if i.quote_style.is_none() && functions::is_keyword_function(&name) {
                    return self.bind_call(&name, Vec::new());
                }
                self.bind_column(&[name])
            }
            E::CompoundIdentifier(parts) => self.bind_column(&parts.iter().map(ident).collect::<Vec<_>>()),
            E::Value(v) => self.bind_value(&v.value),
            E::Nested(inner) => self.bind_expr(inner),
            E::Collate { expr, .. } => self.bind_expr(expr),
            E::BinaryOp { left, op, right } => self.bind_binary(left, op, right),
            E::UnaryOp { op, expr } => self.bind_unary(op, expr),
            E::IsNull(x) | E::IsNotNull(x) => {
                let (x, _) = self.bind_expr(x)?;
                Ok((Expr::IsNull { expr: Box::new(x), negated: matches!(e, E::IsNotNull(_)) }, oid::BOOL))
            }
            E::IsTrue(x) | E::IsNotTrue(x) | E::IsFalse(x) | E::IsNotFalse(x) | E::IsUnknown(x) | E::IsNotUnknown(x) => {
                let (value, negated) = match e {
                    E::IsTrue(_) => (Some(true), false),
                    E::IsNotTrue(_) => (Some(true), true),
                    E::IsFalse(_) => (Some(false), false),
                    E::IsNotFalse(_) => (Some(false), true),
                    E::IsUnknown(_) => (None, false),
                    _ => (None, true),
                };
                let (x, t) = self.bind_expr(x)?;
                let x = self.require_bool(x, t, "IS TRUE")?;
                Ok((Expr::IsBool { expr: Box::new(x), value, negated }, oid::BOOL))
            }
            E::IsDistinctFrom(l, r) | E::IsNotDistinctFrom(l, r) => {
                let (l, r) = (self.bind_expr(l)?, self.bind_expr(r)?);
                let (l, r, _) = self.unify_compare(l, r, "=")?;
                let negated = matches!(e, E::IsNotDistinctFrom(..));
                Ok((Expr::IsDistinct { left: Box::new(l), right: Box::new(r), negated }, oid::BOOL))
            }
            E::InList { expr, list, negated } => {
                let mut all = vec![self.bind_expr(expr)?];
                for item in list {
                    all.push(self.bind_expr(item)?);
                }
                let target = all.iter().map(|a| a.1).find(|&t| t != oid::UNKNOWN).unwrap_or(oid::TEXT);
                let mut bound = Vec::new();
                for (x, t) in all {
                    if t != oid::UNKNOWN && !types::comparable(t, target) {
                        return Err(operator_error(target, "=", t));
                    }
                    bound.push(self.coerce(x, t, if t == oid::UNKNOWN { target } else { t }));
                }
                let head = bound.remove(0);
                Ok((Expr::InList { expr: Box::new(head), list: bound, negated: *negated }, oid::BOOL))
            }
            E::InSubquery { expr, subquery, negated } => {
                let query = self.bind_sublink(subquery)?;
                let col_type = output_type(query.columns[0].1);
                let (x, t) = self.bind_expr(expr)?;
                let (x, _, _) = self.unify_compare((x, t), (Expr::Const(Value::Null), col_type), "=")?;
                Ok((Expr::InSubquery { expr: Box::new(x), query: Box::new(query), negated: *negated }, oid::BOOL))
            }
            E::Between { expr, negated, low, high } => {
                let lower = self.bind_binary(expr, &BinOp::GtEq, low)?.0;
                let upper = self.bind_binary(expr, &BinOp::LtEq, high)?.0;
                let both = Expr::And(vec![lower, upper]);
                Ok((if *negated { Expr::Not(Box::new(both)) } else { both }, oid::BOOL))
            }
            E::Like { negated, any: false, expr, pattern, escape_char }
            | E::ILike { negated, any: false, expr, pattern, escape_char } => {
                let escape = match escape_char {
                    None => Some('\\'),
                    Some(ast::Value::SingleQuotedString(s)) if s.chars().count() <= 1 => s.chars().next(),
                    Some(_) => {
                        return Err(PgError::new(
                            sqlstate::INVALID_ESCAPE_SEQUENCE,
                            "invalid escape string",
                        ).with_hint("Escape string must be empty or one character."))
                    }
                };
                let case_insensitive = matches!(e, E::ILike { .. });
                self.bind_like(expr, pattern, escape, case_insensitive, *negated)
            }
            E::AnyOp { left, compare_op, right, .. } => self.bind_quantified(left, compare_op, right, false),
            E::AllOp { left, compare_op, right } => self.bind_quantified(left, compare_op, right, true),
            E::Cast { kind, expr, data_type: dt, format } => {
                if format.is_some() || matches!(kind, ast::CastKind::TryCast | ast::CastKind::SafeCast) {
                    return Err(unsupported(format!("{e}")));
                }
                let (to, typmod) = data_type(dt)?;
                self.bind_cast(expr, to, typmod)
            }
            E::TypedString(t) => {
                let (to, typmod) = data_type(&t.data_type)?;
                let (x, from) = self.bind_value(&t.value.value)?;
                Ok((Expr::Cast { expr: Box::new(x), from, to, typmod }, to))
            }
            E::Function(f) => self.bind_function(f),
            E::Case { operand, conditions, else_result, .. } => self.bind_case(operand.as_deref(), conditions, else_result.as_deref()),
            E::Exists { subquery, negated } => {
                let query = self.bind_sublink(subquery)?;
                let exists = Expr::Exists(Box::new(query));
                Ok((if *negated { Expr::Not(Box::new(exists)) } else { exists }, oid::BOOL))
            }
            E::Subquery(q) => {
                let query = self.bind_sublink(q)?;
                let ty = output_type(query.columns[0].1);
                Ok((Expr::Subquery(Box::new(query)), ty))
            }
            E::Array(arr) => {
                if arr.elem.is_empty() {
                    return Err(PgError::new(INDETERMINATE_DATATYPE, "cannot determine type of empty array")
                        .with_hint("Explicitly cast to the desired type, for example ARRAY[]::integer[]."));
                }
                let elems = arr.elem.iter().map(|x| self.bind_expr(x)).collect::<Result<Vec<_>, _>>()?;
                let elem_type = output_type(common_type(&elems.iter().map(|x| x.1).collect::<Vec<_>>(), "ARRAY")?);
                let array_type = types::array_of(elem_type)
                    .ok_or_else(|| unsupported(format!("arrays of {}", types::format_type(elem_type, None))))?;
                let items = elems.into_iter().map(|(x, t)| self.coerce(x, t, elem_type)).collect();
                Ok((Expr::Array(items), array_type))
            }
            E::CompoundFieldAccess { root, access_chain } => {
                let (mut x, mut t) = self.bind_expr(root)?;
                for access in access_chain {
                    let ast::AccessExpr::Subscript(ast::Subscript::Index { index }) = access else {
                        return Err(unsupported(format!("{e}")));
                    };
                    let elem = types::subscript_elem(t).ok_or_else(|| {
                        PgError::new(
                            sqlstate::DATATYPE_MISMATCH,
                            format!(
                                "cannot subscript type {} because it does not support subscripting",
                                types::format_type(t, None)
                            ),
                        )
                    })?;
                    let (i, it) = self.bind_expr(index)?;
                    if !types::is_int(it) && it != oid::UNKNOWN {
                        return Err(PgError::new(sqlstate::DATATYPE_MISMATCH, "array subscript must have type integer"));
                    }
                    let i = self.coerce(i, it, oid::INT4);
                    x = Expr::Subscript { expr: Box::new(x), index: Box::new(i), zero_based: types::is_vector(t) };
                    t = elem;
                }
                Ok((x, t))
            }
            E::Substring { expr, substring_from, substring_for, .. } => {
                let mut args = vec![self.bind_expr(expr)?];
                args.push(match substring_from {
                    Some(f) => self.bind_expr(f)?,
                    None => (Expr::Const(Value::Int(1)), oid::INT4),
                });
                if let Some(f) = substring_for {
                    args.push(self.bind_expr(f)?);
                }
                self.bind_call("substring", args)
            }
            E::Position { expr, r#in } => {
                let args = vec![self.bind_expr(r#in)?, self.bind_expr(expr)?];
                self.bind_call("strpos", args)
            }
            E::Trim { expr, trim_where, trim_what, trim_characters } => {
                if trim_characters.is_some() {
                    return Err(unsupported(format!("{e}")));
                }
                let name = match trim_where {
                    Some(ast::TrimWhereField::Leading) => "ltrim",
                    Some(ast::TrimWhereField::Trailing) => "rtrim",
                    _ => "btrim",
                };
                let mut args = vec![self.bind_expr(expr)?];
                if let Some(w) = trim_what {
                    args.push(self.bind_expr(w)?);
                }
                self.bind_call(name, args)
            }
            E::Ceil { expr, field: ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime) }
            | E::Floor { expr, field: ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime) } => {
                let name = if matches!(e, E::Ceil { .. }) { "ceil" } else { "floor" };
                let args = vec![self.bind_expr(expr)?];
                self.bind_call(name, args)
            }
            other => Err(unsupported(format!("the expression {other}"))),
        }
    }

    fn bind_value(&mut self, v: &ast::Value) -> Result<(Expr, Oid), PgError> {
        use ast::Value as V;
        match v {
            V::Number(n, _) => bind_number(n),
            V::SingleQuotedString(s)
            | V::EscapedStringLiteral(s)
            | V::UnicodeStringLiteral(s)
            | V::NationalStringLiteral(s) => Ok((Expr::Const(Value::text(s.as_str())), oid::UNKNOWN)),
            V::DollarQuotedString(d) => Ok((Expr::Const(Value::text(d.value.as_str())), oid::UNKNOWN)),
            V::Boolean(b) => Ok((Expr::Const(Value::Bool(*b)), oid::BOOL)),
            V::Null => Ok((Expr::Const(Value::Null), oid::UNKNOWN)),
            V::Placeholder(p) => {
                let n: usize = p.strip_prefix('$').and_then(|d| d.parse().ok()).filter(|&n| n >= 1).ok_or_else(|| {
                    PgError::new(sqlstate::SYNTAX_ERROR, format!("syntax error at or near \"{p}\""))
                })?;
                if self.param_count.is_some_and(|c| n > c) || n > crate::pg::sql::MAX_PARAMS {
                    return Err(PgError::new(UNDEFINED_PARAMETER, format!("there is no parameter ${n}")));
                }
                if self.param_types.len() < n {
                    self.param_types.resize(n, 0);
                }
                let declared = self.param_types[n - 1];
                if declared != 0 && declared != oid::UNKNOWN && types::type_info(declared).is_some() {
                    let e = Expr::Cast { expr: Box::new(Expr::Param(n - 1)), from: oid::UNKNOWN, to: declared, typmod: -1 };
                    return Ok((e, declared));
                }
                Ok((Expr::Param(n - 1), oid::UNKNOWN))
            }
            other => Err(unsupported(format!("the literal {other}"))),
        }
    }

    fn bind_cast(&mut self, expr: &'a ast::Expr, to: Oid, typmod: i32) -> Result<(Expr, Oid), PgError> {
        // ARRAY[]::text[]: an empty array takes the cast's type.
        if let ast::Expr::Array(arr) = strip_nested(expr) {
            if arr.elem.is_empty() && types::subscript_elem(to).is_some() {
                return Ok((Expr::Const(Value::Array(Vec::new())), to));
            }
        }
        let (x, from) = self.bind_expr(expr)?;
        if from == oid::UNKNOWN {
            if let Expr::Param(i) = x {
                self.note_param(i, to);
            }
        }
        Ok((Expr::Cast { expr: Box::new(x), from, to, typmod }, to))
    }

    fn bind_binary(&mut self, left: &'a ast::Expr, op: &BinOp, right: &'a ast::Expr) -> Result<(Expr, Oid), PgError> {
        if let BinOp::PGCustomBinaryOperator(parts) = op {
            let mapped = custom_operator(parts).ok_or_else(|| {
                PgError::new(sqlstate::UNDEFINED_FUNCTION, format!("operator does not exist: {}", parts.join(".")))
            })?;
            return self.bind_binary(left, &mapped, right);
        }
        if let Some((cmp, symbol)) = cmp_op(op) {
            // Comparison operators do not associate: `a = b = c` is an error.
            if let ast::Expr::BinaryOp { op: inner, .. } = left {
                if cmp_op(inner).is_some() {
                    return Err(PgError::new(sqlstate::SYNTAX_ERROR, format!("syntax error at or near \"{symbol}\"")));
                }
            }
            let (l, r) = (self.bind_expr(left)?, self.bind_expr(right)?);
            let (l, r, _) = self.unify_compare(l, r, symbol)?;
            return Ok((Expr::Compare { op: cmp, left: Box::new(l), right: Box::new(r) }, oid::BOOL));
        }
        match op {
            BinOp::And | BinOp::Or => {
                // Flatten chains without recursion: `a AND b AND c ...`.
                let mut operands = Vec::new();
                let mut stack = vec![right, left];
                while let Some(x) = stack.pop() {
                    match x {
                        ast::Expr::BinaryOp { left: l, op: o, right: r } if o == op => {
                            stack.push(r);
                            stack.push(l);
                        }
                        other => operands.push(other),
                    }
                }
                let context = if *op == BinOp::And { "AND" } else { "OR" };
                let mut bound = Vec::new();
                for x in operands {
                    let (x, t) = self.bind_expr(x)?;
                    bound.push(self.require_bool(x, t, context)?);
                }
                Ok((if *op == BinOp::And { Expr::And(bound) } else { Expr::Or(bound) }, oid::BOOL))
            }
            BinOp::StringConcat => {
                let (l, r) = (self.bind_expr(left)?, self.bind_expr(right)?);
                self.bind_concat(l, r)
            }
            BinOp::PGRegexMatch | BinOp::PGRegexIMatch | BinOp::PGRegexNotMatch | BinOp::PGRegexNotIMatch => {
                let symbol = match op {
                    BinOp::PGRegexMatch => "~",
                    BinOp::PGRegexIMatch => "~*",
                    BinOp::PGRegexNotMatch => "!~",
                    _ => "!~*",
                };
                let (l, r) = self.bind_text_pair(left, right, symbol)?;
                let case_insensitive = matches!(op, BinOp::PGRegexIMatch | BinOp::PGRegexNotIMatch);
                let negated = matches!(op, BinOp::PGRegexNotMatch | BinOp::PGRegexNotIMatch);
                Ok((Expr::Regex { expr: Box::new(l), pattern: Box::new(r), case_insensitive, negated }, oid::BOOL))
            }
            BinOp::PGLikeMatch | BinOp::PGILikeMatch | BinOp::PGNotLikeMatch | BinOp::PGNotILikeMatch => {
                let case_insensitive = matches!(op, BinOp::PGILikeMatch | BinOp::PGNotILikeMatch);
                let negated = matches!(op, BinOp::PGNotLikeMatch | BinOp::PGNotILikeMatch);
                self.bind_like(left, right, Some('\\'), case_insensitive, negated)
            }
            _ => {
                let (arith, symbol) = match op {
                    BinOp::Plus => (ArithOp::Add, "+"),
                    BinOp::Minus => (ArithOp::Sub, "-"),
                    BinOp::Multiply => (ArithOp::Mul, "*"),
                    BinOp::Divide => (ArithOp::Div, "/"),
                    BinOp::Modulo => (ArithOp::Mod, "%"),
                    BinOp::PGExp => (ArithOp::Pow, "^"),
                    BinOp::BitwiseAnd => (ArithOp::BitAnd, "&"),
                    BinOp::BitwiseOr => (ArithOp::BitOr, "|"),
                    BinOp::PGBitwiseXor => (ArithOp::BitXor, "#"),
                    BinOp::PGBitwiseShiftLeft => (ArithOp::Shl, "<<"),
                    BinOp::PGBitwiseShiftRight => (ArithOp::Shr, ">>"),
                    other => return Err(unsupported(format!("the operator {other}"))),
                };
                let (l, r) = (self.bind_expr(left)?, self.bind_expr(right)?);
                self.bind_arith(arith, symbol, l, r)
            }
        }
    }

    fn bind_unary(&mut self, op: &ast::UnaryOperator, x: &'a ast::Expr) -> Result<(Expr, Oid), PgError> {
        use ast::UnaryOperator as U;
        match op {
            U::Not => {
                let (x, t) = self.bind_expr(x)?;
                Ok((Expr::Not(Box::new(self.require_bool(x, t, "NOT")?)), oid::BOOL))
            }
            // A minus sign on a number literal is part of the literal.
            U::Minus => {
                if let ast::Expr::Value(v) = x {
                    if let ast::Value::Number(n, _) = &v.value {
                        return bind_number(&format!("-{n}"));
                    }
                }
                let (x, t) = self.bind_expr(x)?;
                let zero = match t {
                    oid::NUMERIC => Value::Num(Numeric::from_i64(0)),
                    oid::FLOAT4 | oid::FLOAT8 => Value::Float(0.0),
                    oid::INT2 | oid::INT4 | oid::INT8 => Value::Int(0),
                    _ => return Err(prefix_operator_error("-", t)),
                };
                Ok((Expr::Arith { op: ArithOp::Sub, left: Box::new(Expr::Const(zero)), right: Box::new(x), ty: t }, t))
            }
            U::Plus => {
                let (x, t) = self.bind_expr(x)?;
                if !types::is_numeric(t) {
                    return Err(prefix_operator_error("+", t));
                }
                Ok((x, t))
            }
            U::PGBitwiseNot => {
                let (x, t) = self.bind_expr(x)?;
                if !matches!(t, oid::INT2 | oid::INT4 | oid::INT8) {
                    return Err(prefix_operator_error("~", t));
                }
                let e = Expr::Arith { op: ArithOp::BitXor, left: Box::new(x), right: Box::new(Expr::Const(Value::Int(-1))), ty: t };
                Ok((e, t))
            }
            other => Err(unsupported(format!("the operator {other}"))),
        }
    }

    fn bind_arith(&mut self, op: ArithOp, symbol: &str, l: (Expr, Oid), r: (Expr, Oid)) -> Result<(Expr, Oid), PgError> {
        let ((l, lt), (r, rt)) = (l, r);
        let (l, lt, r, rt) = match (lt == oid::UNKNOWN, rt == oid::UNKNOWN) {
            (true, true) => {
                return Err(PgError::new(
                    AMBIGUOUS_FUNCTION,
                    format!("operator is not unique: unknown {symbol} unknown"),
                ))
            }
            (true, false) => (self.coerce(l, lt, rt), rt, r, rt),
            (false, true) => {
                let r = self.coerce(r, rt, lt);
                (l, lt, r, lt)
            }
            _ => (l, lt, r, rt),
        };
        if !types::is_numeric(lt) || !types::is_numeric(rt) {
            return Err(operator_error(lt, symbol, rt));
        }
        let rank = types::numeric_rank(lt).max(types::numeric_rank(rt));
        let ty = match op {
            ArithOp::Pow => {
                if rank == 4 {
                    oid::NUMERIC
                } else {
                    oid::FLOAT8
                }
            }
            ArithOp::BitAnd | ArithOp::BitOr | ArithOp::BitXor | ArithOp::Shl | ArithOp::Shr => {
                if rank > 3 || !types::is_int(lt) || !types::is_int(rt) {
                    return Err(operator_error(lt, symbol, rt));
                }
                // Shifts keep the left operand's type.
                if matches!(op, ArithOp::Shl | ArithOp::Shr) {
                    types::rank_type(types::numeric_rank(lt))
                } else {
                    types::rank_type(rank)
                }
            }
            _ if lt == oid::FLOAT4 && rt == oid::FLOAT4 => oid::FLOAT4,
            _ => types::rank_type(rank),
        };
        Ok((Expr::Arith { op, left: Box::new(l), right: Box::new(r), ty }, ty))
    }

    fn bind_concat(&mut self, l: (Expr, Oid), r: (Expr, Oid)) -> Result<(Expr, Oid), PgError> {
        let ((l, lt), (r, rt)) = (l, r);
        let (l_elem, r_elem) = (types::array_elem(lt), types::array_elem(rt));
        if l_elem.is_some() || r_elem.is_some() {
            // An untyped literal next to an array is read as an array.
            let array = if l_elem.is_some() { lt } else { rt };
            let elem = l_elem.or(r_elem).unwrap_or(oid::TEXT);
            let side = |b: &mut Self, e: Expr, t: Oid| -> Result<(Expr, bool), PgError> {
                if t == oid::UNKNOWN || t == array {
                    Ok((b.coerce(e, t, array), true))
                } else if types::comparable(t, elem) && types::array_elem(t).is_none() {
                    Ok((b.coerce(e, t, elem), false))
                } else {
                    Err(operator_error(lt, "||", rt))
                }
            };
            let (l, la) = side(self, l, lt)?;
            let (r, ra) = side(self, r, rt)?;
            return Ok((Expr::ArrayCat { left: Box::new(l), right: Box::new(r), arrays: [la, ra] }, array));
        }
        if !types::is_string(lt) && !types::is_string(rt) {
            return Err(operator_error(lt, "||", rt));
        }
        let l = self.coerce(l, lt, if lt == oid::UNKNOWN { oid::TEXT } else { lt });
        let r = self.coerce(r, rt, if rt == oid::UNKNOWN { oid::TEXT } else { rt });
        Ok((Expr::Concat { left: Box::new(l), right: Box::new(r), types: [lt, rt] }, oid::TEXT))
    }

    /// Both operands of LIKE / regex matching as strings.
    fn bind_text_pair(&mut self, left: &'a ast::Expr, right: &'a ast::Expr, symbol: &str) -> Result<(Expr, Expr), PgError> {
        let (l, lt) = self.bind_expr(left)?;
        let (r, rt) = self.bind_expr(right)?;
        if !types::is_string(lt) || !types::is_string(rt) {
            return Err(operator_error(lt, symbol, rt));
        }
        Ok((self.coerce(l, lt, oid::TEXT), self.coerce(r, rt, oid::TEXT)))
    }

    fn bind_like(
        &mut self,
        left: &'a ast::Expr,
        right: &'a ast::Expr,
        escape: Option<char>,
        case_insensitive: bool,
        negated: bool,
    ) -> Result<(Expr, Oid), PgError> {
        let (l, r) = self.bind_text_pair(left, right, if case_insensitive { "~~*" } else { "~~" })?;
        let e = Expr::Like { expr: Box::new(l), pattern: Box::new(r), escape, case_insensitive, negated };
        Ok((e, oid::BOOL))
    }

    fn bind_quantified(
        &mut self,
        left: &'a ast::Expr,
        op: &BinOp,
        right: &'a ast::Expr,
        all: bool,
    ) -> Result<(Expr, Oid), PgError> {
        let (cmp, symbol) = cmp_op(op).ok_or_else(|| unsupported(format!("the operator {op} with ANY/ALL")))?;
        let (l, lt) = self.bind_expr(left)?;
        let (array, at) = match strip_nested(right) {
            ast::Expr::Subquery(q) => {
                let query = self.bind_sublink(q)?;
                let elem = output_type(query.columns[0].1);
                (Expr::ArraySubquery(Box::new(query)), types::array_of(elem).unwrap_or(oid::TEXT_ARRAY))
            }
            _ => self.bind_expr(right)?,
        };
        let (l, lt, array, elem) = if at == oid::UNKNOWN {
            // '{a,b}' takes the array type of the left operand.
            let elem = if lt == oid::UNKNOWN { oid::TEXT } else { lt };
            let array_type = types::array_of(elem).unwrap_or(oid::TEXT_ARRAY);
            let array = self.coerce(array, at, array_type);
            (l, lt, array, elem)
        } else {
            let elem = types::subscript_elem(at).ok_or_else(|| {
                PgError::new(
                    sqlstate::DATATYPE_MISMATCH,
                    format!("op ANY/ALL (array) requires array on right side, not {}", types::format_type(at, None)),
                )
            })?;
            (l, lt, array, elem)
        };
        let (l, _, _) = self.unify_compare((l, lt), (Expr::Const(Value::Null), elem), symbol)?;
        Ok((Expr::Quantified { left: Box::new(l), op: cmp, array: Box::new(array), all }, oid::BOOL))
    }

    fn bind_case(
        &mut self,
        operand: Option<&'a ast::Expr>,
        conditions: &'a [ast::CaseWhen],
        otherwise: Option<&'a ast::Expr>,
    ) -> Result<(Expr, Oid), PgError> {
        // CASE x WHEN v ...: x and every v are compared, so share a type.
        let operand = match operand {
            Some(o) => {
                let (o, ot) = self.bind_expr(o)?;
                let mut values = Vec::new();
                for w in conditions {
                    values.push(self.bind_expr(&w.condition)?);
                }
                let target = std::iter::once(ot)
                    .chain(values.iter().map(|v| v.1))
                    .find(|&t| t != oid::UNKNOWN)
                    .unwrap_or(oid::TEXT);
                let mut converted = Vec::new();
                for (v, vt) in values {
                    if vt != oid::UNKNOWN && !types::comparable(target, vt) {
                        return Err(operator_error(target, "=", vt));
                    }
                    converted.push(self.coerce(v, vt, if vt == oid::UNKNOWN { target } else { vt }));
                }
                Some((self.coerce(o, ot, if ot == oid::UNKNOWN { target } else { ot }), converted))
            }
            None => None,
        };
        let mut whens = Vec::new();
        let mut results = Vec::new();
        for (i, w) in conditions.iter().enumerate() {
            let condition = match &operand {
                Some((_, values)) => values[i].clone(),
                None => self.bind_condition_here(&w.condition, "CASE")?,
            };
            whens.push(condition);
            results.push(self.bind_expr(&w.result)?);
        }
        let otherwise = otherwise.map(|e| self.bind_expr(e)).transpose()?;
        let all_types: Vec<Oid> = results.iter().chain(otherwise.iter()).map(|r| r.1).collect();
        let ty = common_type(&all_types, "CASE")?;
        let whens = whens.into_iter().zip(results).map(|(w, (r, rt))| (w, self.coerce(r, rt, ty))).collect();
        let otherwise = otherwise.map(|(e, t)| Box::new(self.coerce(e, t, ty)));
        let operand = operand.map(|(o, _)| Box::new(o));
        Ok((Expr::Case { operand, whens, otherwise }, ty))
    }

    fn bind_function(&mut self, f: &'a ast::Function) -> Result<(Expr, Oid), PgError> {
        if f.over.is_some() {
            return Err(unsupported("window functions"));
        }
        if f.filter.is_some() || !f.within_group.is_empty() || f.null_treatment.is_some() || f.uses_odbc_syntax {
            return Err(unsupported(format!("the call {f}")));
        }
        if !matches!(f.parameters, FunctionArguments::None) {
            return Err(unsupported(format!("the call {f}")));
        }
        let parts = object_name(&f.name)?;
        let name = match parts.as_slice() {
            [n] => n.clone(),
            [s, n] if s == "pg_catalog" => n.clone(),
            _ => {
                let args = match &f.args {
                    FunctionArguments::List(l) => l.args.len(),
                    _ => 0,
                };
                return Err(undefined_function(&parts.join("."), &vec![oid::UNKNOWN; args]));
            }
        };
        let list = match &f.args {
            FunctionArguments::None => return self.bind_call(&name, Vec::new()),
            FunctionArguments::Subquery(q) if name == "array" => {
                let query = self.bind_sublink(q)?;
                let elem = output_type(query.columns[0].1);
                let ty = types::array_of(elem).unwrap_or(oid::TEXT_ARRAY);
                return Ok((Expr::ArraySubquery(Box::new(query)), ty));
            }
            FunctionArguments::Subquery(_) => return Err(unsupported(format!("the call {f}"))),
            FunctionArguments::List(list) => list,
        };
        if is_aggregate(&name) {
            return self.bind_aggregate(&name, list);
        }
        if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
            return Err(PgError::new(
                WRONG_OBJECT_TYPE,
                format!("DISTINCT / ORDER BY specified, but {name} is not an aggregate function"),
            ));
        }
        let exprs = plain_args(&list.args)?;
        let mut args = Vec::new();
        for a in exprs {
            args.push(self.bind_expr(a)?);
        }
        match name.as_str() {
            "coalesce" | "greatest" | "least" => {
                if args.is_empty() {
                    return Err(PgError::new(sqlstate::SYNTAX_ERROR, format!("syntax error: {name}() needs arguments")));
                }
                let label = name.to_uppercase();
                let ty = common_type(&args.iter().map(|a| a.1).collect::<Vec<_>>(), &label)?;
                let items: Vec<Expr> = args.into_iter().map(|(e, t)| self.coerce(e, t, ty)).collect();
                let e = match name.as_str() {
                    "coalesce" => Expr::Coalesce(items),
                    g => Expr::Extreme { args: items, greatest: g == "greatest" },
                };
                Ok((e, output_type(ty)))
            }
            "nullif" if args.len() == 2 => {
                let r = args.pop().unwrap_or((Expr::Const(Value::Null), oid::UNKNOWN));
                let l = args.pop().unwrap_or((Expr::Const(Value::Null), oid::UNKNOWN));
                let (l, r, ty) = self.unify_compare(l, r, "=")?;
                Ok((Expr::NullIf(Box::new(l), Box::new(r)), output_type(ty)))
            }
            // pg_typeof is answered from the static type alone.
            "pg_typeof" if args.len() == 1 => Ok((Expr::Const(Value::Int(args[0].1 as i64)), oid::REGTYPE)),
            _ if TableFunc::lookup(&name).is_some() => Err(PgError::unsupported(format!(
                "set-returning function {name}() is supported only in FROM"
            ))),
            _ => self.bind_call_named(&name, &parts.join("."), args),
        }
    }

    /// A call of a scalar function from the registry.
    fn bind_call(&mut self, name: &str, args: Vec<(Expr, Oid)>) -> Result<(Expr, Oid), PgError> {
        self.bind_call_named(name, name, args)
    }

    /// Same; errors name the function as written (`pg_catalog.f`).
    fn bind_call_named(&mut self, name: &str, written: &str, args: Vec<(Expr, Oid)>) -> Result<(Expr, Oid), PgError> {
        let arg_types: Vec<Oid> = args.iter().map(|a| a.1).collect();
        let Some(func) = functions::lookup(name, args.len()) else {
            if functions::is_unsupported(name) {
                return Err(PgError::unsupported(format!("function {name}() is not supported by corewire")));
            }
            return Err(undefined_function(written, &arg_types));
        };
        let mut exprs = Vec::new();
        let mut types_ = Vec::new();
        for (i, (e, t)) in args.into_iter().enumerate() {
            let declared = func.declared_arg(i);
            if declared == oid::ANYARRAY {
                if types::subscript_elem(t).is_none() {
                    return Err(undefined_function(written, &arg_types));
                }
                exprs.push(e);
                types_.push(t);
            } else if declared == 0 || declared == t {
                exprs.push(e);
                types_.push(t);
            } else if t == oid::UNKNOWN || same_repr(t, declared) || types::is_numeric(t) && types::is_numeric(declared) {
                exprs.push(self.coerce(e, t, declared));
                types_.push(declared);
            } else if types::is_string(t) && types::is_string(declared) {
                exprs.push(e);
                types_.push(declared);
            } else {
                return Err(undefined_function(written, &arg_types));
            }
        }
        let ty = func.result_type(&types_);
        Ok((Expr::Call { func, args: exprs, arg_types: types_ }, ty))
    }

    fn bind_aggregate(&mut self, name: &str, list: &'a ast::FunctionArgumentList) -> Result<(Expr, Oid), PgError> {
        let level = self.level();
        if level.aggs.is_none() {
            return Err(PgError::new(
                GROUPING_ERROR,
                format!("aggregate functions are not allowed in {}", if level.agg_context.is_empty() { "this context" } else { level.agg_context }),
            ));
        }
        if level.in_aggregate {
            return Err(PgError::new(GROUPING_ERROR, "aggregate function calls cannot be nested"));
        }
        let distinct = matches!(list.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct));
        let mut order_asts: &[ast::OrderByExpr] = &[];
        for clause in &list.clauses {
            match clause {
                ast::FunctionArgumentClause::OrderBy(o) => order_asts = o,
                other => return Err(unsupported(format!("{other} in an aggregate"))),
            }
        }
        let star = matches!(list.args.as_slice(), [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)]);
        self.level_mut().in_aggregate = true;
        let result = self.bind_aggregate_args(name, list, star, distinct, order_asts);
        self.level_mut().in_aggregate = false;
        let call = result?;
        let ty = call.result_type;
        let aggs = self.level_mut().aggs.as_mut().expect("aggregates are being collected");
        aggs.push(call);
        Ok((Expr::Agg(aggs.len() - 1), ty))
    }

    fn bind_aggregate_args(
        &mut self,
        name: &str,
        list: &'a ast::FunctionArgumentList,
        star: bool,
        distinct: bool,
        order_asts: &'a [ast::OrderByExpr],
    ) -> Result<AggCall, PgError> {
        let mut args = Vec::new();
        if !star {
            for a in plain_args(&list.args)? {
                args.push(self.bind_expr(a)?);
            }
        }
        let order = order_asts
            .iter()
            .map(|o| {
                let e = self.bind_expr(&o.expr)?.0;
                sort_key(e, o)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let arg_types: Vec<Oid> = args.iter().map(|a| a.1).collect();
        let no_such = || undefined_function(name, &arg_types);
        let kind = match (name, star, args.len()) {
            ("count", true, _) if !distinct => AggKind::CountStar,
            ("count", false, 1) => AggKind::Count,
            ("sum", false, 1) => AggKind::Sum,
            ("avg", false, 1) => AggKind::Avg,
            ("min", false, 1) => AggKind::Min,
            ("max", false, 1) => AggKind::Max,
            ("string_agg", false, 2) => AggKind::StringAgg,
            ("array_agg", false, 1) => AggKind::ArrayAgg,
            ("bool_and" | "every", false, 1) => AggKind::BoolAnd,
            ("bool_or", false, 1) => AggKind::BoolOr,
            _ => return Err(no_such()),
        };
        let mut args = args.into_iter();
        let (arg, arg_type) = match args.next() {
            Some((e, t)) => (Some(e), t),
            None => (None, oid::INT8),
        };
        let (arg, result_type) = match kind {
            AggKind::CountStar | AggKind::Count => (arg, oid::INT8),
            AggKind::Sum | AggKind::Avg => {
                if !types::is_numeric(arg_type) {
                    return Err(no_such());
                }
                let result = match (kind, arg_type) {
                    (AggKind::Sum, oid::INT2 | oid::INT4) => oid::INT8,
                    (_, oid::FLOAT4) if kind == AggKind::Sum => oid::FLOAT4,
                    (_, oid::FLOAT4 | oid::FLOAT8) => oid::FLOAT8,
                    _ => oid::NUMERIC,
                };
                (arg, result)
            }
            AggKind::Min | AggKind::Max => {
                // Character types other than bpchar aggregate as text.
                let result = if types::is_string(arg_type) && arg_type != oid::BPCHAR { oid::TEXT } else { arg_type };
                (arg, result)
            }
            AggKind::StringAgg => {
                if !types::is_string(arg_type) {
                    return Err(no_such());
                }
                (arg.map(|a| self.coerce(a, arg_type, oid::TEXT)), oid::TEXT)
            }
            AggKind::ArrayAgg => {
                let elem = output_type(arg_type);
                let array = types::array_of(elem).ok_or_else(no_such)?;
                (arg.map(|a| self.coerce(a, arg_type, elem)), array)
            }
            AggKind::BoolAnd | AggKind::BoolOr => {
                let a = match arg {
                    Some(a) => Some(self.require_bool(a, arg_type, name)?),
                    None => None,
                };
                (a, oid::BOOL)
            }
        };
        let delimiter = match (kind, args.next()) {
            (AggKind::StringAgg, Some((d, dt))) => {
                if !types::is_string(dt) {
                    return Err(no_such());
                }
                Some(self.coerce(d, dt, oid::TEXT))
            }
            _ => None,
        };
        Ok(AggCall { kind, arg, delimiter, distinct, order, result_type })
    }

    /// A subquery inside an expression: it sees this level (correlation).
    fn bind_sublink(&mut self, q: &'a ast::Query) -> Result<Query, PgError> {
        let query = self.bind_query(q)?;
        if query.columns.len() != 1 {
            return Err(PgError::new(sqlstate::SYNTAX_ERROR, "subquery must return only one column"));
        }
        Ok(query)
    }

    // -----------------------------------------------------------------
    // Typing helpers

    fn note_param(&mut self, index: usize, ty: Oid) {
        if let Some(slot) = self.param_types.get_mut(index) {
            if *slot == 0 || *slot == oid::UNKNOWN {
                *slot = ty;
            }
        }
    }

    /// Converts `e` from type `from` to `to` where the representations or
    /// the types' input rules differ (untyped literals are parsed).
    fn coerce(&mut self, e: Expr, from: Oid, to: Oid) -> Expr {
        if from == to || to == 0 {
            return e;
        }
        if from == oid::UNKNOWN {
            if let Expr::Param(i) = e {
                self.note_param(i, to);
            }
            if to == oid::TEXT {
                return e;
            }
            return Expr::Cast { expr: Box::new(e), from, to, typmod: -1 };
        }
        if same_repr(from, to) {
            return e;
        }
        Expr::Cast { expr: Box::new(e), from, to, typmod: -1 }
    }

    /// Types both sides of a comparison; untyped literals take the other
    /// side's type. Returns the converted operands and their common type.
    fn unify_compare(&mut self, l: (Expr, Oid), r: (Expr, Oid), symbol: &str) -> Result<(Expr, Expr, Oid), PgError> {
        let ((l, lt), (r, rt)) = (l, r);
        match (lt == oid::UNKNOWN, rt == oid::UNKNOWN) {
            (true, true) => Ok((self.coerce(l, lt, oid::TEXT), self.coerce(r, rt, oid::TEXT), oid::TEXT)),
            (true, false) => Ok((self.coerce(l, lt, rt), r, rt)),
            (false, true) => {
                let r = self.coerce(r, rt, lt);
                Ok((l, r, lt))
            }
            _ if types::comparable(lt, rt) => Ok((l, r, lt)),
            _ => Err(operator_error(lt, symbol, rt)),
        }
    }

    fn require_bool(&mut self, e: Expr, t: Oid, context: &str) -> Result<Expr, PgError> {
        match t {
            oid::BOOL => Ok(e),
            oid::UNKNOWN => Ok(self.coerce(e, t, oid::BOOL)),
            _ => Err(PgError::new(
                sqlstate::DATATYPE_MISMATCH,
                format!("argument of {context} must be type boolean, not type {}", types::format_type(t, None)),
            )),
        }
    }

    /// A boolean condition where aggregates are not allowed.
    fn bind_condition(&mut self, e: &'a ast::Expr, context: &'static str) -> Result<Expr, PgError> {
        let level = self.level_mut();
        let saved = (level.aggs.take(), std::mem::replace(&mut level.agg_context, context));
        let result = self.bind_condition_here(e, context);
        let level = self.level_mut();
        level.aggs = saved.0;
        level.agg_context = saved.1;
        result
    }

    fn bind_condition_here(&mut self, e: &'a ast::Expr, context: &str) -> Result<Expr, PgError> {
        let (x, t) = self.bind_expr(e)?;
        self.require_bool(x, t, context)
    }
}

/// Moves WHERE conjuncts into the FROM tree, next to the items they read,
/// so joins combine fewer rows. Conditions are never moved into the
/// nullable side of an outer join; those reading no column of this level
/// or containing subqueries stay in WHERE.
fn push_down(mut node: FromNode, filter: Expr, sources: &[SourceSlot]) -> (FromNode, Option<Expr>) {
    let conjuncts = match filter {
        Expr::And(items) => items,
        other => vec![other],
    };
    let mut rest = Vec::new();
    for cond in conjuncts {
        let mut slots = Vec::new();
        if !level_slots(&cond, &mut slots) || slots.is_empty() {
            rest.push(cond);
            continue;
        }
        if let Some(cond) = place(&mut node, cond, &slots, sources) {
            rest.push(cond);
        }
    }
    let rest = match rest.len() {
        0 => None,
        1 => rest.pop(),
        _ => Some(Expr::And(rest)),
    };
    (node, rest)
}

/// Collects the slots of this level `e` reads; false if it holds a
/// subquery (which may read anything).
fn level_slots(e: &Expr, out: &mut Vec<usize>) -> bool {
    match e {
        Expr::Column { up: 0, index } => {
            out.push(*index);
            true
        }
        Expr::Subquery(_) | Expr::Exists(_) | Expr::ArraySubquery(_) | Expr::InSubquery { .. } | Expr::Agg(_) => false,
        _ => {
            let mut ok = true;
            let _ = for_each_child(e, &mut |c| {
                ok &= level_slots(c, out);
                Ok(())
            });
            ok
        }
    }
}

fn covers(node: &FromNode, slots: &[usize], sources: &[SourceSlot]) -> bool {
    fn ranges(node: &FromNode, sources: &[SourceSlot], out: &mut Vec<(usize, usize)>) {
        match node {
            FromNode::Leaf(i) => out.push((sources[*i].offset, sources[*i].width)),
            FromNode::Join { left, right, .. } => {
                ranges(left, sources, out);
                ranges(right, sources, out);
            }
            FromNode::Filter { input, .. } => ranges(input, sources, out),
        }
    }
    let mut r = Vec::new();
    ranges(node, sources, &mut r);
    slots.iter().all(|s| r.iter().any(|&(offset, width)| (offset..offset + width).contains(s)))
}

/// Places `cond` as deep as it can go; gives it back if `node` does not
/// cover its slots.
fn place(node: &mut FromNode, cond: Expr, slots: &[usize], sources: &[SourceSlot]) -> Option<Expr> {
    if !covers(node, slots, sources) {
        return Some(cond);
    }
    let cond = match node {
        FromNode::Filter { input, conditions } => {
            if let Some(c) = place(input, cond, slots, sources) {
                conditions.push(c);
            }
            return None;
        }
        FromNode::Join { kind, left, right, .. } => {
            let mut cond = Some(cond);
            if matches!(kind, JoinKind::Inner | JoinKind::Left) {
                cond = place(left, cond.take()?, slots, sources);
            }
            if matches!(kind, JoinKind::Inner | JoinKind::Right) {
                cond = place(right, cond?, slots, sources);
            }
            cond?
        }
        FromNode::Leaf(_) => cond,
    };
    let input = std::mem::replace(node, FromNode::Leaf(usize::MAX));
    *node = FromNode::Filter { input: Box::new(input), conditions: vec![cond] };
    None
}

/// Wraps a query so that another ORDER BY / LIMIT can apply on top.
fn nest(inner: Query) -> Query {
    let columns = inner.columns.clone();
    Query { body: Body::Nested(Box::new(inner)), columns, order: Vec::new(), limit: None, offset: None }
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

fn is_aggregate(name: &str) -> bool {
    matches!(
        name,
        "count" | "sum" | "avg" | "min" | "max" | "string_agg" | "array_agg" | "bool_and" | "bool_or" | "every"
    )
}

fn plain_args(args: &[FunctionArg]) -> Result<Vec<&ast::Expr>, PgError> {
    args.iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e),
            other => Err(unsupported(format!("the argument {other}"))),
        })
        .collect()
}

fn bind_number(text: &str) -> Result<(Expr, Oid), PgError> {
    if !text.contains(['.', 'e', 'E']) {
        if let Ok(i) = text.parse::<i64>() {
            let ty = if i32::try_from(i).is_ok() { oid::INT4 } else { oid::INT8 };
            return Ok((Expr::Const(Value::Int(i)), ty));
        }
    }
    let n = Numeric::parse(text).ok_or_else(|| {
        PgError::new(sqlstate::NUMERIC_VALUE_OUT_OF_RANGE, format!("value \"{text}\" is out of range for type numeric"))
    })?;
    Ok((Expr::Const(Value::Num(n)), oid::NUMERIC))
}

fn sort_key(expr: Expr, o: &ast::OrderByExpr) -> Result<SortKey, PgError> {
    if o.with_fill.is_some() {
        return Err(unsupported("ORDER BY ... WITH FILL"));
    }
    let desc = o.options.asc == Some(false);
    Ok(SortKey { expr, desc, nulls_first: o.options.nulls_first.unwrap_or(desc) })
}

fn order_position_error(n: i64) -> PgError {
    PgError::new(INVALID_COLUMN_REFERENCE, format!("ORDER BY position {n} is not in select list"))
}

fn missing_from(table: &str) -> PgError {
    PgError::new(sqlstate::UNDEFINED_TABLE, format!("missing FROM-clause entry for table \"{table}\""))
}

fn operator_error(l: Oid, symbol: &str, r: Oid) -> PgError {
    PgError::new(
        sqlstate::UNDEFINED_FUNCTION,
        format!("operator does not exist: {} {symbol} {}", types::format_type(l, None), types::format_type(r, None)),
    )
    .with_hint("No operator matches the given name and argument types. You might need to add explicit type casts.")
}

fn prefix_operator_error(symbol: &str, t: Oid) -> PgError {
    PgError::new(
        sqlstate::UNDEFINED_FUNCTION,
        format!("operator does not exist: {symbol} {}", types::format_type(t, None)),
    )
}

fn undefined_function(name: &str, arg_types: &[Oid]) -> PgError {
    let args: Vec<String> = arg_types.iter().map(|&t| types::format_type(t, None)).collect();
    PgError::new(sqlstate::UNDEFINED_FUNCTION, format!("function {name}({}) does not exist", args.join(", ")))
        .with_hint("No function matches the given name and argument types. You might need to add explicit type casts.")
}

/// The type values of several branches share (CASE, COALESCE, UNION,
/// VALUES, ARRAY): untyped literals follow the typed ones.
fn common_type(types_: &[Oid], context: &str) -> Result<Oid, PgError> {
    let known: Vec<Oid> = types_.iter().copied().filter(|&t| t != oid::UNKNOWN).collect();
    let Some(&first) = known.first() else {
        return Ok(oid::TEXT);
    };
    if known.iter().all(|&t| t == first) {
        return Ok(first);
    }
    if known.iter().all(|&t| types::is_numeric(t)) {
        // An OID-like type among integers wins; otherwise the widest.
        if known.iter().all(|&t| types::is_int(t)) {
            if let Some(&special) = known.iter().find(|&&t| !matches!(t, oid::INT2 | oid::INT4 | oid::INT8)) {
                return Ok(special);
            }
        }
        let rank = known.iter().map(|&t| types::numeric_rank(t)).max().unwrap_or(2);
        return Ok(types::rank_type(rank));
    }
    if known.iter().all(|&t| types::is_string(t)) {
        return Ok(oid::TEXT);
    }
    let other = known.iter().copied().find(|&t| t != first).unwrap_or(first);
    Err(PgError::new(
        sqlstate::DATATYPE_MISMATCH,
        format!(
            "{context} types {} and {} cannot be matched",
            types::format_type(first, None),
            types::format_type(other, None)
        ),
    ))
}
