package e2e

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Proxy headers (--forwarded-allow-ips): believed from trusted peers only.
// The server listens on 127.0.0.1; a client bound to 127.0.0.2 is another
// peer of the same machine.

// frontProxyHeaders is what a proxy in front of the app would send.
var frontProxyHeaders = []string{
	"X-Forwarded-For", "198.51.100.1, 203.0.113.7",
	"X-Forwarded-Proto", "https",
	"X-Forwarded-Host", "shop.example",
}

// frontProxyEnv is the environ the app sees through frontApp.
type frontProxyEnv struct{ remote, scheme, host, name, port, xff string }

func frontProxyRequest(t *testing.T, s *server, client *http.Client, header ...string) frontProxyEnv {
	t.Helper()
	req := mustRequest(t, "GET", s.URL+"/who", nil)
	for i := 0; i < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, body := frontDo(t, client, req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	env := frontEnviron(t, body)
	return frontProxyEnv{frontStr(env["REMOTE_ADDR"]), frontStr(env["wsgi.url_scheme"]), frontStr(env["HTTP_HOST"]),
		frontStr(env["SERVER_NAME"]), frontStr(env["SERVER_PORT"]), frontStr(env["HTTP_X_FORWARDED_FOR"])}
}

func TestProxyHeaders(t *testing.T) {
	s := frontStart(t, nil, "--forwarded-allow-ips", "127.0.0.1")
	_, port, _ := strings.Cut(s.Addr, ":")
	trusted, untrusted := frontClientFrom("127.0.0.1"), frontClientFrom("127.0.0.2")

	t.Run("from a trusted peer they set REMOTE_ADDR, the scheme, the host and the port", func(t *testing.T) {
		got := frontProxyRequest(t, s, trusted, frontProxyHeaders...)
		want := frontProxyEnv{"203.0.113.7", "https", "shop.example", "shop.example", "443", "198.51.100.1, 203.0.113.7"}
		if got != want {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
	})
	t.Run("from an untrusted peer they are plain headers", func(t *testing.T) {
		got := frontProxyRequest(t, s, untrusted, frontProxyHeaders...)
		want := frontProxyEnv{"127.0.0.2", "http", s.Addr, "127.0.0.1", port, "198.51.100.1, 203.0.113.7"}
		if got != want {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
	})
	t.Run("RFC 7239 Forwarded from a trusted peer", func(t *testing.T) {
		got := frontProxyRequest(t, s, trusted, "Forwarded", `for="[2001:db8:cafe::17]:4711";proto=https;host="shop.example:8443"`)
		want := frontProxyEnv{"2001:db8:cafe::17", "https", "shop.example:8443", "shop.example", "8443", "<absent>"}
		if got != want {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
	})
	t.Run("X-Forwarded-Port with leading zeros is the port it means", func(t *testing.T) {
		got := frontProxyRequest(t, s, trusted, "X-Forwarded-Proto", "https", "X-Forwarded-Host", "shop.example", "X-Forwarded-Port", "08443")
		want := frontProxyEnv{"127.0.0.1", "https", "shop.example:8443", "shop.example", "8443", "<absent>"}
		if got != want {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
	})
	for _, tc := range []struct{ header, wantPort string }{
		{"X-Forwarded-Port: 8443", "8443"},
		{"X-Forwarded-Proto: https", port},
	} {
		t.Run(tc.header+" with an empty Host keeps the socket's SERVER_NAME", func(t *testing.T) {
			// SERVER_NAME was '' (and HTTP_HOST ":8443" with the port).
			got := s.raw("GET /who HTTP/1.1\r\nHost:\r\n" + tc.header + "\r\nConnection: close\r\n\r\n")
			head, body, _ := strings.Cut(got, "\r\n\r\n")
			if !strings.HasPrefix(head, "HTTP/1.1 200 ") {
				t.Fatalf("got %q; want 200", got)
			}
			env := frontEnviron(t, body)
			if h, n, p := frontStr(env["HTTP_HOST"]), frontStr(env["SERVER_NAME"]), frontStr(env["SERVER_PORT"]); h != "" || n != "127.0.0.1" || p != tc.wantPort {
				t.Errorf("HTTP_HOST %q SERVER_NAME %q SERVER_PORT %q; want \"\" 127.0.0.1 %s", h, n, p, tc.wantPort)
			}
		})
	}
	// REMOTE_ADDR is an address (RFC 3875 4.1.8): a client a trusted proxy
	// does not name by one leaves the proxy's.
	t.Run("X-Forwarded-For unknown leaves the trusted peer's address", func(t *testing.T) {
		got := frontProxyRequest(t, s, trusted, "X-Forwarded-For", "unknown")
		want := frontProxyEnv{"127.0.0.1", "http", s.Addr, "127.0.0.1", port, "unknown"}
		if got != want {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
	})
	t.Run("Forwarded for=_hidden sets the scheme, not the address", func(t *testing.T) {
		got := frontProxyRequest(t, s, trusted, "Forwarded", "for=_hidden;proto=https;host=shop.example")
		want := frontProxyEnv{"127.0.0.1", "https", "shop.example", "shop.example", "443", "<absent>"}
		if got != want {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
	})
	t.Run("RFC 7239 Forwarded from an untrusted peer changes nothing", func(t *testing.T) {
		got := frontProxyRequest(t, s, untrusted, "Forwarded", "for=203.0.113.7;proto=https;host=shop.example")
		want := frontProxyEnv{"127.0.0.2", "http", s.Addr, "127.0.0.1", port, "<absent>"}
		if got != want {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
	})
}

func TestForwardedAllowIPsForms(t *testing.T) {
	from2 := frontClientFrom("127.0.0.2")
	tests := []struct {
		name       string
		env, args  []string
		wantRemote string // of a request from 127.0.0.2 with X-Forwarded-For: 203.0.113.7
	}{
		{"the default trusts loopback 127.0.0.1 only", nil, nil, "127.0.0.2"},
		{"* trusts everyone", nil, []string{"--forwarded-allow-ips", "*"}, "203.0.113.7"},
		{"a CIDR", nil, []string{"--forwarded-allow-ips", "127.0.0.0/30"}, "203.0.113.7"},
		{"a list of addresses", nil, []string{"--forwarded-allow-ips", "10.0.0.1, 127.0.0.2"}, "203.0.113.7"},
		{"WSGO_FORWARDED_ALLOW_IPS", []string{"WSGO_FORWARDED_ALLOW_IPS=127.0.0.2"}, nil, "203.0.113.7"},
		{"gunicorn's FORWARDED_ALLOW_IPS", []string{"FORWARDED_ALLOW_IPS=127.0.0.2"}, nil, "203.0.113.7"},
		{"an empty list trusts no one", nil, []string{"--forwarded-allow-ips", ""}, "127.0.0.2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := frontStart(t, tc.env, tc.args...)
			got := frontProxyRequest(t, s, from2, "X-Forwarded-For", "203.0.113.7", "X-Forwarded-Proto", "https")
			wantScheme := "http"
			if tc.wantRemote != "127.0.0.2" {
				wantScheme = "https"
			}
			if got.remote != tc.wantRemote || got.scheme != wantScheme {
				t.Errorf("REMOTE_ADDR %s, scheme %s; want %s, %s", got.remote, got.scheme, tc.wantRemote, wantScheme)
			}
		})
	}
	t.Run("the default trusts 127.0.0.1", func(t *testing.T) {
		s := frontStart(t, nil)
		if got := frontProxyRequest(t, s, frontClientFrom("127.0.0.1"), "X-Forwarded-For", "203.0.113.7"); got.remote != "203.0.113.7" {
			t.Errorf("REMOTE_ADDR %s; want 203.0.113.7", got.remote)
		}
	})
	t.Run("a bad entry is a usage error naming it", func(t *testing.T) {
		code, out := cliExit(t, nil, "run", "--forwarded-allow-ips", "127.0.0.1,localhost", writeApp(t, "app.py", frontApp))
		if want := `wsgo run: --forwarded-allow-ips "127.0.0.1,localhost": bad entry "localhost": use IP addresses`; code != 2 || !strings.Contains(out, want) {
			t.Errorf("exit %d; want 2 and %q in:\n%s", code, want, out)
		}
	})
}

func TestProxyHeadersOnUnixSockets(t *testing.T) {
	for _, tc := range []struct {
		allow      string
		wantRemote string
	}{
		{"127.0.0.1,::1", ""}, // the default: a unix peer is not trusted
		{"unix", "203.0.113.7"},
		{"*", "203.0.113.7"},
	} {
		t.Run("--forwarded-allow-ips "+tc.allow, func(t *testing.T) {
			sock := cliSocketPath(t)
			frontStart(t, nil, "--bind", "unix:"+sock, "--forwarded-allow-ips", tc.allow)
			req := mustRequest(t, "GET", "http://wsgo/who", nil)
			req.Header.Set("X-Forwarded-For", "203.0.113.7")
			_, body := frontDo(t, cliUnixClient(sock), req)
			if got := frontStr(frontEnviron(t, body)["REMOTE_ADDR"]); got != tc.wantRemote {
				t.Errorf("REMOTE_ADDR %q; want %q", got, tc.wantRemote)
			}
		})
	}
}

// PEP 3333: SERVER_NAME and SERVER_PORT are never empty. An HTTP/1.0
// request without Host over a unix socket names no host and the socket
// no port: the port is the scheme's, as gunicorn gives.
func TestUnixSocketRequestWithoutHostHasAServerPort(t *testing.T) {
	sock := cliSocketPath(t)
	frontStart(t, nil, "--bind", "unix:"+sock)
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("GET /env HTTP/1.0\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body strings.Builder
	if _, err := bufio.NewReader(resp.Body).WriteTo(&body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, body %q, %v; want 200", resp.StatusCode, body.String(), err)
	}
	env := frontEnviron(t, body.String())
	if name, port := frontStr(env["SERVER_NAME"]), frontStr(env["SERVER_PORT"]); name != "localhost" || port != "80" {
		t.Errorf("SERVER_NAME %q, SERVER_PORT %q; want localhost and 80", name, port)
	}
}
