//! Scalar and set-returning functions: what clients and tools call in
//! catalog queries, answered from the session and the in-memory catalog.

use super::exec::Env;
use super::procs;
use super::tables::{self, KV_OID, KV_PKEY_CONSTRAINT_OID, KV_PKEY_OID};
use super::types::{self, oid, Numeric, Oid, Value};
use super::SERVER_VERSION;
use crate::pg::error::{sqlstate, PgError};

/// Declared argument type that accepts anything (no coercion).
const ANY: Oid = 0;

/// A function's implementation: (statement, argument types, arguments).
pub(crate) type Impl = fn(&Env, &[Oid], &[Value]) -> Result<Value, PgError>;

/// How a function's result type is found.
#[derive(Debug)]
pub(crate) enum Ret {
    Fixed(Oid),
    /// The type of argument n.
    SameAs(usize),
    /// Computed from the argument types.
    Computed(fn(&[Oid]) -> Oid),
}

#[derive(Debug)]
pub(crate) struct FuncDef {
    pub name: &'static str,
    pub min: usize,
    pub max: usize,
    /// Declared argument types (the last repeats for variadic functions);
    /// untyped literals are cast to these. ANY leaves them alone.
    pub args: &'static [Oid],
    pub ret: Ret,
    /// A NULL argument makes the result NULL without calling `f`.
    pub strict: bool,
    pub f: Impl,
}

impl FuncDef {
    pub fn result_type(&self, arg_types: &[Oid]) -> Oid {
        match self.ret {
            Ret::Fixed(t) => t,
            Ret::SameAs(i) => arg_types.get(i).copied().unwrap_or(oid::TEXT),
            Ret::Computed(f) => f(arg_types),
        }
    }

    pub fn declared_arg(&self, i: usize) -> Oid {
        self.args
            .get(i)
            .or(self.args.last())
            .copied()
            .unwrap_or(ANY)
    }
}

const fn func(
    name: &'static str,
    min: usize,
    max: usize,
    args: &'static [Oid],
    ret: Ret,
    f: Impl,
) -> FuncDef {
    FuncDef {
        name,
        min,
        max,
        args,
        ret,
        strict: true,
        f,
    }
}

/// Same, but called with NULL arguments too.
const fn lenient(
    name: &'static str,
    min: usize,
    max: usize,
    args: &'static [Oid],
    ret: Ret,
    f: Impl,
) -> FuncDef {
    FuncDef {
        name,
        min,
        max,
        args,
        ret,
        strict: false,
        f,
    }
}

use oid::{BOOL, INT4, NAME, OID, TEXT};
use Ret::Fixed;

