//! SELECT over kv as a row source a portal fetches from in pieces, so a
//! full-table read streams instead of materialising: keys come from the
//! engine's SCAN a batch at a time, values are read as rows are sent.

use std::collections::VecDeque;

use super::{eval_integer, eval_required, expand, is_count, write_int, write_row, Access, Params};
use crate::pg::error::{sqlstate, PgError};
use crate::pg::protocol::Writer;
use crate::pg::sql::{KeyFilter, Order, OutputColumn, Select};
use crate::pg::txn::{Write, KV_DB};
use crate::pg::types::Format;

/// Keys one SCAN step asks for.
const SCAN_BATCH_KEYS: usize = 256;
/// Rows an ORDER BY may sort in memory.
pub const MAX_SORT_ROWS: usize = 1_000_000;
/// Keys in one IN list or pattern.
const MAX_PATTERN_BYTES: usize = 64 * 1024;

/// An open SELECT: what is left to send.
pub struct RowSource {
    pub columns: Vec<OutputColumn>,
    keys: Keys,
    /// Rows still to skip (OFFSET) and still to send (LIMIT).
    skip: u64,
    remaining: Option<u64>,
    /// Rows sent by the latest fetch (the SELECT n tag: PostgreSQL counts
    /// one Execute's rows).
    pub sent_last_fetch: u64,
}

enum Keys {
    /// Candidate keys in order; each is read when its row is sent.
    List(VecDeque<Vec<u8>>),
    /// A table scan: the engine cursor, keys fetched but not yet sent, and
    /// the transaction's own new keys (sent first).
    Scan {
        cursor: u64,
        finished: bool,
        batch: VecDeque<Vec<u8>>,
        pattern: Option<Vec<u8>>,
        own_keys: VecDeque<Vec<u8>>,
    },
    /// count(*): the one row, not yet sent.
    Count(Option<i64>),
}

impl RowSource {
    /// Plans the SELECT: evaluates its parameters, and for ORDER BY or
    /// count(*) reads what it must up front.
    pub fn open(
        select: &Select,
        params: Params<'_>,
        access: &mut Access<'_>,
    ) -> Result<RowSource, PgError> {
        let columns = expand(&select.columns);
        super::check_columns(&columns)?;
        let offset = match &select.offset {
            Some(scalar) => eval_integer(scalar, params)?.unwrap_or(0),
            None => 0,
        };
        let limit = match &select.limit {
            Some(scalar) => eval_integer(scalar, params)?,
            None => None,
        };
        if offset < 0 {
            return Err(PgError::new(
                sqlstate::INVALID_ROW_COUNT_IN_RESULT_OFFSET_CLAUSE,
                "OFFSET must not be negative",
            ));
        }
        if limit.is_some_and(|n| n < 0) {
            return Err(PgError::new(
                sqlstate::INVALID_ROW_COUNT_IN_LIMIT_CLAUSE,
                "LIMIT must not be negative",
            ));
        }
        let mut keys = match &select.filter {
            KeyFilter::Eq(scalar) => {
                Keys::List(VecDeque::from([
                    eval_required(scalar, params, "key")?.into_owned()
                ]))
            }
            KeyFilter::In(scalars) => {
                let mut list = Vec::with_capacity(scalars.len());
                for scalar in scalars {
                    // NULL in an IN list matches nothing.
                    if let Some(key) = super::eval(scalar, params)? {
                        list.push(key.into_owned());
                    }
                }
                list.sort();
                list.dedup();
                Keys::List(list.into())
            }
            KeyFilter::All => Keys::scan(None, access),
            KeyFilter::Like(scalar) => {
                let pattern = eval_required(scalar, params, "key")?.into_owned();
                if pattern.len() > MAX_PATTERN_BYTES {
                    return Err(PgError::new(
                        sqlstate::PROGRAM_LIMIT_EXCEEDED,
                        "LIKE pattern too long",
                    ));
                }
                Keys::scan(Some(pattern), access)
            }
        };
        if is_count(&columns) {
            let count = count_rows(keys, access)?;
            keys = Keys::Count(Some(count));
        } else if select.order != Order::None {
            keys = Keys::List(sorted(keys, access, select.order)?);
        }
        Ok(RowSource {
            columns,
            keys,
            skip: offset as u64,
            remaining: limit.map(|n| n as u64),
            sent_last_fetch: 0,
        })
    }

