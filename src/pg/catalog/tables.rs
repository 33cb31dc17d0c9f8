//! The in-memory catalog: the pg_catalog and information_schema tables that
//! clients read, filled in to describe corewire's one table, kv.
//!
//! OIDs follow what a fresh PostgreSQL 15 assigns (kv gets the first user
//! OID, 16384); the catalog relations keep their built-in OIDs.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use super::columns::*;
use super::exec::Env;
use super::types::{self, oid, quote_ident, Oid, Value, TYPES};
use Rows::{Fixed, Session};

pub(crate) type Row = Vec<Value>;

/// The kv table, its primary-key index and constraint.
pub const KV_OID: Oid = 16384;
pub const KV_PKEY_OID: Oid = 16387;
pub const KV_PKEY_CONSTRAINT_OID: Oid = 16388;
/// The database's OID (PostgreSQL's `postgres` database has 5).
pub const DATABASE_OID: Oid = 5;
/// The bootstrap superuser; the session user plays this role.
pub const SUPERUSER_OID: Oid = 10;
/// pg_database_owner, owner of schema public.
const DATABASE_OWNER_OID: Oid = 6171;

pub const PG_CATALOG_NAMESPACE: Oid = 11;
pub const PG_TOAST_NAMESPACE: Oid = 99;
pub const PUBLIC_NAMESPACE: Oid = 2200;
pub const INFORMATION_SCHEMA_NAMESPACE: Oid = 13207;

const NAMESPACES: &[(Oid, &str)] = &[
    (PG_CATALOG_NAMESPACE, "pg_catalog"),
    (PG_TOAST_NAMESPACE, "pg_toast"),
    (PUBLIC_NAMESPACE, "public"),
    (INFORMATION_SCHEMA_NAMESPACE, "information_schema"),
];

/// Schemas searched for unqualified names, in order (search_path is fixed
/// at `"$user", public`; pg_catalog is always searched first).
const SEARCH_PATH: &[Oid] = &[PG_CATALOG_NAMESPACE, PUBLIC_NAMESPACE];

const KV_COLUMNS: &[(&str, Oid)] = &[("key", oid::TEXT), ("value", oid::TEXT)];
const KV_PKEY_COLUMNS: &[(&str, Oid)] = &[("key", oid::TEXT)];
/// kv's system columns (attnum -1 .. -6).
const SYSTEM_COLUMNS: &[(&str, Oid)] = &[
    ("ctid", oid::TID),
    ("xmin", oid::XID),
    ("cmin", oid::CID),
    ("xmax", oid::XID),
    ("cmax", oid::CID),
    ("tableoid", oid::OID),
];

/// One catalog table or view.
#[derive(Debug)]
pub(crate) struct TableDef {
    pub schema: &'static str,
    pub name: &'static str,
    pub oid: Oid,
    /// b'r' (table) or b'v' (view).
    pub kind: u8,
    pub columns: &'static [(&'static str, Oid)],
    pub rows: Rows,
}

/// How a table's rows are made.
#[derive(Debug)]
pub(crate) enum Rows {
    /// The same for every session: built once per process.
    Fixed(fn() -> Vec<Row>),
    /// Naming the session's user or database: built per statement.
    Session(fn(&Env) -> Vec<Row>),
}

impl TableDef {
    /// This table's rows as seen by the statement running in `env`.
    pub fn rows(&'static self, env: &Env) -> Arc<Vec<Row>> {
        static FIXED: OnceLock<HashMap<Oid, Arc<Vec<Row>>>> = OnceLock::new();
        match self.rows {
            Rows::Fixed(_) => {
                let all = FIXED.get_or_init(|| {
                    TABLES
                        .iter()
                        .filter_map(|t| match t.rows {
                            Rows::Fixed(build) => Some((t.oid, Arc::new(build()))),
                            Rows::Session(_) => None,
                        })
                        .collect()
                });
                all.get(&self.oid).cloned().unwrap_or_default()
            }
            Rows::Session(build) => Arc::new(build(env)),
        }
    }
}

const fn table(
    schema: &'static str,
    name: &'static str,
    oid: Oid,
    kind: u8,
    columns: &'static [(&'static str, Oid)],
    rows: Rows,
) -> TableDef {
    TableDef {
        schema,
        name,
        oid,
        kind,
        columns,
        rows,
    }
}

/// Table kv as the general path sees it: its columns, so that a query the
/// fast path declined binds (and names an unknown column as PostgreSQL
/// does), but no rows: such a query is refused after binding.
pub(crate) static KV_STUB: TableDef = TableDef {
    schema: "public",
    name: "kv",
    oid: KV_OID,
    kind: b'r',
    columns: &[("key", oid::TEXT), ("value", oid::TEXT)],
    rows: Fixed(Vec::new),
};

