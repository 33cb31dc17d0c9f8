//! Binding expressions: operators, casts, function calls and aggregates,
//! with PostgreSQL's typing of untyped literals.

use super::*;

impl<'a> Binder<'a> {
    pub(crate) fn bind_expr(&mut self, e: &'a ast::Expr) -> Result<(Expr, Oid), PgError> {
        self.nested(|b| b.bind_expr_inner(e))
    }

    pub(super) fn bind_expr_inner(&mut self, e: &'a ast::Expr) -> Result<(Expr, Oid), PgError> {
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
            E::CompoundIdentifier(parts) => {
                self.bind_column(&parts.iter().map(ident).collect::<Vec<_>>())
            }
            E::Value(v) => self.bind_value(&v.value),
            E::Nested(inner) => self.bind_expr(inner),
            E::Collate { expr, .. } => self.bind_expr(expr),
            E::BinaryOp { left, op, right } => self.bind_binary(left, op, right),
            E::UnaryOp { op, expr } => self.bind_unary(op, expr),
            E::IsNull(x) | E::IsNotNull(x) => {
                let (x, _) = self.bind_expr(x)?;
                Ok((
                    Expr::IsNull {
                        expr: Box::new(x),
                        negated: matches!(e, E::IsNotNull(_)),
                    },
                    oid::BOOL,
                ))
            }
            E::IsTrue(x)
            | E::IsNotTrue(x)
            | E::IsFalse(x)
            | E::IsNotFalse(x)
            | E::IsUnknown(x)
            | E::IsNotUnknown(x) => {
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
                Ok((
                    Expr::IsBool {
                        expr: Box::new(x),
                        value,
                        negated,
                    },
                    oid::BOOL,
                ))
            }
            E::IsDistinctFrom(l, r) | E::IsNotDistinctFrom(l, r) => {
                let (l, r) = (self.bind_expr(l)?, self.bind_expr(r)?);
                let (l, r, _) = self.unify_compare(l, r, "=")?;
                let negated = matches!(e, E::IsNotDistinctFrom(..));
                Ok((
                    Expr::IsDistinct {
                        left: Box::new(l),
                        right: Box::new(r),
                        negated,
                    },
                    oid::BOOL,
                ))
            }
            E::InList {
                expr,
                list,
                negated,
            } => {
                let mut all = vec![self.bind_expr(expr)?];
                for item in list {
                    all.push(self.bind_expr(item)?);
                }
                let target = all
                    .iter()
                    .map(|a| a.1)
                    .find(|&t| t != oid::UNKNOWN)
                    .unwrap_or(oid::TEXT);
                let mut bound = Vec::new();
                for (x, t) in all {
                    if t != oid::UNKNOWN && !types::comparable(t, target) {
                        return Err(operator_error(target, "=", t));
                    }
                    bound.push(self.coerce(x, t, if t == oid::UNKNOWN { target } else { t }));
                }
                let head = bound.remove(0);
                Ok((
                    Expr::InList {
                        expr: Box::new(head),
                        list: bound,
                        negated: *negated,
                    },
                    oid::BOOL,
                ))
            }
            E::InSubquery {
                expr,
                subquery,
                negated,
            } => {
                let query = self.bind_sublink(subquery)?;
                let col_type = output_type(query.columns[0].1);
                let (x, t) = self.bind_expr(expr)?;
                let (x, _, _) =
                    self.unify_compare((x, t), (Expr::Const(Value::Null), col_type), "=")?;
                Ok((
                    Expr::InSubquery {
                        expr: Box::new(x),
                        query: Box::new(query),
                        negated: *negated,
                    },
                    oid::BOOL,
                ))
            }
            E::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let lower = self.bind_binary(expr, &BinOp::GtEq, low)?.0;
                let upper = self.bind_binary(expr, &BinOp::LtEq, high)?.0;
                let both = Expr::And(vec![lower, upper]);
                Ok((
                    if *negated {
                        Expr::Not(Box::new(both))
                    } else {
                        both
                    },
                    oid::BOOL,
                ))
            }
            E::Like {
                negated,
                any: false,
                expr,
                pattern,
                escape_char,
            }
            | E::ILike {
                negated,
                any: false,
                expr,
                pattern,
                escape_char,
            } => {
                let escape = match escape_char {
                    None => Some('\\'),
                    Some(ast::Value::SingleQuotedString(s)) if s.chars().count() <= 1 => {
                        s.chars().next()
                    }
                    Some(_) => {
                        return Err(PgError::new(
                            sqlstate::INVALID_ESCAPE_SEQUENCE,
                            "invalid escape string",
                        )
                        .with_hint("Escape string must be empty or one character."))
                    }
                };
                let case_insensitive = matches!(e, E::ILike { .. });
                self.bind_like(expr, pattern, escape, case_insensitive, *negated)
            }
            E::AnyOp {
                left,
                compare_op,
                right,
                ..
            } => self.bind_quantified(left, compare_op, right, false),
            E::AllOp {
                left,
                compare_op,
                right,
            } => self.bind_quantified(left, compare_op, right, true),
            E::Cast {
                kind,
                expr,
                data_type: dt,
                format,
            } => {
                if format.is_some()
                    || matches!(kind, ast::CastKind::TryCast | ast::CastKind::SafeCast)
                {
                    return Err(unsupported(format!("{e}")));
                }
                let (to, typmod) = data_type(dt)?;
                self.bind_cast(expr, to, typmod)
            }
            E::TypedString(t) => {
                let (to, typmod) = data_type(&t.data_type)?;
                let (x, from) = self.bind_value(&t.value.value)?;
                Ok((
                    Expr::Cast {
                        expr: Box::new(x),
                        from,
                        to,
                        typmod,
                    },
                    to,
                ))
            }
            E::Function(f) => self.bind_function(f),
            E::Case {
                operand,
                conditions,
                else_result,
                ..
            } => self.bind_case(operand.as_deref(), conditions, else_result.as_deref()),
            E::Exists { subquery, negated } => {
                let query = self.bind_sublink(subquery)?;
                let exists = Expr::Exists(Box::new(query));
                Ok((
                    if *negated {
                        Expr::Not(Box::new(exists))
                    } else {
                        exists
                    },
                    oid::BOOL,
                ))
            }
            E::Subquery(q) => {
                let query = self.bind_sublink(q)?;
                let ty = output_type(query.columns[0].1);
                Ok((Expr::Subquery(Box::new(query)), ty))
            }
            E::Array(arr) => {
                if arr.elem.is_empty() {
                    return Err(PgError::new(
                        INDETERMINATE_DATATYPE,
                        "cannot determine type of empty array",
                    )
                    .with_hint(
                        "Explicitly cast to the desired type, for example ARRAY[]::integer[].",
                    ));
                }
                let elems = arr
                    .elem
                    .iter()
                    .map(|x| self.bind_expr(x))
                    .collect::<Result<Vec<_>, _>>()?;
                let elem_type = output_type(common_type(
                    &elems.iter().map(|x| x.1).collect::<Vec<_>>(),
                    "ARRAY",
                )?);
                let array_type = types::array_of(elem_type).ok_or_else(|| {
                    unsupported(format!("arrays of {}", types::format_type(elem_type, None)))
                })?;
                let items = elems
                    .into_iter()
                    .map(|(x, t)| self.coerce(x, t, elem_type))
                    .collect();
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
                        return Err(PgError::new(
                            sqlstate::DATATYPE_MISMATCH,
                            "array subscript must have type integer",
                        ));
                    }
                    let i = self.coerce(i, it, oid::INT4);
                    x = Expr::Subscript {
                        expr: Box::new(x),
                        index: Box::new(i),
                        zero_based: types::is_vector(t),
                    };
                    t = elem;
                }
                Ok((x, t))
            }
            E::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
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
            E::Trim {
                expr,
                trim_where,
                trim_what,
                trim_characters,
            } => {
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
            E::Ceil {
                expr,
                field: ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime),
            }
            | E::Floor {
                expr,
                field: ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime),
            } => {
                let name = if matches!(e, E::Ceil { .. }) {
                    "ceil"
                } else {
                    "floor"
                };
                let args = vec![self.bind_expr(expr)?];
                self.bind_call(name, args)
            }
            other => Err(unsupported(format!("the expression {other}"))),
        }
    }

    pub(super) fn bind_value(&mut self, v: &ast::Value) -> Result<(Expr, Oid), PgError> {
        use ast::Value as V;
        match v {
            V::Number(n, _) => bind_number(n),
            V::SingleQuotedString(s)
            | V::EscapedStringLiteral(s)
            | V::UnicodeStringLiteral(s)
            | V::NationalStringLiteral(s) => {
                Ok((Expr::Const(Value::text(s.as_str())), oid::UNKNOWN))
            }
            V::DollarQuotedString(d) => {
                Ok((Expr::Const(Value::text(d.value.as_str())), oid::UNKNOWN))
            }
            V::Boolean(b) => Ok((Expr::Const(Value::Bool(*b)), oid::BOOL)),
            V::Null => Ok((Expr::Const(Value::Null), oid::UNKNOWN)),
            V::Placeholder(p) => {
                let n: usize = p
                    .strip_prefix('$')
                    .and_then(|d| d.parse().ok())
                    .filter(|&n| n >= 1)
                    .ok_or_else(|| {
                        PgError::new(
                            sqlstate::SYNTAX_ERROR,
                            format!("syntax error at or near \"{p}\""),
                        )
                    })?;
                if self.param_count.is_some_and(|c| n > c) || n > crate::pg::sql::MAX_PARAMS {
                    return Err(PgError::new(
                        UNDEFINED_PARAMETER,
                        format!("there is no parameter ${n}"),
                    ));
                }
                if self.param_types.len() < n {
                    self.param_types.resize(n, 0);
                }
                let declared = self.param_types[n - 1];
                if declared != 0 && declared != oid::UNKNOWN && types::type_info(declared).is_some()
                {
                    let e = Expr::Cast {
                        expr: Box::new(Expr::Param(n - 1)),
                        from: oid::UNKNOWN,
                        to: declared,
                        typmod: -1,
                    };
                    return Ok((e, declared));
                }
                Ok((Expr::Param(n - 1), oid::UNKNOWN))
            }
            other => Err(unsupported(format!("the literal {other}"))),
        }
    }

    pub(super) fn bind_cast(
        &mut self,
        expr: &'a ast::Expr,
        to: Oid,
        typmod: i32,
    ) -> Result<(Expr, Oid), PgError> {
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
        Ok((
            Expr::Cast {
                expr: Box::new(x),
                from,
                to,
                typmod,
            },
            to,
        ))
    }

    pub(super) fn bind_binary(
        &mut self,
        left: &'a ast::Expr,
        op: &BinOp,
        right: &'a ast::Expr,
    ) -> Result<(Expr, Oid), PgError> {
        if let BinOp::PGCustomBinaryOperator(parts) = op {
            let mapped = custom_operator(parts).ok_or_else(|| {
                PgError::new(
                    sqlstate::UNDEFINED_FUNCTION,
                    format!("operator does not exist: {}", parts.join(".")),
                )
            })?;
            return self.bind_binary(left, &mapped, right);
        }
        if let Some((cmp, symbol)) = cmp_op(op) {
            // Comparison operators do not associate: `a = b = c` is an error.
            if let ast::Expr::BinaryOp { op: inner, .. } = left {
                if cmp_op(inner).is_some() {
                    return Err(PgError::new(
                        sqlstate::SYNTAX_ERROR,
                        format!("syntax error at or near \"{symbol}\""),
                    ));
                }
            }
            let (l, r) = (self.bind_expr(left)?, self.bind_expr(right)?);
            let (l, r, _) = self.unify_compare(l, r, symbol)?;
            return Ok((
                Expr::Compare {
                    op: cmp,
                    left: Box::new(l),
                    right: Box::new(r),
                },
                oid::BOOL,
            ));
        }
        match op {
            BinOp::And | BinOp::Or => {
                // Flatten chains without recursion: `a AND b AND c ...`.
                let mut operands = Vec::new();
                let mut stack = vec![right, left];
                while let Some(x) = stack.pop() {
                    match x {
                        ast::Expr::BinaryOp {
                            left: l,
                            op: o,
                            right: r,
                        } if o == op => {
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
                Ok((
                    if *op == BinOp::And {
                        Expr::And(bound)
                    } else {
                        Expr::Or(bound)
                    },
                    oid::BOOL,
                ))
            }
            BinOp::StringConcat => {
                let (l, r) = (self.bind_expr(left)?, self.bind_expr(right)?);
                self.bind_concat(l, r)
            }
            BinOp::PGRegexMatch
            | BinOp::PGRegexIMatch
            | BinOp::PGRegexNotMatch
            | BinOp::PGRegexNotIMatch => {
                let symbol = match op {
                    BinOp::PGRegexMatch => "~",
                    BinOp::PGRegexIMatch => "~*",
                    BinOp::PGRegexNotMatch => "!~",
                    _ => "!~*",
                };
                let (l, r) = self.bind_text_pair(left, right, symbol)?;
                let case_insensitive = matches!(op, BinOp::PGRegexIMatch | BinOp::PGRegexNotIMatch);
                let negated = matches!(op, BinOp::PGRegexNotMatch | BinOp::PGRegexNotIMatch);
                Ok((
                    Expr::Regex {
                        expr: Box::new(l),
                        pattern: Box::new(r),
                        case_insensitive,
                        negated,
                    },
                    oid::BOOL,
                ))
            }
            BinOp::PGLikeMatch
            | BinOp::PGILikeMatch
            | BinOp::PGNotLikeMatch
            | BinOp::PGNotILikeMatch => {
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

    pub(super) fn bind_unary(
        &mut self,
        op: &ast::UnaryOperator,
        x: &'a ast::Expr,
    ) -> Result<(Expr, Oid), PgError> {
        use ast::UnaryOperator as U;
        match op {
            U::Not => {
                let (x, t) = self.bind_expr(x)?;
                Ok((
                    Expr::Not(Box::new(self.require_bool(x, t, "NOT")?)),
                    oid::BOOL,
                ))
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
                Ok((
                    Expr::Arith {
                        op: ArithOp::Sub,
                        left: Box::new(Expr::Const(zero)),
                        right: Box::new(x),
                        ty: t,
                    },
                    t,
                ))
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
                let e = Expr::Arith {
                    op: ArithOp::BitXor,
                    left: Box::new(x),
                    right: Box::new(Expr::Const(Value::Int(-1))),
                    ty: t,
                };
                Ok((e, t))
            }
            other => Err(unsupported(format!("the operator {other}"))),
        }
    }

    pub(super) fn bind_arith(
        &mut self,
        op: ArithOp,
        symbol: &str,
        l: (Expr, Oid),
        r: (Expr, Oid),
    ) -> Result<(Expr, Oid), PgError> {
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
        Ok((
            Expr::Arith {
                op,
                left: Box::new(l),
                right: Box::new(r),
                ty,
            },
            ty,
        ))
    }

    pub(super) fn bind_concat(
        &mut self,
        l: (Expr, Oid),
        r: (Expr, Oid),
    ) -> Result<(Expr, Oid), PgError> {
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
            return Ok((
                Expr::ArrayCat {
                    left: Box::new(l),
                    right: Box::new(r),
                    arrays: [la, ra],
                },
                array,
            ));
        }
        if !types::is_string(lt) && !types::is_string(rt) {
            return Err(operator_error(lt, "||", rt));
        }
        let l = self.coerce(l, lt, if lt == oid::UNKNOWN { oid::TEXT } else { lt });
        let r = self.coerce(r, rt, if rt == oid::UNKNOWN { oid::TEXT } else { rt });
        Ok((
            Expr::Concat {
                left: Box::new(l),
                right: Box::new(r),
                types: [lt, rt],
            },
            oid::TEXT,
        ))
    }

    /// Both operands of LIKE / regex matching as strings.
    pub(super) fn bind_text_pair(
        &mut self,
        left: &'a ast::Expr,
        right: &'a ast::Expr,
        symbol: &str,
    ) -> Result<(Expr, Expr), PgError> {
        let (l, lt) = self.bind_expr(left)?;
        let (r, rt) = self.bind_expr(right)?;
        if !types::is_string(lt) || !types::is_string(rt) {
            return Err(operator_error(lt, symbol, rt));
        }
        Ok((self.coerce(l, lt, oid::TEXT), self.coerce(r, rt, oid::TEXT)))
    }

    pub(super) fn bind_like(
        &mut self,
        left: &'a ast::Expr,
        right: &'a ast::Expr,
        escape: Option<char>,
        case_insensitive: bool,
        negated: bool,
    ) -> Result<(Expr, Oid), PgError> {
        let (l, r) =
            self.bind_text_pair(left, right, if case_insensitive { "~~*" } else { "~~" })?;
        let e = Expr::Like {
            expr: Box::new(l),
            pattern: Box::new(r),
            escape,
            case_insensitive,
            negated,
        };
        Ok((e, oid::BOOL))
    }

    pub(super) fn bind_quantified(
        &mut self,
        left: &'a ast::Expr,
        op: &BinOp,
        right: &'a ast::Expr,
        all: bool,
    ) -> Result<(Expr, Oid), PgError> {
        let (cmp, symbol) =
            cmp_op(op).ok_or_else(|| unsupported(format!("the operator {op} with ANY/ALL")))?;
        let (l, lt) = self.bind_expr(left)?;
        let (array, at) = match strip_nested(right) {
            ast::Expr::Subquery(q) => {
                let query = self.bind_sublink(q)?;
                let elem = output_type(query.columns[0].1);
                (
                    Expr::ArraySubquery(Box::new(query)),
                    types::array_of(elem).unwrap_or(oid::TEXT_ARRAY),
                )
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
                    format!(
                        "op ANY/ALL (array) requires array on right side, not {}",
                        types::format_type(at, None)
                    ),
                )
            })?;
            (l, lt, array, elem)
        };
        let (l, _, _) = self.unify_compare((l, lt), (Expr::Const(Value::Null), elem), symbol)?;
        Ok((
            Expr::Quantified {
                left: Box::new(l),
                op: cmp,
                array: Box::new(array),
                all,
            },
            oid::BOOL,
        ))
    }

    pub(super) fn bind_case(
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
                    converted.push(self.coerce(
                        v,
                        vt,
                        if vt == oid::UNKNOWN { target } else { vt },
                    ));
                }
                Some((
                    self.coerce(o, ot, if ot == oid::UNKNOWN { target } else { ot }),
                    converted,
                ))
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
        let all_types: Vec<Oid> = results
            .iter()
            .chain(otherwise.iter())
            .map(|r| r.1)
            .collect();
        let ty = common_type(&all_types, "CASE")?;
        let whens = whens
            .into_iter()
            .zip(results)
            .map(|(w, (r, rt))| (w, self.coerce(r, rt, ty)))
            .collect();
        let otherwise = otherwise.map(|(e, t)| Box::new(self.coerce(e, t, ty)));
        let operand = operand.map(|(o, _)| Box::new(o));
        Ok((
            Expr::Case {
                operand,
                whens,
                otherwise,
            },
            ty,
        ))
    }

    pub(super) fn bind_function(&mut self, f: &'a ast::Function) -> Result<(Expr, Oid), PgError> {
        if f.over.is_some() {
            return Err(unsupported("window functions"));
        }
        if f.filter.is_some()
            || !f.within_group.is_empty()
            || f.null_treatment.is_some()
            || f.uses_odbc_syntax
        {
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
                return Err(undefined_function(
                    &parts.join("."),
                    &vec![oid::UNKNOWN; args],
                ));
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
        if let Some(func) = TableFunc::lookup(&name) {
            return self.bind_select_list_srf(func, &name, args);
        }
        match name.as_str() {
            "coalesce" | "greatest" | "least" => {
                if args.is_empty() {
                    return Err(PgError::new(
                        sqlstate::SYNTAX_ERROR,
                        format!("syntax error: {name}() needs arguments"),
                    ));
                }
                let label = name.to_uppercase();
                let ty = common_type(&args.iter().map(|a| a.1).collect::<Vec<_>>(), &label)?;
                let items: Vec<Expr> = args
                    .into_iter()
                    .map(|(e, t)| self.coerce(e, t, ty))
                    .collect();
                let e = match name.as_str() {
                    "coalesce" => Expr::Coalesce(items),
                    g => Expr::Extreme {
                        args: items,
                        greatest: g == "greatest",
                    },
                };
                Ok((e, output_type(ty)))
            }
            "nullif" if args.len() == 2 => {
                let r = args
                    .pop()
                    .unwrap_or((Expr::Const(Value::Null), oid::UNKNOWN));
                let l = args
                    .pop()
                    .unwrap_or((Expr::Const(Value::Null), oid::UNKNOWN));
                let (l, r, ty) = self.unify_compare(l, r, "=")?;
                Ok((Expr::NullIf(Box::new(l), Box::new(r)), output_type(ty)))
            }
            // pg_typeof is answered from the static type alone.
            "pg_typeof" if args.len() == 1 => {
                Ok((Expr::Const(Value::Int(args[0].1 as i64)), oid::REGTYPE))
            }
            _ => self.bind_call_named(&name, &parts.join("."), args),
        }
    }

    /// A call of a scalar function from the registry.
    pub(super) fn bind_call(
        &mut self,
        name: &str,
        args: Vec<(Expr, Oid)>,
    ) -> Result<(Expr, Oid), PgError> {
        self.bind_call_named(name, name, args)
    }

    /// Same; errors name the function as written (`pg_catalog.f`).
    pub(super) fn bind_call_named(
        &mut self,
        name: &str,
        written: &str,
        args: Vec<(Expr, Oid)>,
    ) -> Result<(Expr, Oid), PgError> {
        let arg_types: Vec<Oid> = args.iter().map(|a| a.1).collect();
        let Some(func) = functions::lookup(name, args.len()) else {
            if functions::is_unsupported(name) {
                return Err(PgError::unsupported(format!(
                    "function {name}() is not supported by corewire"
                )));
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
            } else if t == oid::UNKNOWN
                || same_repr(t, declared)
                || types::is_numeric(t) && types::is_numeric(declared)
            {
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
        Ok((
            Expr::Call {
                func,
                args: exprs,
                arg_types: types_,
            },
            ty,
        ))
    }

    pub(super) fn bind_aggregate(
        &mut self,
        name: &str,
        list: &'a ast::FunctionArgumentList,
    ) -> Result<(Expr, Oid), PgError> {
        let level = self.level();
        if level.aggs.is_none() {
            return Err(PgError::new(
                GROUPING_ERROR,
                format!(
                    "aggregate functions are not allowed in {}",
                    if level.agg_context.is_empty() {
                        "this context"
                    } else {
                        level.agg_context
                    }
                ),
            ));
        }
        if level.in_aggregate {
            return Err(PgError::new(
                GROUPING_ERROR,
                "aggregate function calls cannot be nested",
            ));
        }
        let distinct = matches!(
            list.duplicate_treatment,
            Some(ast::DuplicateTreatment::Distinct)
        );
        let mut order_asts: &[ast::OrderByExpr] = &[];
        for clause in &list.clauses {
            match clause {
                ast::FunctionArgumentClause::OrderBy(o) => order_asts = o,
                other => return Err(unsupported(format!("{other} in an aggregate"))),
            }
        }
        let star = matches!(
            list.args.as_slice(),
            [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)]
        );
        self.level_mut().in_aggregate = true;
        let result = self.bind_aggregate_args(name, list, star, distinct, order_asts);
        self.level_mut().in_aggregate = false;
        let call = result?;
        let ty = call.result_type;
        let aggs = self
            .level_mut()
            .aggs
            .as_mut()
            .expect("aggregates are being collected");
        aggs.push(call);
        Ok((Expr::Agg(aggs.len() - 1), ty))
    }

    pub(super) fn bind_aggregate_args(
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
                let result = if types::is_string(arg_type) && arg_type != oid::BPCHAR {
                    oid::TEXT
                } else {
                    arg_type
                };
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
        Ok(AggCall {
            kind,
            arg,
            delimiter,
            distinct,
            order,
            result_type,
        })
    }

    /// A subquery inside an expression: it sees this level (correlation).
    pub(super) fn bind_sublink(&mut self, q: &'a ast::Query) -> Result<Query, PgError> {
        let query = self.bind_query(q)?;
        if query.columns.len() != 1 {
            return Err(PgError::new(
                sqlstate::SYNTAX_ERROR,
                "subquery must return only one column",
            ));
        }
        Ok(query)
    }

    // -----------------------------------------------------------------
    // Typing helpers

    pub(super) fn note_param(&mut self, index: usize, ty: Oid) {
        if let Some(slot) = self.param_types.get_mut(index) {
            if *slot == 0 || *slot == oid::UNKNOWN {
                *slot = ty;
            }
        }
    }

    /// Converts `e` from type `from` to `to` where the representations or
    /// the types' input rules differ (untyped literals are parsed).
    pub(super) fn coerce(&mut self, e: Expr, from: Oid, to: Oid) -> Expr {
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
            return Expr::Cast {
                expr: Box::new(e),
                from,
                to,
                typmod: -1,
            };
        }
        if same_repr(from, to) {
            return e;
        }
        Expr::Cast {
            expr: Box::new(e),
            from,
            to,
            typmod: -1,
        }
    }

    /// Types both sides of a comparison; untyped literals take the other
    /// side's type. Returns the converted operands and their common type.
    pub(super) fn unify_compare(
        &mut self,
        l: (Expr, Oid),
        r: (Expr, Oid),
        symbol: &str,
    ) -> Result<(Expr, Expr, Oid), PgError> {
        let ((l, lt), (r, rt)) = (l, r);
        match (lt == oid::UNKNOWN, rt == oid::UNKNOWN) {
            (true, true) => Ok((
                self.coerce(l, lt, oid::TEXT),
                self.coerce(r, rt, oid::TEXT),
                oid::TEXT,
            )),
            (true, false) => Ok((self.coerce(l, lt, rt), r, rt)),
            (false, true) => {
                let r = self.coerce(r, rt, lt);
                Ok((l, r, lt))
            }
            _ if types::comparable(lt, rt) => Ok((l, r, lt)),
            _ => Err(operator_error(lt, symbol, rt)),
        }
    }

    pub(super) fn require_bool(&mut self, e: Expr, t: Oid, context: &str) -> Result<Expr, PgError> {
        match t {
            oid::BOOL => Ok(e),
            oid::UNKNOWN => Ok(self.coerce(e, t, oid::BOOL)),
            _ => Err(PgError::new(
                sqlstate::DATATYPE_MISMATCH,
                format!(
                    "argument of {context} must be type boolean, not type {}",
                    types::format_type(t, None)
                ),
            )),
        }
    }

    /// A boolean condition where aggregates are not allowed.
    pub(super) fn bind_condition(
        &mut self,
        e: &'a ast::Expr,
        context: &'static str,
    ) -> Result<Expr, PgError> {
        let level = self.level_mut();
        let saved = (
            level.aggs.take(),
            std::mem::replace(&mut level.agg_context, context),
        );
        let result = self.bind_condition_here(e, context);
        let level = self.level_mut();
        level.aggs = saved.0;
        level.agg_context = saved.1;
        result
    }

    pub(super) fn bind_condition_here(
        &mut self,
        e: &'a ast::Expr,
        context: &str,
    ) -> Result<Expr, PgError> {
        let (x, t) = self.bind_expr(e)?;
        self.require_bool(x, t, context)
    }
}

/// Same representation (`Value` variant) for two types: no conversion is
/// needed between them.
pub(super) fn same_repr(a: Oid, b: Oid) -> bool {
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

pub(super) fn cmp_op(op: &BinOp) -> Option<(CmpOp, &'static str)> {
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
pub(super) fn custom_operator(parts: &[String]) -> Option<BinOp> {
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
pub(super) fn data_type(dt: &ast::DataType) -> Result<(Oid, i32), PgError> {
    let written = dt.to_string();
    types::parse_type_name(&written).ok_or_else(|| {
        let name = written
            .trim_end_matches("[]")
            .trim_matches('"')
            .to_lowercase();
        PgError::new(
            sqlstate::UNDEFINED_OBJECT,
            format!("type \"{name}\" does not exist"),
        )
    })
}

/// The pg_type name PostgreSQL uses as a cast's column name (`int4` for
/// `integer[]`).
pub(super) fn type_column_name(ty: Oid) -> String {
    let base = types::array_elem(ty).unwrap_or(ty);
    types::type_info(base)
        .map_or("?column?", |t| t.name)
        .to_string()
}

/// PostgreSQL's FigureColname: the default name of a select-list item and
/// how sure it is (2: a real name, 1: a type name, 0: `?column?`).
pub(super) fn figure_name(e: &ast::Expr) -> (String, u8) {
    use ast::Expr as E;
    match e {
        E::Identifier(i) => (ident(i), 2),
        E::CompoundIdentifier(parts) => (parts.last().map(ident).unwrap_or_default(), 2),
        E::Function(f) => {
            let name = f
                .name
                .0
                .last()
                .and_then(|p| p.as_ident())
                .map(ident)
                .unwrap_or_default();
            (name, 2)
        }
        // A cast keeps a real name (`c.oid::regclass` is "oid"), else it
        // names its type (`'kv'::regclass::oid` is "oid").
        E::Cast {
            expr,
            data_type: dt,
            ..
        } => match figure_name(expr) {
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
        E::Substring {
            shorthand: true, ..
        } => ("substr".into(), 2),
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

pub(super) fn is_aggregate(name: &str) -> bool {
    matches!(
        name,
        "count"
            | "sum"
            | "avg"
            | "min"
            | "max"
            | "string_agg"
            | "array_agg"
            | "bool_and"
            | "bool_or"
            | "every"
    )
}

pub(super) fn bind_number(text: &str) -> Result<(Expr, Oid), PgError> {
    if !text.contains(['.', 'e', 'E']) {
        if let Ok(i) = text.parse::<i64>() {
            let ty = if i32::try_from(i).is_ok() {
                oid::INT4
            } else {
                oid::INT8
            };
            return Ok((Expr::Const(Value::Int(i)), ty));
        }
    }
    let n = Numeric::parse(text).ok_or_else(|| {
        PgError::new(
            sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
            format!("value \"{text}\" is out of range for type numeric"),
        )
    })?;
    Ok((Expr::Const(Value::Num(n)), oid::NUMERIC))
}

pub(super) fn operator_error(l: Oid, symbol: &str, r: Oid) -> PgError {
    PgError::new(
        sqlstate::UNDEFINED_FUNCTION,
        format!("operator does not exist: {} {symbol} {}", types::format_type(l, None), types::format_type(r, None)),
    )
    .with_hint("No operator matches the given name and argument types. You might need to add explicit type casts.")
}

pub(super) fn prefix_operator_error(symbol: &str, t: Oid) -> PgError {
    PgError::new(
        sqlstate::UNDEFINED_FUNCTION,
        format!(
            "operator does not exist: {symbol} {}",
            types::format_type(t, None)
        ),
    )
}

pub(super) fn undefined_function(name: &str, arg_types: &[Oid]) -> PgError {
    let args: Vec<String> = arg_types
        .iter()
        .map(|&t| types::format_type(t, None))
        .collect();
    PgError::new(sqlstate::UNDEFINED_FUNCTION, format!("function {name}({}) does not exist", args.join(", ")))
        .with_hint("No function matches the given name and argument types. You might need to add explicit type casts.")
}

/// The type values of several branches share (CASE, COALESCE, UNION,
/// VALUES, ARRAY): untyped literals follow the typed ones.
pub(super) fn common_type(types_: &[Oid], context: &str) -> Result<Oid, PgError> {
    let known: Vec<Oid> = types_
        .iter()
        .copied()
        .filter(|&t| t != oid::UNKNOWN)
        .collect();
    let Some(&first) = known.first() else {
        return Ok(oid::TEXT);
    };
    if known.iter().all(|&t| t == first) {
        return Ok(first);
    }
    if known.iter().all(|&t| types::is_numeric(t)) {
        // An OID-like type among integers wins; otherwise the widest.
        if known.iter().all(|&t| types::is_int(t)) {
            if let Some(&special) = known
                .iter()
                .find(|&&t| !matches!(t, oid::INT2 | oid::INT4 | oid::INT8))
            {
                return Ok(special);
            }
        }
        let rank = known
            .iter()
            .map(|&t| types::numeric_rank(t))
            .max()
            .unwrap_or(2);
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
