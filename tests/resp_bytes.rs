//! Byte-exact request/reply pairs against a real server over the real
//! engine. Expected bytes are what Redis 7.0 sends (checked against
//! redis-server by the differential suite in tests/e2e).

mod common;

use common::{exchange, expect_closed, TestServer};

fn script(server: &TestServer, pairs: &[(&[u8], &[u8])]) {
    let mut stream = server.raw();
    for (request, expected) in pairs {
        exchange(&mut stream, request, expected);
    }
}

#[test]
fn strings_and_counters() {
    let server = TestServer::start();
    script(
        &server,
        &[
            (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", b"+OK\r\n"),
            (b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", b"$1\r\nv\r\n"),
            (b"*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n", b"$-1\r\n"),
            (b"*3\r\n$3\r\nSET\r\n$5\r\nempty\r\n$0\r\n\r\n", b"+OK\r\n"),
            (b"*2\r\n$3\r\nGET\r\n$5\r\nempty\r\n", b"$0\r\n\r\n"),
            (
                b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv2\r\n$2\r\nNX\r\n",
                b"$-1\r\n",
            ),
            (
                b"*4\r\n$3\r\nSET\r\n$1\r\nn\r\n$2\r\nv2\r\n$2\r\nXX\r\n",
                b"$-1\r\n",
            ),
            (
                b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv3\r\n$2\r\nxx\r\n$3\r\nget\r\n",
                b"$1\r\nv\r\n",
            ),
            (
                b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv4\r\n$2\r\nNX\r\n$3\r\nGET\r\n",
                b"$2\r\nv3\r\n",
            ),
            (
                b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv4\r\n$2\r\nNX\r\n$2\r\nXX\r\n",
                b"-ERR syntax error\r\n",
            ),
            (
                b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv4\r\n$3\r\nFOO\r\n",
                b"-ERR syntax error\r\n",
            ),
            (b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nEX\r\n", b"-ERR syntax error\r\n"),
        (b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nEX\r\n$3\r\nabc\r\n", b"-ERR value is not an integer or out of range\r\n"),
        (b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nEX\r\n$1\r\n0\r\n", b"-ERR invalid expire time in 'set' command\r\n"),
        (b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nPX\r\n$2\r\n-1\r\n", b"-ERR invalid expire time in 'set' command\r\n"),
        (b"*6\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$7\r\nKEEPTTL\r\n$2\r\nEX\r\n$1\r\n5\r\n", b"-ERR syntax error\r\n"),
        (b"*2\r\n$4\r\nINCR\r\n$1\r\nc\r\n", b":1\r\n"),
            (b"*3\r\n$6\r\nINCRBY\r\n$1\r\nc\r\n$2\r\n41\r\n", b":42\r\n"),
            (b"*3\r\n$6\r\nDECRBY\r\n$1\r\nc\r\n$2\r\n50\r\n", b":-8\r\n"),
            (b"*2\r\n$4\r\nDECR\r\n$1\r\nc\r\n", b":-9\r\n"),
            (
                b"*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n",
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (
                b"*3\r\n$6\r\nINCRBY\r\n$1\r\nc\r\n$3\r\n1.5\r\n",
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (
                b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$19\r\n9223372036854775807\r\n",
                b"+OK\r\n",
            ),
            (
                b"*2\r\n$4\r\nINCR\r\n$3\r\nbig\r\n",
                b"-ERR increment or decrement would overflow\r\n",
            ),
            (
                b"*3\r\n$6\r\nDECRBY\r\n$1\r\nc\r\n$20\r\n-9223372036854775808\r\n",
                b"-ERR decrement would overflow\r\n",
            ),
            (
                b"*5\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n",
                b"+OK\r\n",
            ),
            (
                b"*4\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nx\r\n$1\r\nb\r\n",
                b"*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n",
            ),
            (
                b"*4\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n",
                b"-ERR wrong number of arguments for 'mset' command\r\n",
            ),
            (
                b"*4\r\n$6\r\nEXISTS\r\n$1\r\na\r\n$1\r\na\r\n$1\r\nx\r\n",
                b":2\r\n",
            ),
            (
                b"*4\r\n$3\r\nDEL\r\n$1\r\na\r\n$1\r\na\r\n$1\r\nx\r\n",
                b":1\r\n",
            ),
            (b"*1\r\n$6\r\nDBSIZE\r\n", b":5\r\n"),
            (b"*2\r\n$8\r\nFLUSHALL\r\n$5\r\nASYNC\r\n", b"+OK\r\n"),
            (b"*1\r\n$6\r\nDBSIZE\r\n", b":0\r\n"),
            (
                b"*2\r\n$7\r\nFLUSHDB\r\n$4\r\nNOPE\r\n",
                b"-ERR syntax error\r\n",
            ),
        ],
    );
}

#[test]
fn connection_commands() {
    let server = TestServer::start();
    script(&server, &[
        (b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n"),
        (b"*2\r\n$4\r\nPING\r\n$2\r\nhi\r\n", b"$2\r\nhi\r\n"),
        (b"*3\r\n$4\r\nPING\r\n$1\r\na\r\n$1\r\nb\r\n", b"-ERR wrong number of arguments for 'ping' command\r\n"),
        (b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", b"$0\r\n\r\n"),
        (b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n", b"+OK\r\n"),
        (b"*2\r\n$6\r\nSELECT\r\n$2\r\n16\r\n", b"-ERR DB index is out of range\r\n"),
        (b"*2\r\n$6\r\nSELECT\r\n$1\r\nx\r\n", b"-ERR value is not an integer or out of range\r\n"),
        (b"*2\r\n$5\r\nHELLO\r\n$1\r\n4\r\n", b"-NOPROTO unsupported protocol version\r\n"),
        (b"*2\r\n$5\r\nHELLO\r\n$1\r\nx\r\n", b"-ERR Protocol version is not an integer or out of range\r\n"),
        (b"*3\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$3\r\nBAD\r\n", b"-ERR Syntax error in HELLO option 'BAD'\r\n"),
        (b"*2\r\n$4\r\nAUTH\r\n$1\r\np\r\n", b"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"),
        (b"*2\r\n$6\r\nCLIENT\r\n$7\r\nGETNAME\r\n", b"$-1\r\n"),
        (b"*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$4\r\nconn\r\n", b"+OK\r\n"),
        (b"*2\r\n$6\r\nCLIENT\r\n$7\r\nGETNAME\r\n", b"$4\r\nconn\r\n"),
        (b"*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$3\r\na b\r\n", b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"),
        (b"*4\r\n$6\r\nCLIENT\r\n$7\r\nSETINFO\r\n$8\r\nLIB-NAME\r\n$4\r\nrust\r\n", b"+OK\r\n"),
        (b"*2\r\n$6\r\nCLIENT\r\n$4\r\nNOPE\r\n", b"-ERR unknown subcommand 'NOPE'. Try CLIENT HELP.\r\n"),
        (b"*1\r\n$6\r\nCLIENT\r\n", b"-ERR wrong number of arguments for 'client' command\r\n"),
        (b"*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$4\r\nsave\r\n", b"*2\r\n$4\r\nsave\r\n$0\r\n\r\n"),
        (b"*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$10\r\nappendonly\r\n", b"*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"),
        (b"*3\r\n$6\r\nconfig\r\n$3\r\nget\r\n$4\r\nSAVE\r\n", b"*2\r\n$4\r\nSAVE\r\n$0\r\n\r\n"),
        (b"*4\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$4\r\nsav*\r\n$4\r\nsave\r\n", b"*2\r\n$4\r\nsave\r\n$0\r\n\r\n"),
        (b"*2\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n", b"-ERR wrong number of arguments for 'config|get' command\r\n"),
        (b"*2\r\n$7\r\nCOMMAND\r\n$5\r\nCOUNT\r\n", b":68\r\n"),
    ]);
}

#[test]
fn unknown_commands_and_arity_match_redis() {
    let server = TestServer::start();
    script(
        &server,
        &[
            (
                b"*3\r\n$3\r\nfoo\r\n$1\r\na\r\n$1\r\nb\r\n",
                b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n",
            ),
            (
                b"*1\r\n$3\r\nfoo\r\n",
                b"-ERR unknown command 'foo', with args beginning with: \r\n",
            ),
            (
                b"*1\r\n$3\r\nGET\r\n",
                b"-ERR wrong number of arguments for 'get' command\r\n",
            ),
            (
                b"*2\r\n$3\r\nSET\r\n$1\r\nk\r\n",
                b"-ERR wrong number of arguments for 'set' command\r\n",
            ),
            (
                b"*1\r\n$4\r\nMGET\r\n",
                b"-ERR wrong number of arguments for 'mget' command\r\n",
            ),
        ],
    );
}

#[test]
fn inline_commands() {
    let server = TestServer::start();
    script(
        &server,
        &[
            (b"PING\r\n", b"+PONG\r\n"),
            (b"SET \"a b\" 'c d'\r\n", b"+OK\r\n"),
            (b"GET \"a b\"\n", b"$3\r\nc d\r\n"),
            (b"\r\nECHO \"\\x41\\n\"\r\n", b"$2\r\nA\n\r\n"),
        ],
    );
}

#[test]
fn resp3_after_hello_3_and_back() {
    let server = TestServer::start();
    let mut stream = server.raw();
    exchange(&mut stream, b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n", b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n");
    // The id's digits vary; read the rest of the map up to its fixed tail.
    let tail =
        b"$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n";
    let mut rest = Vec::new();
    while !rest.ends_with(tail) {
        let mut byte = [0u8; 1];
        std::io::Read::read_exact(&mut stream, &mut byte).unwrap();
        rest.push(byte[0]);
        assert!(
            rest.len() < 200,
            "unexpected HELLO tail {:?}",
            String::from_utf8_lossy(&rest)
        );
    }
    exchange(
        &mut stream,
        b"*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n",
        b"_\r\n",
    );
    exchange(
        &mut stream,
        b"*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$4\r\nsave\r\n",
        b"%1\r\n$4\r\nsave\r\n$0\r\n\r\n",
    );
    exchange(
        &mut stream,
        b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nXX\r\n",
        b"_\r\n",
    );
    exchange(&mut stream, b"*2\r\n$5\r\nHELLO\r\n$1\r\n2\r\n", b"*14\r\n");
}

#[test]
fn protocol_errors_close_only_that_connection() {
    let server = TestServer::start();
    let cases: &[(&[u8], &[u8])] = &[
        (
            b"*abc\r\n",
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n+foo\r\n",
            b"-ERR Protocol error: expected '$', got '+'\r\n",
        ),
        (
            b"*1\r\n$-5\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*2\r\n$3\r\nGET\r\n$999999999999\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"SET \"a b\r\n",
            b"-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ];
    let mut bystander = server.raw();
    for (request, expected) in cases {
        let mut stream = server.raw();
        exchange(&mut stream, request, expected);
        expect_closed(&mut stream);
        exchange(&mut bystander, b"PING\r\n", b"+PONG\r\n");
    }
    // A request before the bad bytes is still answered.
    let mut stream = server.raw();
    exchange(
        &mut stream,
        b"*1\r\n$4\r\nPING\r\n*x\r\n",
        b"+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n",
    );
    expect_closed(&mut stream);
}

#[test]
fn quit_replies_then_closes() {
    let server = TestServer::start();
    let mut stream = server.raw();
    exchange(
        &mut stream,
        b"*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n",
        b"+OK\r\n",
    );
    expect_closed(&mut stream);
}

#[test]
fn requirepass_gates_commands_until_auth() {
    let server = TestServer::start_with(|config| config.requirepass = Some("s3cret".into()));
    script(&server, &[
        (b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", b"-NOAUTH Authentication required.\r\n"),
        (b"*1\r\n$3\r\nfoo\r\n", b"-ERR unknown command 'foo', with args beginning with: \r\n"),
        (b"*2\r\n$4\r\nAUTH\r\n$5\r\nwrong\r\n", b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
        (b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n", b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n"),
        (b"*2\r\n$4\r\nAUTH\r\n$6\r\ns3cret\r\n", b"+OK\r\n"),
        (b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", b"$-1\r\n"),
    ]);
    let mut stream = server.raw();
    exchange(
        &mut stream,
        b"*3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$6\r\ns3cret\r\n",
        b"+OK\r\n",
    );
    exchange(&mut stream, b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n");
}

#[test]
fn multi_exec_discard_and_their_errors() {
    let server = TestServer::start();
    script(&server, &[
        (b"*1\r\n$4\r\nEXEC\r\n", b"-ERR EXEC without MULTI\r\n"),
        (b"*1\r\n$7\r\nDISCARD\r\n", b"-ERR DISCARD without MULTI\r\n"),
        (b"*1\r\n$5\r\nMULTI\r\n", b"+OK\r\n"),
        (b"*2\r\n$4\r\nEXEC\r\n$1\r\nx\r\n", b"-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n"),
        (b"*1\r\n$4\r\nEXEC\r\n", b"-ERR EXEC without MULTI\r\n"),
        (b"*1\r\n$5\r\nMULTI\r\n", b"+OK\r\n"),
        (b"*1\r\n$5\r\nMULTI\r\n", b"-ERR MULTI calls can not be nested\r\n"),
        (b"*2\r\n$5\r\nWATCH\r\n$1\r\na\r\n", b"-ERR WATCH inside MULTI is not allowed\r\n"),
        (b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n", b"+QUEUED\r\n"),
        (b"*2\r\n$4\r\nINCR\r\n$1\r\na\r\n", b"+QUEUED\r\n"),
        (b"*3\r\n$3\r\nSET\r\n$1\r\ns\r\n$1\r\nx\r\n", b"+QUEUED\r\n"),
        (b"*2\r\n$4\r\nINCR\r\n$1\r\ns\r\n", b"+QUEUED\r\n"),
        (b"*4\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\ns\r\n$1\r\nz\r\n", b"+QUEUED\r\n"),
        (b"*1\r\n$4\r\nEXEC\r\n", b"*5\r\n+OK\r\n:2\r\n+OK\r\n-ERR value is not an integer or out of range\r\n*3\r\n$1\r\n2\r\n$1\r\nx\r\n$-1\r\n"),
        (b"*1\r\n$5\r\nMULTI\r\n", b"+OK\r\n"),
        (b"*1\r\n$4\r\nEXEC\r\n", b"*0\r\n"),
        (b"*1\r\n$5\r\nMULTI\r\n", b"+OK\r\n"),
        (b"*2\r\n$3\r\nDEL\r\n$1\r\na\r\n", b"+QUEUED\r\n"),
        (b"*1\r\n$7\r\nDISCARD\r\n", b"+OK\r\n"),
        (b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n", b"$1\r\n2\r\n"),
        // A refused command while queueing discards the whole transaction.
        (b"*1\r\n$5\r\nMULTI\r\n", b"+OK\r\n"),
        (b"*2\r\n$3\r\nDEL\r\n$1\r\na\r\n", b"+QUEUED\r\n"),
        (b"*1\r\n$3\r\nGET\r\n", b"-ERR wrong number of arguments for 'get' command\r\n"),
        (b"*1\r\n$4\r\nEXEC\r\n", b"-EXECABORT Transaction discarded because of previous errors.\r\n"),
        (b"*1\r\n$5\r\nMULTI\r\n", b"+OK\r\n"),
        (b"*1\r\n$3\r\nfoo\r\n", b"-ERR unknown command 'foo', with args beginning with: \r\n"),
        (b"*1\r\n$4\r\nEXEC\r\n", b"-EXECABORT Transaction discarded because of previous errors.\r\n"),
        (b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n", b"$1\r\n2\r\n"),
    ]);
}

#[test]
fn watch_fails_exec_when_another_client_writes() {
    let server = TestServer::start();
    let mut watcher = server.raw();
    let mut other = server.raw();
    exchange(
        &mut watcher,
        b"*2\r\n$5\r\nWATCH\r\n$1\r\nw\r\n",
        b"+OK\r\n",
    );
    exchange(
        &mut other,
        b"*3\r\n$3\r\nSET\r\n$1\r\nw\r\n$1\r\n1\r\n",
        b"+OK\r\n",
    );
    exchange(&mut watcher, b"*1\r\n$5\r\nMULTI\r\n", b"+OK\r\n");
    exchange(
        &mut watcher,
        b"*3\r\n$3\r\nSET\r\n$1\r\nw\r\n$1\r\n2\r\n",
        b"+QUEUED\r\n",
    );
    exchange(&mut watcher, b"*1\r\n$4\r\nEXEC\r\n", b"*-1\r\n");
    exchange(
        &mut watcher,
        b"*2\r\n$3\r\nGET\r\n$1\r\nw\r\n",
        b"$1\r\n1\r\n",
    );
    // EXEC unwatched everything: the same sequence now succeeds.
    exchange(
        &mut watcher,
        b"*2\r\n$5\r\nWATCH\r\n$1\r\nw\r\n",
        b"+OK\r\n",
    );
    exchange(&mut watcher, b"*1\r\n$5\r\nMULTI\r\n", b"+OK\r\n");
    exchange(
        &mut watcher,
        b"*3\r\n$3\r\nSET\r\n$1\r\nw\r\n$1\r\n2\r\n",
        b"+QUEUED\r\n",
    );
    exchange(&mut watcher, b"*1\r\n$4\r\nEXEC\r\n", b"*1\r\n+OK\r\n");
    // A watched missing key that someone creates also fails EXEC; UNWATCH
    // forgets it.
    exchange(
        &mut watcher,
        b"*2\r\n$5\r\nWATCH\r\n$5\r\nfresh\r\n",
        b"+OK\r\n",
    );
    exchange(
        &mut other,
        b"*3\r\n$3\r\nSET\r\n$5\r\nfresh\r\n$1\r\n1\r\n",
        b"+OK\r\n",
    );
    exchange(&mut watcher, b"*1\r\n$5\r\nMULTI\r\n", b"+OK\r\n");
    exchange(&mut watcher, b"*1\r\n$4\r\nEXEC\r\n", b"*-1\r\n");
    exchange(
        &mut watcher,
        b"*2\r\n$5\r\nWATCH\r\n$5\r\nfresh\r\n",
        b"+OK\r\n",
    );
    exchange(&mut other, b"*2\r\n$3\r\nDEL\r\n$5\r\nfresh\r\n", b":1\r\n");
    exchange(&mut watcher, b"*1\r\n$7\r\nUNWATCH\r\n", b"+OK\r\n");
    exchange(&mut watcher, b"*1\r\n$5\r\nMULTI\r\n", b"+OK\r\n");
    exchange(&mut watcher, b"*1\r\n$4\r\nEXEC\r\n", b"*0\r\n");
    // A write that changes nothing (SET XX on a missing key) is no write.
    exchange(
        &mut watcher,
        b"*2\r\n$5\r\nWATCH\r\n$6\r\nabsent\r\n",
        b"+OK\r\n",
    );
    exchange(
        &mut other,
        b"*4\r\n$3\r\nSET\r\n$6\r\nabsent\r\n$1\r\nx\r\n$2\r\nXX\r\n",
        b"$-1\r\n",
    );
    exchange(&mut watcher, b"*1\r\n$5\r\nMULTI\r\n", b"+OK\r\n");
    exchange(
        &mut watcher,
        b"*2\r\n$3\r\nGET\r\n$6\r\nabsent\r\n",
        b"+QUEUED\r\n",
    );
    exchange(&mut watcher, b"*1\r\n$4\r\nEXEC\r\n", b"*1\r\n$-1\r\n");
}

#[test]
fn string_family() {
    let server = TestServer::start();
    script(
        &server,
        &[
            (
                b"*3\r\n$6\r\nAPPEND\r\n$1\r\na\r\n$5\r\nHello\r\n",
                b":5\r\n",
            ),
            (
                b"*3\r\n$6\r\nAPPEND\r\n$1\r\na\r\n$6\r\n World\r\n",
                b":11\r\n",
            ),
            (b"*2\r\n$6\r\nSTRLEN\r\n$1\r\na\r\n", b":11\r\n"),
            (b"*2\r\n$6\r\nSTRLEN\r\n$4\r\nnone\r\n", b":0\r\n"),
            (
                b"*4\r\n$8\r\nGETRANGE\r\n$1\r\na\r\n$1\r\n0\r\n$1\r\n4\r\n",
                b"$5\r\nHello\r\n",
            ),
            (
                b"*4\r\n$8\r\nGETRANGE\r\n$1\r\na\r\n$2\r\n-5\r\n$2\r\n-1\r\n",
                b"$5\r\nWorld\r\n",
            ),
            (
                b"*4\r\n$8\r\nGETRANGE\r\n$1\r\na\r\n$1\r\n5\r\n$1\r\n1\r\n",
                b"$0\r\n\r\n",
            ),
            (
                b"*4\r\n$8\r\nGETRANGE\r\n$4\r\nnone\r\n$1\r\n0\r\n$2\r\n10\r\n",
                b"$0\r\n\r\n",
            ),
            (
                b"*4\r\n$8\r\nGETRANGE\r\n$1\r\na\r\n$1\r\nx\r\n$1\r\n1\r\n",
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (
                b"*4\r\n$8\r\nSETRANGE\r\n$1\r\na\r\n$1\r\n6\r\n$5\r\nRedis\r\n",
                b":11\r\n",
            ),
            (b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n", b"$11\r\nHello Redis\r\n"),
            (
                b"*4\r\n$8\r\nSETRANGE\r\n$1\r\nz\r\n$1\r\n3\r\n$2\r\nab\r\n",
                b":5\r\n",
            ),
            (b"*2\r\n$3\r\nGET\r\n$1\r\nz\r\n", b"$5\r\n\0\0\0ab\r\n"),
            (
                b"*4\r\n$8\r\nSETRANGE\r\n$1\r\ny\r\n$1\r\n3\r\n$0\r\n\r\n",
                b":0\r\n",
            ),
            (b"*2\r\n$6\r\nEXISTS\r\n$1\r\ny\r\n", b":0\r\n"),
            (
                b"*4\r\n$8\r\nSETRANGE\r\n$1\r\na\r\n$2\r\n-1\r\n$1\r\nx\r\n",
                b"-ERR offset is out of range\r\n",
            ),
            (
                b"*4\r\n$8\r\nSETRANGE\r\n$1\r\na\r\n$9\r\n536870911\r\n$2\r\nxx\r\n",
                b"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n",
            ),
            (
                b"*3\r\n$6\r\nGETSET\r\n$1\r\na\r\n$1\r\n1\r\n",
                b"$11\r\nHello Redis\r\n",
            ),
            (
                b"*3\r\n$6\r\nGETSET\r\n$3\r\nnew\r\n$1\r\n1\r\n",
                b"$-1\r\n",
            ),
            (b"*3\r\n$5\r\nSETNX\r\n$3\r\nnew\r\n$1\r\n2\r\n", b":0\r\n"),
            (b"*3\r\n$5\r\nSETNX\r\n$4\r\nnew2\r\n$1\r\n2\r\n", b":1\r\n"),
            (
                b"*5\r\n$6\r\nMSETNX\r\n$2\r\nm1\r\n$1\r\n1\r\n$3\r\nnew\r\n$1\r\n9\r\n",
                b":0\r\n",
            ),
            (b"*2\r\n$6\r\nEXISTS\r\n$2\r\nm1\r\n", b":0\r\n"),
            (
                b"*5\r\n$6\r\nMSETNX\r\n$2\r\nm1\r\n$1\r\n1\r\n$2\r\nm2\r\n$1\r\n2\r\n",
                b":1\r\n",
            ),
            (
                b"*4\r\n$6\r\nMSETNX\r\n$2\r\nm1\r\n$1\r\n1\r\n$2\r\nm2\r\n",
                b"-ERR wrong number of arguments for 'msetnx' command\r\n",
            ),
            (b"*2\r\n$4\r\nTYPE\r\n$2\r\nm1\r\n", b"+string\r\n"),
            (b"*2\r\n$4\r\nTYPE\r\n$2\r\nm9\r\n", b"+none\r\n"),
            (
                b"*4\r\n$5\r\nTOUCH\r\n$2\r\nm1\r\n$2\r\nm1\r\n$2\r\nm9\r\n",
                b":2\r\n",
            ),
            (
                b"*4\r\n$6\r\nUNLINK\r\n$2\r\nm1\r\n$2\r\nm2\r\n$2\r\nm9\r\n",
                b":2\r\n",
            ),
            (b"*1\r\n$5\r\nRESET\r\n", b"+RESET\r\n"),
            (b"*1\r\n$5\r\nMULTI\r\n", b"+OK\r\n"),
            (
                b"*3\r\n$6\r\nAPPEND\r\n$2\r\ntx\r\n$2\r\nab\r\n",
                b"+QUEUED\r\n",
            ),
            (
                b"*4\r\n$8\r\nSETRANGE\r\n$2\r\ntx\r\n$1\r\n1\r\n$1\r\nZ\r\n",
                b"+QUEUED\r\n",
            ),
            (b"*2\r\n$3\r\nGET\r\n$2\r\ntx\r\n", b"+QUEUED\r\n"),
            (b"*1\r\n$5\r\nRESET\r\n", b"+RESET\r\n"),
            (b"*2\r\n$3\r\nGET\r\n$2\r\ntx\r\n", b"$-1\r\n"),
            (b"*1\r\n$5\r\nMULTI\r\n", b"+OK\r\n"),
            (
                b"*3\r\n$6\r\nAPPEND\r\n$2\r\ntx\r\n$2\r\nab\r\n",
                b"+QUEUED\r\n",
            ),
            (
                b"*4\r\n$8\r\nSETRANGE\r\n$2\r\ntx\r\n$1\r\n1\r\n$1\r\nZ\r\n",
                b"+QUEUED\r\n",
            ),
            (b"*2\r\n$3\r\nGET\r\n$2\r\ntx\r\n", b"+QUEUED\r\n"),
            (b"*1\r\n$4\r\nEXEC\r\n", b"*3\r\n:2\r\n:2\r\n$2\r\naZ\r\n"),
        ],
    );
}

#[test]
fn incrbyfloat_uses_redis_long_double_arithmetic() {
    let server = TestServer::start();
    script(
        &server,
        &[
            (b"*3\r\n$3\r\nSET\r\n$1\r\nf\r\n$3\r\n0.1\r\n", b"+OK\r\n"),
            (
                b"*3\r\n$11\r\nINCRBYFLOAT\r\n$1\r\nf\r\n$3\r\n0.2\r\n",
                b"$3\r\n0.3\r\n",
            ),
            (b"*3\r\n$3\r\nSET\r\n$1\r\ng\r\n$5\r\n10.50\r\n", b"+OK\r\n"),
            (
                b"*3\r\n$11\r\nINCRBYFLOAT\r\n$1\r\ng\r\n$3\r\n0.1\r\n",
                b"$4\r\n10.6\r\n",
            ),
            (
                b"*3\r\n$11\r\nINCRBYFLOAT\r\n$1\r\ng\r\n$6\r\n-5.0e3\r\n",
                b"$23\r\n-4989.39999999999999991\r\n",
            ),
            (
                b"*3\r\n$11\r\nINCRBYFLOAT\r\n$2\r\nnf\r\n$3\r\n1.5\r\n",
                b"$3\r\n1.5\r\n",
            ),
            (
                b"*3\r\n$11\r\nINCRBYFLOAT\r\n$1\r\ng\r\n$3\r\nabc\r\n",
                b"-ERR value is not a valid float\r\n",
            ),
            (
                b"*3\r\n$11\r\nINCRBYFLOAT\r\n$1\r\ng\r\n$2\r\n 1\r\n",
                b"-ERR value is not a valid float\r\n",
            ),
            (
                b"*3\r\n$11\r\nINCRBYFLOAT\r\n$1\r\ng\r\n$3\r\ninf\r\n",
                b"-ERR increment would produce NaN or Infinity\r\n",
            ),
            (b"*3\r\n$3\r\nSET\r\n$1\r\nz\r\n$4\r\n-0.0\r\n", b"+OK\r\n"),
            (
                b"*3\r\n$11\r\nINCRBYFLOAT\r\n$1\r\nz\r\n$1\r\n0\r\n",
                b"$1\r\n0\r\n",
            ),
            (b"*3\r\n$3\r\nSET\r\n$1\r\ns\r\n$3\r\nabc\r\n", b"+OK\r\n"),
            (
                b"*3\r\n$11\r\nINCRBYFLOAT\r\n$1\r\ns\r\n$1\r\n1\r\n",
                b"-ERR value is not a valid float\r\n",
            ),
            (
                b"*2\r\n$3\r\nGET\r\n$1\r\ng\r\n",
                b"$23\r\n-4989.39999999999999991\r\n",
            ),
        ],
    );
}

#[test]
fn other_types_commands_get_wrongtype_on_strings_else_unknown() {
    let server = TestServer::start();
    let wrongtype: &[u8] =
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    script(
        &server,
        &[
            (b"*3\r\n$3\r\nSET\r\n$1\r\ns\r\n$1\r\nv\r\n", b"+OK\r\n"),
            (b"*3\r\n$5\r\nLPUSH\r\n$1\r\ns\r\n$1\r\na\r\n", wrongtype),
            (b"*3\r\n$4\r\nhget\r\n$1\r\ns\r\n$1\r\nf\r\n", wrongtype),
            (b"*2\r\n$8\r\nSMEMBERS\r\n$1\r\ns\r\n", wrongtype),
            (
                b"*4\r\n$4\r\nZADD\r\n$1\r\ns\r\n$1\r\n1\r\n$1\r\nm\r\n",
                wrongtype,
            ),
            (b"*2\r\n$4\r\nXLEN\r\n$1\r\ns\r\n", wrongtype),
            (
                b"*3\r\n$5\r\nLPUSH\r\n$7\r\nmissing\r\n$1\r\na\r\n",
                b"-ERR unknown command 'LPUSH', with args beginning with: 'missing' 'a' \r\n",
            ),
        ],
    );
}

#[test]
fn databases_expiry_and_keyspace_commands() {
    let server = TestServer::start();
    script(
        &server,
        &[
            (b"SELECT 16\r\n", b"-ERR DB index is out of range\r\n"),
            (b"SELECT -1\r\n", b"-ERR DB index is out of range\r\n"),
            (b"SELECT 1\r\n", b"+OK\r\n"),
            (b"SET k one\r\n", b"+OK\r\n"),
            (b"SELECT 0\r\n", b"+OK\r\n"),
            (b"GET k\r\n", b"$-1\r\n"),
            (b"SET k zero\r\n", b"+OK\r\n"),
            (b"MOVE k 1\r\n", b":0\r\n"),
            (
                b"MOVE k 0\r\n",
                b"-ERR source and destination objects are the same\r\n",
            ),
            (b"MOVE k 16\r\n", b"-ERR DB index is out of range\r\n"),
            (b"MOVE nokey 1\r\n", b":0\r\n"),
            (
                b"COPY k k\r\n",
                b"-ERR source and destination objects are the same\r\n",
            ),
            (b"COPY k k2 DB 16\r\n", b"-ERR DB index is out of range\r\n"),
            (
                b"COPY k k2 DB x\r\n",
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (b"COPY k k2 REPLACE foo\r\n", b"-ERR syntax error\r\n"),
            (b"COPY k k2 DB 2\r\n", b":1\r\n"),
            (b"COPY k k2 DB 2\r\n", b":0\r\n"),
            (b"COPY k k2 DB 2 REPLACE\r\n", b":1\r\n"),
            (b"COPY nokey k3\r\n", b":0\r\n"),
            (b"SELECT 2\r\n", b"+OK\r\n"),
            (b"GET k2\r\n", b"$4\r\nzero\r\n"),
            (b"FLUSHDB\r\n", b"+OK\r\n"),
            (b"SELECT 1\r\n", b"+OK\r\n"),
            (b"GET k\r\n", b"$3\r\none\r\n"),
            (b"SELECT 0\r\n", b"+OK\r\n"),
            (b"RENAME nokey x\r\n", b"-ERR no such key\r\n"),
            (b"RENAME k k\r\n", b"+OK\r\n"),
            (b"RENAMENX k k\r\n", b":0\r\n"),
            (b"SET other v\r\n", b"+OK\r\n"),
            (b"RENAMENX k other\r\n", b":0\r\n"),
            (b"EXPIRE k 100\r\n", b":1\r\n"),
            (b"RENAME k renamed\r\n", b"+OK\r\n"),
            (b"TTL renamed\r\n", b":100\r\n"),
            (b"EXISTS k\r\n", b":0\r\n"),
            (b"RENAMENX renamed k\r\n", b":1\r\n"),
            // EXPIRE's options and errors.
            (
                b"EXPIRE k 100 nx xx\r\n",
                b"-ERR NX and XX, GT or LT options at the same time are not compatible\r\n",
            ),
            (
                b"EXPIRE k 100 gt lt\r\n",
                b"-ERR GT and LT options at the same time are not compatible\r\n",
            ),
            (b"EXPIRE k 100 foo\r\n", b"-ERR Unsupported option foo\r\n"),
            (
                b"EXPIRE k abc\r\n",
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (
                b"EXPIRE k 9223372036854775807\r\n",
                b"-ERR invalid expire time in 'expire' command\r\n",
            ),
            (
                b"PEXPIRE k 9223372036854775807\r\n",
                b"-ERR invalid expire time in 'pexpire' command\r\n",
            ),
            (b"EXPIRE k 100 NX\r\n", b":0\r\n"),
            (b"EXPIRE k 50 GT\r\n", b":0\r\n"),
            (b"EXPIRE k 500 GT\r\n", b":1\r\n"),
            (b"TTL k\r\n", b":500\r\n"),
            (b"EXPIRE k 400 LT\r\n", b":1\r\n"),
            (b"TTL k\r\n", b":400\r\n"),
            (b"PERSIST k\r\n", b":1\r\n"),
            (b"PERSIST k\r\n", b":0\r\n"),
            (b"TTL k\r\n", b":-1\r\n"),
            (b"PTTL k\r\n", b":-1\r\n"),
            (b"EXPIRE k 10 XX\r\n", b":0\r\n"),
            (b"EXPIRE k 10 LT\r\n", b":1\r\n"),
            (b"TTL nokey\r\n", b":-2\r\n"),
            (b"EXPIRETIME nokey\r\n", b":-2\r\n"),
            (b"PEXPIREAT k 1\r\n", b":1\r\n"),
            (b"EXISTS k\r\n", b":0\r\n"),
            (b"SET k v\r\n", b"+OK\r\n"),
            (b"EXPIRE k -1\r\n", b":1\r\n"),
            (b"GET k\r\n", b"$-1\r\n"),
            (b"EXPIRE nokey 10\r\n", b":0\r\n"),
            (b"EXPIREAT k 4102444800\r\n", b":0\r\n"),
            (b"SET k v\r\n", b"+OK\r\n"),
            (b"EXPIREAT k 4102444800\r\n", b":1\r\n"),
            (b"EXPIRETIME k\r\n", b":4102444800\r\n"),
            (b"PEXPIRETIME k\r\n", b":4102444800000\r\n"),
            // SET's expiry options, SETEX, PSETEX, GETEX, GETDEL.
            (b"SET k v EX 100\r\n", b"+OK\r\n"),
            (b"TTL k\r\n", b":100\r\n"),
            (b"SET k v2 KEEPTTL\r\n", b"+OK\r\n"),
            (b"TTL k\r\n", b":100\r\n"),
            (b"SET k v3\r\n", b"+OK\r\n"),
            (b"TTL k\r\n", b":-1\r\n"),
            (b"SET k v PX 100 KEEPTTL\r\n", b"-ERR syntax error\r\n"),
            (b"SET k v EXAT 1\r\n", b"+OK\r\n"),
            (b"EXISTS k\r\n", b":0\r\n"),
            (
                b"SETEX k 0 v\r\n",
                b"-ERR invalid expire time in 'setex' command\r\n",
            ),
            (
                b"SETEX k abc v\r\n",
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (
                b"PSETEX k -5 v\r\n",
                b"-ERR invalid expire time in 'psetex' command\r\n",
            ),
            (b"SETEX k 200 v\r\n", b"+OK\r\n"),
            (b"TTL k\r\n", b":200\r\n"),
            (b"INCR counter\r\n", b":1\r\n"),
            (b"EXPIRE counter 300\r\n", b":1\r\n"),
            (b"INCR counter\r\n", b":2\r\n"),
            (b"TTL counter\r\n", b":300\r\n"),
            (b"APPEND counter 0\r\n", b":2\r\n"),
            (b"TTL counter\r\n", b":300\r\n"),
            (b"GETEX k\r\n", b"$1\r\nv\r\n"),
            (b"TTL k\r\n", b":200\r\n"),
            (b"GETEX k PERSIST\r\n", b"$1\r\nv\r\n"),
            (b"TTL k\r\n", b":-1\r\n"),
            (b"GETEX k EX 100\r\n", b"$1\r\nv\r\n"),
            (b"TTL k\r\n", b":100\r\n"),
            (
                b"GETEX k EX 0\r\n",
                b"-ERR invalid expire time in 'getex' command\r\n",
            ),
            (b"GETEX k PX\r\n", b"-ERR syntax error\r\n"),
            (b"GETEX k PERSIST EX 10\r\n", b"-ERR syntax error\r\n"),
            (b"GETEX nokey EX 10\r\n", b"$-1\r\n"),
            (b"GETDEL k\r\n", b"$1\r\nv\r\n"),
            (b"GETDEL k\r\n", b"$-1\r\n"),
            // KEYS, SCAN, RANDOMKEY.
            (b"FLUSHALL\r\n", b"+OK\r\n"),
            (b"RANDOMKEY\r\n", b"$-1\r\n"),
            (b"SCAN 0\r\n", b"*2\r\n$1\r\n0\r\n*0\r\n"),
            (b"SET only one\r\n", b"+OK\r\n"),
            (b"KEYS *\r\n", b"*1\r\n$4\r\nonly\r\n"),
            (b"KEYS o?ly\r\n", b"*1\r\n$4\r\nonly\r\n"),
            (b"KEYS x*\r\n", b"*0\r\n"),
            (b"RANDOMKEY\r\n", b"$4\r\nonly\r\n"),
            (b"SCAN abc\r\n", b"-ERR invalid cursor\r\n"),
            (b"SCAN 0 COUNT 0\r\n", b"-ERR syntax error\r\n"),
            (
                b"SCAN 0 COUNT x\r\n",
                b"-ERR value is not an integer or out of range\r\n",
            ),
            (b"SCAN 0 MATCH\r\n", b"-ERR syntax error\r\n"),
            (b"SCAN 0 FOO bar\r\n", b"-ERR syntax error\r\n"),
            (b"SCAN 18446744073709551616\r\n", b"-ERR invalid cursor\r\n"),
        ],
    );
}

#[test]
fn config_set_changes_live_settings_all_or_nothing() {
    let server = TestServer::start();
    script(&server, &[
        (b"CONFIG SET foo bar\r\n", b"-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n"),
        (b"CONFIG SET maxclients abc\r\n", b"-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer\r\n"),
        (b"CONFIG SET maxclients 0\r\n", b"-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive\r\n"),
        (b"CONFIG SET databases 4\r\n", b"-ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config\r\n"),
        (b"CONFIG SET proto-max-bulk-len 10\r\n", b"-ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive\r\n"),
        (b"CONFIG SET proto-max-bulk-len -1\r\n", b"-ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be a memory value\r\n"),
        (b"CONFIG SET maxclients 5 maxclients 6\r\n", b"-ERR CONFIG SET failed (possibly related to argument 'maxclients') - duplicate parameter\r\n"),
        (b"CONFIG SET maxclients\r\n", b"-ERR wrong number of arguments for 'config|set' command\r\n"),
        (b"CONFIG SET appendonly maybe\r\n", b"-ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'\r\n"),
        (b"CONFIG SET client-output-buffer-limit \"normal x\"\r\n", b"-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration.\r\n"),
        (b"CONFIG SET save \"\" appendonly no\r\n", b"+OK\r\n"),
        // All or nothing: a bad second pair leaves the first unapplied.
        (b"CONFIG SET maxclients 100 proto-max-bulk-len 1\r\n", b"-ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive\r\n"),
        (b"CONFIG GET maxclients\r\n", b"*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"),
        (b"CONFIG SET maxclients 100 proto-max-bulk-len 1mb\r\n", b"+OK\r\n"),
        (b"CONFIG GET maxclients\r\n", b"*2\r\n$10\r\nmaxclients\r\n$3\r\n100\r\n"),
        (b"CONFIG GET proto-max-bulk-len\r\n", b"*2\r\n$18\r\nproto-max-bulk-len\r\n$7\r\n1048576\r\n"),
        (b"CONFIG SET client-output-buffer-limit \"normal 2mb 0 0\"\r\n", b"+OK\r\n"),
        (b"CONFIG GET client-output-buffer-limit\r\n", b"*2\r\n$26\r\nclient-output-buffer-limit\r\n$73\r\nnormal 2097152 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60\r\n"),
    ]);
    // The new bulk limit applies at once, to every connection.
    let mut stream = server.raw();
    exchange(
        &mut stream,
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n",
        b"-ERR Protocol error: invalid bulk length\r\n",
    );
    // requirepass applies to new connections.
    script(
        &server,
        &[(b"CONFIG SET requirepass s3cret\r\n", b"+OK\r\n")],
    );
    let mut late = server.raw();
    exchange(
        &mut late,
        b"GET k\r\n",
        b"-NOAUTH Authentication required.\r\n",
    );
    exchange(&mut late, b"AUTH s3cret\r\n", b"+OK\r\n");
    exchange(&mut late, b"CONFIG SET requirepass \"\"\r\n", b"+OK\r\n");
    let mut open = server.raw();
    exchange(&mut open, b"GET k\r\n", b"$-1\r\n");
}

/// Edge cases found by the differential suite, expected bytes from Redis
/// 7.0.15.
#[test]
fn redis_edge_cases() {
    let server = TestServer::start();
    script(
        &server,
        &[
            (
                b"SELECT 9223372036854775807\r\n",
                b"-ERR value is out of range, value must between -2147483648 and 2147483647\r\n",
            ),
            (b"SET k v PXAT 9223372036854775807\r\n", b"+OK\r\n"),
            (b"EXPIRETIME k\r\n", b":9223372036854776\r\n"),
            (b"SET g v\r\n", b"+OK\r\n"),
            (b"GETEX g PERSIST PERSIST\r\n", b"$1\r\nv\r\n"),
            (b"GETEX g EX 100 EX 100\r\n", b"$1\r\nv\r\n"),
            (b"TTL g\r\n", b":100\r\n"),
            (b"GETEX missing EX 0\r\n", b"$-1\r\n"),
            (
                b"GETEX g EX 0\r\n",
                b"-ERR invalid expire time in 'getex' command\r\n",
            ),
            (b"GETEX g PERSIST EX 1\r\n", b"-ERR syntax error\r\n"),
            (
                b"CLIENT KILL USER nobody\r\n",
                b"-ERR No such user 'nobody'\r\n",
            ),
            (b"SET hallo 1\r\n", b"+OK\r\n"),
            (b"KEYS h[a-]llo\r\n", b"*0\r\n"),
            (b"FLUSHALL\r\n", b"+OK\r\n"),
            (b"SET \"\" empty\r\n", b"+OK\r\n"),
            (b"KEYS **\r\n", b"*0\r\n"),
            (b"KEYS *\r\n", b"*1\r\n$0\r\n\r\n"),
            (b"SCAN \"\"\r\n", b"*2\r\n$1\r\n0\r\n*1\r\n$0\r\n\r\n"),
        ],
    );
}