static FUNCTIONS: &[FuncDef] = &[
    // Server and session
    func("version", 0, 0, &[], Fixed(TEXT), |_, _, _| {
        Ok(Value::text(version_string()))
    }),
    func(
        "current_setting",
        1,
        2,
        &[TEXT, BOOL],
        Fixed(TEXT),
        current_setting,
    ),
    func(
        "set_config",
        3,
        3,
        &[TEXT, TEXT, BOOL],
        Fixed(TEXT),
        set_config,
    ),
    func("current_database", 0, 0, &[], Fixed(NAME), |env, _, _| {
        Ok(Value::text(env.database()))
    }),
    func("current_catalog", 0, 0, &[], Fixed(NAME), |env, _, _| {
        Ok(Value::text(env.database()))
    }),
    func("current_schema", 0, 0, &[], Fixed(NAME), |_, _, _| {
        Ok(Value::text("public"))
    }),
    func(
        "current_schemas",
        1,
        1,
        &[BOOL],
        Fixed(oid::NAME_ARRAY),
        current_schemas,
    ),
    func("current_user", 0, 0, &[], Fixed(NAME), user),
    func("current_role", 0, 0, &[], Fixed(NAME), user),
    func("session_user", 0, 0, &[], Fixed(NAME), user),
    func("user", 0, 0, &[], Fixed(NAME), user),
    func("getpgusername", 0, 0, &[], Fixed(NAME), user),
    func("current_query", 0, 0, &[], Fixed(TEXT), |env, _, _| {
        Ok(Value::text(env.sql()))
    }),
    func("pg_backend_pid", 0, 0, &[], Fixed(INT4), |env, _, _| {
        Ok(Value::Int(env.backend_pid() as i64))
    }),
    func("pg_is_in_recovery", 0, 0, &[], Fixed(BOOL), |_, _, _| {
        Ok(Value::Bool(false))
    }),
    func("pg_client_encoding", 0, 0, &[], Fixed(NAME), |env, _, _| {
        Ok(Value::text(
            env.setting("client_encoding")
                .unwrap_or_else(|| "UTF8".into()),
        ))
    }),
    // Session-level advisory locks are never taken here, so there is
    // nothing to release.
    func(
        "pg_advisory_unlock_all",
        0,
        0,
        &[],
        Fixed(oid::VOID),
        |_, _, _| Ok(Value::text("")),
    ),
    func("now", 0, 0, &[], Fixed(oid::TIMESTAMPTZ), now),
    func("current_timestamp", 0, 0, &[], Fixed(oid::TIMESTAMPTZ), now),
    func(
        "transaction_timestamp",
        0,
        0,
        &[],
        Fixed(oid::TIMESTAMPTZ),
        now,
    ),
    func(
        "statement_timestamp",
        0,
        0,
        &[],
        Fixed(oid::TIMESTAMPTZ),
        now,
    ),
    func("clock_timestamp", 0, 0, &[], Fixed(oid::TIMESTAMPTZ), now),
    func(
        "localtimestamp",
        0,
        0,
        &[],
        Fixed(oid::TIMESTAMP),
        |env, _, _| Ok(Value::text(env.now().trim_end_matches("+00"))),
    ),
    func("current_date", 0, 0, &[], Fixed(oid::DATE), |env, _, _| {
        Ok(Value::text(env.now()[..10].to_string()))
    }),
    func("pg_my_temp_schema", 0, 0, &[], Fixed(OID), |_, _, _| {
        Ok(Value::Int(0))
    }),
    func(
        "pg_is_other_temp_schema",
        1,
        1,
        &[OID],
        Fixed(BOOL),
        |_, _, _| Ok(Value::Bool(false)),
    ),
    // Catalog information
    func(
        "pg_get_userbyid",
        1,
        1,
        &[OID],
        Fixed(NAME),
        pg_get_userbyid,
    ),
    func(
        "pg_table_is_visible",
        1,
        1,
        &[OID],
        Fixed(BOOL),
        |_, _, a| Ok(tables::relation_visible(oid_arg(&a[0])).map_or(Value::Null, Value::Bool)),
    ),
    func(
        "pg_type_is_visible",
        1,
        1,
        &[OID],
        Fixed(BOOL),
        |_, _, a| Ok(types::type_info(oid_arg(&a[0])).map_or(Value::Null, |_| Value::Bool(true))),
    ),
    lenient("format_type", 2, 2, &[OID, INT4], Fixed(TEXT), format_type),
    // corewire's catalogs hold no expression trees (no defaults, checks,
    // partition bounds), so there is never one to decompile.
    func(
        "pg_get_expr",
        2,
        3,
        &[oid::PG_NODE_TREE, OID, BOOL],
        Fixed(TEXT),
        |_, _, a| Ok(a[0].clone()),
    ),
    func(
        "pg_get_indexdef",
        1,
        3,
        &[OID, INT4, BOOL],
        Fixed(TEXT),
        pg_get_indexdef,
    ),
    func(
        "pg_get_constraintdef",
        1,
        2,
        &[OID, BOOL],
        Fixed(TEXT),
        |_, _, a| {
            Ok(if oid_arg(&a[0]) == KV_PKEY_CONSTRAINT_OID {
                Value::text(tables::KV_PKEY_CONSTRAINTDEF)
            } else {
                Value::Null
            })
        },
    ),
    // No extended statistics objects, partitioned tables or views exist.
    func(
        "pg_get_statisticsobjdef_columns",
        1,
        1,
        &[OID],
        Fixed(TEXT),
        |_, _, _| Ok(Value::Null),
    ),
    func("pg_get_partkeydef", 1, 1, &[OID], Fixed(TEXT), |_, _, _| {
        Ok(Value::Null)
    }),
    func(
        "pg_relation_is_publishable",
        1,
        1,
        &[oid::REGCLASS],
        Fixed(BOOL),
        |_, _, a| {
            let rel = oid_arg(&a[0]);
            Ok(match tables::relations().find(|r| r.oid == rel) {
                Some(r) => Value::Bool(r.oid == KV_OID && r.kind == b'r'),
                None => Value::Null,
            })
        },
    ),
    func(
        "pg_get_serial_sequence",
        2,
        2,
        &[TEXT, TEXT],
        Fixed(TEXT),
        pg_get_serial_sequence,
    ),
    func(
        "pg_get_function_result",
        1,
        1,
        &[OID],
        Fixed(TEXT),
        |_, _, a| Ok(procs::result(oid_arg(&a[0])).map_or(Value::Null, Value::text)),
    ),
    func(
        "pg_get_function_arguments",
        1,
        1,
        &[OID],
        Fixed(TEXT),
        |_, _, a| Ok(procs::arguments(oid_arg(&a[0])).map_or(Value::Null, Value::text)),
    ),
    func(
        "pg_get_function_identity_arguments",
        1,
        1,
        &[OID],
        Fixed(TEXT),
        |_, _, a| Ok(procs::arguments(oid_arg(&a[0])).map_or(Value::Null, Value::text)),
    ),
    func(
        "pg_function_is_visible",
        1,
        1,
        &[OID],
        Fixed(BOOL),
        |_, _, a| Ok(procs::find(oid_arg(&a[0])).map_or(Value::Null, |_| Value::Bool(true))),
    ),
    // Sizes live in the engine, which this evaluator cannot ask: NULL
    // (unknown), which psql shows as an empty Size.
    func(
        "pg_table_size",
        1,
        1,
        &[oid::REGCLASS],
        Fixed(oid::INT8),
        |_, _, _| Ok(Value::Null),
    ),
    func(
        "pg_relation_size",
        1,
        2,
        &[oid::REGCLASS, TEXT],
        Fixed(oid::INT8),
        |_, _, _| Ok(Value::Null),
    ),
    func(
        "pg_total_relation_size",
        1,
        1,
        &[oid::REGCLASS],
        Fixed(oid::INT8),
        |_, _, _| Ok(Value::Null),
    ),
    func(
        "pg_indexes_size",
        1,
        1,
        &[oid::REGCLASS],
        Fixed(oid::INT8),
        |_, _, _| Ok(Value::Null),
    ),
    func(
        "pg_size_pretty",
        1,
        1,
        &[oid::INT8],
        Fixed(TEXT),
        |_, _, a| Ok(Value::text(size_pretty(int_arg(&a[0])))),
    ),
    // Comments, from pg_description.
    func(
        "obj_description",
        1,
        2,
        &[OID, NAME],
        Fixed(TEXT),
        |env, _, a| {
            // The one-argument form matches any catalog.
            let catalog = match a.get(1) {
                Some(name) => Some(types::cast(
                    name.clone(),
                    NAME,
                    oid::REGCLASS,
                    -1,
                    env.user(),
                )?),
                None => None,
            };
            let catalog = catalog.map(|c| oid_arg(&c));
            Ok(tables::description(oid_arg(&a[0]), catalog, 0).map_or(Value::Null, Value::text))
        },
    ),
    func(
        "col_description",
        2,
        2,
        &[OID, INT4],
        Fixed(TEXT),
        |_, _, a| {
            let column = int_arg(&a[1]) as i32;
            Ok(tables::description(oid_arg(&a[0]), Some(1259), column)
                .map_or(Value::Null, Value::text))
        },
    ),
    // pg_shdescription is empty.
    func(
        "shobj_description",
        2,
        2,
        &[OID, NAME],
        Fixed(TEXT),
        |_, _, _| Ok(Value::Null),
    ),
    func(
        "pg_encoding_to_char",
        1,
        1,
        &[INT4],
        Fixed(NAME),
        |_, _, a| {
            let name = match int_arg(&a[0]) {
                0 => "SQL_ASCII",
                6 => "UTF8",
                8 => "LATIN1",
                _ => "",
            };
            Ok(Value::text(name))
        },
    ),
    func(
        "to_regclass",
        1,
        1,
        &[TEXT],
        Fixed(oid::REGCLASS),
        |env, _, a| to_reg(env, &a[0], oid::REGCLASS),
    ),
    func(
        "to_regtype",
        1,
        1,
        &[TEXT],
        Fixed(oid::REGTYPE),
        |env, _, a| to_reg(env, &a[0], oid::REGTYPE),
    ),
    func(
        "to_regnamespace",
        1,
        1,
        &[TEXT],
        Fixed(oid::REGNAMESPACE),
        |env, _, a| to_reg(env, &a[0], oid::REGNAMESPACE),
    ),
    func(
        "to_regrole",
        1,
        1,
        &[TEXT],
        Fixed(oid::REGROLE),
        |env, _, a| to_reg(env, &a[0], oid::REGROLE),
    ),
    // The session user is a superuser: every privilege check passes once
    // the object exists.
    func(
        "has_table_privilege",
        2,
        3,
        &[ANY],
        Fixed(BOOL),
        has_table_privilege,
    ),
    func(
        "has_any_column_privilege",
        2,
        3,
        &[ANY],
        Fixed(BOOL),
        has_table_privilege,
    ),
    func(
        "has_column_privilege",
        3,
        4,
        &[ANY],
        Fixed(BOOL),
        has_column_privilege,
    ),
    func(
        "has_schema_privilege",
        2,
        3,
        &[ANY],
        Fixed(BOOL),
        has_schema_privilege,
    ),
    func(
        "has_database_privilege",
        2,
        3,
        &[ANY],
        Fixed(BOOL),
        has_database_privilege,
    ),
    func(
        "has_function_privilege",
        2,
        3,
        &[ANY],
        Fixed(BOOL),
        |_, _, _| Ok(Value::Bool(true)),
    ),
    func(
        "has_sequence_privilege",
        2,
        3,
        &[ANY],
        Fixed(BOOL),
        |_, _, _| Ok(Value::Bool(true)),
    ),
    func(
        "has_tablespace_privilege",
        2,
        3,
        &[ANY],
        Fixed(BOOL),
        |_, _, _| Ok(Value::Bool(true)),
    ),
    func("pg_has_role", 2, 3, &[ANY], Fixed(BOOL), |_, _, _| {
        Ok(Value::Bool(true))
    }),
    // Arrays
    func(
        "array_to_string",
        2,
        3,
        &[oid::ANYARRAY, TEXT, TEXT],
        Fixed(TEXT),
        array_to_string,
    ),
    func(
        "array_upper",
        2,
        2,
        &[oid::ANYARRAY, INT4],
        Fixed(INT4),
        |_, _, a| array_bound(a, true),
    ),
    func(
        "array_lower",
        2,
        2,
        &[oid::ANYARRAY, INT4],
        Fixed(INT4),
        |_, _, a| array_bound(a, false),
    ),
    func(
        "array_length",
        2,
        2,
        &[oid::ANYARRAY, INT4],
        Fixed(INT4),
        |_, _, a| {
            Ok(match (&a[0], int_arg(&a[1])) {
                (Value::Array(items), 1) if !items.is_empty() => Value::Int(items.len() as i64),
                _ => Value::Null,
            })
        },
    ),
    func(
        "cardinality",
        1,
        1,
        &[oid::ANYARRAY],
        Fixed(INT4),
        |_, _, a| {
            Ok(match &a[0] {
                Value::Array(items) => Value::Int(items.len() as i64),
                _ => Value::Null,
            })
        },
    ),
    func(
        "string_to_array",
        2,
        2,
        &[TEXT, TEXT],
        Fixed(oid::TEXT_ARRAY),
        |_, _, a| {
            let (s, sep) = (text_arg(&a[0]), text_arg(&a[1]));
            if s.is_empty() {
                return Ok(Value::Array(Vec::new()));
            }
            let parts: Vec<Value> = if sep.is_empty() {
                vec![Value::text(s)]
            } else {
                s.split(sep.as_str()).map(Value::text).collect()
            };
            Ok(Value::Array(parts))
        },
    ),
    // Strings
    func("lower", 1, 1, &[TEXT], Fixed(TEXT), |_, _, a| {
        Ok(Value::text(text_arg(&a[0]).to_lowercase()))
    }),
    func("upper", 1, 1, &[TEXT], Fixed(TEXT), |_, _, a| {
        Ok(Value::text(text_arg(&a[0]).to_uppercase()))
    }),
    func("length", 1, 1, &[TEXT], Fixed(INT4), char_length),
    func("char_length", 1, 1, &[TEXT], Fixed(INT4), char_length),
    func("character_length", 1, 1, &[TEXT], Fixed(INT4), char_length),
    func("octet_length", 1, 1, &[TEXT], Fixed(INT4), |_, _, a| {
        Ok(Value::Int(text_arg(&a[0]).len() as i64))
    }),
    func("quote_ident", 1, 1, &[TEXT], Fixed(TEXT), |_, _, a| {
        Ok(Value::text(types::quote_ident(&text_arg(&a[0]))))
    }),
    func("quote_literal", 1, 1, &[TEXT], Fixed(TEXT), |_, _, a| {
        Ok(Value::text(quote_literal(&text_arg(&a[0]))))
    }),
    lenient("quote_nullable", 1, 1, &[TEXT], Fixed(TEXT), |_, _, a| {
        Ok(Value::text(if a[0].is_null() {
            "NULL".into()
        } else {
            quote_literal(&text_arg(&a[0]))
        }))
    }),
    func("substr", 2, 3, &[TEXT, INT4, INT4], Fixed(TEXT), substr),
    func("substring", 2, 3, &[TEXT, INT4, INT4], Fixed(TEXT), substr),
    func(
        "replace",
        3,
        3,
        &[TEXT, TEXT, TEXT],
        Fixed(TEXT),
        |_, _, a| {
            let (s, from, to) = (text_arg(&a[0]), text_arg(&a[1]), text_arg(&a[2]));
            Ok(Value::text(if from.is_empty() {
                s
            } else {
                s.replace(&from, &to)
            }))
        },
    ),
    func("btrim", 1, 2, &[TEXT, TEXT], Fixed(TEXT), |_, _, a| {
        trim(a, true, true)
    }),
    func("ltrim", 1, 2, &[TEXT, TEXT], Fixed(TEXT), |_, _, a| {
        trim(a, true, false)
    }),
    func("rtrim", 1, 2, &[TEXT, TEXT], Fixed(TEXT), |_, _, a| {
        trim(a, false, true)
    }),
    func("left", 2, 2, &[TEXT, INT4], Fixed(TEXT), |_, _, a| {
        left_right(a, true)
    }),
    func("right", 2, 2, &[TEXT, INT4], Fixed(TEXT), |_, _, a| {
        left_right(a, false)
    }),
    func("strpos", 2, 2, &[TEXT, TEXT], Fixed(INT4), strpos),
    func("position", 2, 2, &[TEXT, TEXT], Fixed(INT4), strpos),
    func(
        "split_part",
        3,
        3,
        &[TEXT, TEXT, INT4],
        Fixed(TEXT),
        split_part,
    ),
    func(
        "starts_with",
        2,
        2,
        &[TEXT, TEXT],
        Fixed(BOOL),
        |_, _, a| {
            Ok(Value::Bool(
                text_arg(&a[0]).starts_with(text_arg(&a[1]).as_str()),
            ))
        },
    ),
    func("repeat", 2, 2, &[TEXT, INT4], Fixed(TEXT), |_, _, a| {
        let n = int_arg(&a[1]).max(0) as usize;
        let s = text_arg(&a[0]);
        if s.len().saturating_mul(n) > MAX_STRING {
            return Err(too_long());
        }
        Ok(Value::text(s.repeat(n)))
    }),
    func("reverse", 1, 1, &[TEXT], Fixed(TEXT), |_, _, a| {
        Ok(Value::text(
            text_arg(&a[0]).chars().rev().collect::<String>(),
        ))
    }),
    func("lpad", 2, 3, &[TEXT, INT4, TEXT], Fixed(TEXT), |_, _, a| {
        pad(a, true)
    }),
    func("rpad", 2, 3, &[TEXT, INT4, TEXT], Fixed(TEXT), |_, _, a| {
        pad(a, false)
    }),
    lenient("concat", 1, usize::MAX, &[ANY], Fixed(TEXT), |env, t, a| {
        concat(env, t, a, None)
    }),
    lenient(
        "concat_ws",
        2,
        usize::MAX,
        &[TEXT, ANY],
        Fixed(TEXT),
        |env, t, a| {
            if a[0].is_null() {
                return Ok(Value::Null);
            }
            let sep = text_arg(&a[0]);
            concat(env, &t[1..], &a[1..], Some(&sep))
        },
    ),
    // Numbers
    func("abs", 1, 1, &[ANY], Ret::SameAs(0), |_, t, a| {
        Ok(match &a[0] {
            Value::Int(i) => Value::Int(types::check_int(
                i.checked_abs()
                    .ok_or_else(|| types::int_range_error(t[0]))?,
                t[0],
            )?),
            Value::Float(f) => Value::Float(f.abs()),
            Value::Num(n) => Value::Num(Numeric {
                mant: n.mant.abs(),
                scale: n.scale,
            }),
            other => other.clone(),
        })
    }),
    func(
        "mod",
        2,
        2,
        &[ANY, ANY],
        Ret::Computed(wider_int),
        |_, _, a| match (&a[0], &a[1]) {
            (_, Value::Int(0)) => Err(types::division_by_zero()),
            (Value::Int(x), Value::Int(y)) => Ok(Value::Int(x.checked_rem(*y).unwrap_or(0))),
            _ => Err(PgError::new(
                sqlstate::UNDEFINED_FUNCTION,
                "mod is supported for integers only",
            )),
        },
    ),
    func(
        "round",
        1,
        2,
        &[ANY, INT4],
        Ret::Computed(numeric_or_float),
        |_, _, a| {
            let digits = a.get(1).map_or(0, int_arg);
            Ok(match &a[0] {
                // float8 rounds half to even (rint).
                Value::Float(f) if a.len() == 1 => Value::Float(f.round_ties_even()),
                v => {
                    let n = types::as_numeric(v).ok_or_else(|| numeric_only("round"))?;
                    if digits >= 0 {
                        Value::Num(n.round(digits as u32))
                    } else {
                        let p = Numeric {
                            mant: 10i128.pow(digits.unsigned_abs().min(30) as u32),
                            scale: 0,
                        };
                        Value::Num(n.div_at(p, 0)?.mul(p)?)
                    }
                }
            })
        },
    ),
    func(
        "floor",
        1,
        1,
        &[ANY],
        Ret::Computed(numeric_or_float),
        |_, _, a| floor_ceil(&a[0], false),
    ),
    func(
        "ceil",
        1,
        1,
        &[ANY],
        Ret::Computed(numeric_or_float),
        |_, _, a| floor_ceil(&a[0], true),
    ),
    func(
        "ceiling",
        1,
        1,
        &[ANY],
        Ret::Computed(numeric_or_float),
        |_, _, a| floor_ceil(&a[0], true),
    ),
];

