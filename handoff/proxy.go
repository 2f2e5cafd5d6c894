package handoff

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// What a worker read of a connection's PROXY header travels as text in
// Proxied and in the connection's next Lend: "PROXY" alone when the header
// kept the socket's own addresses (LOCAL, UNKNOWN), else "PROXY REMOTE
// LOCAL" (ip:port each). A header is read once per connection, so the
// worker that serves it next must be told.
const proxyTag = "PROXY"

func encodeProxy(remote, local net.Addr) []byte {
	if remote == nil || local == nil {
		return []byte(proxyTag)
	}
	return []byte(proxyTag + " " + remote.String() + " " + local.String())
}

// decodeProxy reads Lend's data: read reports whether it says a header
// was read; remote and local are nil when it kept the socket's addresses.
func decodeProxy(data []byte) (remote, local net.Addr, read bool, err error) {
	if len(data) == 0 {
		return nil, nil, false, nil
	}
	fields := strings.Fields(string(data))
	switch {
	case len(fields) == 1 && fields[0] == proxyTag:
		return nil, nil, true, nil
	case len(fields) == 3 && fields[0] == proxyTag:
		r, rerr := netip.ParseAddrPort(fields[1])
		l, lerr := netip.ParseAddrPort(fields[2])
		if rerr == nil && lerr == nil {
			return net.TCPAddrFromAddrPort(r), net.TCPAddrFromAddrPort(l), true, nil
		}
	}
	return nil, nil, false, fmt.Errorf("handoff: a Lend order with malformed PROXY addresses %q", data)
}