    /// Sends up to `max_rows` rows (0: all) as DataRows. Returns whether
    /// the source is used up (then the portal completes; else it is
    /// suspended).
    pub fn fetch(
        &mut self,
        access: &mut Access<'_>,
        writer: &mut Writer<'_>,
        formats: &[Format],
        max_rows: u64,
    ) -> Result<bool, PgError> {
        let columns = std::mem::take(&mut self.columns);
        let done = self.fetch_with(access, max_rows, &mut |row| match row {
            Row::Pair(key, value) => write_row(writer, &columns, formats, key, value),
            Row::Count(count) => {
                let at = writer.begin_row(columns.len());
                for i in 0..columns.len() {
                    write_int(writer, count, 8, super::format_of(formats, i));
                }
                writer.end_row(at);
            }
        });
        self.columns = columns;
        done
    }

    /// Hands up to `max_rows` rows (0: all) to `on_row`; returns whether
    /// the source is used up.
    pub fn fetch_with(
        &mut self,
        access: &mut Access<'_>,
        max_rows: u64,
        on_row: &mut dyn FnMut(Row<'_>),
    ) -> Result<bool, PgError> {
        let mut sent_now = 0u64;
        self.sent_last_fetch = 0;
        loop {
            if self.remaining == Some(0) {
                return Ok(true);
            }
            if max_rows > 0 && sent_now == max_rows {
                return Ok(self.is_exhausted());
            }
            let Some(candidate) = self.next_key(access)? else {
                return Ok(true);
            };
            let sent = match candidate {
                Candidate::Count(_) if self.skip > 0 => {
                    self.skip -= 1;
                    false
                }
                Candidate::Count(count) => {
                    on_row(Row::Count(count));
                    true
                }
                Candidate::Key(key) => {
                    let skip = &mut self.skip;
                    let mut sent = false;
                    access.get(&key, |value| {
                        let Some(value) = value else { return };
                        if *skip > 0 {
                            *skip -= 1;
                            return;
                        }
                        sent = true;
                        on_row(Row::Pair(&key, value));
                    })?;
                    sent
                }
            };
            if sent {
                sent_now += 1;
                self.sent_last_fetch += 1;
                if let Some(remaining) = &mut self.remaining {
                    *remaining -= 1;
                }
            }
        }
    }

    /// After a suspended fetch: whether anything can still come.
    fn is_exhausted(&self) -> bool {
        match &self.keys {
            Keys::List(list) => list.is_empty(),
            Keys::Count(row) => row.is_none(),
            Keys::Scan {
                finished,
                batch,
                own_keys,
                ..
            } => *finished && batch.is_empty() && own_keys.is_empty(),
        }
    }

    fn next_key(&mut self, access: &mut Access<'_>) -> Result<Option<Candidate>, PgError> {
        match &mut self.keys {
            Keys::List(list) => Ok(list.pop_front().map(Candidate::Key)),
            Keys::Count(row) => Ok(row.take().map(Candidate::Count)),
            Keys::Scan { .. } => Ok(self.keys.next_scanned(access)?.map(Candidate::Key)),
        }
    }
}

/// One row of a source.
pub enum Row<'a> {
    Pair(&'a [u8], &'a [u8]),
    Count(i64),
}

enum Candidate {
    Key(Vec<u8>),
    Count(i64),
}

impl Keys {
    fn scan(pattern: Option<Vec<u8>>, access: &mut Access<'_>) -> Keys {
        // The transaction's own new rows are not in the engine yet.
        let own_keys = access
            .txn()
            .map(|txn| {
                txn.written_keys()
                    .filter(|(key, write)| {
                        matches!(write, Write::Put { .. })
                            && pattern.as_ref().is_none_or(|p| like(key, p))
                    })
                    .map(|(key, _)| key.to_vec())
                    .collect()
            })
            .unwrap_or_default();
        Keys::Scan {
            cursor: 0,
            finished: false,
            batch: VecDeque::new(),
            pattern,
            own_keys,
        }
    }

    /// The next key a scan yields that matches and is not shadowed by the
    /// transaction's own writes.
    fn next_scanned(&mut self, access: &mut Access<'_>) -> Result<Option<Vec<u8>>, PgError> {
        let Keys::Scan {
            cursor,
            finished,
            batch,
            pattern,
            own_keys,
        } = self
        else {
            unreachable!("scan only");
        };
        if let Some(key) = own_keys.pop_front() {
            return Ok(Some(key));
        }
        loop {
            while let Some(key) = batch.pop_front() {
                let shadowed = access.txn().is_some_and(|txn| txn.has_write(&key));
                if !shadowed && pattern.as_ref().is_none_or(|p| like(&key, p)) {
                    return Ok(Some(key));
                }
            }
            if *finished {
                return Ok(None);
            }
            *cursor = access
                .worker()
                .scan(KV_DB, *cursor, SCAN_BATCH_KEYS, |key| {
                    batch.push_back(key.to_vec())
                })
                .map_err(|e| PgError::new(sqlstate::INTERNAL_ERROR, format!("engine: {e}")))?;
            *finished = *cursor == 0;
        }
    }
}