/// Functions PostgreSQL has that corewire deliberately does not run here
/// (they need the engine, or state corewire does not keep); calling them
/// is 0A000, not "does not exist".
const UNSUPPORTED: &[&str] = &[
    "pg_sleep",
    "pg_advisory_lock",
    "pg_advisory_unlock",
    "pg_try_advisory_lock",
    "pg_advisory_xact_lock",
    "pg_try_advisory_xact_lock",
    "txid_current",
    "pg_current_xact_id",
    "nextval",
    "currval",
    "setval",
    "lastval",
    "pg_database_size",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_notify",
    "random",
    "gen_random_uuid",
];

/// A scalar function by (schema-stripped, case-folded) name and arity.
pub(crate) fn lookup(name: &str, nargs: usize) -> Option<&'static FuncDef> {
    FUNCTIONS
        .iter()
        .find(|f| f.name == name && (f.min..=f.max).contains(&nargs))
}

/// Whether `name` is a known function PostgreSQL has but corewire does
/// not evaluate.
pub(crate) fn is_unsupported(name: &str) -> bool {
    UNSUPPORTED.contains(&name)
}

/// `SQL value functions` written without parentheses (`current_user`).
pub(crate) fn is_keyword_function(name: &str) -> bool {
    matches!(
        name,
        "current_user"
            | "session_user"
            | "user"
            | "current_role"
            | "current_schema"
            | "current_catalog"
            | "current_timestamp"
            | "current_date"
            | "localtimestamp"
    )
}

