//! Expression evaluation with SQL's three-valued logic.

use std::cmp::Ordering;

use super::exec::{column_subquery, run_query, scalar_subquery, Env, Frame};
use super::plan::{ArithOp, CmpOp, Expr};
use super::types::{self, oid, Numeric, Oid, Value};
use crate::pg::error::{sqlstate, PgError};

pub(crate) fn eval(e: &Expr, f: &Frame, env: &Env) -> Result<Value, PgError> {
    Ok(match e {
        Expr::Const(v) => v.clone(),
        Expr::Param(i) => env.param(*i)?,
        Expr::Column { up, index } => {
            let mut frame = f;
            for _ in 0..*up {
                frame = frame
                    .parent
                    .ok_or_else(|| internal("column of a missing query level"))?;
            }
            frame
                .row
                .get(*index)
                .cloned()
                .ok_or_else(|| internal("column slot out of range"))?
        }
        Expr::Agg(i) => f
            .aggs
            .get(*i)
            .cloned()
            .ok_or_else(|| internal("aggregate outside its group"))?,
        Expr::Not(x) => match eval(x, f, env)? {
            Value::Bool(b) => Value::Bool(!b),
            _ => Value::Null,
        },
        Expr::And(items) => {
            let mut unknown = false;
            for x in items {
                match eval(x, f, env)? {
                    Value::Bool(false) => return Ok(Value::Bool(false)),
                    Value::Bool(true) => {}
                    _ => unknown = true,
                }
            }
            if unknown {
                Value::Null
            } else {
                Value::Bool(true)
            }
        }
        Expr::Or(items) => {
            let mut unknown = false;
            for x in items {
                match eval(x, f, env)? {
                    Value::Bool(true) => return Ok(Value::Bool(true)),
                    Value::Bool(false) => {}
                    _ => unknown = true,
                }
            }
            if unknown {
                Value::Null
            } else {
                Value::Bool(false)
            }
        }
        Expr::Compare { op, left, right } => {
            let (l, r) = (eval(left, f, env)?, eval(right, f, env)?);
            match types::compare(&l, &r) {
                Some(o) => Value::Bool(test(*op, o)),
                None => Value::Null,
            }
        }
        Expr::Arith {
            op,
            left,
            right,
            ty,
        } => arith(*op, eval(left, f, env)?, eval(right, f, env)?, *ty)?,
        Expr::Concat {
            left,
            right,
            types: [lt, rt],
        } => {
            let (l, r) = (eval(left, f, env)?, eval(right, f, env)?);
            if l.is_null() || r.is_null() {
                return Ok(Value::Null);
            }
            // Each side as its cast to text (booleans read true/false).
            match (
                types::cast(l, *lt, oid::TEXT, -1, env.user())?,
                types::cast(r, *rt, oid::TEXT, -1, env.user())?,
            ) {
                (Value::Text(a), Value::Text(b)) => Value::text(format!("{a}{b}")),
                _ => Value::Null,
            }
        }
        Expr::ArrayCat {
            left,
            right,
            arrays,
        } => {
            // A NULL array counts as empty; a NULL element is kept.
            let mut items = Vec::new();
            let mut all_null = true;
            for (x, is_array) in [(left, arrays[0]), (right, arrays[1])] {
                match (eval(x, f, env)?, is_array) {
                    (Value::Array(a), true) => {
                        all_null = false;
                        items.extend(a);
                    }
                    (Value::Null, true) => {}
                    (v, _) => {
                        all_null = false;
                        items.push(v);
                    }
                }
            }
            if all_null {
                Value::Null
            } else {
                Value::Array(items)
            }
        }
        Expr::IsNull { expr, negated } => Value::Bool(eval(expr, f, env)?.is_null() != *negated),
        Expr::IsBool {
            expr,
            value,
            negated,
        } => {
            let v = eval(expr, f, env)?;
            let hit = match (value, &v) {
                (None, Value::Null) => true,
                (Some(want), Value::Bool(b)) => want == b,
                _ => false,
            };
            Value::Bool(hit != *negated)
        }
        Expr::IsDistinct {
            left,
            right,
            negated,
        } => {
            let (l, r) = (eval(left, f, env)?, eval(right, f, env)?);
            let distinct = match (l.is_null(), r.is_null()) {
                (true, true) => false,
                (true, false) | (false, true) => true,
                _ => types::compare(&l, &r) != Some(Ordering::Equal),
            };
            Value::Bool(distinct != *negated)
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let v = eval(expr, f, env)?;
            let mut candidates = Vec::with_capacity(list.len());
            for x in list {
                candidates.push(eval(x, f, env)?);
            }
            membership(&v, &candidates, *negated)
        }
        Expr::InSubquery {
            expr,
            query,
            negated,
        } => {
            let v = eval(expr, f, env)?;
            let candidates = column_subquery(query, env, f)?;
            membership(&v, &candidates, *negated)
        }
        Expr::Like {
            expr,
            pattern,
            escape,
            case_insensitive,
            negated,
        } => match (eval(expr, f, env)?, eval(pattern, f, env)?) {
            (Value::Text(s), Value::Text(p)) => {
                let matched = if *case_insensitive {
                    like(&s.to_lowercase(), &p.to_lowercase(), *escape)?
                } else {
                    like(&s, &p, *escape)?
                };
                Value::Bool(matched != *negated)
            }
            _ => Value::Null,
        },
        Expr::Regex {
            expr,
            pattern,
            case_insensitive,
            negated,
        } => match (eval(expr, f, env)?, eval(pattern, f, env)?) {
            (Value::Text(s), Value::Text(p)) => {
                Value::Bool(env.regex(&p, *case_insensitive)?.is_match(&s) != *negated)
            }
            _ => Value::Null,
        },
        Expr::Case {
            operand,
            whens,
            otherwise,
        } => {
            let subject = operand.as_ref().map(|o| eval(o, f, env)).transpose()?;
            for (when, result) in whens {
                let w = eval(when, f, env)?;
                let hit = match &subject {
                    Some(s) => types::compare(s, &w) == Some(Ordering::Equal),
                    None => matches!(w, Value::Bool(true)),
                };
                if hit {
                    return eval(result, f, env);
                }
            }
            match otherwise {
                Some(x) => eval(x, f, env)?,
                None => Value::Null,
            }
        }
        Expr::Coalesce(items) => {
            for x in items {
                let v = eval(x, f, env)?;
                if !v.is_null() {
                    return Ok(v);
                }
            }
            Value::Null
        }
        Expr::NullIf(a, b) => {
            let (a, b) = (eval(a, f, env)?, eval(b, f, env)?);
            if types::compare(&a, &b) == Some(Ordering::Equal) {
                Value::Null
            } else {
                a
            }
        }
        Expr::Extreme { args, greatest } => {
            let mut best = Value::Null;
            for x in args {
                let v = eval(x, f, env)?;
                let better = match types::compare(&v, &best) {
                    Some(o) => (o == Ordering::Greater) == *greatest && o != Ordering::Equal,
                    None => best.is_null(),
                };
                if better {
                    best = v;
                }
            }
            best
        }
        Expr::Call {
            func,
            args,
            arg_types,
        } => {
            let mut values = Vec::with_capacity(args.len());
            for a in args {
                values.push(eval(a, f, env)?);
            }
            if func.strict && values.iter().any(Value::is_null) {
                return Ok(Value::Null);
            }
            (func.f)(env, arg_types, &values)?
        }
        Expr::Cast {
            expr,
            from,
            to,
            typmod,
        } => types::cast(eval(expr, f, env)?, *from, *to, *typmod, env.user())?,
        Expr::Subquery(q) => scalar_subquery(q, env, f)?,
        Expr::Exists(q) => Value::Bool(!run_query(q, env, Some(f))?.is_empty()),
        Expr::ArraySubquery(q) => Value::Array(column_subquery(q, env, f)?),
        Expr::Quantified {
            left,
            op,
            array,
            all,
        } => {
            let l = eval(left, f, env)?;
            let items = match eval(array, f, env)? {
                Value::Array(items) => items,
                _ => return Ok(Value::Null),
            };
            quantified(&l, *op, &items, *all)
        }
        Expr::Array(items) => {
            let mut values = Vec::with_capacity(items.len());
            for x in items {
                values.push(eval(x, f, env)?);
            }
            Value::Array(values)
        }
        Expr::Subscript {
            expr,
            index,
            zero_based,
        } => {
            let (base, i) = (eval(expr, f, env)?, eval(index, f, env)?);
            match (base, i) {
                (Value::Array(items), Value::Int(i)) => {
                    let pos = if *zero_based { i } else { i - 1 };
                    usize::try_from(pos)
                        .ok()
                        .and_then(|p| items.into_iter().nth(p))
                        .unwrap_or(Value::Null)
                }
                _ => Value::Null,
            }
        }
    })
}

