//! Values and PostgreSQL types: the built-in pg_type rows, casts, comparison
//! and the text output format.

use std::cmp::Ordering;
use std::sync::Arc;

pub(crate) use super::numeric::{division_by_zero, Numeric};
use super::{procs, tables};
use crate::pg::error::{sqlstate, PgError};

pub(crate) type Oid = u32;

/// Type OIDs the evaluator names (PostgreSQL's fixed, built-in OIDs).
#[allow(dead_code)]
pub(crate) mod oid {
    use super::Oid;
    pub const BOOL: Oid = 16;
    pub const BYTEA: Oid = 17;
    pub const CHAR: Oid = 18;
    pub const NAME: Oid = 19;
    pub const INT8: Oid = 20;
    pub const INT2: Oid = 21;
    pub const INT2VECTOR: Oid = 22;
    pub const INT4: Oid = 23;
    pub const REGPROC: Oid = 24;
    pub const TEXT: Oid = 25;
    pub const OID: Oid = 26;
    pub const TID: Oid = 27;
    pub const XID: Oid = 28;
    pub const CID: Oid = 29;
    pub const OIDVECTOR: Oid = 30;
    pub const JSON: Oid = 114;
    pub const PG_NODE_TREE: Oid = 194;
    pub const FLOAT4: Oid = 700;
    pub const FLOAT8: Oid = 701;
    pub const UNKNOWN: Oid = 705;
    pub const INET: Oid = 869;
    pub const BOOL_ARRAY: Oid = 1000;
    pub const CHAR_ARRAY: Oid = 1002;
    pub const NAME_ARRAY: Oid = 1003;
    pub const INT2_ARRAY: Oid = 1005;
    pub const INT4_ARRAY: Oid = 1007;
    pub const TEXT_ARRAY: Oid = 1009;
    pub const INT8_ARRAY: Oid = 1016;
    pub const OID_ARRAY: Oid = 1028;
    pub const ACLITEM: Oid = 1033;
    pub const ACLITEM_ARRAY: Oid = 1034;
    pub const BPCHAR: Oid = 1042;
    pub const VARCHAR: Oid = 1043;
    pub const DATE: Oid = 1082;
    pub const TIME: Oid = 1083;
    pub const TIMESTAMP: Oid = 1114;
    pub const TIMESTAMPTZ: Oid = 1184;
    pub const INTERVAL: Oid = 1186;
    pub const NUMERIC: Oid = 1700;
    pub const REGPROCEDURE: Oid = 2202;
    pub const REGCLASS: Oid = 2205;
    pub const REGTYPE: Oid = 2206;
    pub const RECORD: Oid = 2249;
    pub const CSTRING: Oid = 2275;
    pub const ANY: Oid = 2276;
    pub const ANYARRAY: Oid = 2277;
    pub const VOID: Oid = 2278;
    pub const UUID: Oid = 2950;
    pub const JSONB: Oid = 3802;
    pub const REGNAMESPACE: Oid = 4089;
    pub const REGROLE: Oid = 4096;
    /// kv's row type and its array type (as PostgreSQL assigns them).
    pub const KV_ROW: Oid = 16386;
    pub const KV_ROW_ARRAY: Oid = 16385;
}

/// One pg_type row: the columns that differ between built-in types.
pub(crate) struct TypeInfo {
    pub oid: Oid,
    pub name: &'static str,
    pub len: i16,
    pub byval: bool,
    pub typtype: u8,
    pub category: u8,
    pub preferred: bool,
    pub elem: Oid,
    pub array: Oid,
    /// typinput, typoutput, typreceive, typsend (pg_proc OIDs, see PROCS).
    pub io: [Oid; 4],
    pub align: u8,
    pub storage: u8,
    pub collation: Oid,
    pub subscript: Oid,
}

#[allow(clippy::too_many_arguments)]
const fn ty(
    oid: Oid,
    name: &'static str,
    len: i16,
    byval: bool,
    typtype: u8,
    category: u8,
    preferred: bool,
    elem: Oid,
    array: Oid,
    io: [Oid; 4],
    align: u8,
    storage: u8,
    collation: Oid,
    subscript: Oid,
) -> TypeInfo {
    TypeInfo {
        oid,
        name,
        len,
        byval,
        typtype,
        category,
        preferred,
        elem,
        array,
        io,
        align,
        storage,
        collation,
        subscript,
    }
}