/// version(): PostgreSQL's format, naming corewire.
pub fn version_string() -> String {
    let platform = match std::env::consts::OS {
        "linux" => format!("{}-pc-linux-gnu", std::env::consts::ARCH),
        os => format!("{}-{os}", std::env::consts::ARCH),
    };
    format!(
        "PostgreSQL {SERVER_VERSION} (corewire {}) on {platform}",
        env!("CARGO_PKG_VERSION")
    )
}

// ---------------------------------------------------------------------------
// Argument helpers (arguments are already cast to the declared types).

fn text_arg(v: &Value) -> String {
    match v {
        Value::Text(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => (if *b { "true" } else { "false" }).into(),
        Value::Float(f) => types::float_out(*f, false),
        Value::Num(n) => n.to_string(),
        Value::Null | Value::Array(_) => String::new(),
    }
}

fn int_arg(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        _ => 0,
    }
}

fn oid_arg(v: &Value) -> Oid {
    match v {
        Value::Int(i) => *i as Oid,
        _ => 0,
    }
}

/// Largest string a function may build (PostgreSQL's 1 GB limit would be
/// too generous for a worker thread).
const MAX_STRING: usize = 1 << 24;

fn too_long() -> PgError {
    PgError::new(
        sqlstate::PROGRAM_LIMIT_EXCEEDED,
        "requested length too large",
    )
}