/// Every catalog relation a query may read. Tables with `no_rows` are
/// empty in corewire too (no policies, triggers, publications, ...).
#[rustfmt::skip]
pub(crate) static TABLES: &[TableDef] = &[
    table("pg_catalog", "pg_am", 2601, b'r', PG_AM, Fixed(pg_am_rows)),
    table("pg_catalog", "pg_attrdef", 2604, b'r', PG_ATTRDEF, Fixed(no_rows)),
    table("pg_catalog", "pg_attribute", 1249, b'r', PG_ATTRIBUTE, Fixed(pg_attribute_rows)),
    table("pg_catalog", "pg_auth_members", 1261, b'r', PG_AUTH_MEMBERS, Fixed(no_rows)),
    table("pg_catalog", "pg_class", 1259, b'r', PG_CLASS, Fixed(pg_class_rows)),
    table("pg_catalog", "pg_collation", 3456, b'r', PG_COLLATION, Fixed(pg_collation_rows)),
    table("pg_catalog", "pg_constraint", 2606, b'r', PG_CONSTRAINT, Fixed(pg_constraint_rows)),
    table("pg_catalog", "pg_database", 1262, b'r', PG_DATABASE, Session(pg_database_rows)),
    table("pg_catalog", "pg_default_acl", 826, b'r', PG_DEFAULT_ACL, Fixed(no_rows)),
    table("pg_catalog", "pg_description", 2609, b'r', PG_DESCRIPTION, Fixed(pg_description_rows)),
    table("pg_catalog", "pg_enum", 3501, b'r', PG_ENUM, Fixed(no_rows)),
    table("pg_catalog", "pg_event_trigger", 3466, b'r', PG_EVENT_TRIGGER, Fixed(no_rows)),
    table("pg_catalog", "pg_extension", 3079, b'r', PG_EXTENSION, Fixed(no_rows)),
    table("pg_catalog", "pg_foreign_data_wrapper", 2328, b'r', PG_FOREIGN_DATA_WRAPPER, Fixed(no_rows)),
    table("pg_catalog", "pg_foreign_server", 1417, b'r', PG_FOREIGN_SERVER, Fixed(no_rows)),
    table("pg_catalog", "pg_foreign_table", 3118, b'r', PG_FOREIGN_TABLE, Fixed(no_rows)),
    table("pg_catalog", "pg_index", 2610, b'r', PG_INDEX, Fixed(pg_index_rows)),
    table("pg_catalog", "pg_indexes", 12043, b'v', PG_INDEXES, Fixed(pg_indexes_rows)),
    table("pg_catalog", "pg_inherits", 2611, b'r', PG_INHERITS, Fixed(no_rows)),
    table("pg_catalog", "pg_matviews", 12038, b'v', PG_MATVIEWS, Fixed(no_rows)),
    table("pg_catalog", "pg_namespace", 2615, b'r', PG_NAMESPACE, Session(pg_namespace_rows)),
    table("pg_catalog", "pg_partitioned_table", 3350, b'r', PG_PARTITIONED_TABLE, Fixed(no_rows)),
    table("pg_catalog", "pg_policy", 3256, b'r', PG_POLICY, Fixed(no_rows)),
    table("pg_catalog", "pg_proc", 1255, b'r', PG_PROC, Fixed(super::procs::pg_proc_rows)),
    table("pg_catalog", "pg_publication", 6104, b'r', PG_PUBLICATION, Fixed(no_rows)),
    table("pg_catalog", "pg_publication_namespace", 6237, b'r', PG_PUBLICATION_NAMESPACE, Fixed(no_rows)),
    table("pg_catalog", "pg_publication_rel", 6106, b'r', PG_PUBLICATION_REL, Fixed(no_rows)),
    // corewire defines no range types.
    table("pg_catalog", "pg_range", 3541, b'r', PG_RANGE, Fixed(no_rows)),
    table("pg_catalog", "pg_roles", 12000, b'v', PG_ROLES, Session(pg_roles_rows)),
    table("pg_catalog", "pg_sequence", 2224, b'r', PG_SEQUENCE, Fixed(no_rows)),
    table("pg_catalog", "pg_sequences", 12048, b'v', PG_SEQUENCES, Fixed(no_rows)),
    table("pg_catalog", "pg_settings", 12104, b'v', PG_SETTINGS, Session(pg_settings_rows)),
    table("pg_catalog", "pg_shdescription", 2396, b'r', PG_SHDESCRIPTION, Fixed(no_rows)),
    table("pg_catalog", "pg_stat_activity", 12222, b'v', PG_STAT_ACTIVITY, Session(pg_stat_activity_rows)),
    table("pg_catalog", "pg_statistic_ext", 3381, b'r', PG_STATISTIC_EXT, Fixed(no_rows)),
    table("pg_catalog", "pg_tables", 12033, b'v', PG_TABLES, Session(pg_tables_rows)),
    table("pg_catalog", "pg_tablespace", 1213, b'r', PG_TABLESPACE, Fixed(pg_tablespace_rows)),
    table("pg_catalog", "pg_trigger", 2620, b'r', PG_TRIGGER, Fixed(no_rows)),
    table("pg_catalog", "pg_type", 1247, b'r', PG_TYPE, Fixed(pg_type_rows)),
    table("pg_catalog", "pg_user", 12014, b'v', PG_USER, Session(pg_user_rows)),
    table("pg_catalog", "pg_user_mapping", 1418, b'r', PG_USER_MAPPING, Fixed(no_rows)),
    // Only user-defined views would be listed; corewire has none.
    table("pg_catalog", "pg_views", 12028, b'v', PG_VIEWS, Fixed(no_rows)),
    table("information_schema", "columns", 13295, b'v', IS_COLUMNS, Session(is_columns_rows)),
    table("information_schema", "key_column_usage", 13329, b'v', IS_KEY_COLUMN_USAGE, Session(is_key_column_usage_rows)),
    table("information_schema", "schemata", 13382, b'v', IS_SCHEMATA, Session(is_schemata_rows)),
    table("information_schema", "table_constraints", 13411, b'v', IS_TABLE_CONSTRAINTS, Session(is_table_constraints_rows)),
    table("information_schema", "tables", 13425, b'v', IS_TABLES, Session(is_tables_rows)),
    table("information_schema", "views", 13483, b'v', IS_VIEWS, Fixed(no_rows)),
];

