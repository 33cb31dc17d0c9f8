//! The KV REST API over database 0, the data Redis db 0 and the
//! PostgreSQL `kv` table see.
//!
//! - `GET /api/v1/kv/{key}`: 200 with the raw value
//!   (application/octet-stream), or with `Accept: application/json`
//!   `{"key":..,"value":..}` (`key_base64` / `value_base64` for bytes that
//!   are not UTF-8); 404 `{"error":"not found"}`.
//! - `PUT /api/v1/kv/{key}`: the body is the value; with
//!   `Content-Type: application/json` it is `{"value":..}` or
//!   `{"value_base64":..}` with an optional `"ttl_ms"`. `?ttl_ms=N` gives
//!   a raw value a deadline. 200 `{"ok":true}`.
//! - `DELETE /api/v1/kv/{key}`: 200 `{"deleted":true}`, 404
//!   `{"deleted":false}`.
//! - `POST /api/v1/kv`: `{"ops":[{"op":"get"|"set"|"del","key":..},..]}`
//!   as one engine transaction, retried on conflict; 409 once retries run
//!   out, 413 past [`MAX_BATCH_OPS`].
//! - `GET /api/v1/kv?prefix=P&limit=N`: `{"keys":[..],"truncated":bool}`
//!   (the first keys in byte order), through the engine's scan with bounded
//!   work: at most 1M index slots; past that `truncated` is true.

use std::collections::BTreeSet;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::request::{query_pairs, Request};
use super::response::{Response, OCTETS};
use super::{Reply, Route};
use crate::engine::{EngineError, EngineWorker, PutCondition, PutExpiry};
use crate::resp::expiry::now_ms;
use crate::runtime::Shared;

/// The database the API serves.
const DB: u32 = 0;
/// Structural tokens (`{ [ , :`) a JSON body may hold: a parsed
/// `Value` costs far more memory than its text, so a body of many tiny
/// elements is refused (413) before it is parsed. A full batch of
/// [`MAX_BATCH_OPS`] ops needs well under this.
const MAX_JSON_TOKENS: usize = 200_000;
/// Ops in one batch; past it 413.
pub const MAX_BATCH_OPS: usize = 10_000;
/// Commits a batch tries before answering 409.
const MAX_BATCH_ATTEMPTS: usize = 16;
/// Keys a list returns by default, and at most.
const DEFAULT_LIST_LIMIT: usize = 100;
const MAX_LIST_LIMIT: usize = 10_000;
/// Scan steps (of [`LIST_SCAN_COUNT`] slots each) one list may take: the
/// bound on its work whatever the prefix matches.
const MAX_LIST_SCAN_STEPS: usize = 1024;
const LIST_SCAN_COUNT: usize = 1024;

/// Whether a request may use the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Granted,
    /// 401: a password is set and the request does not carry it.
    NeedsPassword,
    /// 403: no password is set and the client is not on loopback.
    LoopbackOnly,
}

/// Without a password, loopback clients may use the API and nobody else
/// (as PostgreSQL without users: protected mode covers `bind`, not
/// `http-bind`). With one, the request must carry `Authorization: Bearer
/// <password>` or Basic with that password (any user name).
pub fn access(shared: &Shared, authorization: Option<&[u8]>, loopback_peer: bool) -> Access {
    decide(
        shared.live.requirepass().as_deref(),
        authorization,
        loopback_peer,
    )
}

fn decide(password: Option<&str>, authorization: Option<&[u8]>, loopback_peer: bool) -> Access {
    match password {
        None if loopback_peer => Access::Granted,
        None => Access::LoopbackOnly,
        Some(password) if carries_password(password, authorization) => Access::Granted,
        Some(_) => Access::NeedsPassword,
    }
}

/// Compared in constant time, lengths included (through SHA-256 digests).
fn carries_password(expected: &str, authorization: Option<&[u8]>) -> bool {
    let Some(header) = authorization else {
        return false;
    };
    let header = trim_ascii(header);
    let Some(space) = header.iter().position(|&b| b == b' ') else {
        return false;
    };
    let (scheme, credentials) = (&header[..space], trim_ascii(&header[space + 1..]));
    let password = if scheme.eq_ignore_ascii_case(b"bearer") {
        credentials.to_vec()
    } else if scheme.eq_ignore_ascii_case(b"basic") {
        let Ok(decoded) = B64.decode(credentials) else {
            return false;
        };
        match decoded.iter().position(|&b| b == b':') {
            Some(colon) => decoded[colon + 1..].to_vec(),
            None => return false,
        }
    } else {
        return false;
    };
    digests_equal(expected.as_bytes(), &password)
}

