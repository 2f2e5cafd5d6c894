package httpfront

// The PROXY protocol (HAProxy's, versions 1 and 2): a load balancer that
// passes TCP through (HAProxy in tcp mode, AWS NLB, ...) writes, before
// the client's first byte, the addresses of the connection it accepted.
// With --proxy-protocol, the front reads that header from the peers of
// --forwarded-allow-ips and gives its source to the app as REMOTE_ADDR
// and REMOTE_PORT, to the access log, and to the proxy-header trust
// check (the client is then the peer). Choices (docs/deployment.md):
//   - A trusted peer must send one: a connection without it, or with a
//     malformed one, is closed. Serving it as plain HTTP would make the
//     load balancer's address every client's, silently.
//   - Another peer (a kubelet probe, a client inside the cluster) is
//     served as plain HTTP; one whose first bytes are a PROXY header is
//     closed: the header is forged, or --forwarded-allow-ips misses the
//     load balancer.
//   - LOCAL (v2), UNKNOWN (v1), and v2's UNSPEC and unix families keep
//     the connection's own addresses, as the specification says.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// proxyV2Sig opens a version 2 header; "PROXY " a version 1 one.
const (
	proxyV2Sig = "\r\n\r\n\x00\r\nQUIT\n"
	proxyV1Sig = "PROXY "
	// proxyV1Max is the longest version 1 line, CRLF included.
	proxyV1Max = 107
)

// proxyHeader is what a PROXY header says. Zero addresses: keep the
// connection's own.
type proxyHeader struct {
	src, dst netip.AddrPort
}

var errProxyHeader = errors.New("malformed PROXY protocol header")

// byteReader is what readProxyHeader reads from; it must not take a byte
// past the header from the connection (see oneByteReader).
type byteReader interface {
	io.Reader
	io.ByteReader
}

// readProxyHeader reads a version 1 or 2 header.
func readProxyHeader(r byteReader) (proxyHeader, error) {
	first, err := r.ReadByte()
	if err != nil {
		return proxyHeader{}, err
	}
	switch first {
	case proxyV1Sig[0]:
		return readProxyV1(r)
	case proxyV2Sig[0]:
		return readProxyV2(r)
	}
	return proxyHeader{}, errProxyHeader
}

// readProxyV1 reads the rest of "PROXY TCP4 SRC DST SPORT DPORT\r\n" (or
// TCP6, or UNKNOWN with anything after it), its "P" read already.
func readProxyV1(r byteReader) (proxyHeader, error) {
	line := []byte{proxyV1Sig[0]}
	for !bytes.HasSuffix(line, []byte("\r\n")) {
		if len(line) == proxyV1Max {
			return proxyHeader{}, errProxyHeader
		}
		b, err := r.ReadByte()
		if err != nil {
			return proxyHeader{}, err
		}
		line = append(line, b)
	}
	rest, ok := strings.CutPrefix(string(line[:len(line)-2]), proxyV1Sig)
	if !ok {
		return proxyHeader{}, errProxyHeader
	}
	f := strings.Split(rest, " ")
	if f[0] == "UNKNOWN" {
		return proxyHeader{}, nil
	}
	if len(f) != 5 || f[0] != "TCP4" && f[0] != "TCP6" {
		return proxyHeader{}, errProxyHeader
	}
	src, okSrc := v1Endpoint(f[1], f[3], f[0] == "TCP4")
	dst, okDst := v1Endpoint(f[2], f[4], f[0] == "TCP4")
	if !okSrc || !okDst {
		return proxyHeader{}, errProxyHeader
	}
	return proxyHeader{src: src, dst: dst}, nil
}

// v1Endpoint reads an address of the family said and a decimal port.
func v1Endpoint(addr, port string, v4 bool) (netip.AddrPort, bool) {
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Is4() != v4 || ip.Zone() != "" {
		return netip.AddrPort{}, false
	}
	if port == "" || len(port) > 1 && port[0] == '0' || strings.Trim(port, "0123456789") != "" {
		return netip.AddrPort{}, false
	}
	n, err := strconv.ParseUint(port, 10, 16)
	return netip.AddrPortFrom(ip, uint16(n)), err == nil
}

// readProxyV2 reads the rest of a binary header, its first byte read
// already: signature, version and command, family and transport, the
// length of what follows, the addresses, and TLVs (skipped).
func readProxyV2(r byteReader) (proxyHeader, error) {
	var fixed [16]byte
	fixed[0] = proxyV2Sig[0]
	if _, err := io.ReadFull(r, fixed[1:]); err != nil {
		return proxyHeader{}, unexpected(err)
	}
	if string(fixed[:12]) != proxyV2Sig || fixed[12]>>4 != 2 || fixed[12]&0xf > 1 || fixed[13]>>4 > 3 || fixed[13]&0xf > 2 {
		return proxyHeader{}, errProxyHeader
	}
	rest := make([]byte, binary.BigEndian.Uint16(fixed[14:]))
	if _, err := io.ReadFull(r, rest); err != nil {
		return proxyHeader{}, unexpected(err)
	}
	local := fixed[12]&0xf == 0
	var size int // of one address
	switch fixed[13] >> 4 {
	case 1:
		size = 4
	case 2:
		size = 16
	}
	if local || size == 0 || fixed[13]&0xf == 0 { // UNSPEC: keep the socket's addresses
		return proxyHeader{}, nil
	}
	if len(rest) < 2*size+4 {
		return proxyHeader{}, errProxyHeader
	}
	srcIP, _ := netip.AddrFromSlice(rest[:size])
	dstIP, _ := netip.AddrFromSlice(rest[size : 2*size])
	ports := rest[2*size:]
	return proxyHeader{
		src: netip.AddrPortFrom(srcIP, binary.BigEndian.Uint16(ports)),
		dst: netip.AddrPortFrom(dstIP, binary.BigEndian.Uint16(ports[2:])),
	}, nil
}