/// Shared catalogs (one copy per cluster: relisshared).
const SHARED: &[&str] = &[
    "pg_auth_members",
    "pg_database",
    "pg_shdescription",
    "pg_tablespace",
];

// ---------------------------------------------------------------------------
// Name lookups

/// A row of pg_class, reduced to what lookups need.
pub(crate) struct Relation {
    pub oid: Oid,
    pub name: &'static str,
    pub namespace: Oid,
    pub kind: u8,
    pub columns: &'static [(&'static str, Oid)],
}

/// kv, kv_pkey, then the catalog relations.
pub(crate) fn relations() -> impl Iterator<Item = Relation> {
    let user = [
        Relation {
            oid: KV_OID,
            name: "kv",
            namespace: PUBLIC_NAMESPACE,
            kind: b'r',
            columns: KV_COLUMNS,
        },
        Relation {
            oid: KV_PKEY_OID,
            name: "kv_pkey",
            namespace: PUBLIC_NAMESPACE,
            kind: b'i',
            columns: KV_PKEY_COLUMNS,
        },
    ];
    user.into_iter().chain(TABLES.iter().map(|t| Relation {
        oid: t.oid,
        name: t.name,
        namespace: namespace_oid(t.schema).unwrap_or(PG_CATALOG_NAMESPACE),
        kind: t.kind,
        columns: t.columns,
    }))
}

pub(crate) fn namespace_name(nsp: Oid) -> Option<&'static str> {
    NAMESPACES.iter().find(|n| n.0 == nsp).map(|n| n.1)
}

pub(crate) fn namespace_oid(name: &str) -> Option<Oid> {
    NAMESPACES.iter().find(|n| n.1 == name).map(|n| n.0)
}

/// regclass output: the name, schema-qualified unless on the search path.
pub(crate) fn regclass_name(rel: Oid) -> Option<String> {
    let r = relations().find(|r| r.oid == rel)?;
    if SEARCH_PATH.contains(&r.namespace) {
        Some(quote_ident(r.name))
    } else {
        Some(format!(
            "{}.{}",
            quote_ident(namespace_name(r.namespace)?),
            quote_ident(r.name)
        ))
    }
}

/// regclass input: `name`, `schema.name` or `database.schema.name` (the
/// database part is not checked).
pub(crate) fn lookup_relation(parts: &[String]) -> Option<Oid> {
    let (schema, name) = match parts {
        [name] => (None, name),
        [schema, name] | [_, schema, name] => (Some(namespace_oid(schema)?), name),
        _ => return None,
    };
    let candidates: Vec<Relation> = relations().filter(|r| r.name == name.as_str()).collect();
    match schema {
        Some(nsp) => candidates
            .iter()
            .find(|r| r.namespace == nsp)
            .map(|r| r.oid),
        None => SEARCH_PATH
            .iter()
            .find_map(|nsp| candidates.iter().find(|r| r.namespace == *nsp))
            .map(|r| r.oid),
    }
}

/// Whether a relation's name resolves without qualification.
pub(crate) fn relation_visible(rel: Oid) -> Option<bool> {
    let r = relations().find(|r| r.oid == rel)?;
    Some(SEARCH_PATH.contains(&r.namespace) && lookup_relation(&[r.name.to_string()]) == Some(rel))
}

/// A catalog table by (optional) schema and name; unqualified names are
/// looked up in pg_catalog only (public holds nothing but kv).
pub(crate) fn find_table(schema: Option<&str>, name: &str) -> Option<&'static TableDef> {
    let schema = schema.unwrap_or("pg_catalog");
    TABLES.iter().find(|t| t.schema == schema && t.name == name)
}