fn digests_equal(a: &[u8], b: &[u8]) -> bool {
    use sha2::{Digest as _, Sha256};
    let (a, b) = (Sha256::digest(a), Sha256::digest(b));
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// Answers an engine failure: 501 for what the seed ABI cannot do, 503
/// while the write-ahead log cannot be written (the engine logged why), 500
/// otherwise (logged).
fn engine_error(reply: &mut Reply<'_>, error: EngineError) {
    if error == EngineError::Unsupported {
        return reply.error(501, &error.to_string());
    }
    if let EngineError::LogFailed(_) = error {
        return reply.error(503, &error.to_string());
    }
    crate::log_warn!("HTTP KV API: engine error: {error}");
    reply.error(500, &format!("engine error: {error}"));
}

/// Parses a JSON body under [`MAX_JSON_TOKENS`]; the error is the status
/// and message to send.
fn parse_json(body: &[u8]) -> Result<Value, (u16, String)> {
    if json_tokens(body) > MAX_JSON_TOKENS {
        return Err((
            413,
            format!("the JSON body has more than {MAX_JSON_TOKENS} elements"),
        ));
    }
    serde_json::from_slice(body).map_err(|e| (400, format!("invalid JSON body: {e}")))
}

/// Counts `{ [ , :` outside strings (malformed JSON is left to the parser).
fn json_tokens(body: &[u8]) -> usize {
    let (mut count, mut in_string, mut escaped) = (0, false, false);
    for &byte in body {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match byte {
                b'"' => in_string = true,
                b'{' | b'[' | b',' | b':' => count += 1,
                _ => {}
            }
        }
    }
    count
}

/// `{"<name>":"text"}` or `{"<name>_base64":"..."}` for bytes that are
/// not UTF-8.
fn put_bytes(object: &mut Map<String, Value>, name: &str, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(text) => object.insert(name.to_string(), Value::from(text)),
        Err(_) => object.insert(format!("{name}_base64"), Value::from(B64.encode(bytes))),
    };
}

pub fn get(reply: &mut Reply<'_>, worker: &mut EngineWorker, key: &[u8], json: bool) -> Route {
    let mut found = false;
    let result = worker.get(DB, key, |value| {
        let Some(value) = value else {
            return;
        };
        found = true;
        if json {
            let mut object = Map::new();
            put_bytes(&mut object, "key", key);
            put_bytes(&mut object, "value", value);
            reply.json(200, &Value::Object(object));
        } else {
            // Straight from the engine's sink into the output buffer.
            reply.send_head(&Response::new(200, OCTETS, b""), value.len());
            reply.body(value);
        }
    });
    match (result, found) {
        (_, true) => {} // answered from the sink
        (Ok(()), false) => reply.error(404, "not found"),
        (Err(error), false) => engine_error(reply, error),
    }
    Route::Get
}

/// A value and its optional TTL, from a PUT or a batch `set`.
struct NewValue {
    value: Vec<u8>,
    ttl_ms: Option<i64>,
}

