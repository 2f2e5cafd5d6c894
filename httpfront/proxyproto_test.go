package httpfront

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"testing"
)

// proxyV2 encodes a version 2 header: command (0 LOCAL, 1 PROXY), family
// and transport byte, then src and dst when valid, then extra (TLVs).
func proxyV2(cmd, famProto byte, src, dst netip.AddrPort, extra []byte) []byte {
	var addrs []byte
	if src.IsValid() {
		addrs = append(append(addrs, src.Addr().AsSlice()...), dst.Addr().AsSlice()...)
		addrs = binary.BigEndian.AppendUint16(addrs, src.Port())
		addrs = binary.BigEndian.AppendUint16(addrs, dst.Port())
	}
	addrs = append(addrs, extra...)
	h := append([]byte(proxyV2Sig), 0x20|cmd, famProto)
	h = binary.BigEndian.AppendUint16(h, uint16(len(addrs)))
	return append(h, addrs...)
}

func TestReadProxyHeader(t *testing.T) {
	src4, dst4 := netip.MustParseAddrPort("203.0.113.7:4711"), netip.MustParseAddrPort("10.0.0.5:443")
	src6, dst6 := netip.MustParseAddrPort("[2001:db8::7]:65535"), netip.MustParseAddrPort("[2001:db8::1]:0")
	for _, tc := range []struct {
		name     string
		in       string
		src, dst netip.AddrPort
		bad      bool
	}{
		{name: "v1 TCP4", in: "PROXY TCP4 203.0.113.7 10.0.0.5 4711 443\r\n", src: src4, dst: dst4},
		{name: "v1 TCP6", in: "PROXY TCP6 2001:db8::7 2001:db8::1 65535 0\r\n", src: src6, dst: dst6},
		{name: "v1 UNKNOWN", in: "PROXY UNKNOWN\r\n"},
		{name: "v1 UNKNOWN with addresses", in: "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"},
		{name: "v1 longest", in: "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
			src: netip.MustParseAddrPort("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"), dst: netip.MustParseAddrPort("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535")},
		{name: "v2 TCP4", in: string(proxyV2(1, 0x11, src4, dst4, nil)), src: src4, dst: dst4},
		{name: "v2 TCP6 with TLVs", in: string(proxyV2(1, 0x21, src6, dst6, []byte{0x04, 0, 1, 'x'})), src: src6, dst: dst6},
		{name: "v2 LOCAL", in: string(proxyV2(0, 0x11, src4, dst4, nil))},
		{name: "v2 IPv4 with UNSPEC transport: the socket's addresses", in: string(proxyV2(1, 0x10, src4, dst4, nil))},
		{name: "v2 UNSPEC", in: string(proxyV2(1, 0x00, netip.AddrPort{}, netip.AddrPort{}, nil))},
		{name: "v1 TCP4 with an IPv6 address", in: "PROXY TCP4 2001:db8::7 10.0.0.5 4711 443\r\n", bad: true},
		{name: "v1 port over 65535", in: "PROXY TCP4 203.0.113.7 10.0.0.5 65536 443\r\n", bad: true},
		{name: "v1 leading zero", in: "PROXY TCP4 203.0.113.7 10.0.0.5 04711 443\r\n", bad: true},
		{name: "v1 two spaces", in: "PROXY TCP4  203.0.113.7 10.0.0.5 4711 443\r\n", bad: true},
		{name: "v1 bare LF", in: "PROXY TCP4 203.0.113.7 10.0.0.5 4711 443\n", bad: true},
		{name: "v1 zone", in: "PROXY TCP6 fe80::1%eth0 2001:db8::1 1 2\r\n", bad: true},
		{name: "v1 too long", in: "PROXY UNKNOWN " + string(bytes.Repeat([]byte("x"), 100)) + "\r\n", bad: true},
		{name: "v1 cut short", in: "PROXY TCP4 203.0.113.7", bad: true},
		{name: "v1 other protocol", in: "PROXY UDP4 203.0.113.7 10.0.0.5 4711 443\r\n", bad: true},
		{name: "HTTP", in: "GET / HTTP/1.1\r\n\r\n", bad: true},
		{name: "v2 version 1", in: string(append([]byte(proxyV2Sig), 0x11, 0x11, 0, 0)), bad: true},
		{name: "v2 command 2", in: string(proxyV2(2, 0x11, src4, dst4, nil)), bad: true},
		{name: "v2 family 4", in: string(proxyV2(1, 0x41, src4, dst4, nil)), bad: true},
		{name: "v2 addresses cut short", in: string(proxyV2(1, 0x21, src4, dst4, nil)), bad: true},
		{name: "v2 length beyond input", in: proxyV2Sig + "\x21\x11\x03\xe8" + string(make([]byte, 12)), bad: true},
		{name: "v2 wrong signature", in: "\r\n\r\n\x00\r\nQUIT!\x21\x11\x00\x00", bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const next = "GET / HTTP/1.1\r\n"
			r := bufio.NewReader(bytes.NewReader([]byte(tc.in + next)))
			h, err := readProxyHeader(r)
			if tc.bad {
				if err == nil {
					t.Fatalf("accepted: %+v", h)
				}
				return
			}
			if err != nil || h.src != tc.src || h.dst != tc.dst {
				t.Fatalf("got %+v, %v; want src %v dst %v", h, err, tc.src, tc.dst)
			}
			if rest, _ := io.ReadAll(r); string(rest) != next {
				t.Fatalf("left %q after the header", rest)
			}
		})
	}
}