pub(crate) fn role_name(role: Oid, user: &str) -> Option<String> {
    match role {
        SUPERUSER_OID => Some(user.to_string()),
        DATABASE_OWNER_OID => Some("pg_database_owner".to_string()),
        _ => None,
    }
}

pub(crate) fn role_oid(name: &str, user: &str) -> Option<Oid> {
    if name == user {
        Some(SUPERUSER_OID)
    } else if name == "pg_database_owner" {
        Some(DATABASE_OWNER_OID)
    } else {
        None
    }
}

/// `pg_get_indexdef` for kv_pkey; `qualify` names the table's schema.
pub(crate) fn kv_pkey_indexdef(qualify: bool) -> String {
    let table = if qualify { "public.kv" } else { "kv" };
    format!("CREATE UNIQUE INDEX kv_pkey ON {table} USING btree (key)")
}

pub(crate) const KV_PKEY_CONSTRAINTDEF: &str = "PRIMARY KEY (key)";

// ---------------------------------------------------------------------------
// Row construction

fn text(s: impl Into<String>) -> Value {
    Value::text(s.into())
}

fn int(i: i64) -> Value {
    Value::Int(i)
}

fn id(o: Oid) -> Value {
    Value::Int(o as i64)
}

fn boolean(b: bool) -> Value {
    Value::Bool(b)
}

fn ch(c: u8) -> Value {
    Value::text((c as char).to_string())
}

/// A row with the named columns set. Unset columns of a table get the
/// zero value of fixed-width types (PostgreSQL catalogs have no NULLs
/// there) and NULL otherwise; every column of a view defaults to NULL.
pub(crate) fn build(columns: &[(&str, Oid)], view: bool, set: Vec<(&str, Value)>) -> Row {
    let mut row: Row = columns
        .iter()
        .map(|&(_, ty)| match ty {
            _ if view => Value::Null,
            oid::BOOL => Value::Bool(false),
            oid::FLOAT4 | oid::FLOAT8 => Value::Float(0.0),
            oid::NAME | oid::CHAR => Value::text(""),
            t if types::is_int(t) => Value::Int(0),
            _ => Value::Null,
        })
        .collect();
    for (name, value) in set {
        match columns.iter().position(|c| c.0 == name) {
            Some(i) => row[i] = value,
            None => debug_assert!(false, "catalog row sets unknown column {name}"),
        }
    }
    row
}

fn no_rows() -> Vec<Row> {
    Vec::new()
}

fn pg_namespace_rows(env: &Env) -> Vec<Row> {
    NAMESPACES
        .iter()
        .map(|&(nsp, name)| {
            // Owners hold all rights (UC); everyone may use (U) the schema.
            let owner = if nsp == PUBLIC_NAMESPACE {
                "pg_database_owner"
            } else {
                env.user()
            };
            let acl = match nsp {
                PG_TOAST_NAMESPACE => Value::Null,
                _ => Value::Array(vec![
                    text(format!("{owner}=UC/{owner}")),
                    text(format!("=U/{owner}")),
                ]),
            };
            let owner_oid = if nsp == PUBLIC_NAMESPACE {
                DATABASE_OWNER_OID
            } else {
                SUPERUSER_OID
            };
            build(
                PG_NAMESPACE,
                false,
                vec![
                    ("oid", id(nsp)),
                    ("nspname", text(name)),
                    ("nspowner", id(owner_oid)),
                    ("nspacl", acl),
                ],
            )
        })
        .collect()
}

/// Comments (pg_description): (object, catalog, column, text).
const DESCRIPTIONS: &[(Oid, Oid, i32, &str)] =
    &[(PUBLIC_NAMESPACE, 2615, 0, "standard public schema")];

/// A comment on an object (`catalog` None: in any catalog).
pub(crate) fn description(object: Oid, catalog: Option<Oid>, column: i32) -> Option<&'static str> {
    DESCRIPTIONS
        .iter()
        .find(|d| d.0 == object && catalog.is_none_or(|c| c == d.1) && d.2 == column)
        .map(|d| d.3)
}

fn pg_description_rows() -> Vec<Row> {
    DESCRIPTIONS
        .iter()
        .map(|&(object, catalog, column, comment)| {
            build(
                PG_DESCRIPTION,
                false,
                vec![
                    ("objoid", id(object)),
                    ("classoid", id(catalog)),
                    ("objsubid", int(column as i64)),
                    ("description", text(comment)),
                ],
            )
        })
        .collect()
}