fn internal(what: &str) -> PgError {
    PgError::new(
        sqlstate::INTERNAL_ERROR,
        format!("catalog evaluator: {what}"),
    )
}

fn test(op: CmpOp, o: Ordering) -> bool {
    match op {
        CmpOp::Eq => o == Ordering::Equal,
        CmpOp::Ne => o != Ordering::Equal,
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::Le => o != Ordering::Greater,
        CmpOp::Gt => o == Ordering::Greater,
        CmpOp::Ge => o != Ordering::Less,
    }
}

/// `v [NOT] IN (candidates)`: NULL when no match and a NULL was involved.
fn membership(v: &Value, candidates: &[Value], negated: bool) -> Value {
    if v.is_null() {
        return Value::Null;
    }
    let mut unknown = false;
    for c in candidates {
        match types::compare(v, c) {
            Some(Ordering::Equal) => return Value::Bool(!negated),
            Some(_) => {}
            None => unknown = true,
        }
    }
    if unknown {
        Value::Null
    } else {
        Value::Bool(negated)
    }
}

/// `l op ANY/ALL (items)`.
fn quantified(l: &Value, op: CmpOp, items: &[Value], all: bool) -> Value {
    let mut unknown = false;
    for item in items {
        match types::compare(l, item).map(|o| test(op, o)) {
            Some(true) if !all => return Value::Bool(true),
            Some(false) if all => return Value::Bool(false),
            Some(_) => {}
            None => unknown = true,
        }
    }
    if unknown {
        Value::Null
    } else {
        Value::Bool(all)
    }
}

