//! The SQL fast path and statement classification (src/pg/sql/: lexer and
//! parser), then the same text through a logged-in session, which
//! classifies each statement (fast path or general path, statement kind
//! for the statistics), analyses it (parameter and result types) and runs
//! it over the real engine, as a simple Query and as Parse + Describe +
//! Bind + Execute.
//!
//! Checks on the fast path: statement ranges lie inside the text, on
//! character boundaries, in order and apart; `$n` counts stay within the
//! limit; an error position points into the text; each statement's own
//! text parses to the same statement again.
#![no_main]

use corewire::pg::sql::{self, Statement, MAX_PARAMS};
use corewire_fuzz::pg::{with_harness, Auth, Mode};
use libfuzzer_sys::fuzz_target;

fn message(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn startup() -> Vec<u8> {
    let mut body = 196_608u32.to_be_bytes().to_vec();
    body.extend_from_slice(b"user\0tester\0database\0kv\0\0");
    let mut packet = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    packet.extend_from_slice(&body);
    packet
}

fn check_fast_path(text: &str) {
    match sql::parse(text) {
        Ok(statements) => {
            let mut end = 0;
            for parsed in &statements {
                let range = parsed.text.clone();
                assert!(
                    range.start <= range.end && range.end <= text.len(),
                    "{range:?}"
                );
                assert!(
                    range.start >= end,
                    "statements overlap: {range:?} after {end}"
                );
                assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
                end = range.end;
                assert!(
                    parsed.param_count <= MAX_PARAMS,
                    "{} params",
                    parsed.param_count
                );
                // A statement's own text is that statement again.
                let own = &text[range];
                let again = sql::parse(own).unwrap_or_else(|e| panic!("{own:?} alone: {e:?}"));
                match (again.as_slice(), &parsed.statement) {
                    ([], Statement::Empty) => {}
                    ([single], statement) => {
                        assert_eq!(&single.statement, statement, "{own:?} alone");
                        assert_eq!(single.param_count, parsed.param_count, "{own:?} alone");
                    }
                    (list, _) => panic!("{own:?} alone is {} statements", list.len()),
                }
            }
        }
        Err(error) => {
            if let Some(position) = error.position {
                assert!(
                    position >= 1 && position <= text.chars().count() + 1,
                    "position {position}"
                );
            }
            assert!(!error.message.is_empty());
            assert_eq!(error.sqlstate.len(), 5);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_fast_path(text);
    if text.contains('\0') {
        return; // not sendable as a C string
    }
    // The same statement(s) through a session: simple Query, then the
    // extended protocol (one statement only; several are an error there).
    let mut input = startup();
    let mut query = text.as_bytes().to_vec();
    query.push(0);
    input.extend(message(b'Q', &query));
    let mut parse = b"s1\0".to_vec();
    parse.extend_from_slice(&query);
    parse.extend_from_slice(&0i16.to_be_bytes());
    input.extend(message(b'P', &parse));
    input.extend(message(b'D', b"Ss1\0"));
    // Bind with no parameters (fails cleanly if the statement has some).
    input.extend(message(b'B', b"\0s1\0\0\0\0\0\0\0"));
    input.extend(message(b'E', b"\0\0\0\0\0"));
    input.extend(message(b'S', b""));
    input.extend(message(b'Q', b"ROLLBACK\0"));
    let mode = Mode {
        auth: Auth::Trust,
        cancel_parks: true,
        reads: [usize::MAX; 4],
    };
    let outcome = with_harness(|harness| harness.run(mode, &input));
    assert!(outcome.ready, "the session logged in");
});
