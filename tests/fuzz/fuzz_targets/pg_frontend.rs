//! The PostgreSQL frontend: startup packet (SSLRequest, CancelRequest,
//! options, authentication) and every frontend message a logged-in session
//! decodes (Query, Parse, Bind, Describe, Execute, Close, Sync, Flush,
//! COPY data, Terminate), through a real session over the real engine
//! (src/pg/protocol.rs, src/pg/session/).
//!
//! Input: two control bytes (authentication method, how parks end, read
//! sizes, whether a valid startup packet is put in front), then the
//! client's bytes. The session must never panic, never use more bytes than
//! it was given, and write only well-formed backend messages. The framing
//! functions are also checked on the raw input directly.
#![no_main]

use corewire::pg::protocol::{
    frame_message, frame_startup, Framed, Reader, MAX_STARTUP_PACKET_BYTES,
};
use corewire_fuzz::pg::{with_harness, Mode};
use libfuzzer_sys::fuzz_target;

/// A protocol 3.0 startup packet for `user` on database `kv`.
fn startup_packet(user: &str) -> Vec<u8> {
    let mut body = 196_608u32.to_be_bytes().to_vec();
    for (name, value) in [
        ("user", user),
        ("database", "kv"),
        ("application_name", "fuzz"),
    ] {
        body.extend_from_slice(name.as_bytes());
        body.push(0);
        body.extend_from_slice(value.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut packet = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    packet.extend_from_slice(&body);
    packet
}

fn check_framing(input: &[u8]) {
    match frame_startup(input) {
        Ok(Some((body, consumed))) => {
            assert!(consumed <= input.len() && consumed <= MAX_STARTUP_PACKET_BYTES);
            assert_eq!(body.len() + 4, consumed);
        }
        Ok(None) | Err(_) => {}
    }
    let mut at = 0;
    while at < input.len() {
        match frame_message(&input[at..], 1 << 20) {
            Ok(Framed::Message { body, consumed, .. }) => {
                assert_eq!(body.len() + 5, consumed);
                assert!(consumed <= input.len() - at);
                // Read the body every way a message handler might.
                let mut reader = Reader::new(body);
                while reader.remaining() > 0 {
                    let before = reader.remaining();
                    let step = match body[body.len() - before] % 5 {
                        0 => reader.cstr().is_ok(),
                        1 => reader.value().is_ok(),
                        2 => reader.count16().is_ok(),
                        3 => reader.i32().is_ok(),
                        _ => reader.u8().is_ok(),
                    };
                    assert!(reader.remaining() <= before);
                    if !step {
                        break;
                    }
                }
                at += consumed;
            }
            Ok(Framed::Incomplete { needed_bytes }) => {
                if let Some(needed) = needed_bytes {
                    assert!(needed > input.len() - at);
                }
                break;
            }
            Err(_) => break,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let mode = Mode::from_bytes(data[0], data[1]);
    let client = &data[2..];
    check_framing(client);
    let input = if data[0] & 0x10 != 0 {
        let user = if data[0] & 0x20 != 0 {
            "admin"
        } else {
            "tester"
        };
        let mut input = startup_packet(user);
        input.extend_from_slice(client);
        input
    } else {
        client.to_vec()
    };
    let outcome = with_harness(|harness| harness.run(mode, &input));
    assert!(outcome.consumed <= input.len());
});
