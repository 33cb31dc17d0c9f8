//! The RESP request parser (src/resp/parse.rs): multibulk and inline
//! requests, whole and split across reads.
//!
//! Input: two bytes choose the limits and the read sizes, the rest is what
//! a client sends. The bytes are parsed three ways: all at once, in chunks
//! of fuzzer-chosen sizes, and one byte at a time; each way must frame the
//! same requests with the same arguments and end in the same error (if
//! any). A second parser sharing the worker's `args` vector parses between
//! reads, as another connection on the same worker would. Every request
//! must respect the limits and re-encode to a multibulk request that
//! parses back to the same arguments.
#![no_main]

use std::ops::Range;

use corewire::resp::parse::{ArgSource, ParseLimits, Parsed, RequestParser, MAX_INLINE_BYTES};
use libfuzzer_sys::fuzz_target;

/// Limits no request here reaches.
const ROOMY: ParseLimits = ParseLimits {
    max_bulk_bytes: 512 * 1024 * 1024,
    max_multibulk_count: 1024 * 1024,
};

/// What a connection saw: requests in order, then how it ended.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    requests: Vec<Vec<Vec<u8>>>,
    /// Bytes consumed by requests and empty lines.
    consumed: usize,
    /// The protocol error that ended it, if any.
    error: Option<Vec<u8>>,
}

/// Feeds `input` to a fresh parser in reads of `sizes` (cycled), the way
/// the worker does: unconsumed bytes stay at the front of the buffer.
fn run(input: &[u8], limits: &ParseLimits, sizes: &[usize], interleave: bool) -> Outcome {
    let mut parser = RequestParser::default();
    let mut other = RequestParser::default();
    let mut args: Vec<Range<usize>> = Vec::new();
    let mut outcome = Outcome {
        requests: Vec::new(),
        consumed: 0,
        error: None,
    };
    let mut available = 0;
    let mut read = 0;
    while available < input.len() {
        let size = sizes[read % sizes.len()].max(1);
        read += 1;
        available = (available + size).min(input.len());
        loop {
            let buf = &input[outcome.consumed..available];
            let mid_before = parser.is_mid_request();
            match parser.parse(buf, &mut args, limits) {
                Ok(Parsed::Request { consumed, source }) => {
                    assert!(
                        consumed > 0 && consumed <= buf.len(),
                        "{consumed} of {}",
                        buf.len()
                    );
                    assert!(!parser.is_mid_request());
                    assert!(!args.is_empty());
                    let base: &[u8] = match source {
                        ArgSource::Input => &buf[..consumed],
                        ArgSource::Inline => {
                            assert!(!mid_before);
                            &parser.inline_bytes
                        }
                    };
                    if source == ArgSource::Input {
                        assert!(
                            args.len() <= limits.max_multibulk_count,
                            "{} args",
                            args.len()
                        );
                    }
                    let mut request = Vec::with_capacity(args.len());
                    for arg in &args {
                        assert!(
                            arg.start <= arg.end && arg.end <= base.len(),
                            "{arg:?} of {}",
                            base.len()
                        );
                        // Inline requests are bounded by their line length
                        // only, as in Redis.
                        if source == ArgSource::Input {
                            assert!(arg.len() <= limits.max_bulk_bytes, "bulk of {}", arg.len());
                        }
                        request.push(base[arg.clone()].to_vec());
                    }
                    outcome.requests.push(request);
                    outcome.consumed += consumed;
                }
                Ok(Parsed::Nothing { consumed }) => {
                    assert!(
                        consumed > 0 && consumed <= buf.len(),
                        "{consumed} of {}",
                        buf.len()
                    );
                    assert!(!parser.is_mid_request());
                    outcome.consumed += consumed;
                }
                Ok(Parsed::Incomplete { needed_bytes }) => {
                    if let Some(needed) = needed_bytes {
                        assert!(needed > buf.len(), "needs {needed}, has {}", buf.len());
                        assert!(parser.is_mid_request());
                    }
                    break;
                }
                Err(error) => {
                    assert!(!error.0.is_empty());
                    outcome.error = Some(error.0);
                    return outcome;
                }
            }
            if outcome.consumed == available {
                break;
            }
        }
        if interleave {
            // Another connection on the same worker parses into `args`.
            let parsed = other.parse(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", &mut args, &ROOMY);
            assert_eq!(
                parsed,
                Ok(Parsed::Request {
                    consumed: 20,
                    source: ArgSource::Input
                })
            );
            args.push(0..1);
        }
    }
    outcome
}

fn encode(request: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", request.len()).into_bytes();
    for arg in request {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (control, input) = (&data[..2], &data[2..]);
    // "too big ..." errors depend on where reads end (as in Redis); below
    // that size every way of reading must agree.
    if input.len() >= MAX_INLINE_BYTES {
        return;
    }
    let limits = ParseLimits {
        max_bulk_bytes: match control[0] & 0x0f {
            0 => ROOMY.max_bulk_bytes,
            n => (n as usize - 1) * 3,
        },
        max_multibulk_count: match control[0] >> 4 {
            0 => ROOMY.max_multibulk_count,
            n => n as usize - 1,
        },
    };
    let whole = run(input, &limits, &[input.len()], false);
    let sizes: Vec<usize> = [control[1] & 0x0f, control[1] >> 4, control[1] % 7, 1]
        .iter()
        .map(|&n| n as usize + 1)
        .collect();
    let chunked = run(input, &limits, &sizes, true);
    assert_eq!(whole, chunked, "whole vs chunked reads {sizes:?}");
    let bytewise = run(input, &limits, &[1], control[1] & 1 == 1);
    assert_eq!(whole, bytewise, "whole vs one byte per read");

    // Each request, re-encoded as a canonical multibulk, parses back to
    // itself in exactly its own length.
    for request in &whole.requests {
        let encoded = encode(request);
        // Inline arguments are not held to the bulk limits (nor in Redis).
        let again = run(&encoded, &ROOMY, &[encoded.len()], false);
        assert_eq!(again.error, None, "{request:?}");
        assert_eq!(again.consumed, encoded.len());
        assert_eq!(&again.requests, &[request.clone()]);
    }
});