pub fn put(
    reply: &mut Reply<'_>,
    worker: &mut EngineWorker,
    key: &[u8],
    request: &Request<'_>,
) -> Route {
    let query_ttl = match query_pairs(request.query) {
        Ok(pairs) => match pairs.iter().find(|(name, _)| name == b"ttl_ms") {
            Some((_, text)) => match parse_ttl_text(text) {
                Ok(ttl) => Some(ttl),
                Err(message) => {
                    reply.error(400, &message);
                    return Route::Put;
                }
            },
            None => None,
        },
        Err(message) => {
            reply.error(400, &message);
            return Route::Put;
        }
    };
    let new = if request.json_body {
        let parsed = parse_json(&request.body).and_then(|body| {
            new_value(&body, "body", &["value", "value_base64", "ttl_ms"]).map_err(|m| (400, m))
        });
        match parsed {
            Ok(new) if new.ttl_ms.is_some() && query_ttl.is_some() => {
                reply.error(400, "ttl_ms given both in the body and in the query");
                return Route::Put;
            }
            Ok(new) => NewValue {
                ttl_ms: new.ttl_ms.or(query_ttl),
                value: new.value,
            },
            Err((status, message)) => {
                reply.error(status, &message);
                return Route::Put;
            }
        }
    } else {
        NewValue {
            value: request.body.to_vec(),
            ttl_ms: query_ttl,
        }
    };
    let expiry = match deadline(new.ttl_ms) {
        Ok(expiry) => expiry,
        Err(message) => {
            reply.error(400, &message);
            return Route::Put;
        }
    };
    match worker.put_with_expiry(DB, key, &new.value, PutCondition::Always, expiry, None) {
        Ok(_) => reply.json(200, &json!({ "ok": true })),
        Err(error) => engine_error(reply, error),
    }
    Route::Put
}

/// The engine deadline for a TTL, as SET PX computes it.
fn deadline(ttl_ms: Option<i64>) -> Result<PutExpiry, String> {
    match ttl_ms {
        None => Ok(PutExpiry::None),
        Some(ttl) => now_ms()
            .checked_add(ttl)
            .map(PutExpiry::At)
            .ok_or_else(|| "ttl_ms is too large".to_string()),
    }
}

fn parse_ttl_text(text: &[u8]) -> Result<i64, String> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse::<i64>().ok())
        .filter(|&ttl| ttl > 0)
        .ok_or_else(|| "ttl_ms must be a positive integer".to_string())
}

/// Reads `value` or `value_base64` (exactly one) and an optional positive
/// `ttl_ms` from a JSON object allowed to hold only `fields`.
fn new_value(object: &Value, what: &str, fields: &[&str]) -> Result<NewValue, String> {
    let object = object
        .as_object()
        .ok_or_else(|| format!("{what} must be a JSON object"))?;
    if let Some(unknown) = object.keys().find(|name| !fields.contains(&name.as_str())) {
        return Err(format!("{what}: unknown field \"{unknown}\""));
    }
    let value = bytes_field(object, what, "value")?
        .ok_or_else(|| format!("{what}: needs \"value\" or \"value_base64\""))?;
    let ttl_ms = match object.get("ttl_ms") {
        None | Some(Value::Null) => None,
        Some(ttl) => Some(
            ttl.as_i64()
                .filter(|&ttl| ttl > 0)
                .ok_or_else(|| format!("{what}: ttl_ms must be a positive integer"))?,
        ),
    };
    Ok(NewValue { value, ttl_ms })
}

/// `name` (a string) or `name_base64`; at most one of them.
fn bytes_field(
    object: &Map<String, Value>,
    what: &str,
    name: &str,
) -> Result<Option<Vec<u8>>, String> {
    let base64_name = format!("{name}_base64");
    match (object.get(name), object.get(&base64_name)) {
        (Some(_), Some(_)) => Err(format!(
            "{what}: give \"{name}\" or \"{base64_name}\", not both"
        )),
        (Some(Value::String(text)), None) => Ok(Some(text.as_bytes().to_vec())),
        (Some(_), None) => Err(format!("{what}: \"{name}\" must be a string")),
        (None, Some(Value::String(text))) => B64
            .decode(text)
            .map(Some)
            .map_err(|_| format!("{what}: \"{base64_name}\" is not valid base64")),
        (None, Some(_)) => Err(format!("{what}: \"{base64_name}\" must be a string")),
        (None, None) => Ok(None),
    }
}

pub fn delete(reply: &mut Reply<'_>, worker: &mut EngineWorker, key: &[u8]) -> Route {
    match worker.del(DB, std::iter::once(key)) {
        Ok(0) => reply.json(404, &json!({ "deleted": false })),
        Ok(_) => reply.json(200, &json!({ "deleted": true })),
        Err(error) => engine_error(reply, error),
    }
    Route::Delete
}

/// One op of a batch.
enum Op {
    Get(Vec<u8>),
    Set(Vec<u8>, NewValue),
    Del(Vec<u8>),
}

