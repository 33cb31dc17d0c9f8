//! Executes bound queries: nested-loop joins over the in-memory catalog,
//! grouping, sorting and set operations. Rows are few; work is bounded.

use std::cell::{Cell, RefCell};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;

use super::eval::eval;
use super::plan::*;
use super::tables::{Row, TableDef};
use super::types::{self, oid, Numeric, Oid, Value};
use super::SessionView;
use crate::pg::error::{sqlstate, PgError};

/// Largest row product a single join may examine.
pub(crate) const MAX_JOIN_ROWS: u64 = 1_000_000;
/// Total rows a statement may visit (scans, join pairs, subquery runs).
const MAX_WORK: u64 = 5_000_000;
/// Values one intermediate result (a scan or a join's output) may hold:
/// the row product limit alone would allow a million rows of 100 columns.
const MAX_VALUES: usize = 2_000_000;

/// SQLSTATE 21000 cardinality_violation.
const CARDINALITY_VIOLATION: &str = "21000";
const INVALID_ROW_COUNT: &str = "2201W";
const INVALID_OFFSET: &str = "2201X";

/// What a statement runs against: the session, its parameters, and
/// per-statement caches.
pub(crate) struct Env<'s> {
    session: RefCell<&'s mut dyn SessionView>,
    params: &'s [Option<String>],
    sql: &'s str,
    user: String,
    database: String,
    /// The statement's timestamp (now() is constant within a statement).
    now: String,
    tables: RefCell<HashMap<Oid, Arc<Vec<Row>>>>,
    regexes: RefCell<HashMap<(String, bool), Rc<regex::Regex>>>,
    work: Cell<u64>,
}

impl<'s> Env<'s> {
    pub fn new(
        session: &'s mut dyn SessionView,
        params: &'s [Option<String>],
        sql: &'s str,
    ) -> Env<'s> {
        let user = session.user().to_string();
        let database = session.database().to_string();
        Env {
            session: RefCell::new(session),
            params,
            sql,
            user,
            database,
            now: timestamp_now(),
            tables: RefCell::new(HashMap::new()),
            regexes: RefCell::new(HashMap::new()),
            work: Cell::new(0),
        }
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    pub fn sql(&self) -> &str {
        self.sql
    }

    pub fn now(&self) -> &str {
        &self.now
    }

    pub fn backend_pid(&self) -> i32 {
        self.session.borrow().backend_pid()
    }

    /// A run-time parameter; the server version is this module's own if
    /// the session does not say.
    pub fn setting(&self, name: &str) -> Option<String> {
        self.session.borrow().setting(name).or_else(|| {
            if name.eq_ignore_ascii_case("server_version") {
                Some(super::SERVER_VERSION.to_string())
            } else if name.eq_ignore_ascii_case("server_version_num") {
                Some(super::SERVER_VERSION_NUM.to_string())
            } else {
                None
            }
        })
    }

    pub fn settings(&self) -> Vec<(String, String)> {
        self.session.borrow().settings()
    }

    pub fn set_setting(&self, name: &str, value: &str, local: bool) -> Result<String, PgError> {
        self.session.borrow_mut().set_setting(name, value, local)
    }

    pub fn param(&self, index: usize) -> Result<Value, PgError> {
        match self.params.get(index) {
            Some(Some(s)) => Ok(Value::text(s.as_str())),
            Some(None) => Ok(Value::Null),
            None => Err(PgError::new(
                "42P02",
                format!("there is no parameter ${}", index + 1),
            )),
        }
    }

    /// A catalog table's rows, built at most once per statement.
    pub fn table_rows(&self, def: &'static TableDef) -> Arc<Vec<Row>> {
        if let Some(rows) = self.tables.borrow().get(&def.oid) {
            return rows.clone();
        }
        let rows = def.rows(self);
        self.tables.borrow_mut().insert(def.oid, rows.clone());
        rows
    }