fn numeric_only(name: &str) -> PgError {
    PgError::new(
        sqlstate::UNDEFINED_FUNCTION,
        format!("function {name} requires a numeric argument"),
    )
}

fn wider_int(types: &[Oid]) -> Oid {
    types::rank_type(
        types
            .iter()
            .map(|&t| types::numeric_rank(t))
            .max()
            .unwrap_or(2)
            .min(3),
    )
}

/// round/floor/ceil: numeric stays numeric, everything else is float8
/// (PostgreSQL resolves integers to the preferred double precision).
fn numeric_or_float(types: &[Oid]) -> Oid {
    if types.first() == Some(&oid::NUMERIC) {
        oid::NUMERIC
    } else {
        oid::FLOAT8
    }
}

fn floor_ceil(v: &Value, ceil: bool) -> Result<Value, PgError> {
    Ok(match v {
        Value::Num(n) => Value::Num(n.floor_ceil(ceil)),
        other => {
            let f = types::as_f64(other)
                .ok_or_else(|| numeric_only(if ceil { "ceil" } else { "floor" }))?;
            Value::Float(if ceil { f.ceil() } else { f.floor() })
        }
    })
}

// ---------------------------------------------------------------------------
// Implementations

/// pg_size_pretty(bigint): bytes, kB, MB, GB, TB, PB with PostgreSQL's
/// rounding (one extra bit kept, then halved away from zero; division
/// rounds negative sizes like positive ones).
fn size_pretty(size: i64) -> String {
    const LIMIT: i64 = 10 * 1024;
    const LIMIT2: i64 = LIMIT * 2 - 1;
    if size.unsigned_abs() < LIMIT as u64 {
        return format!("{size} bytes");
    }
    let half_rounded = |x: i64| (x + if x < 0 { -1 } else { 1 }) / 2;
    let mut size = size / (1 << 9);
    for unit in ["kB", "MB", "GB", "TB"] {
        if size.abs() < LIMIT2 {
            return format!("{} {unit}", half_rounded(size));
        }
        size /= 1 << 10;
    }
    format!("{} PB", half_rounded(size))
}