/// Reads `{"ops":[...]}`; the error is the status and message to send.
fn parse_batch(body: &[u8]) -> Result<Vec<Op>, (u16, String)> {
    let bad = |message: String| (400, message);
    let body = parse_json(body)?;
    let ops = body
        .get("ops")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("the body must be {\"ops\":[...]}".into()))?;
    if ops.len() > MAX_BATCH_OPS {
        return Err((413, format!("a batch holds at most {MAX_BATCH_OPS} ops")));
    }
    ops.iter()
        .enumerate()
        .map(|(i, op)| {
            let what = format!("ops[{i}]");
            let object = op
                .as_object()
                .ok_or_else(|| bad(format!("{what} must be a JSON object")))?;
            let key = bytes_field(object, &what, "key")
                .map_err(bad)?
                .ok_or_else(|| bad(format!("{what}: needs \"key\" or \"key_base64\"")))?;
            let name = object.get("op").and_then(Value::as_str).unwrap_or("");
            let only = |fields: &[&str]| match object.keys().find(|n| !fields.contains(&n.as_str()))
            {
                Some(unknown) => Err(bad(format!("{what}: unknown field \"{unknown}\""))),
                None => Ok(()),
            };
            match name {
                "get" => only(&["op", "key", "key_base64"]).map(|()| Op::Get(key)),
                "del" | "delete" => only(&["op", "key", "key_base64"]).map(|()| Op::Del(key)),
                "set" | "put" => {
                    let mut rest = object.clone();
                    rest.remove("op");
                    rest.remove("key");
                    rest.remove("key_base64");
                    let new = new_value(
                        &Value::Object(rest),
                        &what,
                        &["value", "value_base64", "ttl_ms"],
                    )
                    .map_err(bad)?;
                    Ok(Op::Set(key, new))
                }
                _ => Err(bad(format!(
                    "{what}: \"op\" must be \"get\", \"set\" or \"del\""
                ))),
            }
        })
        .collect()
}

/// What one op of a committed batch answers.
enum Outcome {
    Value(Option<Vec<u8>>),
    Written,
    Deleted(bool),
}

/// Runs the ops as one transaction: Ok(None) on a conflict.
fn run_batch(worker: &mut EngineWorker, ops: &[Op]) -> Result<Option<Vec<Outcome>>, EngineError> {
    let mut txn = worker.begin()?;
    let mut outcomes = Vec::with_capacity(ops.len());
    for op in ops {
        let step = match op {
            Op::Get(key) => {
                let mut value = None;
                txn.get(DB, key, |v| value = v.map(<[u8]>::to_vec))
                    .map(|()| Outcome::Value(value))
            }
            Op::Set(key, new) => match deadline(new.ttl_ms) {
                Ok(expiry) => txn
                    .put(DB, key, &new.value, expiry)
                    .map(|()| Outcome::Written),
                // Checked when parsed; a clock this far off is an input error.
                Err(_) => Err(EngineError::InvalidArgument),
            },
            Op::Del(key) => {
                // The read puts the key's absence or version in the read
                // set, so the answer holds at commit.
                let mut existed = false;
                txn.get(DB, key, |v| existed = v.is_some())
                    .and_then(|()| if existed { txn.del(DB, key) } else { Ok(()) })
                    .map(|()| Outcome::Deleted(existed))
            }
        };
        match step {
            Ok(outcome) => outcomes.push(outcome),
            Err(EngineError::Conflict) => return Ok(None),
            Err(error) => return Err(error),
        }
    }
    match txn.commit() {
        Ok(()) => Ok(Some(outcomes)),
        Err(EngineError::Conflict) => Ok(None),
        Err(error) => Err(error),
    }
}