/// The types corewire can produce or describe, copied from PostgreSQL 15's
/// pg_type (sorted by OID), plus kv's row type.
#[rustfmt::skip]
pub(crate) static TYPES: &[TypeInfo] = &[
    ty(16, "bool", 1, true, b'b', b'B', true, 0, 1000, [1242, 1243, 2436, 2437], b'c', b'p', 0, 0),
    ty(17, "bytea", -1, false, b'b', b'U', false, 0, 1001, [1244, 31, 2412, 2413], b'i', b'x', 0, 0),
    ty(18, "char", 1, true, b'b', b'Z', false, 0, 1002, [1245, 33, 2434, 2435], b'c', b'p', 0, 0),
    ty(19, "name", 64, false, b'b', b'S', false, 18, 1003, [34, 35, 2422, 2423], b'c', b'p', 950, 6180),
    ty(20, "int8", 8, true, b'b', b'N', false, 0, 1016, [460, 461, 2408, 2409], b'd', b'p', 0, 0),
    ty(21, "int2", 2, true, b'b', b'N', false, 0, 1005, [38, 39, 2404, 2405], b's', b'p', 0, 0),
    ty(22, "int2vector", -1, false, b'b', b'A', false, 21, 1006, [40, 41, 2410, 2411], b'i', b'p', 0, 6179),
    ty(23, "int4", 4, true, b'b', b'N', false, 0, 1007, [42, 43, 2406, 2407], b'i', b'p', 0, 0),
    ty(24, "regproc", 4, true, b'b', b'N', false, 0, 1008, [44, 45, 2444, 2445], b'i', b'p', 0, 0),
    ty(25, "text", -1, false, b'b', b'S', true, 0, 1009, [46, 47, 2414, 2415], b'i', b'x', 100, 0),
    ty(26, "oid", 4, true, b'b', b'N', true, 0, 1028, [1798, 1799, 2418, 2419], b'i', b'p', 0, 0),
    ty(27, "tid", 6, false, b'b', b'U', false, 0, 1010, [48, 49, 2438, 2439], b's', b'p', 0, 0),
    ty(28, "xid", 4, true, b'b', b'U', false, 0, 1011, [50, 51, 2440, 2441], b'i', b'p', 0, 0),
    ty(29, "cid", 4, true, b'b', b'U', false, 0, 1012, [52, 53, 2442, 2443], b'i', b'p', 0, 0),
    ty(30, "oidvector", -1, false, b'b', b'A', false, 26, 1013, [54, 55, 2420, 2421], b'i', b'p', 0, 6179),
    ty(114, "json", -1, false, b'b', b'U', false, 0, 199, [321, 322, 323, 324], b'i', b'x', 0, 0),
    ty(194, "pg_node_tree", -1, false, b'b', b'Z', false, 0, 0, [195, 196, 197, 198], b'i', b'x', 100, 0),
    ty(199, "_json", -1, false, b'b', b'A', false, 114, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(700, "float4", 4, true, b'b', b'N', false, 0, 1021, [200, 201, 2424, 2425], b'i', b'p', 0, 0),
    ty(701, "float8", 8, true, b'b', b'N', true, 0, 1022, [214, 215, 2426, 2427], b'd', b'p', 0, 0),
    ty(705, "unknown", -2, false, b'p', b'X', false, 0, 0, [109, 110, 2416, 2417], b'c', b'p', 0, 0),
    ty(869, "inet", -1, false, b'b', b'I', true, 0, 1041, [910, 911, 2496, 2497], b'i', b'm', 0, 0),
    ty(1000, "_bool", -1, false, b'b', b'A', false, 16, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(1001, "_bytea", -1, false, b'b', b'A', false, 17, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(1002, "_char", -1, false, b'b', b'A', false, 18, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(1003, "_name", -1, false, b'b', b'A', false, 19, 0, [750, 751, 2400, 2401], b'i', b'x', 950, 6179),
    ty(1005, "_int2", -1, false, b'b', b'A', false, 21, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(1006, "_int2vector", -1, false, b'b', b'A', false, 22, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(1007, "_int4", -1, false, b'b', b'A', false, 23, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(1008, "_regproc", -1, false, b'b', b'A', false, 24, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(1009, "_text", -1, false, b'b', b'A', false, 25, 0, [750, 751, 2400, 2401], b'i', b'x', 100, 6179),
    ty(1010, "_tid", -1, false, b'b', b'A', false, 27, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(1011, "_xid", -1, false, b'b', b'A', false, 28, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(1012, "_cid", -1, false, b'b', b'A', false, 29, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(1013, "_oidvector", -1, false, b'b', b'A', false, 30, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(1014, "_bpchar", -1, false, b'b', b'A', false, 1042, 0, [750, 751, 2400, 2401], b'i', b'x', 100, 6179),
    ty(1015, "_varchar", -1, false, b'b', b'A', false, 1043, 0, [750, 751, 2400, 2401], b'i', b'x', 100, 6179),
    ty(1016, "_int8", -1, false, b'b', b'A', false, 20, 0, [750, 751, 2400, 2401], b'd', b'x', 0, 6179),
    ty(1021, "_float4", -1, false, b'b', b'A', false, 700, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(1022, "_float8", -1, false, b'b', b'A', false, 701, 0, [750, 751, 2400, 2401], b'd', b'x', 0, 6179),
    ty(1028, "_oid", -1, false, b'b', b'A', false, 26, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(1033, "aclitem", 12, false, b'b', b'U', false, 0, 1034, [1031, 1032, 0, 0], b'i', b'p', 0, 0),
    ty(1034, "_aclitem", -1, false, b'b', b'A', false, 1033, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(1041, "_inet", -1, false, b'b', b'A', false, 869, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(1042, "bpchar", -1, false, b'b', b'S', false, 0, 1014, [1044, 1045, 2430, 2431], b'i', b'x', 100, 0),
    ty(1043, "varchar", -1, false, b'b', b'S', false, 0, 1015, [1046, 1047, 2432, 2433], b'i', b'x', 100, 0),
    ty(1082, "date", 4, true, b'b', b'D', false, 0, 1182, [1084, 1085, 2468, 2469], b'i', b'p', 0, 0),
    ty(1083, "time", 8, true, b'b', b'D', false, 0, 1183, [1143, 1144, 2470, 2471], b'd', b'p', 0, 0),
    ty(1114, "timestamp", 8, true, b'b', b'D', false, 0, 1115, [1312, 1313, 2474, 2475], b'd', b'p', 0, 0),
    ty(1115, "_timestamp", -1, false, b'b', b'A', false, 1114, 0, [750, 751, 2400, 2401], b'd', b'x', 0, 6179),
    ty(1182, "_date", -1, false, b'b', b'A', false, 1082, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(1183, "_time", -1, false, b'b', b'A', false, 1083, 0, [750, 751, 2400, 2401], b'd', b'x', 0, 6179),
    ty(1184, "timestamptz", 8, true, b'b', b'D', true, 0, 1185, [1150, 1151, 2476, 2477], b'd', b'p', 0, 0),
    ty(1185, "_timestamptz", -1, false, b'b', b'A', false, 1184, 0, [750, 751, 2400, 2401], b'd', b'x', 0, 6179),
    ty(1186, "interval", 16, false, b'b', b'T', true, 0, 1187, [1160, 1161, 2478, 2479], b'd', b'p', 0, 0),
    ty(1187, "_interval", -1, false, b'b', b'A', false, 1186, 0, [750, 751, 2400, 2401], b'd', b'x', 0, 6179),
    ty(1231, "_numeric", -1, false, b'b', b'A', false, 1700, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(1700, "numeric", -1, false, b'b', b'N', false, 0, 1231, [1701, 1702, 2460, 2461], b'i', b'm', 0, 0),
    ty(2202, "regprocedure", 4, true, b'b', b'N', false, 0, 2207, [2212, 2213, 2446, 2447], b'i', b'p', 0, 0),
    ty(2205, "regclass", 4, true, b'b', b'N', false, 0, 2210, [2218, 2219, 2452, 2453], b'i', b'p', 0, 0),
    ty(2206, "regtype", 4, true, b'b', b'N', false, 0, 2211, [2220, 2221, 2454, 2455], b'i', b'p', 0, 0),
    ty(2207, "_regprocedure", -1, false, b'b', b'A', false, 2202, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(2210, "_regclass", -1, false, b'b', b'A', false, 2205, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(2211, "_regtype", -1, false, b'b', b'A', false, 2206, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(2249, "record", -1, false, b'p', b'P', false, 0, 2287, [2290, 2291, 2402, 2403], b'd', b'x', 0, 0),
    ty(2275, "cstring", -2, false, b'p', b'P', false, 0, 0, [2292, 2293, 2500, 2501], b'c', b'p', 0, 0),
    ty(2276, "any", 4, true, b'p', b'P', false, 0, 0, [2294, 2295, 0, 0], b'i', b'p', 0, 0),
    ty(2277, "anyarray", -1, false, b'p', b'P', false, 0, 0, [2296, 2297, 2502, 2503], b'd', b'x', 0, 0),
    ty(2278, "void", 4, true, b'p', b'P', false, 0, 0, [2298, 2299, 3120, 3121], b'i', b'p', 0, 0),
    ty(2287, "_record", -1, false, b'p', b'P', false, 2249, 0, [750, 751, 2400, 2401], b'd', b'x', 0, 6179),
    ty(2776, "anynonarray", 4, true, b'p', b'P', false, 0, 0, [2777, 2778, 0, 0], b'i', b'p', 0, 0),
    ty(2950, "uuid", 16, false, b'b', b'U', false, 0, 2951, [2952, 2953, 2961, 2962], b'c', b'p', 0, 0),
    ty(2951, "_uuid", -1, false, b'b', b'A', false, 2950, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(3802, "jsonb", -1, false, b'b', b'U', false, 0, 3807, [3806, 3804, 3805, 3803], b'i', b'x', 0, 6098),
    ty(3807, "_jsonb", -1, false, b'b', b'A', false, 3802, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(4089, "regnamespace", 4, true, b'b', b'N', false, 0, 4090, [4084, 4085, 4087, 4088], b'i', b'p', 0, 0),
    ty(4090, "_regnamespace", -1, false, b'b', b'A', false, 4089, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(4096, "regrole", 4, true, b'b', b'N', false, 0, 4097, [4098, 4092, 4094, 4095], b'i', b'p', 0, 0),
    ty(4097, "_regrole", -1, false, b'b', b'A', false, 4096, 0, [750, 751, 2400, 2401], b'i', b'x', 0, 6179),
    ty(16385, "_kv", -1, false, b'b', b'A', false, 16386, 0, [750, 751, 2400, 2401], b'd', b'x', 0, 6179),
    ty(16386, "kv", -1, false, b'c', b'C', false, 0, 16385, [2290, 2291, 2402, 2403], b'd', b'x', 0, 0),
];

/// pg_proc names for the regproc columns above (typinput, amhandler, ...).
#[rustfmt::skip]
pub(crate) static PROCS: &[(Oid, &str)] = &[
    (3, "heap_tableam_handler"),
    (2777, "anynonarray_in"),
    (2778, "anynonarray_out"),
    (31, "byteaout"),
    (330, "bthandler"),
    (331, "hashhandler"),
    (332, "gisthandler"),
    (333, "ginhandler"),
    (334, "spghandler"),
    (335, "brinhandler"),
    (33, "charout"),
    (34, "namein"),
    (35, "nameout"),
    (38, "int2in"),
    (39, "int2out"),
    (40, "int2vectorin"),
    (41, "int2vectorout"),
    (42, "int4in"),
    (43, "int4out"),
    (44, "regprocin"),
    (45, "regprocout"),
    (46, "textin"),
    (47, "textout"),
    (48, "tidin"),
    (49, "tidout"),
    (50, "xidin"),
    (51, "xidout"),
    (52, "cidin"),
    (53, "cidout"),
    (54, "oidvectorin"),
    (55, "oidvectorout"),
    (109, "unknownin"),
    (110, "unknownout"),
    (195, "pg_node_tree_in"),
    (196, "pg_node_tree_out"),
    (197, "pg_node_tree_recv"),
    (198, "pg_node_tree_send"),
    (200, "float4in"),
    (201, "float4out"),
    (214, "float8in"),
    (215, "float8out"),
    (321, "json_in"),
    (322, "json_out"),
    (323, "json_recv"),
    (324, "json_send"),
    (460, "int8in"),
    (461, "int8out"),
    (750, "array_in"),
    (751, "array_out"),
    (910, "inet_in"),
    (911, "inet_out"),
    (1031, "aclitemin"),
    (1032, "aclitemout"),
    (1044, "bpcharin"),
    (1045, "bpcharout"),
    (1046, "varcharin"),
    (1047, "varcharout"),
    (1084, "date_in"),
    (1085, "date_out"),
    (1143, "time_in"),
    (1144, "time_out"),
    (1150, "timestamptz_in"),
    (1151, "timestamptz_out"),
    (1160, "interval_in"),
    (1161, "interval_out"),
    (1242, "boolin"),
    (1243, "boolout"),
    (1244, "byteain"),
    (1245, "charin"),
    (1312, "timestamp_in"),
    (1313, "timestamp_out"),
    (1701, "numeric_in"),
    (1702, "numeric_out"),
    (1798, "oidin"),
    (1799, "oidout"),
    (2212, "regprocedurein"),
    (2213, "regprocedureout"),
    (2218, "regclassin"),
    (2219, "regclassout"),
    (2220, "regtypein"),
    (2221, "regtypeout"),
    (2290, "record_in"),
    (2291, "record_out"),
    (2292, "cstring_in"),
    (2293, "cstring_out"),
    (2294, "any_in"),
    (2295, "any_out"),
    (2296, "anyarray_in"),
    (2297, "anyarray_out"),
    (2298, "void_in"),
    (2299, "void_out"),
    (2400, "array_recv"),
    (2401, "array_send"),
    (2402, "record_recv"),
    (2403, "record_send"),
    (2404, "int2recv"),
    (2405, "int2send"),
    (2406, "int4recv"),
    (2407, "int4send"),
    (2408, "int8recv"),
    (2409, "int8send"),
    (2410, "int2vectorrecv"),
    (2411, "int2vectorsend"),
    (2412, "bytearecv"),
    (2413, "byteasend"),
    (2414, "textrecv"),
    (2415, "textsend"),
    (2416, "unknownrecv"),
    (2417, "unknownsend"),
    (2418, "oidrecv"),
    (2419, "oidsend"),
    (2420, "oidvectorrecv"),
    (2421, "oidvectorsend"),
    (2422, "namerecv"),
    (2423, "namesend"),
    (2424, "float4recv"),
    (2425, "float4send"),
    (2426, "float8recv"),
    (2427, "float8send"),
    (2430, "bpcharrecv"),
    (2431, "bpcharsend"),
    (2432, "varcharrecv"),
    (2433, "varcharsend"),
    (2434, "charrecv"),
    (2435, "charsend"),
    (2436, "boolrecv"),
    (2437, "boolsend"),
    (2438, "tidrecv"),
    (2439, "tidsend"),
    (2440, "xidrecv"),
    (2441, "xidsend"),
    (2442, "cidrecv"),
    (2443, "cidsend"),
    (2444, "regprocrecv"),
    (2445, "regprocsend"),
    (2446, "regprocedurerecv"),
    (2447, "regproceduresend"),
    (2452, "regclassrecv"),
    (2453, "regclasssend"),
    (2454, "regtyperecv"),
    (2455, "regtypesend"),
    (2460, "numeric_recv"),
    (2461, "numeric_send"),
    (2468, "date_recv"),
    (2469, "date_send"),
    (2470, "time_recv"),
    (2471, "time_send"),
    (2474, "timestamp_recv"),
    (2475, "timestamp_send"),
    (2476, "timestamptz_recv"),
    (2477, "timestamptz_send"),
    (2478, "interval_recv"),
    (2479, "interval_send"),
    (2496, "inet_recv"),
    (2497, "inet_send"),
    (2500, "cstring_recv"),
    (2501, "cstring_send"),
    (2502, "anyarray_recv"),
    (2503, "anyarray_send"),
    (2952, "uuid_in"),
    (2953, "uuid_out"),
    (2961, "uuid_recv"),
    (2962, "uuid_send"),
    (3120, "void_recv"),
    (3121, "void_send"),
    (3803, "jsonb_send"),
    (3804, "jsonb_out"),
    (3805, "jsonb_recv"),
    (3806, "jsonb_in"),
    (4084, "regnamespacein"),
    (4085, "regnamespaceout"),
    (4087, "regnamespacerecv"),
    (4088, "regnamespacesend"),
    (4092, "regroleout"),
    (4094, "regrolerecv"),
    (4095, "regrolesend"),
    (4098, "regrolein"),
    (6098, "jsonb_subscript_handler"),
    (6179, "array_subscript_handler"),
    (6180, "raw_array_subscript_handler"),
];

pub(crate) fn type_info(ty: Oid) -> Option<&'static TypeInfo> {
    TYPES
        .binary_search_by_key(&ty, |t| t.oid)
        .ok()
        .map(|i| &TYPES[i])
}

/// A function's name by OID (type I/O functions and those in pg_proc).
pub(crate) fn proc_name(proc_oid: Oid) -> Option<&'static str> {
    PROCS
        .iter()
        .find(|p| p.0 == proc_oid)
        .map(|p| p.1)
        .or_else(|| procs::find(proc_oid).map(|p| p.name))
}

/// A function's OID by name (the first overload, as regprocin requires a
/// unique name).
fn proc_oid(name: &str) -> Option<Oid> {
    PROCS
        .iter()
        .find(|p| p.1 == name)
        .map(|p| p.0)
        .or_else(|| procs::PROCS.iter().find(|p| p.name == name).map(|p| p.oid))
}

/// The element type of a true array type (not int2vector/oidvector).
pub(crate) fn array_elem(ty: Oid) -> Option<Oid> {
    let t = type_info(ty)?;
    (t.category == b'A' && t.elem != 0 && t.storage != b'p').then_some(t.elem)
}

/// The element type of anything subscriptable: arrays, int2vector, oidvector.
pub(crate) fn subscript_elem(ty: Oid) -> Option<Oid> {
    let t = type_info(ty)?;
    (t.category == b'A' && t.elem != 0).then_some(t.elem)
}

pub(crate) fn array_of(elem: Oid) -> Option<Oid> {
    type_info(elem).map(|t| t.array).filter(|&a| a != 0)
}

/// int2vector and oidvector: space-separated output, 0-based subscripts.
pub(crate) fn is_vector(ty: Oid) -> bool {
    ty == oid::INT2VECTOR || ty == oid::OIDVECTOR
}

/// Integer-valued types (OID aliases included), kept as `Value::Int`.
pub(crate) fn is_int(ty: Oid) -> bool {
    use oid::*;
    matches!(
        ty,
        INT2 | INT4
            | INT8
            | OID
            | XID
            | CID
            | REGPROC
            | REGPROCEDURE
            | REGCLASS
            | REGTYPE
            | REGNAMESPACE
            | REGROLE
    )
}

pub(crate) fn is_numeric(ty: Oid) -> bool {
    is_int(ty) || matches!(ty, oid::NUMERIC | oid::FLOAT4 | oid::FLOAT8)
}

/// Character types; `unknown` (an untyped literal) behaves as one.
pub(crate) fn is_string(ty: Oid) -> bool {
    use oid::*;
    matches!(
        ty,
        TEXT | NAME | VARCHAR | BPCHAR | CHAR | UNKNOWN | PG_NODE_TREE
    )
}

/// Whether `=`/`<` may compare values of these two types.
pub(crate) fn comparable(a: Oid, b: Oid) -> bool {
    if a == b || (is_numeric(a) && is_numeric(b)) || (is_string(a) && is_string(b)) {
        return true;
    }
    match (
        array_elem(a).or(subscript_elem(a)),
        array_elem(b).or(subscript_elem(b)),
    ) {
        (Some(x), Some(y)) => comparable(x, y),
        _ => false,
    }
}

/// Numeric promotion for arithmetic: int2 < int4 < int8 < numeric < float8.
pub(crate) fn numeric_rank(ty: Oid) -> u8 {
    match ty {
        oid::INT2 => 1,
        oid::INT4 => 2,
        oid::NUMERIC => 4,
        oid::FLOAT4 | oid::FLOAT8 => 5,
        _ => 3, // int8 and the OID types (PostgreSQL promotes oid to int8)
    }
}

pub(crate) fn rank_type(rank: u8) -> Oid {
    match rank {
        1 => oid::INT2,
        2 => oid::INT4,
        3 => oid::INT8,
        4 => oid::NUMERIC,
        _ => oid::FLOAT8,
    }
}

/// `format_type(oid, typmod)`: the SQL spelling of a type. `typmod` is
/// `None` when not given (SQL NULL).
pub(crate) fn format_type(ty: Oid, typmod: Option<i32>) -> String {
    let Some(t) = type_info(ty) else {
        return "???".to_string();
    };
    if let Some(elem) = array_elem(ty) {
        return format!("{}[]", format_type(elem, typmod));
    }
    let given = typmod.is_some();
    let m = typmod.filter(|&m| m >= 0);
    match ty {
        oid::BOOL => "boolean".into(),
        oid::INT2 => "smallint".into(),
        oid::INT4 => "integer".into(),
        oid::INT8 => "bigint".into(),
        oid::FLOAT4 => "real".into(),
        oid::FLOAT8 => "double precision".into(),
        oid::CHAR => "\"char\"".into(),
        oid::BPCHAR => match m {
            Some(m) => format!("character({})", m - 4),
            // bpchar with typmod -1 is not character(1): report it as bpchar.
            None if given => "bpchar".into(),
            None => "character".into(),
        },
        oid::VARCHAR => match m {
            Some(m) => format!("character varying({})", m - 4),
            None => "character varying".into(),
        },
        oid::NUMERIC => match m {
            Some(m) => format!("numeric({},{})", ((m - 4) >> 16) & 0xffff, (m - 4) & 0xffff),
            None => "numeric".into(),
        },
        oid::TIMESTAMP | oid::TIMESTAMPTZ | oid::TIME => {
            let base = if ty == oid::TIME { "time" } else { "timestamp" };
            let zone = if ty == oid::TIMESTAMPTZ {
                "with"
            } else {
                "without"
            };
            match m {
                Some(p) => format!("{base}({p}) {zone} time zone"),
                None => format!("{base} {zone} time zone"),
            }
        }
        oid::INTERVAL => match m {
            Some(p) => format!("interval({})", p & 0xffff),
            None => "interval".into(),
        },
        _ => quote_ident(t.name),
    }
}

/// The canonical pg_type name for a SQL type spelling (`integer` → int4,
/// `character varying` → varchar, `"char"` → char), or the name itself.
fn canonical_type_name(name: &str) -> &str {
    match name {
        "boolean" => "bool",
        "smallint" => "int2",
        "int" | "integer" => "int4",
        "bigint" => "int8",
        "real" | "float(24)" => "float4",
        "double precision" | "float" => "float8",
        "decimal" | "dec" => "numeric",
        "character varying" | "char varying" => "varchar",
        "character" | "char" => "bpchar",
        "\"char\"" => "char",
        "timestamp with time zone" => "timestamptz",
        "timestamp without time zone" => "timestamp",
        "time without time zone" => "time",
        other => other,
    }
}

/// Parses a type name as SQL writes it (`pg_catalog.varchar(60)`,
/// `text[]`, `double precision`): (type OID, typmod).
pub(crate) fn parse_type_name(written: &str) -> Option<(Oid, i32)> {
    let mut s = written.trim().to_string();
    let mut array = false;
    while let Some(rest) = s.strip_suffix("[]") {
        array = true;
        s = rest.trim_end().to_string();
    }
    // A typmod in parentheses: `(60)`, `(10,2)`.
    let mut mods: Vec<i32> = Vec::new();
    if let (Some(open), true) = (s.find('('), s.ends_with(')')) {
        for part in s[open + 1..s.len() - 1].split(',') {
            mods.push(part.trim().parse().ok()?);
        }
        s = s[..open].trim_end().to_string();
    }
    // Case-fold unquoted words; keep a quoted "char" distinct from char.
    let lowered = if s.contains('"') {
        s.replace("\"pg_catalog\".", "pg_catalog.")
    } else {
        s.to_ascii_lowercase()
    };
    let mut name = lowered.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(rest) = name.strip_prefix("pg_catalog.") {
        name = rest.to_string();
    }
    if name.starts_with('"') && name != "\"char\"" {
        name = name.trim_matches('"').to_string();
    }
    let canonical = canonical_type_name(&name);
    let base = TYPES.iter().find(|t| t.name == canonical)?.oid;
    let typmod = match (base, mods.as_slice()) {
        (oid::VARCHAR, [n]) | (oid::BPCHAR, [n]) => n + 4,
        // SQL's CHARACTER without a length is character(1).
        (oid::BPCHAR, []) if canonical == "bpchar" && name != "bpchar" => 5,
        (oid::NUMERIC, [p]) => (p << 16) + 4,
        (oid::NUMERIC, [p, s]) => ((p << 16) | s) + 4,
        (oid::TIMESTAMP | oid::TIMESTAMPTZ | oid::TIME, [p]) => *p,
        (_, []) => -1,
        _ => return None,
    };
    if array {
        Some((array_of(base)?, typmod))
    } else {
        Some((base, typmod))
    }
}

/// PostgreSQL's quote_ident: quotes unless all lower-case letters, digits
/// and underscores (not starting with a digit) and not a reserved keyword.
pub(crate) fn quote_ident(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !is_reserved_keyword(s);
    if plain {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

/// PostgreSQL's reserved (and type/function-name) keywords, which
/// quote_ident must quote.
fn is_reserved_keyword(s: &str) -> bool {
    const RESERVED: &[&str] = &[
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "asymmetric",
        "authorization",
        "between",
        "bigint",
        "binary",
        "bit",
        "boolean",
        "both",
        "case",
        "cast",
        "char",
        "character",
        "check",
        "coalesce",
        "collate",
        "collation",
        "column",
        "concurrently",
        "constraint",
        "create",
        "cross",
        "current_catalog",
        "current_date",
        "current_role",
        "current_schema",
        "current_time",
        "current_timestamp",
        "current_user",
        "dec",
        "decimal",
        "default",
        "deferrable",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "exists",
        "extract",
        "false",
        "fetch",
        "float",
        "for",
        "foreign",
        "freeze",
        "from",
        "full",
        "grant",
        "greatest",
        "group",
        "grouping",
        "having",
        "ilike",
        "in",
        "initially",
        "inner",
        "inout",
        "int",
        "integer",
        "intersect",
        "interval",
        "into",
        "is",
        "isnull",
        "join",
        "json",
        "lateral",
        "leading",
        "least",
        "left",
        "like",
        "limit",
        "localtime",
        "localtimestamp",
        "national",
        "natural",
        "nchar",
        "none",
        "normalize",
        "not",
        "notnull",
        "null",
        "nullif",
        "numeric",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "out",
        "outer",
        "overlaps",
        "overlay",
        "placing",
        "position",
        "precision",
        "primary",
        "real",
        "references",
        "returning",
        "right",
        "row",
        "select",
        "session_user",
        "setof",
        "similar",
        "smallint",
        "some",
        "substring",
        "symmetric",
        "table",
        "tablesample",
        "then",
        "time",
        "timestamp",
        "to",
        "trailing",
        "treat",
        "trim",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "values",
        "varchar",
        "variadic",
        "verbose",
        "when",
        "where",
        "window",
        "with",
        "xmlattributes",
        "xmlconcat",
        "xmlelement",
        "xmlexists",
        "xmlforest",
        "xmlnamespaces",
        "xmlparse",
        "xmlpi",
        "xmlroot",
        "xmlserialize",
        "xmltable",
    ];
    RESERVED.contains(&s)
}

/// Splits a possibly qualified, possibly quoted name (`public."Kv"`) into
/// its case-folded parts, as regclassin does.
pub(crate) fn parse_qualified_name(s: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut chars = s.trim().chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    '"' => break,
                    c => part.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' || c.is_whitespace() {
                    break;
                }
                part.extend(c.to_lowercase());
                chars.next();
            }
            if part.is_empty() {
                return None;
            }
        }
        parts.push(part);
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => return Some(parts),
            Some('.') => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
            }
            Some(_) => return None,
        }
    }
}

// ---------------------------------------------------------------------------
// Values

/// A SQL value. Which variant a type uses: bool → Bool; the integer and OID
/// types → Int; float4/float8 → Float; numeric → Num; arrays, int2vector,
/// oidvector → Array; everything else (text, name, timestamps, ...) → Text
/// holding the PostgreSQL text form.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Num(Numeric),
    /// Shared so that copying rows through joins does not copy strings.
    Text(Arc<str>),
    Array(Vec<Value>),
}

impl Value {
    pub fn text(s: impl Into<Arc<str>>) -> Value {
        Value::Text(s.into())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A hashable key under which equal values (for DISTINCT, GROUP BY,
    /// UNION) coincide: numerics are normalised, -0 is 0.
    pub fn key(&self, out: &mut String) {
        use std::fmt::Write;
        match self {
            Value::Null => out.push('N'),
            Value::Bool(b) => out.push(if *b { 'T' } else { 'F' }),
            Value::Int(i) => {
                let _ = write!(out, "n{i};");
            }
            Value::Float(f) => {
                let f = if *f == 0.0 { 0.0 } else { *f };
                if f.fract() == 0.0 && f.abs() < 1e18 {
                    let _ = write!(out, "n{};", f as i64);
                } else {
                    let _ = write!(out, "f{f:e};");
                }
            }
            Value::Num(n) => {
                let n = n.normalized();
                if n.scale == 0 {
                    let _ = write!(out, "n{};", n.mant);
                } else {
                    let _ = write!(out, "d{};", n);
                }
            }
            Value::Text(s) => {
                let _ = write!(out, "s{}:{s}", s.len());
            }
            Value::Array(items) => {
                out.push('[');
                for v in items {
                    v.key(out);
                }
                out.push(']');
            }
        }
    }
}

/// Three-way comparison of two non-NULL values of comparable types; `None`
/// if either is NULL.
pub(crate) fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    use Value::*;
    Some(match (a, b) {
        (Null, _) | (_, Null) => return None,
        (Int(x), Int(y)) => x.cmp(y),
        (Bool(x), Bool(y)) => x.cmp(y),
        (Text(x), Text(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Float(_), _) | (_, Float(_)) => {
            let (x, y) = (as_f64(a)?, as_f64(b)?);
            // PostgreSQL orders NaN above every other value.
            match (x.is_nan(), y.is_nan()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                _ => x.partial_cmp(&y)?,
            }
        }
        (Num(_) | Int(_), Num(_) | Int(_)) => as_numeric(a)?.cmp(&as_numeric(b)?),
        (Array(x), Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                // NULL elements sort after everything else.
                let o = match (p.is_null(), q.is_null()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    _ => compare(p, q)?,
                };
                if o != Ordering::Equal {
                    return Some(o);
                }
            }
            x.len().cmp(&y.len())
        }
        _ => return None,
    })
}

/// Total order for ORDER BY (NULLs are placed by the caller); values that
/// do not compare (never of one column's type) order by kind.
pub(crate) fn sort_cmp(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) | Value::Float(_) | Value::Num(_) => 2,
            Value::Text(_) => 3,
            Value::Array(_) => 4,
        }
    }
    compare(a, b).unwrap_or_else(|| rank(a).cmp(&rank(b)))
}

pub(crate) fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Num(n) => Some(n.to_f64()),
        _ => None,
    }
}

pub(crate) fn as_numeric(v: &Value) -> Option<Numeric> {
    match v {
        Value::Int(i) => Some(Numeric::from_i64(*i)),
        Value::Num(n) => Some(*n),
        Value::Float(f) => Numeric::from_f64(*f),
        _ => None,
    }
}

/// float4/float8 output: the shortest exact digits, in exponent form when
/// the decimal exponent is < -4 or >= 15 (6 for float4), as PostgreSQL 12+.
pub(crate) fn float_out(f: f64, single: bool) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = if single {
        format!("{:e}", f as f32)
    } else {
        format!("{f:e}")
    };
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::new();
    if f < 0.0 {
        out.push('-');
    }
    if exp < -4 || exp >= if single { 6 } else { 15 } {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push_str(&format!(
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        ));
    } else if exp < 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-exp - 1) as usize));
        out.push_str(&digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.push_str(&"0".repeat(int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Text output

/// The text output of a value of type `ty` (what goes on the wire). `user`
/// names role 10 for regrole.
pub(crate) fn output(v: &Value, ty: Oid, user: &str) -> Option<String> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => (if *b { "t" } else { "f" }).to_string(),
        Value::Int(i) => int_out(*i, ty, user),
        Value::Float(f) => float_out(*f, ty == oid::FLOAT4),
        Value::Num(n) => n.to_string(),
        Value::Text(s) => s.to_string(),
        Value::Array(items) => {
            let elem = subscript_elem(ty).unwrap_or(oid::TEXT);
            if is_vector(ty) {
                let parts: Vec<String> = items
                    .iter()
                    .map(|v| output(v, elem, user).unwrap_or_default())
                    .collect();
                return Some(parts.join(" "));
            }
            let mut out = String::from("{");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                match output(item, elem, user) {
                    None => out.push_str("NULL"),
                    Some(s) => out.push_str(&array_quote(&s)),
                }
            }
            out.push('}');
            out
        }
    })
}

/// Quotes an array element when array_in would otherwise misread it.
fn array_quote(s: &str) -> String {
    let needs = s.is_empty()
        || s.eq_ignore_ascii_case("NULL")
        || s.chars()
            .any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || c.is_ascii_whitespace());
    if !needs {
        return s.to_string();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Output of the integer-valued types; the reg* types print names.
fn int_out(i: i64, ty: Oid, user: &str) -> String {
    let reg = matches!(
        ty,
        oid::REGCLASS
            | oid::REGTYPE
            | oid::REGNAMESPACE
            | oid::REGPROC
            | oid::REGPROCEDURE
            | oid::REGROLE
    );
    if reg && i == 0 {
        return "-".into();
    }
    let o = i as Oid;
    let name = match ty {
        oid::REGCLASS => tables::regclass_name(o),
        oid::REGTYPE => type_info(o).map(|_| format_type(o, None)),
        oid::REGNAMESPACE => tables::namespace_name(o).map(quote_ident),
        // An overloaded name is ambiguous as input, so it is qualified.
        oid::REGPROC => proc_name(o).map(|n| {
            if procs::PROCS.iter().filter(|p| p.name == n).count() > 1 {
                format!("pg_catalog.{n}")
            } else {
                n.to_string()
            }
        }),
        oid::REGPROCEDURE => proc_name(o).map(|n| format!("{n}()")),
        oid::REGROLE => tables::role_name(o, user).map(|n| quote_ident(&n)),
        _ => None,
    };
    name.unwrap_or_else(|| i.to_string())
}

// ---------------------------------------------------------------------------
// Casts

fn invalid_input(type_name: &str, s: &str) -> PgError {
    PgError::new(
        sqlstate::INVALID_TEXT_REPRESENTATION,
        format!("invalid input syntax for type {type_name}: \"{s}\""),
    )
}

pub(crate) fn int_range_error(ty: Oid) -> PgError {
    let what = match ty {
        oid::INT2 => "smallint",
        oid::INT4 => "integer",
        oid::OID => "OID",
        _ => "bigint",
    };
    PgError::new(
        sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
        format!("{what} out of range"),
    )
}

/// Checks that `i` fits integer type `ty`.
pub(crate) fn check_int(i: i64, ty: Oid) -> Result<i64, PgError> {
    let ok = match ty {
        oid::INT2 => i16::try_from(i).is_ok(),
        oid::INT4 => i32::try_from(i).is_ok(),
        oid::INT8 => true,
        // OID types: unsigned 32-bit (PostgreSQL also accepts negatives
        // down to -2^31 and wraps them).
        _ => (-(1i64 << 31)..=(u32::MAX as i64)).contains(&i),
    };
    if !ok {
        return Err(int_range_error(ty));
    }
    if !matches!(ty, oid::INT2 | oid::INT4 | oid::INT8) && i < 0 {
        return Ok(i + (1i64 << 32));
    }
    Ok(i)
}

fn parse_int(s: &str, ty: Oid) -> Result<i64, PgError> {
    let name = match ty {
        oid::INT2 => "smallint",
        oid::INT4 => "integer",
        oid::INT8 => "bigint",
        _ => "oid",
    };
    let t = s.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid_input(name, s));
    }
    let out_of_range = || {
        PgError::new(
            sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
            format!("value \"{s}\" is out of range for type {name}"),
        )
    };
    let v: i64 = t.parse().map_err(|_| out_of_range())?;
    check_int(v, ty).map_err(|_| out_of_range())
}

fn parse_bool(s: &str) -> Option<bool> {
    let t = s.trim().to_ascii_lowercase();
    match t.as_str() {
        "1" | "on" => return Some(true),
        "0" | "off" | "of" => return Some(false),
        "" | "o" => return None,
        _ => {}
    }
    for (word, value) in [
        ("true", true),
        ("false", false),
        ("yes", true),
        ("no", false),
    ] {
        if word.starts_with(&t) {
            return Some(value);
        }
    }
    None
}

fn parse_float(s: &str, ty: Oid) -> Result<f64, PgError> {
    let t = s.trim().to_ascii_lowercase();
    let v = match t.as_str() {
        "nan" => f64::NAN,
        "infinity" | "+infinity" | "inf" | "+inf" => f64::INFINITY,
        "-infinity" | "-inf" => f64::NEG_INFINITY,
        _ if t
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-')) =>
        {
            t.parse::<f64>().map_err(|_| {
                invalid_input(
                    if ty == oid::FLOAT4 {
                        "real"
                    } else {
                        "double precision"
                    },
                    s,
                )
            })?
        }
        _ => {
            return Err(invalid_input(
                if ty == oid::FLOAT4 {
                    "real"
                } else {
                    "double precision"
                },
                s,
            ))
        }
    };
    Ok(if ty == oid::FLOAT4 {
        v as f32 as f64
    } else {
        v
    })
}

/// Parses an array literal (`{a,"b c",NULL}`) into text elements.
pub(crate) fn parse_array_literal(s: &str) -> Result<Vec<Option<String>>, PgError> {
    let malformed = || {
        PgError::new(
            sqlstate::INVALID_TEXT_REPRESENTATION,
            format!("malformed array literal: \"{s}\""),
        )
    };
    let t = s.trim();
    let inner = t
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .ok_or_else(malformed)?;
    let mut out = Vec::new();
    if inner.trim().is_empty() {
        return Ok(out);
    }
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut item = String::new();
        let mut quoted = false;
        if chars.peek() == Some(&'"') {
            quoted = true;
            chars.next();
            loop {
                match chars.next().ok_or_else(malformed)? {
                    '\\' => item.push(chars.next().ok_or_else(malformed)?),
                    '"' => break,
                    c => item.push(c),
                }
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                if matches!(c, '{' | '}' | '"') {
                    return Err(malformed());
                }
                chars.next();
                if c == '\\' {
                    item.push(chars.next().ok_or_else(malformed)?);
                } else {
                    item.push(c);
                }
            }
            item = item.trim_end().to_string();
            if item.is_empty() {
                return Err(malformed());
            }
        }
        out.push(if !quoted && item.eq_ignore_ascii_case("NULL") {
            None
        } else {
            Some(item)
        });
        match chars.next() {
            None => return Ok(out),
            Some(',') => {}
            Some(_) => return Err(malformed()),
        }
    }
}

/// The text a cast to a character type produces (booleans spell out
/// `true`/`false` here, unlike their output form `t`/`f`).
fn cast_text(v: &Value, from: Oid, user: &str) -> String {
    match v {
        Value::Bool(b) => (if *b { "true" } else { "false" }).to_string(),
        _ => output(v, from, user).unwrap_or_default(),
    }
}

/// Truncates to at most `n` characters.
fn truncate_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Converts `v` from type `from` to type `to` (with typmod, -1 for none).
pub(crate) fn cast(
    v: Value,
    from: Oid,
    to: Oid,
    typmod: i32,
    user: &str,
) -> Result<Value, PgError> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    if from == to && typmod < 0 {
        return Ok(v);
    }
    // Arrays: element by element (a text source is parsed as a literal).
    if let Some(elem) = subscript_elem(to) {
        let items: Vec<Value> = match v {
            Value::Array(items) => {
                let from_elem = subscript_elem(from).unwrap_or(oid::TEXT);
                items
                    .into_iter()
                    .map(|x| cast(x, from_elem, elem, -1, user))
                    .collect::<Result<_, _>>()?
            }
            Value::Text(s) if is_vector(to) => s
                .split_whitespace()
                .map(|p| cast(Value::text(p), oid::TEXT, elem, -1, user))
                .collect::<Result<_, _>>()?,
            Value::Text(s) => parse_array_literal(&s)?
                .into_iter()
                .map(|x| match x {
                    None => Ok(Value::Null),
                    Some(x) => cast(Value::text(x), oid::TEXT, elem, typmod, user),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(cannot_cast(from, to)),
        };
        return Ok(Value::Array(items));
    }
    if matches!(v, Value::Array(_)) && !is_string(to) {
        return Err(cannot_cast(from, to));
    }
    match to {
        oid::TEXT
        | oid::NAME
        | oid::VARCHAR
        | oid::BPCHAR
        | oid::CHAR
        | oid::UNKNOWN
        | oid::JSON
        | oid::JSONB
        | oid::PG_NODE_TREE
        | oid::UUID
        | oid::INET => {
            let s = cast_text(&v, from, user);
            Ok(Value::text(match to {
                // name is at most 63 bytes (NAMEDATALEN - 1).
                oid::NAME => {
                    let mut end = s.len().min(63);
                    while !s.is_char_boundary(end) {
                        end -= 1;
                    }
                    s[..end].to_string()
                }
                oid::CHAR => s.chars().next().map(String::from).unwrap_or_default(),
                oid::VARCHAR if typmod >= 4 => truncate_chars(&s, (typmod - 4) as usize),
                oid::BPCHAR if typmod >= 4 => {
                    let n = (typmod - 4) as usize;
                    let t = truncate_chars(&s, n);
                    let len = t.chars().count();
                    t + &" ".repeat(n - len)
                }
                _ => s,
            }))
        }
        oid::BOOL => match v {
            Value::Bool(b) => Ok(Value::Bool(b)),
            Value::Int(i) if from == oid::INT4 => Ok(Value::Bool(i != 0)),
            Value::Text(s) => parse_bool(&s)
                .map(Value::Bool)
                .ok_or_else(|| invalid_input("boolean", &s)),
            _ => Err(cannot_cast(from, to)),
        },
        oid::FLOAT4 | oid::FLOAT8 => match v {
            Value::Text(s) => parse_float(&s, to).map(Value::Float),
            Value::Bool(_) => Err(cannot_cast(from, to)),
            other => {
                let f = as_f64(&other).ok_or_else(|| cannot_cast(from, to))?;
                Ok(Value::Float(if to == oid::FLOAT4 {
                    f as f32 as f64
                } else {
                    f
                }))
            }
        },
        oid::NUMERIC => {
            let n = match v {
                Value::Text(s) => Numeric::parse(&s).ok_or_else(|| invalid_input("numeric", &s))?,
                Value::Float(f) => Numeric::from_f64(f).ok_or_else(|| {
                    PgError::new(
                        sqlstate::FEATURE_NOT_SUPPORTED,
                        format!("cannot convert {} to numeric", float_out(f, false)),
                    )
                })?,
                other => as_numeric(&other).ok_or_else(|| cannot_cast(from, to))?,
            };
            if typmod >= 4 {
                let scale = ((typmod - 4) & 0xffff) as u32;
                let precision = ((typmod - 4) >> 16) as u32;
                let r = n.round(scale);
                if r.mant.unsigned_abs().to_string().len() as u32 > precision.max(scale) {
                    return Err(PgError::new(
                        sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
                        "numeric field overflow",
                    ));
                }
                return Ok(Value::Num(r));
            }
            Ok(Value::Num(n))
        }
        oid::REGCLASS
        | oid::REGTYPE
        | oid::REGNAMESPACE
        | oid::REGPROC
        | oid::REGPROCEDURE
        | oid::REGROLE
            if matches!(v, Value::Text(_)) =>
        {
            let Value::Text(s) = v else { unreachable!() };
            reg_in(&s, to, user).map(|o| Value::Int(o as i64))
        }
        _ if is_int(to) => match v {
            Value::Int(i) => check_int(i, to).map(Value::Int),
            Value::Text(s) => parse_int(&s, to).map(Value::Int),
            Value::Bool(b) if to == oid::INT4 => Ok(Value::Int(b as i64)),
            Value::Float(f) => {
                // float → int rounds half to even (rint).
                let r = f.round_ties_even();
                if !r.is_finite() || r < i64::MIN as f64 || r >= i64::MAX as f64 {
                    return Err(int_range_error(to));
                }
                check_int(r as i64, to).map(Value::Int)
            }
            Value::Num(n) => {
                check_int(n.to_i64().ok_or_else(|| int_range_error(to))?, to).map(Value::Int)
            }
            _ => Err(cannot_cast(from, to)),
        },
        // Date/time values are kept as their text form.
        oid::DATE => match v {
            Value::Text(s) if from == oid::TIMESTAMPTZ || from == oid::TIMESTAMP => {
                Ok(Value::text(s.chars().take(10).collect::<String>()))
            }
            Value::Text(s) => Ok(Value::text(s.trim().to_string())),
            _ => Err(cannot_cast(from, to)),
        },
        oid::TIMESTAMP => match v {
            Value::Text(s) if from == oid::TIMESTAMPTZ => {
                Ok(Value::text(s.strip_suffix("+00").unwrap_or(&s).to_string()))
            }
            Value::Text(s) => Ok(Value::text(s.trim().to_string())),
            _ => Err(cannot_cast(from, to)),
        },
        oid::TIMESTAMPTZ | oid::TIME | oid::INTERVAL => match v {
            Value::Text(s) => Ok(Value::text(s.trim().to_string())),
            _ => Err(cannot_cast(from, to)),
        },
        oid::BYTEA => match v {
            Value::Text(s) => bytea_in(&s).map(Value::text),
            _ => Err(cannot_cast(from, to)),
        },
        oid::VOID => Ok(Value::text("")),
        _ => Err(cannot_cast(from, to)),
    }
}

fn cannot_cast(from: Oid, to: Oid) -> PgError {
    PgError::new(
        CANNOT_COERCE,
        format!(
            "cannot cast type {} to {}",
            format_type(from, None),
            format_type(to, None)
        ),
    )
}

/// SQLSTATE 42846 cannot_coerce.
pub(crate) const CANNOT_COERCE: &str = "42846";

/// bytea input (hex `\x..` or escape format); kept as its hex output form.
fn bytea_in(s: &str) -> Result<String, PgError> {
    let bytes: Vec<u8> = if let Some(hex) = s.strip_prefix("\\x") {
        let digits: Vec<u8> = hex.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        if digits.len() % 2 != 0 || !digits.iter().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid_input("bytea", s));
        }
        digits
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap_or("00"), 16).unwrap_or(0))
            .collect()
    } else {
        let mut out = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'\\' {
                if b.get(i + 1) == Some(&b'\\') {
                    out.push(b'\\');
                    i += 2;
                } else if i + 3 < b.len()
                    && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
                {
                    let v = (b[i + 1] - b'0') as u32 * 64
                        + (b[i + 2] - b'0') as u32 * 8
                        + (b[i + 3] - b'0') as u32;
                    out.push(u8::try_from(v).map_err(|_| invalid_input("bytea", s))?);
                    i += 4;
                } else {
                    return Err(invalid_input("bytea", s));
                }
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        out
    };
    let mut hex = String::from("\\x");
    for b in bytes {
        hex.push_str(&format!("{b:02x}"));
    }
    Ok(hex)
}

/// Input of the reg* types: a name (or a number) to an OID.
fn reg_in(s: &str, ty: Oid, user: &str) -> Result<Oid, PgError> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<Oid>().map_err(|_| invalid_input("oid", s));
    }
    if t == "-" {
        return Ok(0);
    }
    match ty {
        oid::REGCLASS => {
            let parts = parse_qualified_name(t).ok_or_else(|| invalid_name(s))?;
            tables::lookup_relation(&parts).ok_or_else(|| {
                PgError::new(
                    sqlstate::UNDEFINED_TABLE,
                    format!("relation \"{}\" does not exist", parts.join(".")),
                )
            })
        }
        oid::REGTYPE => parse_type_name(t).map(|(o, _)| o).ok_or_else(|| {
            PgError::new(
                sqlstate::UNDEFINED_OBJECT,
                format!("type \"{t}\" does not exist"),
            )
        }),
        oid::REGNAMESPACE => {
            let parts = parse_qualified_name(t)
                .filter(|p| p.len() == 1)
                .ok_or_else(|| invalid_name(s))?;
            tables::namespace_oid(&parts[0]).ok_or_else(|| {
                PgError::new(
                    INVALID_SCHEMA_NAME,
                    format!("schema \"{}\" does not exist", parts[0]),
                )
            })
        }
        oid::REGROLE => {
            let parts = parse_qualified_name(t)
                .filter(|p| p.len() == 1)
                .ok_or_else(|| invalid_name(s))?;
            tables::role_oid(&parts[0], user).ok_or_else(|| {
                PgError::new(
                    sqlstate::UNDEFINED_OBJECT,
                    format!("role \"{}\" does not exist", parts[0]),
                )
            })
        }
        _ => {
            // regproc / regprocedure: a function name, optionally qualified
            // by pg_catalog (and for regprocedure an argument list).
            let base = t.split('(').next().unwrap_or(t);
            let parts = parse_qualified_name(base).ok_or_else(|| invalid_name(s))?;
            let name = match parts.as_slice() {
                [n] => n,
                [schema, n] if schema == "pg_catalog" => n,
                _ => "",
            };
            proc_oid(name).ok_or_else(|| {
                PgError::new(
                    sqlstate::UNDEFINED_FUNCTION,
                    format!("function \"{t}\" does not exist"),
                )
            })
        }
    }
}

/// SQLSTATE 3F000 invalid_schema_name.
pub(crate) const INVALID_SCHEMA_NAME: &str = "3F000";

fn invalid_name(s: &str) -> PgError {
    PgError::new(INVALID_NAME, format!("invalid name syntax: \"{s}\""))
}

/// SQLSTATE 42602 invalid_name.
const INVALID_NAME: &str = "42602";