/// Arithmetic producing type `ty`.
fn arith(op: ArithOp, l: Value, r: Value, ty: Oid) -> Result<Value, PgError> {
    if l.is_null() || r.is_null() {
        return Ok(Value::Null);
    }
    match ty {
        oid::FLOAT4 | oid::FLOAT8 => {
            let (a, b) = (
                types::as_f64(&l).unwrap_or(f64::NAN),
                types::as_f64(&r).unwrap_or(f64::NAN),
            );
            let v = match op {
                ArithOp::Add => a + b,
                ArithOp::Sub => a - b,
                ArithOp::Mul => a * b,
                ArithOp::Div if b == 0.0 => return Err(types::division_by_zero()),
                ArithOp::Div => a / b,
                ArithOp::Mod if b == 0.0 => return Err(types::division_by_zero()),
                ArithOp::Mod => a % b,
                ArithOp::Pow => a.powf(b),
                _ => return Err(internal("bit operation on floats")),
            };
            if v.is_infinite() && a.is_finite() && b.is_finite() {
                return Err(PgError::new(
                    sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
                    "value out of range: overflow",
                ));
            }
            Ok(Value::Float(if ty == oid::FLOAT4 {
                v as f32 as f64
            } else {
                v
            }))
        }
        oid::NUMERIC => {
            let (a, b) = (
                types::as_numeric(&l).ok_or_else(|| internal("numeric operand"))?,
                types::as_numeric(&r).ok_or_else(|| internal("numeric operand"))?,
            );
            Ok(Value::Num(match op {
                ArithOp::Add => a.add(b)?,
                ArithOp::Sub => a.sub(b)?,
                ArithOp::Mul => a.mul(b)?,
                ArithOp::Div => a.div(b)?,
                ArithOp::Mod => {
                    if b.mant == 0 {
                        return Err(types::division_by_zero());
                    }
                    // a - trunc(a / b) * b
                    let q = Numeric {
                        mant: trunc_toward_zero(a, b),
                        scale: 0,
                    };
                    a.sub(q.mul(b)?)?
                }
                ArithOp::Pow => a.pow(b)?,
                _ => return Err(internal("bit operation on numeric")),
            }))
        }
        _ => {
            let (Value::Int(a), Value::Int(b)) = (&l, &r) else {
                return Err(internal("integer operands"));
            };
            let (a, b) = (*a, *b);
            let overflow = || types::int_range_error(ty);
            let v = match op {
                ArithOp::Add => a.checked_add(b).ok_or_else(overflow)?,
                ArithOp::Sub => a.checked_sub(b).ok_or_else(overflow)?,
                ArithOp::Mul => a.checked_mul(b).ok_or_else(overflow)?,
                ArithOp::Div if b == 0 => return Err(types::division_by_zero()),
                ArithOp::Div => a.checked_div(b).ok_or_else(overflow)?,
                ArithOp::Mod if b == 0 => return Err(types::division_by_zero()),
                ArithOp::Mod => a.checked_rem(b).unwrap_or(0),
                ArithOp::BitAnd => a & b,
                ArithOp::BitOr => a | b,
                ArithOp::BitXor => a ^ b,
                // Shifts work in the type's own width.
                ArithOp::Shl | ArithOp::Shr => {
                    let bits = match ty {
                        oid::INT2 => 16,
                        oid::INT4 => 32,
                        _ => 64,
                    };
                    let shift = (b as u32) % bits;
                    let shifted = if op == ArithOp::Shl {
                        a.wrapping_shl(shift)
                    } else {
                        a >> shift
                    };
                    // Wrap to the type's width.
                    match bits {
                        16 => shifted as i16 as i64,
                        32 => shifted as i32 as i64,
                        _ => shifted,
                    }
                }
                ArithOp::Pow => return Err(internal("integer power")),
            };
            Ok(Value::Int(types::check_int(v, ty)?))
        }
    }
}