pub fn batch(reply: &mut Reply<'_>, worker: &mut EngineWorker, body: &[u8]) -> Route {
    let ops = match parse_batch(body) {
        Ok(ops) => ops,
        Err((status, message)) => {
            reply.error(status, &message);
            return Route::Batch;
        }
    };
    for op in &ops {
        if let Op::Set(_, new) = op {
            if let Err(message) = deadline(new.ttl_ms) {
                reply.error(400, &message);
                return Route::Batch;
            }
        }
    }
    for _ in 0..MAX_BATCH_ATTEMPTS {
        match run_batch(worker, &ops) {
            Ok(Some(outcomes)) => {
                let results: Vec<Value> = outcomes
                    .into_iter()
                    .map(|outcome| match outcome {
                        Outcome::Value(None) => json!({ "value": null }),
                        Outcome::Value(Some(bytes)) => {
                            let mut object = Map::new();
                            put_bytes(&mut object, "value", &bytes);
                            Value::Object(object)
                        }
                        Outcome::Written => json!({ "ok": true }),
                        Outcome::Deleted(deleted) => json!({ "deleted": deleted }),
                    })
                    .collect();
                reply.json(200, &json!({ "results": results }));
                return Route::Batch;
            }
            Ok(None) => continue,
            Err(error) => {
                engine_error(reply, error);
                return Route::Batch;
            }
        }
    }
    reply.error(409, "conflict");
    Route::Batch
}

pub fn list(reply: &mut Reply<'_>, worker: &mut EngineWorker, query: &str) -> Route {
    let (prefix, limit) = match list_params(query) {
        Ok(params) => params,
        Err(message) => {
            reply.error(400, &message);
            return Route::List;
        }
    };
    // The first `limit` matching keys in byte order: the scan walks the
    // whole table (in hash order) and keeps the smallest limit + 1 it met,
    // so memory stays bounded and a key seen twice (a table growing
    // mid-walk) counts once.
    let mut found: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut cursor = 0;
    let mut complete = false;
    for _ in 0..MAX_LIST_SCAN_STEPS {
        let step = worker.scan(DB, cursor, LIST_SCAN_COUNT, |key| {
            let wanted = found.len() <= limit || found.last().is_some_and(|last| key < &last[..]);
            if wanted
                && key.starts_with(&prefix)
                && found.insert(key.to_vec())
                && found.len() > limit + 1
            {
                found.pop_last();
            }
        });
        match step {
            Ok(0) => {
                complete = true;
                break;
            }
            Ok(next) => cursor = next,
            Err(error) => {
                engine_error(reply, error);
                return Route::List;
            }
        }
    }
    let truncated = found.len() > limit || !complete;
    let found: Vec<Vec<u8>> = found.into_iter().take(limit).collect();
    let mut keys = Vec::with_capacity(found.len());
    let mut binary_keys = Vec::new();
    for key in found {
        match String::from_utf8(key) {
            Ok(text) => keys.push(Value::from(text)),
            Err(error) => binary_keys.push(Value::from(B64.encode(error.as_bytes()))),
        }
    }
    let mut body = json!({ "keys": keys, "truncated": truncated });
    if !binary_keys.is_empty() {
        body["keys_base64"] = Value::from(binary_keys);
    }
    reply.json(200, &body);
    Route::List
}