fn pg_class_rows() -> Vec<Row> {
    let mut rows = vec![
        build(
            PG_CLASS,
            false,
            vec![
                ("oid", id(KV_OID)),
                ("relname", text("kv")),
                ("relnamespace", id(PUBLIC_NAMESPACE)),
                ("reltype", id(oid::KV_ROW)),
                ("relowner", id(SUPERUSER_OID)),
                ("relam", id(2)),
                ("relfilenode", id(KV_OID)),
                // -1: never analysed (the engine keeps no statistics here).
                ("reltuples", Value::Float(-1.0)),
                ("relhasindex", boolean(true)),
                ("relpersistence", ch(b'p')),
                ("relkind", ch(b'r')),
                ("relnatts", int(2)),
                ("relispopulated", boolean(true)),
                ("relreplident", ch(b'd')),
            ],
        ),
        build(
            PG_CLASS,
            false,
            vec![
                ("oid", id(KV_PKEY_OID)),
                ("relname", text("kv_pkey")),
                ("relnamespace", id(PUBLIC_NAMESPACE)),
                ("relowner", id(SUPERUSER_OID)),
                ("relam", id(403)),
                ("relfilenode", id(KV_PKEY_OID)),
                ("relpages", int(1)),
                ("relpersistence", ch(b'p')),
                ("relkind", ch(b'i')),
                ("relnatts", int(1)),
                ("relispopulated", boolean(true)),
                ("relreplident", ch(b'n')),
            ],
        ),
    ];
    for t in TABLES {
        let is_table = t.kind == b'r';
        rows.push(build(
            PG_CLASS,
            false,
            vec![
                ("oid", id(t.oid)),
                ("relname", text(t.name)),
                (
                    "relnamespace",
                    id(namespace_oid(t.schema).unwrap_or(PG_CATALOG_NAMESPACE)),
                ),
                ("relowner", id(SUPERUSER_OID)),
                ("relam", id(if is_table { 2 } else { 0 })),
                ("relfilenode", id(if is_table { t.oid } else { 0 })),
                ("reltuples", Value::Float(-1.0)),
                ("relisshared", boolean(SHARED.contains(&t.name))),
                ("relpersistence", ch(b'p')),
                ("relkind", ch(t.kind)),
                ("relnatts", int(t.columns.len() as i64)),
                ("relispopulated", boolean(true)),
                ("relreplident", ch(b'n')),
            ],
        ));
    }
    rows
}

/// One pg_attribute row.
fn attribute(rel: Oid, name: &str, ty: Oid, attnum: i64, notnull: bool) -> Row {
    let info = types::type_info(ty);
    let collation = info.map_or(0, |t| t.collation);
    build(
        PG_ATTRIBUTE,
        false,
        vec![
            ("attrelid", id(rel)),
            ("attname", text(name)),
            ("atttypid", id(ty)),
            ("attstattarget", int(if attnum > 0 { -1 } else { 0 })),
            ("attlen", int(info.map_or(-1, |t| t.len as i64))),
            ("attnum", int(attnum)),
            ("attndims", int(types::array_elem(ty).is_some() as i64)),
            ("attcacheoff", int(-1)),
            ("atttypmod", int(-1)),
            ("attbyval", boolean(info.is_some_and(|t| t.byval))),
            ("attalign", ch(info.map_or(b'i', |t| t.align))),
            ("attstorage", ch(info.map_or(b'p', |t| t.storage))),
            ("attnotnull", boolean(notnull)),
            ("attislocal", boolean(true)),
            ("attcollation", id(collation)),
        ],
    )
}

fn pg_attribute_rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for rel in relations() {
        if rel.oid == KV_OID {
            // System columns first, ordered by attnum like PostgreSQL's heap.
            for (i, &(name, ty)) in SYSTEM_COLUMNS.iter().enumerate().rev() {
                rows.push(attribute(rel.oid, name, ty, -(i as i64) - 1, true));
            }
        }
        let user = rel.oid == KV_OID;
        for (i, &(name, ty)) in rel.columns.iter().enumerate() {
            rows.push(attribute(rel.oid, name, ty, i as i64 + 1, user));
        }
    }
    rows
}

fn pg_type_rows() -> Vec<Row> {
    TYPES
        .iter()
        .map(|t| {
            let kv = t.oid == oid::KV_ROW || t.oid == oid::KV_ROW_ARRAY;
            build(
                PG_TYPE,
                false,
                vec![
                    ("oid", id(t.oid)),
                    ("typname", text(t.name)),
                    (
                        "typnamespace",
                        id(if kv {
                            PUBLIC_NAMESPACE
                        } else {
                            PG_CATALOG_NAMESPACE
                        }),
                    ),
                    ("typowner", id(SUPERUSER_OID)),
                    ("typlen", int(t.len as i64)),
                    ("typbyval", boolean(t.byval)),
                    ("typtype", ch(t.typtype)),
                    ("typcategory", ch(t.category)),
                    ("typispreferred", boolean(t.preferred)),
                    ("typisdefined", boolean(true)),
                    ("typdelim", ch(b',')),
                    (
                        "typrelid",
                        id(if t.oid == oid::KV_ROW { KV_OID } else { 0 }),
                    ),
                    ("typsubscript", id(t.subscript)),
                    ("typelem", id(t.elem)),
                    ("typarray", id(t.array)),
                    ("typinput", id(t.io[0])),
                    ("typoutput", id(t.io[1])),
                    ("typreceive", id(t.io[2])),
                    ("typsend", id(t.io[3])),
                    ("typalign", ch(t.align)),
                    ("typstorage", ch(t.storage)),
                    ("typtypmod", int(-1)),
                    ("typcollation", id(t.collation)),
                ],
            )
        })
        .collect()
}

