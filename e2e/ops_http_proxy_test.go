package e2e

// --proxy-protocol: PROXY protocol v1 and v2 headers from the peers of
// --forwarded-allow-ips, over raw sockets, plain and under TLS.

import (
	"bufio"
	"context"
	bigendian "encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ppV2 encodes a PROXY v2 header: cmd 1 (PROXY) or 0 (LOCAL), TCP over
// the family of src.
func ppV2(cmd byte, src, dst netip.AddrPort) []byte {
	fam := byte(0x11)
	if src.Addr().Is6() {
		fam = 0x21
	}
	addrs := append(src.Addr().AsSlice(), dst.Addr().AsSlice()...)
	addrs = bigendian.BigEndian.AppendUint16(addrs, src.Port())
	addrs = bigendian.BigEndian.AppendUint16(addrs, dst.Port())
	h := append([]byte("\r\n\r\n\x00\r\nQUIT\n"), 0x20|cmd, fam)
	h = bigendian.BigEndian.AppendUint16(h, uint16(len(addrs)))
	return append(h, addrs...)
}

// ppExchange dials s from local (nil: any address), sends data, and
// returns all it gets until the server closes the connection.
func ppExchange(t *testing.T, s *server, local net.Addr, data string) string {
	t.Helper()
	d := net.Dialer{LocalAddr: local, Timeout: confTimeout}
	c, err := d.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(confTimeout))
	if _, err := io.WriteString(c, data); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the server kept the connection open; got %q", got)
	}
	return string(got)
}

// ppRemoteOf reads REMOTE_ADDR and REMOTE_PORT from frontApp's answer.
func ppRemoteOf(t *testing.T, status int, body string) [2]string {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal([]byte(body), &env); err != nil || status != 200 {
		t.Fatalf("status %d, body %q", status, body)
	}
	port, _ := env["REMOTE_PORT"].(string)
	return [2]string{env["REMOTE_ADDR"].(string), port}
}

// ppRemote reads frontApp's REMOTE_ADDR and REMOTE_PORT from each
// response in wire, in order.
func ppRemote(t *testing.T, wire string) [][2]string {
	t.Helper()
	br := bufio.NewReader(strings.NewReader(wire))
	var got [][2]string
	for {
		if _, err := br.Peek(1); err == io.EOF {
			return got
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("reading %q: %v", wire, err)
		}
		body, _ := io.ReadAll(resp.Body)
		got = append(got, ppRemoteOf(t, resp.StatusCode, string(body)))
	}
}

const ppGet = "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"

func TestOpsHTTPProxyProtocol(t *testing.T) {
	accessLog := filepath.Join(t.TempDir(), "access.log")
	s := frontStart(t, nil, "--proxy-protocol", "--forwarded-allow-ips", "127.0.0.1", "--access-log", accessLog)
	src4, dst4 := netip.MustParseAddrPort("203.0.113.7:4711"), netip.MustParseAddrPort("10.0.0.5:443")
	src6, dst6 := netip.MustParseAddrPort("[2001:db8::7]:5000"), netip.MustParseAddrPort("[2001:db8::1]:443")
	other := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}
	cases := []struct {
		name  string
		local net.Addr
		send  string
		addr  string // REMOTE_ADDR of both requests; "": the connection is closed, unanswered
		port  string // "": the socket's own, whatever it is
	}{
		{"v1 TCP4", nil, "PROXY TCP4 203.0.113.7 10.0.0.5 4711 443\r\n" + ppGet, "203.0.113.7", "4711"},
		{"v1 TCP6", nil, "PROXY TCP6 2001:db8::7 2001:db8::1 5000 443\r\n" + ppGet, "2001:db8::7", "5000"},
		{"v1 UNKNOWN keeps the peer", nil, "PROXY UNKNOWN\r\n" + ppGet, "127.0.0.1", ""},
		{"v2 TCP4", nil, string(ppV2(1, src4, dst4)) + ppGet, "203.0.113.7", "4711"},
		{"v2 TCP6", nil, string(ppV2(1, src6, dst6)) + ppGet, "2001:db8::7", "5000"},
		{"v2 LOCAL keeps the peer", nil, string(ppV2(0, src4, dst4)) + ppGet, "127.0.0.1", ""},
		{"malformed v1", nil, "PROXY TCP4 203.0.113.7 10.0.0.5 99999 443\r\n" + ppGet, "", ""},
		{"malformed v2", nil, string(ppV2(1, src4, dst4)[:13]) + "\x51\x00\x0c" + ppGet, "", ""},
		{"an allowed peer without a header", nil, ppGet, "", ""},
		{"another peer without a header is served", other, ppGet, "127.0.0.2", ""},
		{"another peer's v1 header", other, "PROXY TCP4 203.0.113.7 10.0.0.5 4711 443\r\n" + ppGet, "", ""},
		{"another peer's v2 header", other, string(ppV2(1, src4, dst4)) + ppGet, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wire := ppExchange(t, s, tc.local, tc.send)
			if tc.addr == "" {
				if wire != "" {
					t.Fatalf("the connection was answered: %q", wire)
				}
				return
			}
			got := ppRemote(t, wire)
			if len(got) != 2 {
				t.Fatalf("%d responses, want 2: %q", len(got), wire)
			}
			for _, g := range got {
				if g[0] != tc.addr || tc.port != "" && g[1] != tc.port {
					t.Fatalf("REMOTE_ADDR, REMOTE_PORT = %q; want %q, %q", g, tc.addr, tc.port)
				}
			}
		})
	}
	log, err := os.ReadFile(accessLog)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(log), "\n") {
		if strings.HasPrefix(line, "203.0.113.7 ") {
			n++
		}
	}
	if n != 4 {
		t.Fatalf("the access log has %d lines from 203.0.113.7, want 4:\n%s", n, log)
	}
}