fn user(env: &Env, _: &[Oid], _: &[Value]) -> Result<Value, PgError> {
    Ok(Value::text(env.user()))
}

fn now(env: &Env, _: &[Oid], _: &[Value]) -> Result<Value, PgError> {
    Ok(Value::text(env.now()))
}

fn current_setting(env: &Env, _: &[Oid], a: &[Value]) -> Result<Value, PgError> {
    let name = text_arg(&a[0]);
    let missing_ok = matches!(a.get(1), Some(Value::Bool(true)));
    match env.setting(&name) {
        Some(v) => Ok(Value::text(v)),
        None if missing_ok => Ok(Value::Null),
        None => Err(PgError::new(
            sqlstate::UNDEFINED_OBJECT,
            format!("unrecognized configuration parameter \"{name}\""),
        )),
    }
}

fn set_config(env: &Env, _: &[Oid], a: &[Value]) -> Result<Value, PgError> {
    let local = matches!(a[2], Value::Bool(true));
    env.set_setting(&text_arg(&a[0]), &text_arg(&a[1]), local)
        .map(Value::text)
}

fn current_schemas(_: &Env, _: &[Oid], a: &[Value]) -> Result<Value, PgError> {
    let mut schemas = Vec::new();
    if matches!(a[0], Value::Bool(true)) {
        schemas.push(Value::text("pg_catalog"));
    }
    schemas.push(Value::text("public"));
    Ok(Value::Array(schemas))
}

fn pg_get_userbyid(env: &Env, _: &[Oid], a: &[Value]) -> Result<Value, PgError> {
    let role = oid_arg(&a[0]);
    Ok(Value::text(
        tables::role_name(role, env.user()).unwrap_or_else(|| format!("unknown (OID={role})")),
    ))
}

fn format_type(_: &Env, _: &[Oid], a: &[Value]) -> Result<Value, PgError> {
    if a[0].is_null() {
        return Ok(Value::Null);
    }
    let typmod = match a[1] {
        Value::Int(m) => Some(m as i32),
        _ => None,
    };
    Ok(Value::text(types::format_type(oid_arg(&a[0]), typmod)))
}

fn pg_get_indexdef(_: &Env, _: &[Oid], a: &[Value]) -> Result<Value, PgError> {
    if oid_arg(&a[0]) != KV_PKEY_OID {
        return Ok(Value::Null);
    }
    let column = a.get(1).map_or(0, int_arg);
    let pretty = matches!(a.get(2), Some(Value::Bool(true)));
    Ok(match column {
        0 => Value::text(tables::kv_pkey_indexdef(!pretty)),
        1 => Value::text("key"),
        _ => Value::text(""),
    })
}

fn pg_get_serial_sequence(env: &Env, _: &[Oid], a: &[Value]) -> Result<Value, PgError> {
    let rel = types::cast(a[0].clone(), TEXT, oid::REGCLASS, -1, env.user())?;
    let column = text_arg(&a[1]);
    let r = tables::relations().find(|r| Value::Int(r.oid as i64) == rel);
    match r {
        Some(r) if r.columns.iter().any(|c| c.0 == column) => Ok(Value::Null),
        _ => Err(PgError::new(
            sqlstate::UNDEFINED_COLUMN,
            format!(
                "column \"{column}\" of relation \"{}\" does not exist",
                text_arg(&a[0])
            ),
        )),
    }
}

fn to_reg(env: &Env, name: &Value, ty: Oid) -> Result<Value, PgError> {
    Ok(types::cast(name.clone(), TEXT, ty, -1, env.user()).unwrap_or(Value::Null))
}