/// count(*): without a filter and outside a transaction, the engine's own
/// count; else the rows are visited.
fn count_rows(keys: Keys, access: &mut Access<'_>) -> Result<i64, PgError> {
    if let (Keys::Scan { pattern: None, .. }, Access::Direct(worker)) = (&keys, &mut *access) {
        let (count, _) = worker
            .count_with_expiry(KV_DB)
            .map_err(|e| PgError::new(sqlstate::INTERNAL_ERROR, format!("engine: {e}")))?;
        return Ok(count as i64);
    }
    let mut count = 0i64;
    for_each_key(keys, access, |_| count += 1)?;
    Ok(count)
}

/// Visits every candidate key that exists.
fn for_each_key(
    mut keys: Keys,
    access: &mut Access<'_>,
    mut visit: impl FnMut(Vec<u8>),
) -> Result<(), PgError> {
    loop {
        let key = match &mut keys {
            Keys::List(list) => list.pop_front(),
            Keys::Scan { .. } => keys.next_scanned(access)?,
            Keys::Count(_) => None,
        };
        let Some(key) = key else { return Ok(()) };
        let mut exists = false;
        access.get(&key, |value| exists = value.is_some())?;
        if exists {
            visit(key);
        }
    }
}

/// Every existing key a filter selects (UPDATE and DELETE), sorted and
/// unique, bounded by MAX_SORT_ROWS.
pub fn matching_keys(
    filter: &KeyFilter,
    params: Params<'_>,
    access: &mut Access<'_>,
) -> Result<Vec<Vec<u8>>, PgError> {
    let select = Select {
        columns: Vec::new(),
        filter: filter.clone(),
        order: Order::KeyAsc,
        limit: None,
        offset: None,
    };
    let source = RowSource::open(&select, params, access)?;
    let Keys::List(list) = source.keys else {
        unreachable!("ordered sources are lists");
    };
    let mut existing = Vec::with_capacity(list.len());
    for_each_key(Keys::List(list), access, |key| existing.push(key))?;
    Ok(existing)
}

/// ORDER BY key: every matching key, sorted and unique, bounded.
fn sorted(keys: Keys, access: &mut Access<'_>, order: Order) -> Result<VecDeque<Vec<u8>>, PgError> {
    let mut all = Vec::new();
    let mut over = false;
    if let Keys::List(list) = keys {
        all = list.into();
    } else {
        let mut keys = keys;
        while let Some(key) = keys.next_scanned(access)? {
            if all.len() >= MAX_SORT_ROWS {
                over = true;
                break;
            }
            all.push(key);
        }
    }
    if over {
        return Err(PgError::new(
            sqlstate::PROGRAM_LIMIT_EXCEEDED,
            format!("ORDER BY over more than {MAX_SORT_ROWS} rows"),
        )
        .with_hint("narrow the query with WHERE key LIKE 'prefix%', or read without ORDER BY"));
    }
    all.sort();
    all.dedup();
    if order == Order::KeyDesc {
        all.reverse();
    }
    Ok(all.into())
}

/// SQL LIKE with `%`, `_` and backslash escapes, over bytes.
pub fn like(text: &[u8], pattern: &[u8]) -> bool {
    // Iterative matcher with one backtrack point for the last `%`.
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() {
            match pattern[p] {
                b'%' => {
                    star = Some((p, t));
                    p += 1;
                    continue;
                }
                b'_' => {
                    // One character: a whole UTF-8 sequence.
                    t += utf8_len(text[t]);
                    p += 1;
                    continue;
                }
                b'\\' if p + 1 < pattern.len() && pattern[p + 1] == text[t] => {
                    p += 2;
                    t += 1;
                    continue;
                }
                c if c != b'\\' && c == text[t] => {
                    p += 1;
                    t += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((star_p, star_t)) => {
                p = star_p + 1;
                t = star_t + utf8_len(text[star_t]);
                star = Some((star_p, t));
            }
            None => return false,
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'%')
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xf0..=0xff => 4,
        0xe0..=0xef => 3,
        0xc0..=0xdf => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::like;

    #[test]
    fn like_matches_as_postgresql() {
        assert!(like(b"user:1", b"user:%"));
        assert!(like(b"user:", b"user:%"));
        assert!(!like(b"use", b"user:%"));
        assert!(like(b"abc", b"a_c"));
        assert!(like("aéc".as_bytes(), b"a_c"));
        assert!(like(b"a%c", b"a\\%c"));
        assert!(!like(b"abc", b"a\\%c"));
        assert!(like(b"xaby", b"%ab%"));
        assert!(like(b"", b"%"));
        assert!(!like(b"ab", b"a"));
        assert!(like(b"aaa", b"%a"));
    }
}