/// `prefix` (default empty) and `limit` (default 100, at most 10,000);
/// other parameters are ignored.
fn list_params(query: &str) -> Result<(Vec<u8>, usize), String> {
    let mut prefix = Vec::new();
    let mut limit = DEFAULT_LIST_LIMIT;
    for (name, value) in query_pairs(query)? {
        match &name[..] {
            b"prefix" => prefix = value,
            b"limit" => {
                limit = std::str::from_utf8(&value)
                    .ok()
                    .and_then(|text| text.parse::<usize>().ok())
                    .filter(|&limit| limit <= MAX_LIST_LIMIT)
                    .ok_or_else(|| {
                        format!("limit must be an integer from 0 to {MAX_LIST_LIMIT}")
                    })?;
            }
            _ => {}
        }
    }
    Ok((prefix, limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_parse_and_refuse_bad_ops() {
        let ops = parse_batch(
            br#"{"ops":[{"op":"get","key":"a"},{"op":"set","key":"b","value":"x","ttl_ms":5},
                 {"op":"set","key_base64":"/w==","value_base64":"AA=="},{"op":"del","key":"c"}]}"#,
        )
        .unwrap();
        assert!(matches!(&ops[0], Op::Get(k) if k == b"a"));
        assert!(
            matches!(&ops[1], Op::Set(k, v) if k == b"b" && v.value == b"x" && v.ttl_ms == Some(5))
        );
        assert!(matches!(&ops[2], Op::Set(k, v) if k == b"\xff" && v.value == b"\0"));
        assert!(matches!(&ops[3], Op::Del(k) if k == b"c"));
        for (body, fragment) in [
            (&br#"[]"#[..], "{\"ops\""),
            (br#"{"ops":[1]}"#, "ops[0] must be"),
            (br#"{"ops":[{"op":"get"}]}"#, "needs \"key\""),
            (br#"{"ops":[{"op":"incr","key":"a"}]}"#, "\"op\" must be"),
            (br#"{"ops":[{"op":"set","key":"a"}]}"#, "needs \"value\""),
            (
                br#"{"ops":[{"op":"set","key":"a","value":1}]}"#,
                "must be a string",
            ),
            (
                br#"{"ops":[{"op":"set","key":"a","value":"x","ttl_ms":0}]}"#,
                "positive",
            ),
            (
                br#"{"ops":[{"op":"get","key":"a","value":"x"}]}"#,
                "unknown field \"value\"",
            ),
            (
                br#"{"ops":[{"op":"get","key":"a","key_base64":"YQ=="}]}"#,
                "not both",
            ),
            (
                br#"{"ops":[{"op":"get","key_base64":"!!"}]}"#,
                "not valid base64",
            ),
            (b"{", "invalid JSON"),
        ] {
            let (status, message) = match parse_batch(body) {
                Err(error) => error,
                Ok(_) => panic!("{:?} parsed", String::from_utf8_lossy(body)),
            };
            assert_eq!(status, 400);
            assert!(message.contains(fragment), "{message} lacks {fragment}");
        }
        let many = format!(
            "{{\"ops\":[{}]}}",
            vec![r#"{"op":"get","key":"a"}"#; MAX_BATCH_OPS + 1].join(",")
        );
        assert_eq!(parse_batch(many.as_bytes()).err().map(|e| e.0), Some(413));
    }

    #[test]
    fn json_bodies_of_many_tiny_elements_are_refused() {
        assert_eq!(json_tokens(br#"{"a":[1,2],"b":"{,:[\",x"}"#), 6);
        let bomb = format!("[{}0]", "0,".repeat(MAX_JSON_TOKENS));
        assert_eq!(parse_json(bomb.as_bytes()).err().map(|e| e.0), Some(413));
        let fine = format!("[{}0]", "0,".repeat(1000));
        assert!(parse_json(fine.as_bytes()).is_ok());
        assert_eq!(parse_json(b"{").err().map(|e| e.0), Some(400));
    }

    #[test]
    fn list_parameters() {
        assert_eq!(list_params("").unwrap(), (Vec::new(), DEFAULT_LIST_LIMIT));
        assert_eq!(
            list_params("prefix=a%2Fb&limit=7&x=1").unwrap(),
            (b"a/b".to_vec(), 7)
        );
        assert_eq!(list_params("limit=10000").unwrap().1, 10_000);
        for bad in ["limit=10001", "limit=-1", "limit=x", "prefix=%g"] {
            assert!(list_params(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn access_decisions() {
        use Access::*;
        assert_eq!(decide(None, None, true), Granted);
        assert_eq!(decide(None, Some(b"Bearer x"), false), LoopbackOnly);
        assert_eq!(decide(Some("pw"), None, true), NeedsPassword);
        assert_eq!(decide(Some("pw"), Some(b"Bearer pw"), false), Granted);
        assert_eq!(decide(Some("pw"), Some(b"  bearer   pw "), false), Granted);
        // user:pw and default:pw
        assert_eq!(
            decide(Some("pw"), Some(b"Basic dXNlcjpwdw=="), false),
            Granted
        );
        assert_eq!(
            decide(Some("pw"), Some(b"Basic ZGVmYXVsdDpwdw=="), false),
            Granted
        );
        for wrong in [
            &b"Bearer pw2"[..],
            b"Bearer",
            b"Basic cHc=",
            b"Digest pw",
            b"Basic %%%",
        ] {
            assert_eq!(
                decide(Some("pw"), Some(wrong), true),
                NeedsPassword,
                "{wrong:?}"
            );
        }
    }

    #[test]
    fn password_comparison() {
        assert!(digests_equal(b"secret", b"secret"));
        assert!(!digests_equal(b"secret", b"secreT"));
        assert!(!digests_equal(b"secret", b"secret1"));
        assert!(!digests_equal(b"", b"x"));
    }
}
