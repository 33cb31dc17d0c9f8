//! Listening sockets: one per worker per protocol, sharing the port through
//! SO_REUSEPORT so the kernel spreads new connections over the workers.

use std::io;
use std::net::{SocketAddr, TcpListener};

use socket2::{Domain, Protocol, Socket, Type};

/// A non-blocking SO_REUSEPORT listener on `addr`.
pub fn bind_reuseport(addr: SocketAddr, backlog: i32) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    Ok(socket.into())
}

/// Picks the port every worker will bind.
///
/// SO_REUSEPORT would let this server silently share a port with another
/// process of the same user, so a fixed port is first probed with a plain
/// bind: if anything listens there, startup fails. Port 0 asks the kernel for
/// a free port, which is then held by the returned reservation socket until
/// the workers have bound it.
pub fn reserve_port(addr: SocketAddr) -> io::Result<(u16, Option<Socket>)> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.port() == 0 {
        socket.set_reuse_port(true)?;
        socket.bind(&addr.into())?;
        let port = socket
            .local_addr()?
            .as_socket()
            .map(|a| a.port())
            .unwrap_or(0);
        return Ok((port, Some(socket)));
    }
    socket.bind(&addr.into())?;
    // Listening would take connections meant for the workers; a bind alone
    // fails with EADDRINUSE if another process listens on the port.
    Ok((addr.port(), None))
}