fn pg_am_rows() -> Vec<Row> {
    const AMS: &[(Oid, &str, Oid, u8)] = &[
        (2, "heap", 3, b't'),
        (403, "btree", 330, b'i'),
        (405, "hash", 331, b'i'),
        (783, "gist", 332, b'i'),
        (2742, "gin", 333, b'i'),
        (4000, "spgist", 334, b'i'),
        (3580, "brin", 335, b'i'),
    ];
    AMS.iter()
        .map(|&(am, name, handler, kind)| {
            build(
                PG_AM,
                false,
                vec![
                    ("oid", id(am)),
                    ("amname", text(name)),
                    ("amhandler", id(handler)),
                    ("amtype", ch(kind)),
                ],
            )
        })
        .collect()
}

fn pg_index_rows() -> Vec<Row> {
    vec![build(
        PG_INDEX,
        false,
        vec![
            ("indexrelid", id(KV_PKEY_OID)),
            ("indrelid", id(KV_OID)),
            ("indnatts", int(1)),
            ("indnkeyatts", int(1)),
            ("indisunique", boolean(true)),
            ("indisprimary", boolean(true)),
            ("indimmediate", boolean(true)),
            ("indisvalid", boolean(true)),
            ("indisready", boolean(true)),
            ("indislive", boolean(true)),
            ("indkey", Value::Array(vec![int(1)])),
            ("indcollation", Value::Array(vec![id(100)])),
            // text_ops
            ("indclass", Value::Array(vec![id(3126)])),
            ("indoption", Value::Array(vec![int(0)])),
        ],
    )]
}

fn pg_constraint_rows() -> Vec<Row> {
    vec![build(
        PG_CONSTRAINT,
        false,
        vec![
            ("oid", id(KV_PKEY_CONSTRAINT_OID)),
            ("conname", text("kv_pkey")),
            ("connamespace", id(PUBLIC_NAMESPACE)),
            ("contype", ch(b'p')),
            ("convalidated", boolean(true)),
            ("conrelid", id(KV_OID)),
            ("conindid", id(KV_PKEY_OID)),
            ("confupdtype", ch(b' ')),
            ("confdeltype", ch(b' ')),
            ("confmatchtype", ch(b' ')),
            ("conislocal", boolean(true)),
            ("connoinherit", boolean(true)),
            ("conkey", Value::Array(vec![int(1)])),
        ],
    )]
}

fn pg_collation_rows() -> Vec<Row> {
    const COLLATIONS: &[(Oid, &str, u8, Option<&str>)] = &[
        (100, "default", b'd', None),
        (950, "C", b'c', Some("C")),
        (951, "POSIX", b'c', Some("POSIX")),
    ];
    COLLATIONS
        .iter()
        .map(|&(coll, name, provider, locale)| {
            build(
                PG_COLLATION,
                false,
                vec![
                    ("oid", id(coll)),
                    ("collname", text(name)),
                    ("collnamespace", id(PG_CATALOG_NAMESPACE)),
                    ("collowner", id(SUPERUSER_OID)),
                    ("collprovider", ch(provider)),
                    ("collisdeterministic", boolean(true)),
                    ("collencoding", int(-1)),
                    ("collcollate", locale.map_or(Value::Null, text)),
                    ("collctype", locale.map_or(Value::Null, text)),
                ],
            )
        })
        .collect()
}

fn pg_database_rows(env: &Env) -> Vec<Row> {
    vec![build(
        PG_DATABASE,
        false,
        vec![
            ("oid", id(DATABASE_OID)),
            ("datname", text(env.database())),
            ("datdba", id(SUPERUSER_OID)),
            // UTF8
            ("encoding", int(6)),
            ("datlocprovider", ch(b'c')),
            ("datallowconn", boolean(true)),
            ("datconnlimit", int(-1)),
            ("datminmxid", int(1)),
            ("dattablespace", id(1663)),
            ("datcollate", text("C.UTF-8")),
            ("datctype", text("C.UTF-8")),
        ],
    )]
}

fn pg_tablespace_rows() -> Vec<Row> {
    [(1663, "pg_default"), (1664, "pg_global")]
        .iter()
        .map(|&(spc, name)| {
            build(
                PG_TABLESPACE,
                false,
                vec![
                    ("oid", id(spc)),
                    ("spcname", text(name)),
                    ("spcowner", id(SUPERUSER_OID)),
                ],
            )
        })
        .collect()
}