// The PROXY header comes before the TLS ClientHello; HTTP/1.1 and HTTP/2
// requests both see its address.
func TestOpsHTTPProxyProtocolTLS(t *testing.T) {
	cert := makeCert(t, t.TempDir(), "localhost")
	s := frontStart(t, []string{"WSGO_CERTFILE=" + cert.certFile, "WSGO_KEYFILE=" + cert.keyFile, "WSGO_PROXY_PROTOCOL=1"})
	for _, http1 := range []bool{true, false} {
		client := tlsClient(http1, cert)
		tr := client.Transport.(*http.Transport)
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				_, err = io.WriteString(c, "PROXY TCP6 2001:db8::9 2001:db8::1 6000 443\r\n")
			}
			return c, err
		}
		resp, body := frontDo(t, client, mustRequest(t, "GET", s.URL+"/", nil))
		env := tlsEnviron(t, body)
		if env["REMOTE_ADDR"] != "2001:db8::9" || env["REMOTE_PORT"] != "6000" || env["wsgi.url_scheme"] != "https" {
			t.Fatalf("%s: environ %v", resp.Proto, env)
		}
		if wantProto := map[bool]string{true: "HTTP/1.1", false: "HTTP/2.0"}[http1]; resp.Proto != wantProto {
			t.Fatalf("served over %s, want %s", resp.Proto, wantProto)
		}
	}
}

func TestOpsHTTPProxyProtocolNeedsAllowedPeers(t *testing.T) {
	s := launch(t, nil, writeApp(t, "app.py", frontApp), "--proxy-protocol", "--forwarded-allow-ips", "")
	code, ok := s.wait(20 * time.Second)
	if !ok || code != 2 || !strings.Contains(s.logs.String(), "--proxy-protocol needs the load balancers") {
		t.Fatalf("exit %d (exited: %v); output:\n%s", code, ok, s.logs.String())
	}
}

// A connection's PROXY header is read once. When its worker is replaced
// (a reload) or dies while the connection is idle, the master lends it to
// the next worker with what the header said, and the next requests on it
// keep the client's addresses (or, after UNKNOWN, the socket's).
func TestOpsHTTPProxyProtocolConnectionOutlivesItsWorker(t *testing.T) {
	s := frontStart(t, nil, "--proxy-protocol", "--forwarded-allow-ips", "127.0.0.1", "--workers", "1")
	type lbConn struct {
		net.Conn
		br   *bufio.Reader
		want [2]string // REMOTE_ADDR and REMOTE_PORT
	}
	open := func(header string, want [2]string) *lbConn {
		c := dial(t, s)
		c.SetDeadline(time.Now().Add(time.Minute))
		if _, err := io.WriteString(c, header); err != nil {
			t.Fatal(err)
		}
		if want[1] == "" {
			want[1] = strconv.Itoa(c.LocalAddr().(*net.TCPAddr).Port)
		}
		return &lbConn{c, bufio.NewReader(c), want}
	}
	conns := []*lbConn{
		open("PROXY TCP4 203.0.113.7 10.0.0.5 4711 443\r\n", [2]string{"203.0.113.7", "4711"}),
		open("PROXY UNKNOWN\r\n", [2]string{"127.0.0.1", ""}),
	}
	askAll := func(when string) {
		t.Helper()
		for _, c := range conns {
			status, body := getOn(t, c, c.br, "/")
			if got := ppRemoteOf(t, status, body); got != c.want {
				t.Errorf("%s: REMOTE_ADDR, REMOTE_PORT = %v; want %v", when, got, c.want)
			}
		}
	}
	askAll("first")

	pid := readyPids(s)["1"]
	s.cmd.Process.Signal(syscall.SIGHUP)
	if !s.waitLog(`wsgo: worker 1 \(pid `+strconv.Itoa(pid)+`\) exited: exit code 0`, 20*time.Second) {
		t.Fatal("the old worker did not drain")
	}
	askAll("after a reload")

	pid = readyPids(s)["1"]
	syscall.Kill(pid, syscall.SIGKILL)
	if !s.waitLog(`wsgo: worker 1 \(pid `+strconv.Itoa(pid)+`\) exited: killed by signal 9`, 10*time.Second) {
		t.Fatal("the killed worker's exit was not logged")
	}
	askAll("after the worker was killed")
	if strings.Contains(s.logs.String(), "did not open it with a valid PROXY header") {
		t.Errorf("a later worker waited for a second PROXY header:\n%s", s.logs.String())
	}
}