// looksLikeProxyHeader reports whether a connection's first bytes open a
// PROXY header.
func looksLikeProxyHeader(first []byte) bool {
	return bytes.HasPrefix(first, []byte(proxyV1Sig)) || bytes.HasPrefix(first, []byte(proxyV2Sig[:len(proxyV1Sig)]))
}

// oneByteReader reads a socket a byte at a time for ReadByte, so that
// nothing past the header is taken from it: on a TLS connection the
// ClientHello follows, for the TLS layer to read.
type oneByteReader struct{ io.Reader }

func (r oneByteReader) ReadByte() (byte, error) {
	var b [1]byte
	_, err := io.ReadFull(r.Reader, b[:])
	return b[0], err
}

// addrConn is a socket whose addresses are those a PROXY header gave:
// under TLS, they are what HTTP/2's requests see.
type addrConn struct {
	net.Conn
	remote, local net.Addr
}

func (c addrConn) RemoteAddr() net.Addr { return c.remote }
func (c addrConn) LocalAddr() net.Addr  { return c.local }

// proxyHeader takes the addresses of the PROXY header a trusted peer
// opens the connection with: those an earlier worker read from it, or
// its own reading, which a lent connection's owner is told of unless TLS
// follows (a TLS connection is never lent again). It returns the socket
// for TLS to run over, or false when the connection is over.
func (c *conn) proxyHeader(tlsNext bool) (net.Conn, bool) {
	if c.lent != nil {
		if remote, local, read := c.lent.Proxy(); read {
			return c.proxiedBy(remote, local), true
		}
	}
	remote, local, ok := c.readProxyHeader()
	if !ok {
		return nil, false
	}
	if c.lent != nil && !tlsNext {
		c.lent.Proxied(remote, local)
	}
	return c.proxiedBy(remote, local), true
}

// proxiedBy takes the addresses a PROXY header gave (nil: the socket's
// own) and returns the socket with them.
func (c *conn) proxiedBy(remote, local net.Addr) net.Conn {
	c.proxied = true
	if remote == nil {
		return c.raw
	}
	c.setPeer(remote, local)
	return addrConn{c.raw, remote, local}
}

// readProxyHeader reads the PROXY header, within the header timeout, and
// returns its addresses (nil: keep the socket's), or false when the
// connection is over: no header or a malformed one (closed), or none
// before the server released its connections (given back).
func (c *conn) readProxyHeader() (remote, local net.Addr, ok bool) {
	c.raw.SetReadDeadline(time.Now().Add(c.s.headerTimeout))
	var r byteReader = c.br
	if c.s.tlsConfig != nil {
		r = oneByteReader{c.raw}
	}
	counted := &countingReader{r: r}
	h, err := readProxyHeader(counted)
	if err != nil {
		if counted.n == 0 && c.s.isReleasing() {
			c.end(false)
			return nil, nil, false
		}
		c.s.log.Warn("wsgo: connection closed: --proxy-protocol is on and this peer of --forwarded-allow-ips did not open it with a valid PROXY header; make the load balancer send one (HAProxy: send-proxy or send-proxy-v2), or list only load balancers in --forwarded-allow-ips",
			"remote", c.peer(), "err", err)
		c.raw.Close()
		return nil, nil, false
	}
	c.raw.SetReadDeadline(time.Time{})
	if !h.src.IsValid() {
		return nil, nil, true
	}
	return net.TCPAddrFromAddrPort(h.src), net.TCPAddrFromAddrPort(h.dst), true
}

// forgedProxyHeader reports whether a connection from a peer outside
// --forwarded-allow-ips opens with a PROXY header, which it may not send.
// Any HTTP request is longer than the bytes looked at.
func (c *conn) forgedProxyHeader() bool {
	c.headBy = time.Now().Add(c.s.headerTimeout) // one timeout for the look and the head
	c.rwc.SetReadDeadline(c.headBy)
	first, _ := c.br.Peek(len(proxyV1Sig))
	if !looksLikeProxyHeader(first) {
		return false
	}
	c.s.log.Warn("wsgo: connection closed: it sent a PROXY header but its peer is not in --forwarded-allow-ips; add the load balancer's address there if it is one",
		"remote", c.peer())
	return true
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r byteReader
	n int
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n += n
	return n, err
}

func (r *countingReader) ReadByte() (byte, error) {
	b, err := r.r.ReadByte()
	if err == nil {
		r.n++
	}
	return b, err
}