fn pg_roles_rows(env: &Env) -> Vec<Row> {
    let role = |name: &str, role: Oid, superuser: bool| {
        build(
            PG_ROLES,
            true,
            vec![
                ("rolname", text(name)),
                ("rolsuper", boolean(superuser)),
                ("rolinherit", boolean(true)),
                ("rolcreaterole", boolean(superuser)),
                ("rolcreatedb", boolean(superuser)),
                ("rolcanlogin", boolean(superuser)),
                ("rolreplication", boolean(superuser)),
                ("rolconnlimit", int(-1)),
                ("rolpassword", text("********")),
                ("rolbypassrls", boolean(superuser)),
                ("oid", id(role)),
            ],
        )
    };
    vec![
        role(env.user(), SUPERUSER_OID, true),
        role("pg_database_owner", DATABASE_OWNER_OID, false),
    ]
}

fn pg_user_rows(env: &Env) -> Vec<Row> {
    vec![build(
        PG_USER,
        true,
        vec![
            ("usename", text(env.user())),
            ("usesysid", id(SUPERUSER_OID)),
            ("usecreatedb", boolean(true)),
            ("usesuper", boolean(true)),
            ("userepl", boolean(true)),
            ("usebypassrls", boolean(true)),
            ("passwd", text("********")),
        ],
    )]
}

/// Settings fixed when the server starts (context "internal").
const INTERNAL_SETTINGS: &[&str] = &[
    "server_version",
    "server_version_num",
    "server_encoding",
    "integer_datetimes",
    "max_identifier_length",
    "block_size",
    "lc_collate",
    "lc_ctype",
];

fn pg_settings_rows(env: &Env) -> Vec<Row> {
    let mut settings = env.settings();
    settings.sort();
    settings
        .into_iter()
        .map(|(name, setting)| {
            let internal = INTERNAL_SETTINGS
                .iter()
                .any(|s| s.eq_ignore_ascii_case(&name));
            build(
                PG_SETTINGS,
                true,
                vec![
                    ("name", text(name)),
                    ("setting", text(setting)),
                    ("context", text(if internal { "internal" } else { "user" })),
                    ("vartype", text("string")),
                    ("pending_restart", boolean(false)),
                ],
            )
        })
        .collect()
}

fn pg_tables_rows(env: &Env) -> Vec<Row> {
    relations()
        .filter(|r| r.kind == b'r')
        .map(|r| {
            build(
                PG_TABLES,
                true,
                vec![
                    (
                        "schemaname",
                        text(namespace_name(r.namespace).unwrap_or("pg_catalog")),
                    ),
                    ("tablename", text(r.name)),
                    ("tableowner", text(env.user())),
                    ("hasindexes", boolean(r.oid == KV_OID)),
                    ("hasrules", boolean(false)),
                    ("hastriggers", boolean(false)),
                    ("rowsecurity", boolean(false)),
                ],
            )
        })
        .collect()
}

fn pg_indexes_rows() -> Vec<Row> {
    vec![build(
        PG_INDEXES,
        true,
        vec![
            ("schemaname", text("public")),
            ("tablename", text("kv")),
            ("indexname", text("kv_pkey")),
            ("indexdef", text(kv_pkey_indexdef(true))),
        ],
    )]
}

/// Only this session is listed: corewire's sessions live on other worker
/// threads, out of this evaluator's reach.
fn pg_stat_activity_rows(env: &Env) -> Vec<Row> {
    vec![build(
        PG_STAT_ACTIVITY,
        true,
        vec![
            ("datid", id(DATABASE_OID)),
            ("datname", text(env.database())),
            ("pid", int(env.backend_pid() as i64)),
            ("usesysid", id(SUPERUSER_OID)),
            ("usename", text(env.user())),
            (
                "application_name",
                text(env.setting("application_name").unwrap_or_default()),
            ),
            ("query_start", text(env.now())),
            ("state_change", text(env.now())),
            ("state", text("active")),
            ("query", text(env.sql())),
            ("backend_type", text("client backend")),
        ],
    )]
}

// ---------------------------------------------------------------------------
// information_schema

fn yes_no(b: bool) -> Value {
    text(if b { "YES" } else { "NO" })
}

/// information_schema lists kv, and the catalog relations a superuser can
/// see (the session user is one).
fn listed_relations() -> impl Iterator<Item = Relation> {
    relations().filter(|r| r.kind == b'r' || r.kind == b'v')
}

fn is_tables_rows(env: &Env) -> Vec<Row> {
    listed_relations()
        .map(|r| {
            let table = r.kind == b'r';
            build(
                IS_TABLES,
                true,
                vec![
                    ("table_catalog", text(env.database())),
                    (
                        "table_schema",
                        text(namespace_name(r.namespace).unwrap_or("")),
                    ),
                    ("table_name", text(r.name)),
                    (
                        "table_type",
                        text(if table { "BASE TABLE" } else { "VIEW" }),
                    ),
                    ("is_insertable_into", yes_no(table)),
                    ("is_typed", yes_no(false)),
                ],
            )
        })
        .collect()
}

