package httpfront

import "net"

// Lent is a connection that another process accepted and lent to this one
// (see package handoff). That process keeps its own descriptor
// of the socket, so closing ours does not end the connection by itself;
// and it must know, should this process die, whether a request was in
// flight. The server therefore tells a Lent connection:
//   - Idle: no request is being read or answered (first bytes read or
//     written make it busy again);
//   - Ending(n): the response is whole, and the connection idle, once n
//     more bytes are written; should this process die after writing
//     them, before Idle, the owner can tell so;
//   - Close: the connection is over (after a FIN, see conn.close);
//   - Abort: end it with a reset;
//   - Return: take it back, nothing of a next request has been read;
//   - Proxied(remote, local): its PROXY header is read and gave these
//     addresses (nil: the socket's own); the owner lends it again with
//     them, as no header comes twice;
//   - Proxy: what an earlier process read of its PROXY header (read:
//     whether one did);
//   - Pin: it carries state that lives in this process only (a TLS
//     session): the owner cannot answer on it or lend it again, only end
//     it;
//   - Request(id, method, target, proto): the request it now runs, which
//     the owner names in its 502 should this process die under it.
type Lent interface {
	net.Conn
	Request(id, method, target, proto string)
	Idle()
	Ending(n int)
	Abort()
	Return()
	Proxied(remote, local net.Addr)
	Proxy() (remote, local net.Addr, read bool)
	Pin()
}
