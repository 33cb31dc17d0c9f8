//! Bound queries: sqlparser's AST after name resolution and typing. Column
//! references are slots in a row, functions are resolved, untyped literals
//! carry casts; executing a plan needs no more lookups.

use super::functions::{FuncDef, TableFunc};
use super::tables::TableDef;
use super::types::{Oid, Value};
use crate::pg::error::PgError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
}

/// A bound expression. Its type is known to the binder, not stored here.
#[derive(Clone, Debug)]
pub(crate) enum Expr {
    Const(Value),
    /// `$n` (0-based here), as text; casts around it give it a type.
    Param(usize),
    /// Slot `index` of the row `up` query levels out (0 = this level).
    Column {
        up: usize,
        index: usize,
    },
    /// The value of aggregate `n` of the current group.
    Agg(usize),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Compare {
        op: CmpOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// Arithmetic whose result has type `ty`.
    Arith {
        op: ArithOp,
        left: Box<Expr>,
        right: Box<Expr>,
        ty: Oid,
    },
    /// `||` on two non-array values, each rendered as text.
    Concat {
        left: Box<Expr>,
        right: Box<Expr>,
        types: [Oid; 2],
    },
    /// `||` with an array: array || array, array || element, element ||
    /// array (`arrays` says which sides are arrays).
    ArrayCat {
        left: Box<Expr>,
        right: Box<Expr>,
        arrays: [bool; 2],
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    /// `IS [NOT] TRUE / FALSE / UNKNOWN` (`value` None = UNKNOWN).
    IsBool {
        expr: Box<Expr>,
        value: Option<bool>,
        negated: bool,
    },
    IsDistinct {
        left: Box<Expr>,
        right: Box<Expr>,
        negated: bool,
    },
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        escape: Option<char>,
        case_insensitive: bool,
        negated: bool,
    },
    Regex {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        case_insensitive: bool,
        negated: bool,
    },
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    Coalesce(Vec<Expr>),
    NullIf(Box<Expr>, Box<Expr>),
    /// GREATEST (true) / LEAST (false).
    Extreme {
        args: Vec<Expr>,
        greatest: bool,
    },
    Call {
        func: &'static FuncDef,
        args: Vec<Expr>,
        arg_types: Vec<Oid>,
    },
    Cast {
        expr: Box<Expr>,
        from: Oid,
        to: Oid,
        typmod: i32,
    },
    /// Scalar subquery: one column, at most one row.
    Subquery(Box<Query>),
    Exists(Box<Query>),
    InSubquery {
        expr: Box<Expr>,
        query: Box<Query>,
        negated: bool,
    },
    /// `ARRAY(SELECT ...)`.
    ArraySubquery(Box<Query>),
    /// `x op ANY (array)` / `x op ALL (array)`.
    Quantified {
        left: Box<Expr>,
        op: CmpOp,
        array: Box<Expr>,
        all: bool,
    },
    /// `ARRAY[...]`.
    Array(Vec<Expr>),
    /// `a[i]`; int2vector and oidvector count from 0, arrays from 1.
    Subscript {
        expr: Box<Expr>,
        index: Box<Expr>,
        zero_based: bool,
    },
}

/// A query: SELECT, set operation or VALUES, then ORDER BY / LIMIT.
#[derive(Clone, Debug)]
pub(crate) struct Query {
    pub body: Body,
    /// Output names and types (`unknown` for untyped literals; the caller
    /// reports those as text).
    pub columns: Vec<(String, Oid)>,
    /// For a SELECT body, evaluated like its select list; otherwise over
    /// the output row.
    pub order: Vec<SortKey>,
    pub limit: Option<Expr>,
    pub offset: Option<Expr>,
}

#[derive(Clone, Debug)]
pub(crate) enum Body {
    Select(Box<Select>),
    SetOp {
        op: SetOp,
        all: bool,
        left: Box<Query>,
        right: Box<Query>,
    },
    Values(Vec<Vec<Expr>>),
    /// A parenthesised query with its own ORDER BY / LIMIT, under another.
    Nested(Box<Query>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SetOp {
    Union,
    Intersect,
    Except,
}

#[derive(Clone, Debug)]
pub(crate) struct SortKey {
    pub expr: Expr,
    pub desc: bool,
    pub nulls_first: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Select {
    /// FROM items in slot order; a row of this level is all their columns.
    pub sources: Vec<SourceSlot>,
    /// How the sources combine; None: no FROM (one empty row).
    pub from: Option<FromNode>,
    pub width: usize,
    pub filter: Option<Expr>,
    pub group: Option<Grouping>,
    pub projections: Vec<Expr>,
    pub distinct: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct SourceSlot {
    pub source: Source,
    pub offset: usize,
    pub width: usize,
}

#[derive(Clone, Debug)]
pub(crate) enum Source {
    Table(&'static TableDef),
    /// A subquery in FROM or a CTE; it runs `skip` query levels further out
    /// than this one (a CTE defined by an enclosing query).
    Query {
        query: Box<Query>,
        skip: usize,
    },
    /// A set-returning function (its arguments may read earlier FROM items
    /// of this level: see `FromNode::Join::lateral`).
    Function {
        func: TableFunc,
        args: Vec<Expr>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JoinKind {
    Inner,
    Left,
    Right,
    Full,
}

#[derive(Clone, Debug)]
pub(crate) enum FromNode {
    /// FROM item `index`, with the WHERE conditions that read only it
    /// (their columns numbered within the item, so they are tested on the
    /// item's own rows before anything is copied).
    Leaf { index: usize, filter: Vec<Expr> },
    /// `on` None is a cross join; `lateral` if the right side reads the
    /// left side's row (functions in FROM), so it runs once per left row.
    Join {
        kind: JoinKind,
        left: Box<FromNode>,
        right: Box<FromNode>,
        on: Option<Expr>,
        lateral: bool,
    },
    /// WHERE conditions pushed down to the items they read.
    Filter {
        input: Box<FromNode>,
        conditions: Vec<Expr>,
    },
}

/// GROUP BY / aggregates of one SELECT.
#[derive(Clone, Debug)]
pub(crate) struct Grouping {
    pub keys: Vec<Expr>,
    pub aggs: Vec<AggCall>,
    pub having: Option<Expr>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AggKind {
    CountStar,
    Count,
    Sum,
    Avg,
    Min,
    Max,
    StringAgg,
    ArrayAgg,
    BoolAnd,
    BoolOr,
}

#[derive(Clone, Debug)]
pub(crate) struct AggCall {
    pub kind: AggKind,
    pub arg: Option<Expr>,
    /// string_agg's delimiter.
    pub delimiter: Option<Expr>,
    pub distinct: bool,
    /// `agg(x ORDER BY ...)`.
    pub order: Vec<SortKey>,
    pub result_type: Oid,
}

/// Calls `f` on each direct sub-expression (not into subqueries).
pub(crate) fn for_each_child(
    e: &Expr,
    f: &mut dyn FnMut(&Expr) -> Result<(), PgError>,
) -> Result<(), PgError> {
    match e {
        Expr::Const(_) | Expr::Param(_) | Expr::Column { .. } | Expr::Agg(_) => Ok(()),
        Expr::Subquery(_) | Expr::Exists(_) | Expr::ArraySubquery(_) => Ok(()),
        Expr::Not(x)
        | Expr::IsNull { expr: x, .. }
        | Expr::IsBool { expr: x, .. }
        | Expr::Cast { expr: x, .. } => f(x),
        Expr::InSubquery { expr, .. } => f(expr),
        Expr::And(xs) | Expr::Or(xs) | Expr::Coalesce(xs) | Expr::Array(xs) => {
            xs.iter().try_for_each(f)
        }
        Expr::Extreme { args, .. } | Expr::Call { args, .. } => args.iter().try_for_each(f),
        Expr::Compare { left, right, .. }
        | Expr::Arith { left, right, .. }
        | Expr::Concat { left, right, .. }
        | Expr::ArrayCat { left, right, .. }
        | Expr::IsDistinct { left, right, .. }
        | Expr::NullIf(left, right)
        | Expr::Like {
            expr: left,
            pattern: right,
            ..
        }
        | Expr::Regex {
            expr: left,
            pattern: right,
            ..
        }
        | Expr::Quantified {
            left, array: right, ..
        }
        | Expr::Subscript {
            expr: left,
            index: right,
            ..
        } => {
            f(left)?;
            f(right)
        }
        Expr::InList { expr, list, .. } => {
            f(expr)?;
            list.iter().try_for_each(f)
        }
        Expr::Case {
            operand,
            whens,
            otherwise,
        } => {
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

/// `for_each_child`, mutably.
pub(crate) fn for_each_child_mut(e: &mut Expr, f: &mut dyn FnMut(&mut Expr)) {
    match e {
        Expr::Const(_) | Expr::Param(_) | Expr::Column { .. } | Expr::Agg(_) => {}
        Expr::Subquery(_) | Expr::Exists(_) | Expr::ArraySubquery(_) => {}
        Expr::Not(x)
        | Expr::IsNull { expr: x, .. }
        | Expr::IsBool { expr: x, .. }
        | Expr::Cast { expr: x, .. } => f(x),
        Expr::InSubquery { expr, .. } => f(expr),
        Expr::And(xs) | Expr::Or(xs) | Expr::Coalesce(xs) | Expr::Array(xs) => {
            xs.iter_mut().for_each(f)
        }
        Expr::Extreme { args, .. } | Expr::Call { args, .. } => args.iter_mut().for_each(f),
        Expr::Compare { left, right, .. }
        | Expr::Arith { left, right, .. }
        | Expr::Concat { left, right, .. }
        | Expr::ArrayCat { left, right, .. }
        | Expr::IsDistinct { left, right, .. }
        | Expr::NullIf(left, right)
        | Expr::Like {
            expr: left,
            pattern: right,
            ..
        }
        | Expr::Regex {
            expr: left,
            pattern: right,
            ..
        }
        | Expr::Quantified {
            left, array: right, ..
        }
        | Expr::Subscript {
            expr: left,
            index: right,
            ..
        } => {
            f(left);
            f(right);
        }
        Expr::InList { expr, list, .. } => {
            f(expr);
            list.iter_mut().for_each(f);
        }
        Expr::Case {
            operand,
            whens,
            otherwise,
        } => {
            if let Some(o) = operand {
                f(o);
            }
            for (w, r) in whens {
                f(w);
                f(r);
            }
            if let Some(o) = otherwise {
                f(o);
            }
        }
    }
}