// byteByByte is a connection whose reads return one byte each, the
// worst a socket may do.
type byteByByte struct{ r *bytes.Reader }

func (b byteByByte) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return b.r.Read(p[:1])
}

func FuzzReadProxyHeader(f *testing.F) {
	src, dst := netip.MustParseAddrPort("203.0.113.7:4711"), netip.MustParseAddrPort("[2001:db8::1]:443")
	for _, seed := range [][]byte{
		[]byte("PROXY TCP4 203.0.113.7 10.0.0.5 4711 443\r\nGET"),
		[]byte("PROXY TCP6 2001:db8::7 2001:db8::1 65535 0\r\n"),
		[]byte("PROXY UNKNOWN\r\n\x16\x03\x01"),
		[]byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"),
		proxyV2(1, 0x21, netip.AddrPortFrom(netip.MustParseAddr("2001:db8::7"), 1), dst, []byte{1, 0, 2, 'h', '2'}),
		proxyV2(1, 0x11, src, netip.MustParseAddrPort("10.0.0.1:80"), nil),
		proxyV2(0, 0x00, netip.AddrPort{}, netip.AddrPort{}, nil),
		append([]byte(proxyV2Sig), 0x21, 0x31, 0, 4, 1, 2, 3, 4),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		buffered := bufio.NewReaderSize(bytes.NewReader(data), 16)
		h, err := readProxyHeader(buffered)
		raw := bytes.NewReader(data)
		h2, err2 := readProxyHeader(oneByteReader{byteByByte{raw}})
		if (err == nil) != (err2 == nil) || h != h2 {
			t.Fatalf("buffered %+v %v, one byte at a time %+v %v", h, err, h2, err2)
		}
		if err != nil {
			return
		}
		used := len(data) - raw.Len()
		rest, _ := io.ReadAll(buffered)
		if !bytes.Equal(rest, data[used:]) {
			t.Fatalf("the header took %d bytes one at a time, but left %q buffered", used, rest)
		}
		if h.src.IsValid() != h.dst.IsValid() || h.src.Addr().Is4() != h.dst.Addr().Is4() || h.src.Addr().Zone() != "" {
			t.Fatalf("addresses %+v", h)
		}
		if !h.src.IsValid() {
			return
		}
		fam := byte(0x11)
		if !h.src.Addr().Is4() {
			fam = 0x21
		}
		again, err := readProxyHeader(bufio.NewReader(bytes.NewReader(proxyV2(1, fam, h.src, h.dst, nil))))
		if err != nil || again != h {
			t.Fatalf("%+v encoded again reads %+v, %v", h, again, err)
		}
	})
}