/// The integer part of a / b (truncated toward zero), for numeric `%`.
fn trunc_toward_zero(a: Numeric, b: Numeric) -> i128 {
    let s = a.scale.max(b.scale);
    let scale = |n: Numeric| {
        n.mant
            .checked_mul(10i128.checked_pow(s - n.scale).unwrap_or(1))
            .unwrap_or(0)
    };
    let (x, y) = (scale(a), scale(b));
    if y == 0 {
        0
    } else {
        x / y
    }
}

/// SQL LIKE: `%` any run, `_` any one character, `escape` quotes the next.
fn like(s: &str, pattern: &str, escape: Option<char>) -> Result<bool, PgError> {
    enum Tok {
        Any,
        One,
        Lit(char),
        /// An escape character ending the pattern: an error if matching
        /// gets to it with text left (as in PostgreSQL), else no match.
        DanglingEscape,
    }
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            toks.push(chars.next().map_or(Tok::DanglingEscape, Tok::Lit));
        } else if c == '%' {
            toks.push(Tok::Any);
        } else if c == '_' {
            toks.push(Tok::One);
        } else {
            toks.push(Tok::Lit(c));
        }
    }
    // Greedy matching with backtracking to the last `%`: O(n·m) at worst,
    // so huge operands are refused rather than scanned for minutes.
    let s: Vec<char> = s.chars().collect();
    if toks.iter().filter(|t| matches!(t, Tok::Any)).count() > 1
        && (s.len() as u64).saturating_mul(toks.len() as u64) > 100_000_000
    {
        return Err(PgError::new(
            sqlstate::PROGRAM_LIMIT_EXCEEDED,
            "LIKE operands are too long to match",
        ));
    }
    let (mut si, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match toks.get(pi) {
            Some(Tok::DanglingEscape) => {
                return Err(PgError::new(
                    sqlstate::INVALID_ESCAPE_SEQUENCE,
                    "LIKE pattern must not end with escape character",
                ))
            }
            Some(Tok::Any) => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(Tok::One) => {
                si += 1;
                pi += 1;
            }
            Some(Tok::Lit(c)) if *c == s[si] => {
                si += 1;
                pi += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return Ok(false),
            },
        }
    }
    Ok(toks[pi..].iter().all(|t| matches!(t, Tok::Any)))
}

#[cfg(test)]
mod like_tests {
    use super::like;

    #[test]
    fn like_patterns() {
        let m = |s, p| like(s, p, Some('\\')).unwrap();
        assert!(m("kv", "kv%"));
        assert!(m("kv_pkey", "kv%"));
        assert!(m("abc", "_b_"));
        assert!(!m("abc", "a\\_c"));
        assert!(m("a_c", "a\\_c"));
        assert!(m("aXbXc", "%b%c"));
        assert!(!m("ab", "%c%"));
        assert!(m("", "%"));
        assert!(!m("", "_"));
        assert!(m("mississippi", "%iss%ppi"));
        // A dangling escape fails the match, or errors if text is left.
        assert!(!m("a", "a\\"));
        assert!(like("ab", "a\\", Some('\\')).is_err());
    }
}