// With --proxy-protocol, a peer outside --forwarded-allow-ips is first
// looked at for a forged PROXY header. That look and its request head
// share one --header-timeout: each used to get its own, so a head could
// take twice as long.
func TestOpsHTTPProxyProtocolLookSharesTheHeaderTimeout(t *testing.T) {
	s := frontStart(t, nil, "--proxy-protocol", "--forwarded-allow-ips", "10.9.9.9", "--header-timeout", "2")
	headOutlivesTimeout(t, s, "GE", "T / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
}

// A head that begins as HTTP/2's preface does ("P") is looked at for the
// rest of it (h2c); the look shares the head's --header-timeout.
func TestOpsHTTPHTTP2LookSharesTheHeaderTimeout(t *testing.T) {
	s := frontStart(t, nil, "--header-timeout", "2")
	headOutlivesTimeout(t, s, "P", "OST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
}

// headOutlivesTimeout sends a head in two parts, the second after s's
// --header-timeout of 2 s, and wants the connection closed unanswered.
func headOutlivesTimeout(t *testing.T, s *server, first, rest string) {
	t.Helper()
	c := dial(t, s)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, first)
	time.Sleep(2500 * time.Millisecond) // past the one timeout, within two
	io.WriteString(c, rest)
	if got, _ := io.ReadAll(c); len(got) != 0 {
		t.Errorf("a head finished after --header-timeout got %.80q; want the connection closed", got)
	}
}

// gunicorn 24.1 and later take a mode after --proxy-protocol (off, v1,
// v2, auto); wsgo takes it too, as on or off, rather than reading the mode
// as a second TARGET, and as WSGO_PROXY_PROTOCOL's value.
func TestGunicornsProxyProtocolModes(t *testing.T) {
	const v1 = "PROXY TCP4 203.0.113.7 10.0.0.5 4711 443\r\n"
	for _, tc := range []struct {
		env  []string
		args []string
		conf string // a configuration file's, given with --config
		addr string // REMOTE_ADDR; "": the PROXY line is refused as HTTP
	}{
		{nil, []string{"--proxy-protocol", "v1"}, "", "203.0.113.7"},
		{nil, []string{"--proxy-protocol", "AUTO"}, "", "203.0.113.7"},
		{nil, []string{"--proxy-protocol=v2"}, "", "203.0.113.7"},
		{nil, []string{"--proxy-protocol", "off"}, "", ""},
		{nil, nil, `proxy_protocol = "v2"`, "203.0.113.7"},
		{[]string{"WSGO_PROXY_PROTOCOL=v2"}, nil, "", "203.0.113.7"},
		{[]string{"WSGO_PROXY_PROTOCOL=off"}, nil, "", ""},
	} {
		t.Run(strings.Join(append(tc.env, tc.args...), " ")+tc.conf, func(t *testing.T) {
			if tc.conf != "" {
				conf := filepath.Join(t.TempDir(), "gunicorn.conf.py")
				os.WriteFile(conf, []byte(tc.conf+"\n"), 0o644)
				tc.args = []string{"--config", conf}
			}
			s := frontStart(t, tc.env, append(tc.args, "--forwarded-allow-ips", "127.0.0.1")...)
			got := s.raw(v1 + "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
			if tc.addr == "" {
				if !strings.HasPrefix(got, "HTTP/1.1 400 ") {
					t.Errorf("got %q; want 400 for a PROXY line with the protocol off", got)
				}
				return
			}
			if remote := ppRemote(t, got); len(remote) != 1 || remote[0][0] != tc.addr {
				t.Errorf("REMOTE_ADDR %v; want %s", remote, tc.addr)
			}
		})
	}
}