/// has_table_privilege([user,] table, privilege): the table must exist if
/// named; an unknown OID gives NULL.
fn has_table_privilege(env: &Env, _: &[Oid], a: &[Value]) -> Result<Value, PgError> {
    table_exists(env, &a[a.len() - 2])
}

/// has_column_privilege([user,] table, column, privilege).
fn has_column_privilege(env: &Env, _: &[Oid], a: &[Value]) -> Result<Value, PgError> {
    table_exists(env, &a[a.len() - 3])
}

fn table_exists(env: &Env, table: &Value) -> Result<Value, PgError> {
    match table {
        Value::Text(s) => {
            types::cast(Value::Text(s.clone()), TEXT, oid::REGCLASS, -1, env.user())?;
            Ok(Value::Bool(true))
        }
        Value::Int(rel) => Ok(if tables::relations().any(|r| r.oid as i64 == *rel) {
            Value::Bool(true)
        } else {
            Value::Null
        }),
        _ => Ok(Value::Null),
    }
}

fn has_schema_privilege(_: &Env, _: &[Oid], a: &[Value]) -> Result<Value, PgError> {
    let schema = &a[a.len() - 2];
    match schema {
        Value::Text(s) => match tables::namespace_oid(s) {
            Some(_) => Ok(Value::Bool(true)),
            None => Err(PgError::new(
                types::INVALID_SCHEMA_NAME,
                format!("schema \"{s}\" does not exist"),
            )),
        },
        Value::Int(n) => {
            Ok(tables::namespace_name(*n as Oid).map_or(Value::Null, |_| Value::Bool(true)))
        }
        _ => Ok(Value::Null),
    }
}

fn has_database_privilege(env: &Env, _: &[Oid], a: &[Value]) -> Result<Value, PgError> {
    let db = &a[a.len() - 2];
    match db {
        Value::Text(s) if &**s == env.database() => Ok(Value::Bool(true)),
        Value::Text(s) => Err(PgError::new(
            sqlstate::INVALID_CATALOG_NAME,
            format!("database \"{s}\" does not exist"),
        )),
        Value::Int(n) => Ok(if *n == tables::DATABASE_OID as i64 {
            Value::Bool(true)
        } else {
            Value::Null
        }),
        _ => Ok(Value::Null),
    }
}

fn array_to_string(env: &Env, t: &[Oid], a: &[Value]) -> Result<Value, PgError> {
    let Value::Array(items) = &a[0] else {
        return Ok(Value::Null);
    };
    let elem = types::subscript_elem(t[0]).unwrap_or(TEXT);
    let sep = text_arg(&a[1]);
    let null_as = a.get(2).filter(|v| !v.is_null()).map(text_arg);
    let mut parts = Vec::new();
    for item in items {
        match types::output(item, elem, env.user()) {
            Some(s) => parts.push(s),
            None => {
                if let Some(n) = &null_as {
                    parts.push(n.clone());
                }
            }
        }
    }
    Ok(Value::text(parts.join(&sep)))
}

fn array_bound(a: &[Value], upper: bool) -> Result<Value, PgError> {
    Ok(match (&a[0], int_arg(&a[1])) {
        (Value::Array(items), 1) if !items.is_empty() => {
            Value::Int(if upper { items.len() as i64 } else { 1 })
        }
        _ => Value::Null,
    })
}

fn char_length(_: &Env, _: &[Oid], a: &[Value]) -> Result<Value, PgError> {
    Ok(Value::Int(text_arg(&a[0]).chars().count() as i64))
}

fn quote_literal(s: &str) -> String {
    // A backslash makes PostgreSQL switch to the E'' form.
    let escaped = s.replace('\'', "''");
    if s.contains('\\') {
        format!("E'{}'", escaped.replace('\\', "\\\\"))
    } else {
        format!("'{escaped}'")
    }
}

/// substr(s, from [, count]) with SQL's 1-based, clamp-at-the-ends rules.
fn substr(_: &Env, _: &[Oid], a: &[Value]) -> Result<Value, PgError> {
    let chars: Vec<char> = text_arg(&a[0]).chars().collect();
    let start = int_arg(&a[1]);
    let end = match a.get(2) {
        Some(v) => {
            let n = int_arg(v);
            if n < 0 {
                return Err(PgError::new(
                    sqlstate::INVALID_PARAMETER_VALUE,
                    "negative substring length not allowed",
                ));
            }
            start.saturating_add(n)
        }
        None => i64::MAX,
    };
    let from = (start.max(1) - 1) as usize;
    let to = (end.max(1) - 1).min(chars.len() as i64) as usize;
    Ok(Value::text(if from < to {
        chars[from..to].iter().collect()
    } else {
        String::new()
    }))
}

fn trim(a: &[Value], leading: bool, trailing: bool) -> Result<Value, PgError> {
    let s = text_arg(&a[0]);
    let set: Vec<char> = a
        .get(1)
        .map_or_else(|| vec![' '], |v| text_arg(v).chars().collect());
    let mut out = s.as_str();
    if leading {
        out = out.trim_start_matches(|c| set.contains(&c));
    }
    if trailing {
        out = out.trim_end_matches(|c| set.contains(&c));
    }
    Ok(Value::text(out))
}

fn left_right(a: &[Value], left: bool) -> Result<Value, PgError> {
    let chars: Vec<char> = text_arg(&a[0]).chars().collect();
    let n = int_arg(&a[1]);
    let len = chars.len() as i64;
    // A negative count means "all but |n|".
    let take = if n >= 0 { n.min(len) } else { (len + n).max(0) } as usize;
    let part = if left {
        &chars[..take]
    } else {
        &chars[chars.len() - take..]
    };
    Ok(Value::text(part.iter().collect::<String>()))
}