/// information_schema's data_type: SQL names for built-in types, ARRAY,
/// USER-DEFINED for the rest.
fn sql_data_type(ty: Oid) -> String {
    let Some(info) = types::type_info(ty) else {
        return "USER-DEFINED".into();
    };
    if info.elem != 0 && info.len == -1 {
        "ARRAY".into()
    } else if info.typtype == b'c' {
        "USER-DEFINED".into()
    } else {
        types::format_type(ty, None)
    }
}

fn is_columns_rows(env: &Env) -> Vec<Row> {
    let mut rows = Vec::new();
    for r in listed_relations() {
        let user = r.oid == KV_OID;
        for (i, &(name, ty)) in r.columns.iter().enumerate() {
            let info = types::type_info(ty);
            let octets = matches!(ty, oid::TEXT | oid::VARCHAR | oid::BPCHAR).then(|| int(1 << 30));
            // Only a non-default collation is shown (name columns use "C").
            let collation = (ty == oid::NAME).then(|| text("C"));
            rows.push(build(
                IS_COLUMNS,
                true,
                vec![
                    ("table_catalog", text(env.database())),
                    (
                        "table_schema",
                        text(namespace_name(r.namespace).unwrap_or("")),
                    ),
                    ("table_name", text(r.name)),
                    ("column_name", text(name)),
                    ("ordinal_position", int(i as i64 + 1)),
                    ("is_nullable", yes_no(!user)),
                    ("data_type", text(sql_data_type(ty))),
                    ("character_octet_length", octets.unwrap_or(Value::Null)),
                    (
                        "collation_catalog",
                        collation
                            .as_ref()
                            .map_or(Value::Null, |_| text(env.database())),
                    ),
                    (
                        "collation_schema",
                        collation
                            .as_ref()
                            .map_or(Value::Null, |_| text("pg_catalog")),
                    ),
                    ("collation_name", collation.unwrap_or(Value::Null)),
                    ("udt_catalog", text(env.database())),
                    (
                        "udt_schema",
                        text(if ty == oid::KV_ROW {
                            "public"
                        } else {
                            "pg_catalog"
                        }),
                    ),
                    ("udt_name", text(info.map_or("", |t| t.name))),
                    ("dtd_identifier", text((i + 1).to_string())),
                    ("is_self_referencing", yes_no(false)),
                    ("is_identity", yes_no(false)),
                    ("identity_cycle", yes_no(false)),
                    ("is_generated", text("NEVER")),
                    ("is_updatable", yes_no(r.kind == b'r')),
                ],
            ));
        }
    }
    rows
}

fn is_schemata_rows(env: &Env) -> Vec<Row> {
    let mut names: Vec<&(Oid, &str)> = NAMESPACES.iter().collect();
    names.sort_by_key(|n| n.1);
    names
        .into_iter()
        .map(|&(nsp, name)| {
            let owner = if nsp == PUBLIC_NAMESPACE {
                "pg_database_owner".to_string()
            } else {
                env.user().to_string()
            };
            build(
                IS_SCHEMATA,
                true,
                vec![
                    ("catalog_name", text(env.database())),
                    ("schema_name", text(name)),
                    ("schema_owner", text(owner)),
                ],
            )
        })
        .collect()
}

fn is_table_constraints_rows(env: &Env) -> Vec<Row> {
    let constraint = |name: String, kind: &str| {
        build(
            IS_TABLE_CONSTRAINTS,
            true,
            vec![
                ("constraint_catalog", text(env.database())),
                ("constraint_schema", text("public")),
                ("constraint_name", text(name)),
                ("table_catalog", text(env.database())),
                ("table_schema", text("public")),
                ("table_name", text("kv")),
                ("constraint_type", text(kind)),
                ("is_deferrable", yes_no(false)),
                ("initially_deferred", yes_no(false)),
                ("enforced", yes_no(true)),
            ],
        )
    };
    // PostgreSQL 15 reports NOT NULL columns as CHECK constraints named
    // <namespace oid>_<table oid>_<attnum>_not_null.
    let mut rows = vec![constraint("kv_pkey".into(), "PRIMARY KEY")];
    for attnum in 1..=KV_COLUMNS.len() {
        rows.push(constraint(
            format!("{PUBLIC_NAMESPACE}_{KV_OID}_{attnum}_not_null"),
            "CHECK",
        ));
    }
    rows
}

fn is_key_column_usage_rows(env: &Env) -> Vec<Row> {
    vec![build(
        IS_KEY_COLUMN_USAGE,
        true,
        vec![
            ("constraint_catalog", text(env.database())),
            ("constraint_schema", text("public")),
            ("constraint_name", text("kv_pkey")),
            ("table_catalog", text(env.database())),
            ("table_schema", text("public")),
            ("table_name", text("kv")),
            ("column_name", text("key")),
            ("ordinal_position", int(1)),
        ],
    )]
}