    /// A compiled regular expression (PostgreSQL's ARE syntax is close to
    /// the regex crate's for what catalog queries use).
    pub fn regex(
        &self,
        pattern: &str,
        case_insensitive: bool,
    ) -> Result<Rc<regex::Regex>, PgError> {
        let key = (pattern.to_string(), case_insensitive);
        if let Some(re) = self.regexes.borrow().get(&key) {
            return Ok(re.clone());
        }
        let re = regex::RegexBuilder::new(pattern)
            .case_insensitive(case_insensitive)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                PgError::new(
                    INVALID_REGULAR_EXPRESSION,
                    format!("invalid regular expression: {}", first_line(&e.to_string())),
                )
            })?;
        let re = Rc::new(re);
        self.regexes.borrow_mut().insert(key, re.clone());
        Ok(re)
    }

    /// Counts `n` units of work against the statement's budget.
    pub fn charge(&self, n: u64) -> Result<(), PgError> {
        let total = self.work.get().saturating_add(n);
        self.work.set(total);
        if total > MAX_WORK {
            return Err(PgError::new(
                sqlstate::PROGRAM_LIMIT_EXCEEDED,
                format!("query examines more than {MAX_WORK} rows"),
            ));
        }
        Ok(())
    }
}

/// SQLSTATE 2201B invalid_regular_expression.
const INVALID_REGULAR_EXPRESSION: &str = "2201B";

fn first_line(s: &str) -> &str {
    s.lines()
        .find(|l| l.starts_with("error:"))
        .map_or(s.lines().next().unwrap_or(s), |l| {
            l.trim_start_matches("error: ")
        })
}

/// The row of one query level and the levels around it.
pub(crate) struct Frame<'a> {
    pub row: &'a [Value],
    /// Aggregate values of the current group.
    pub aggs: &'a [Value],
    pub parent: Option<&'a Frame<'a>>,
}

impl<'a> Frame<'a> {
    pub fn new(row: &'a [Value], parent: Option<&'a Frame<'a>>) -> Frame<'a> {
        Frame {
            row,
            aggs: &[],
            parent,
        }
    }
}

/// `outer` walked up `n` levels.
fn skip_frames<'a>(mut frame: Option<&'a Frame<'a>>, n: usize) -> Option<&'a Frame<'a>> {
    for _ in 0..n {
        frame = frame.and_then(|f| f.parent);
    }
    frame
}

/// Runs a query; `outer` is the frame of the enclosing query level.
pub(crate) fn run_query(q: &Query, env: &Env, outer: Option<&Frame>) -> Result<Vec<Row>, PgError> {
    env.charge(1)?;
    // Each result row with its sort keys.
    let mut rows: Vec<(Row, Vec<Value>)> = match &q.body {
        Body::Select(select) => run_select(select, &q.order, env, outer)?,
        Body::SetOp {
            op,
            all,
            left,
            right,
        } => {
            let out = run_set_op(*op, *all, left, right, &q.columns, env, outer)?;
            with_output_keys(out, &q.order, env, outer)?
        }
        Body::Values(values) => {
            let empty = Frame::new(&[], outer);
            let mut out = Vec::new();
            for row in values {
                out.push(
                    row.iter()
                        .map(|e| eval(e, &empty, env))
                        .collect::<Result<Row, _>>()?,
                );
            }
            with_output_keys(out, &q.order, env, outer)?
        }
        Body::Nested(inner) => {
            let out = run_query(inner, env, outer)?;
            with_output_keys(out, &q.order, env, outer)?
        }
    };
    if !q.order.is_empty() {
        rows.sort_by(|a, b| compare_keys(&a.1, &b.1, &q.order));
    }
    let empty = Frame::new(&[], outer);
    let offset = match &q.offset {
        Some(e) => match eval(e, &empty, env)? {
            Value::Int(n) if n < 0 => {
                return Err(PgError::new(INVALID_OFFSET, "OFFSET must not be negative"))
            }
            Value::Int(n) => n as usize,
            _ => 0,
        },
        None => 0,
    };
    let limit = match &q.limit {
        Some(e) => match eval(e, &empty, env)? {
            Value::Int(n) if n < 0 => {
                return Err(PgError::new(
                    INVALID_ROW_COUNT,
                    "LIMIT must not be negative",
                ))
            }
            Value::Int(n) => Some(n as usize),
            _ => None,
        },
        None => None,
    };
    Ok(rows
        .into_iter()
        .skip(offset)
        .take(limit.unwrap_or(usize::MAX))
        .map(|(r, _)| r)
        .collect())
}