fn strpos(_: &Env, _: &[Oid], a: &[Value]) -> Result<Value, PgError> {
    let (s, sub) = (text_arg(&a[0]), text_arg(&a[1]));
    Ok(Value::Int(match s.find(&sub) {
        Some(i) => s[..i].chars().count() as i64 + 1,
        None => 0,
    }))
}

fn split_part(_: &Env, _: &[Oid], a: &[Value]) -> Result<Value, PgError> {
    let (s, sep, n) = (text_arg(&a[0]), text_arg(&a[1]), int_arg(&a[2]));
    if n == 0 {
        return Err(PgError::new(
            sqlstate::INVALID_PARAMETER_VALUE,
            "field position must not be zero",
        ));
    }
    let parts: Vec<&str> = if sep.is_empty() {
        vec![s.as_str()]
    } else {
        s.split(sep.as_str()).collect()
    };
    let idx = if n > 0 { n - 1 } else { parts.len() as i64 + n };
    Ok(Value::text(
        usize::try_from(idx)
            .ok()
            .and_then(|i| parts.get(i))
            .copied()
            .unwrap_or(""),
    ))
}

fn pad(a: &[Value], left: bool) -> Result<Value, PgError> {
    let s: Vec<char> = text_arg(&a[0]).chars().collect();
    let len = int_arg(&a[1]).max(0) as usize;
    if len > MAX_STRING {
        return Err(too_long());
    }
    let fill: Vec<char> = a
        .get(2)
        .map_or_else(|| vec![' '], |v| text_arg(v).chars().collect());
    if len <= s.len() || fill.is_empty() {
        return Ok(Value::text(
            s[..len.min(s.len())].iter().collect::<String>(),
        ));
    }
    let padding: String = fill.iter().cycle().take(len - s.len()).collect();
    let body: String = s.iter().collect();
    Ok(Value::text(if left {
        padding + &body
    } else {
        body + &padding
    }))
}

/// concat / concat_ws: arguments in their text form, NULLs skipped.
fn concat(env: &Env, t: &[Oid], a: &[Value], sep: Option<&str>) -> Result<Value, PgError> {
    let parts: Vec<String> = a
        .iter()
        .zip(t)
        .filter_map(|(v, &ty)| match v {
            Value::Bool(b) => Some((if *b { "t" } else { "f" }).to_string()),
            v => types::output(v, ty, env.user()),
        })
        .collect();
    Ok(Value::text(parts.join(sep.unwrap_or(""))))
}

// ---------------------------------------------------------------------------
// Set-returning functions (FROM only)

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TableFunc {
    GenerateSeries,
    Unnest,
}

/// Most rows a set-returning function may produce.
const MAX_SERIES: i64 = 1_000_000;

impl TableFunc {
    pub fn lookup(name: &str) -> Option<TableFunc> {
        match name {
            "generate_series" => Some(TableFunc::GenerateSeries),
            "unnest" => Some(TableFunc::Unnest),
            _ => None,
        }
    }

    /// The declared type of argument `i` (for untyped literals).
    pub fn declared_arg(self) -> Oid {
        match self {
            TableFunc::GenerateSeries => INT4,
            TableFunc::Unnest => ANY,
        }
    }

    pub fn check_args(self, types: &[Oid]) -> bool {
        match self {
            TableFunc::GenerateSeries => {
                (2..=3).contains(&types.len())
                    && types
                        .iter()
                        .all(|&t| matches!(t, oid::INT2 | INT4 | oid::INT8))
            }
            TableFunc::Unnest => types.len() == 1 && types::subscript_elem(types[0]).is_some(),
        }
    }

    pub fn column_type(self, types: &[Oid]) -> Oid {
        match self {
            TableFunc::GenerateSeries if types.contains(&oid::INT8) => oid::INT8,
            TableFunc::GenerateSeries => INT4,
            TableFunc::Unnest => types::subscript_elem(types[0]).unwrap_or(TEXT),
        }
    }

    pub fn rows(self, args: &[Value]) -> Result<Vec<Value>, PgError> {
        match self {
            TableFunc::GenerateSeries => {
                if args.iter().any(Value::is_null) {
                    return Ok(Vec::new());
                }
                let (start, stop) = (int_arg(&args[0]), int_arg(&args[1]));
                let step = args.get(2).map_or(1, int_arg);
                if step == 0 {
                    return Err(PgError::new(
                        sqlstate::INVALID_PARAMETER_VALUE,
                        "step size cannot equal zero",
                    ));
                }
                let count = if (step > 0 && stop >= start) || (step < 0 && stop <= start) {
                    ((stop as i128 - start as i128) / step as i128 + 1) as i64
                } else {
                    0
                };
                if count > MAX_SERIES {
                    return Err(PgError::new(
                        sqlstate::PROGRAM_LIMIT_EXCEEDED,
                        format!(
                            "generate_series would return {count} rows; the limit is {MAX_SERIES}"
                        ),
                    ));
                }
                Ok((0..count).map(|i| Value::Int(start + i * step)).collect())
            }
            TableFunc::Unnest => Ok(match &args[0] {
                Value::Array(items) => items.clone(),
                _ => Vec::new(),
            }),
        }
    }
}