/// Sort keys computed over output rows (set operations, VALUES).
fn with_output_keys(
    rows: Vec<Row>,
    order: &[SortKey],
    env: &Env,
    outer: Option<&Frame>,
) -> Result<Vec<(Row, Vec<Value>)>, PgError> {
    rows.into_iter()
        .map(|row| {
            let frame = Frame::new(&row, outer);
            let keys = order
                .iter()
                .map(|k| eval(&k.expr, &frame, env))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((row, keys))
        })
        .collect()
}

fn compare_keys(a: &[Value], b: &[Value], order: &[SortKey]) -> Ordering {
    for (i, k) in order.iter().enumerate() {
        let (x, y) = (&a[i], &b[i]);
        let o = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => {
                if k.nulls_first {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (false, true) => {
                if k.nulls_first {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            _ => {
                let o = types::sort_cmp(x, y);
                if k.desc {
                    o.reverse()
                } else {
                    o
                }
            }
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

fn row_key(row: &[Value]) -> String {
    let mut key = String::new();
    for v in row {
        v.key(&mut key);
    }
    key
}

fn run_select(
    s: &Select,
    order: &[SortKey],
    env: &Env,
    outer: Option<&Frame>,
) -> Result<Vec<(Row, Vec<Value>)>, PgError> {
    let input = match &s.from {
        None => vec![Vec::new()],
        Some(node) => run_from(s, node, env, outer, None)?,
    };
    let mut rows = Vec::new();
    for row in input {
        let keep = match &s.filter {
            Some(f) => matches!(eval(f, &Frame::new(&row, outer), env)?, Value::Bool(true)),
            None => true,
        };
        if keep {
            rows.push(row);
        }
    }
    let mut out = Vec::new();
    let mut project = |frame: &Frame| -> Result<(), PgError> {
        let values = s
            .projections
            .iter()
            .map(|e| eval(e, frame, env))
            .collect::<Result<Row, _>>()?;
        let keys = order
            .iter()
            .map(|k| eval(&k.expr, frame, env))
            .collect::<Result<Vec<_>, _>>()?;
        out.push((values, keys));
        Ok(())
    };
    match &s.group {
        None => {
            for row in &rows {
                project(&Frame::new(row, outer))?;
            }
        }
        Some(g) => {
            for group in make_groups(g, rows, env, outer)? {
                let aggs = g
                    .aggs
                    .iter()
                    .map(|a| aggregate(a, &group, env, outer))
                    .collect::<Result<Vec<_>, _>>()?;
                // Grouped columns are read from any row of the group.
                let null_row = vec![Value::Null; s.width];
                let representative = group.first().unwrap_or(&null_row);
                let frame = Frame {
                    row: representative,
                    aggs: &aggs,
                    parent: outer,
                };
                if let Some(h) = &g.having {
                    if !matches!(eval(h, &frame, env)?, Value::Bool(true)) {
                        continue;
                    }
                }
                project(&frame)?;
            }
        }
    }
    if s.distinct {
        let mut seen = HashSet::new();
        out.retain(|(row, _)| seen.insert(row_key(row)));
    }
    Ok(out)
}

/// Splits rows by GROUP BY keys (first-seen order); without keys, one
/// group, even when empty.
fn make_groups(
    g: &Grouping,
    rows: Vec<Row>,
    env: &Env,
    outer: Option<&Frame>,
) -> Result<Vec<Vec<Row>>, PgError> {
    if g.keys.is_empty() {
        return Ok(vec![rows]);
    }
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<Vec<Row>> = Vec::new();
    for row in rows {
        let frame = Frame::new(&row, outer);
        let keys = g
            .keys
            .iter()
            .map(|k| eval(k, &frame, env))
            .collect::<Result<Vec<_>, _>>()?;
        let key = row_key(&keys);
        match index.get(&key) {
            Some(&i) => groups[i].push(row),
            None => {
                index.insert(key, groups.len());
                groups.push(vec![row]);
            }
        }
    }
    Ok(groups)
}

fn aggregate(
    a: &AggCall,
    rows: &[Row],
    env: &Env,
    outer: Option<&Frame>,
) -> Result<Value, PgError> {
    if a.kind == AggKind::CountStar {
        return Ok(Value::Int(rows.len() as i64));
    }
    // (value, delimiter, sort keys) per input row.
    let mut inputs: Vec<(Value, Value, Vec<Value>)> = Vec::new();
    for row in rows {
        let frame = Frame::new(row, outer);
        let value = match &a.arg {
            Some(e) => eval(e, &frame, env)?,
            None => Value::Null,
        };
        if value.is_null() && a.kind != AggKind::ArrayAgg {
            continue;
        }
        let delimiter = match &a.delimiter {
            Some(d) => eval(d, &frame, env)?,
            None => Value::Null,
        };
        let keys = a
            .order
            .iter()
            .map(|k| eval(&k.expr, &frame, env))
            .collect::<Result<Vec<_>, _>>()?;
        inputs.push((value, delimiter, keys));
    }
    if a.distinct {
        let mut seen = HashSet::new();
        inputs.retain(|(v, _, _)| seen.insert(row_key(std::slice::from_ref(v))));
    }
    if !a.order.is_empty() {
        inputs.sort_by(|x, y| compare_keys(&x.2, &y.2, &a.order));
    }
    let values = || inputs.iter().map(|i| &i.0);
    Ok(match a.kind {
        AggKind::CountStar | AggKind::Count => Value::Int(inputs.len() as i64),
        _ if inputs.is_empty() => Value::Null,
        AggKind::Sum => sum(values(), a.result_type)?,
        AggKind::Avg => {
            let total = sum(
                values(),
                if a.result_type == oid::NUMERIC {
                    oid::NUMERIC
                } else {
                    oid::FLOAT8
                },
            )?;
            let n = inputs.len() as i64;
            match total {
                Value::Num(t) => Value::Num(t.div(Numeric::from_i64(n))?),
                Value::Float(t) => Value::Float(t / n as f64),
                other => other,
            }
        }
        AggKind::Min | AggKind::Max => {
            let mut best = inputs[0].0.clone();
            for v in values().skip(1) {
                let o = types::sort_cmp(v, &best);
                if (a.kind == AggKind::Min && o == Ordering::Less)
                    || (a.kind == AggKind::Max && o == Ordering::Greater)
                {
                    best = v.clone();
                }
            }
            best
        }
        AggKind::StringAgg => {
            let mut out = String::new();
            for (i, (v, d, _)) in inputs.iter().enumerate() {
                if i > 0 {
                    if let Value::Text(d) = d {
                        out.push_str(d);
                    }
                }
                if let Value::Text(s) = v {
                    out.push_str(s);
                }
            }
            Value::text(out)
        }
        AggKind::ArrayAgg => Value::Array(values().cloned().collect()),
        AggKind::BoolAnd => Value::Bool(values().all(|v| matches!(v, Value::Bool(true)))),
        AggKind::BoolOr => Value::Bool(values().any(|v| matches!(v, Value::Bool(true)))),
    })
}

fn sum<'v>(values: impl Iterator<Item = &'v Value>, ty: Oid) -> Result<Value, PgError> {
    match ty {
        oid::FLOAT4 | oid::FLOAT8 => Ok(Value::Float(values.filter_map(types::as_f64).sum())),
        oid::INT8 => {
            let mut total: i64 = 0;
            for v in values {
                if let Value::Int(i) = v {
                    total = total
                        .checked_add(*i)
                        .ok_or_else(|| types::int_range_error(oid::INT8))?;
                }
            }
            Ok(Value::Int(total))
        }
        _ => {
            let mut total = Numeric::from_i64(0);
            for v in values {
                if let Some(n) = types::as_numeric(v) {
                    total = total.add(n)?;
                }
            }
            Ok(Value::Num(total))
        }
    }
}

fn run_set_op(
    op: SetOp,
    all: bool,
    left: &Query,
    right: &Query,
    columns: &[(String, Oid)],
    env: &Env,
    outer: Option<&Frame>,
) -> Result<Vec<Row>, PgError> {
    // Each side's rows, converted to the result column types.
    let convert = |q: &Query| -> Result<Vec<Row>, PgError> {
        let rows = run_query(q, env, outer)?;
        rows.into_iter()
            .map(|row| {
                row.into_iter()
                    .zip(q.columns.iter().zip(columns))
                    .map(|(v, ((_, from), (_, to)))| {
                        if from == to || *from == oid::UNKNOWN && *to == oid::TEXT {
                            Ok(v)
                        } else {
                            types::cast(v, *from, *to, -1, env.user())
                        }
                    })
                    .collect()
            })
            .collect()
    };
    let l = convert(left)?;
    let r = convert(right)?;
    env.charge((l.len() + r.len()) as u64)?;
    Ok(match (op, all) {
        (SetOp::Union, true) => l.into_iter().chain(r).collect(),
        (SetOp::Union, false) => {
            let mut seen = HashSet::new();
            l.into_iter()
                .chain(r)
                .filter(|row| seen.insert(row_key(row)))
                .collect()
        }
        (SetOp::Intersect | SetOp::Except, _) => {
            let mut counts: HashMap<String, usize> = HashMap::new();
            for row in &r {
                *counts.entry(row_key(row)).or_default() += 1;
            }
            let mut seen = HashSet::new();
            let mut out = Vec::new();
            for row in l {
                let key = row_key(&row);
                let present = counts.get(&key).copied().unwrap_or(0) > 0;
                let keep = if op == SetOp::Intersect {
                    present
                } else {
                    !present
                };
                if all {
                    // Multiset semantics: each right row matches one left row.
                    if op == SetOp::Intersect && present {
                        *counts.get_mut(&key).expect("counted") -= 1;
                        out.push(row);
                    } else if op == SetOp::Except {
                        if present {
                            *counts.get_mut(&key).expect("counted") -= 1;
                        } else {
                            out.push(row);
                        }
                    }
                } else if keep && seen.insert(key) {
                    out.push(row);
                }
            }
            out
        }
    })
}

/// The slot ranges a FROM subtree fills.
fn slots(s: &Select, node: &FromNode, out: &mut Vec<(usize, usize)>) {
    match node {
        FromNode::Leaf { index, .. } => {
            out.push((s.sources[*index].offset, s.sources[*index].width))
        }
        FromNode::Join { left, right, .. } => {
            slots(s, left, out);
            slots(s, right, out);
        }
        FromNode::Filter { input, .. } => slots(s, input, out),
    }
}

/// Rows of a FROM subtree, full width, with other items' slots NULL.
/// `current` is the row so far, for LATERAL function arguments.
fn run_from(
    s: &Select,
    node: &FromNode,
    env: &Env,
    outer: Option<&Frame>,
    current: Option<&Row>,
) -> Result<Vec<Row>, PgError> {
    match node {
        FromNode::Leaf { index, filter } => scan(s, *index, filter, env, outer, current),
        FromNode::Filter { input, conditions } => {
            let mut rows = Vec::new();
            for row in run_from(s, input, env, outer, current)? {
                if passes(conditions, &row, env, outer)? {
                    rows.push(row);
                }
            }
            Ok(rows)
        }
        FromNode::Join {
            kind,
            left,
            right,
            on,
            lateral,
        } => {
            let left_rows = run_from(s, left, env, outer, current)?;
            let mut right_slots = Vec::new();
            slots(s, right, &mut right_slots);
            let fixed_right = if *lateral {
                None
            } else {
                Some(run_from(s, right, env, outer, current)?)
            };
            if let Some(r) = &fixed_right {
                let product = left_rows.len() as u64 * r.len() as u64;
                if product > MAX_JOIN_ROWS {
                    return Err(join_too_large(product));
                }
            }
            let mut right_matched = vec![false; fixed_right.as_ref().map_or(0, Vec::len)];
            let mut out = Vec::new();
            let mut examined: u64 = 0;
            for l in &left_rows {
                let lateral_rows;
                let right_rows = match &fixed_right {
                    Some(r) => r,
                    None => {
                        lateral_rows = run_from(s, right, env, outer, Some(l))?;
                        &lateral_rows
                    }
                };
                examined += right_rows.len() as u64;
                if examined > MAX_JOIN_ROWS {
                    return Err(join_too_large(examined));
                }
                env.charge(right_rows.len() as u64)?;
                let mut matched = false;
                // The left row with each right row's slots written in.
                let mut merged = l.clone();
                for (ri, r) in right_rows.iter().enumerate() {
                    for &(offset, width) in &right_slots {
                        merged[offset..offset + width].clone_from_slice(&r[offset..offset + width]);
                    }
                    let pass = match on {
                        Some(cond) => matches!(
                            eval(cond, &Frame::new(&merged, outer), env)?,
                            Value::Bool(true)
                        ),
                        None => true,
                    };
                    if pass {
                        check_size(out.len() + 1, s.width)?;
                        matched = true;
                        if let Some(m) = right_matched.get_mut(ri) {
                            *m = true;
                        }
                        out.push(merged.clone());
                    }
                }
                if !matched && matches!(kind, JoinKind::Left | JoinKind::Full) {
                    out.push(l.clone());
                }
            }
            if matches!(kind, JoinKind::Right | JoinKind::Full) {
                if let Some(r) = &fixed_right {
                    for (row, matched) in r.iter().zip(&right_matched) {
                        if !matched {
                            out.push(row.clone());
                        }
                    }
                }
            }
            Ok(out)
        }
    }
}

fn passes(
    conditions: &[Expr],
    row: &[Value],
    env: &Env,
    outer: Option<&Frame>,
) -> Result<bool, PgError> {
    for c in conditions {
        if !matches!(eval(c, &Frame::new(row, outer), env)?, Value::Bool(true)) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The rows of FROM item `i` that pass `filter` (tested on the item's own
/// row), full width.
fn scan(
    s: &Select,
    i: usize,
    filter: &[Expr],
    env: &Env,
    outer: Option<&Frame>,
    current: Option<&Row>,
) -> Result<Vec<Row>, PgError> {
    let slot = &s.sources[i];
    let values: Arc<Vec<Row>> = match &slot.source {
        Source::Table(def) => env.table_rows(def),
        Source::Query { query, skip } => {
            let placeholder = Frame::new(&[], skip_frames(outer, *skip));
            Arc::new(run_query(query, env, Some(&placeholder))?)
        }
        Source::Function { func, args } => {
            let null_row = vec![Value::Null; s.width];
            let frame = Frame::new(current.map_or(&null_row[..], |r| &r[..]), outer);
            let args = args
                .iter()
                .map(|a| eval(a, &frame, env))
                .collect::<Result<Vec<_>, _>>()?;
            Arc::new(func.rows(&args)?.into_iter().map(|v| vec![v]).collect())
        }
    };
    env.charge(values.len() as u64)?;
    let mut out = Vec::new();
    for v in values.iter() {
        if passes(filter, v, env, outer)? {
            check_size(out.len() + 1, s.width)?;
            let mut row = vec![Value::Null; s.width];
            row[slot.offset..slot.offset + slot.width].clone_from_slice(&v[..slot.width]);
            out.push(row);
        }
    }
    Ok(out)
}

/// Keeps an intermediate result under MAX_VALUES.
fn check_size(rows: usize, width: usize) -> Result<(), PgError> {
    if rows.saturating_mul(width) > MAX_VALUES {
        return Err(PgError::new(
            sqlstate::PROGRAM_LIMIT_EXCEEDED,
            format!(
                "intermediate result of {rows} rows of {width} columns exceeds {MAX_VALUES} values"
            ),
        ));
    }
    Ok(())
}

fn join_too_large(rows: u64) -> PgError {
    PgError::new(
        sqlstate::PROGRAM_LIMIT_EXCEEDED,
        format!("join would examine {rows} row combinations; the limit is {MAX_JOIN_ROWS}"),
    )
}

/// Runs a subquery used as an expression: at most one row, one column.
pub(crate) fn scalar_subquery(q: &Query, env: &Env, frame: &Frame) -> Result<Value, PgError> {
    let mut rows = run_query(q, env, Some(frame))?;
    match rows.len() {
        0 => Ok(Value::Null),
        1 => Ok(rows
            .pop()
            .and_then(|r| r.into_iter().next())
            .unwrap_or(Value::Null)),
        _ => Err(PgError::new(
            CARDINALITY_VIOLATION,
            "more than one row returned by a subquery used as an expression",
        )),
    }
}

/// The first column of every row of a subquery.
pub(crate) fn column_subquery(q: &Query, env: &Env, frame: &Frame) -> Result<Vec<Value>, PgError> {
    Ok(run_query(q, env, Some(frame))?
        .into_iter()
        .map(|r| r.into_iter().next().unwrap_or(Value::Null))
        .collect())
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]+00`: timestamptz output in UTC.
fn timestamp_now() -> String {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut out = format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    let micros = since.subsec_micros();
    if micros != 0 {
        let frac = format!("{micros:06}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out.push_str("+00");
    out
}
