package e2e

// RFC 9112 rules of the request head, over raw sockets: obs-fold, the
// forms of the request target, empty lines before the request line, chunk
// sizes, a later minor version (RFC 9110 2.5).

import (
	"bufio"
	"fmt"
	"strings"
	"testing"
)

func TestRFC9112RequestHead(t *testing.T) {
	s := frontStart(t, nil)
	const closing = "Connection: close\r\n"

	refused := []struct {
		name, path, raw string // path: PATH_INFO the app must not see; "-" for none
		status          string
	}{
		{"an obs-folded Host", "/folded-host", "GET /folded-host HTTP/1.1\r\nHost: good.example\r\n <script>@evil\r\n\r\n", "400"},
		{"an obs-folded field", "/folded", "GET /folded HTTP/1.1\r\nHost: h\r\nX-A: a\r\n\tb\r\n\r\n", "400"},
		{"an absolute-form target with a malformed authority", "/bad-authority", "GET http://evil<x>/bad-authority HTTP/1.1\r\nHost: good.example\r\n\r\n", "400"},
		{"an absolute-form target with userinfo", "/userinfo", "GET http://user@good.example/userinfo HTTP/1.1\r\nHost: good.example\r\n\r\n", "400"},
		// An http URI may not have an empty host (RFC 9110 4.2.1), so neither
		// may a Host or a target's authority: SERVER_NAME was '' for these.
		{"a Host with an empty host before its port", "/empty-host-port", "GET /empty-host-port HTTP/1.1\r\nHost: :8080\r\n\r\n", "400"},
		{"a Host of a lone colon", "/lone-colon", "GET /lone-colon HTTP/1.1\r\nHost: :\r\n\r\n", "400"},
		{"an absolute-form target with an empty host", "/empty-authority-host", "GET http://:81/empty-authority-host HTTP/1.1\r\nHost: good.example\r\n\r\n", "400"},
		{"GET *", "*", "GET * HTTP/1.1\r\nHost: h\r\n\r\n", "400"},
		{"GET host:80", "", // PATH_INFO of an authority-form target
			"GET host:80 HTTP/1.1\r\nHost: h\r\n\r\n", "400"},
		{"CONNECT", "-", "CONNECT good.example:443 HTTP/1.1\r\nHost: good.example:443\r\n\r\n", "501"},
		// RFC 9110 10.1.1: 100-continue is the one expectation there is.
		{"an Expect wsgo cannot meet", "/expect-unmet", "GET /expect-unmet HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n", "417"},
		{"100-continue beside an Expect wsgo cannot meet", "/expect-two", "POST /expect-two HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nExpect: 100-continue\r\nExpect: x-y=z\r\n\r\nx", "417"},
		{"a chunk size past 63 bits", "/overflow", "POST /overflow HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nx\r\n0\r\n\r\n", "400"},
	}
	for _, tc := range refused {
		t.Run(tc.name+" gets "+tc.status, func(t *testing.T) {
			if got := s.raw(tc.raw); !strings.HasPrefix(got, "HTTP/1.1 "+tc.status+" ") {
				t.Fatalf("got %q; want %s", got, tc.status)
			}
			if tc.path != "-" && frontSeen(t, s, tc.path) {
				t.Errorf("the app saw %s", tc.path)
			}
		})
	}

	served := []struct {
		name, raw        string
		host, serverName string // HTTP_HOST and SERVER_NAME the app must see
		serverPort, clen string
		path             string // for frontSeen
	}{
		{"an absolute-form target's authority replaces Host", "GET http://evil.example:8080/abs HTTP/1.1\r\nHost: good.example\r\n" + closing + "\r\n",
			"evil.example:8080", "evil.example", "8080", "<absent>", "/abs"},
		{"empty lines before the request line are ignored", "\r\n\r\nGET /after-empty-lines HTTP/1.1\r\nHost: good.example\r\n" + closing + "\r\n",
			"good.example", "good.example", "80", "<absent>", "/after-empty-lines"},
		{"chunk sizes with more than 16 leading zeros are read", "POST /zeros HTTP/1.1\r\nHost: good.example\r\nTransfer-Encoding: chunked\r\n" + closing + "\r\n" +
			strings.Repeat("0", 30) + "5\r\nhello\r\n" + strings.Repeat("0", 30) + "\r\n\r\n",
			"good.example", "good.example", "80", "5", "/zeros"},
	}
	for _, tc := range served {
		t.Run(tc.name, func(t *testing.T) {
			got := s.raw(tc.raw)
			head, body, _ := strings.Cut(got, "\r\n\r\n")
			if !strings.HasPrefix(head, "HTTP/1.1 200 ") {
				t.Fatalf("got %q; want 200", got)
			}
			env := frontEnviron(t, body)
			if h, n, p, l := frontStr(env["HTTP_HOST"]), frontStr(env["SERVER_NAME"]), frontStr(env["SERVER_PORT"]), frontStr(env["CONTENT_LENGTH"]); h != tc.host || n != tc.serverName || p != tc.serverPort || l != tc.clen {
				t.Errorf("HTTP_HOST %q SERVER_NAME %q SERVER_PORT %q CONTENT_LENGTH %q; want %q %q %q %q", h, n, p, l, tc.host, tc.serverName, tc.serverPort, tc.clen)
			}
			if !frontSeen(t, s, tc.path) {
				t.Errorf("the app did not see %s", tc.path)
			}
		})
	}

	t.Run("Expect 100-continue, in any case, is met", func(t *testing.T) {
		got := s.raw("POST /expect-case HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nExpect: 100-Continue\r\n" + closing + "\r\nhi")
		if !strings.HasPrefix(got, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 ") || !frontSeen(t, s, "/expect-case") {
			t.Fatalf("got %q; want 100 Continue, then the app's 200", got)
		}
	})

	t.Run("HTTP/1.2 is served as HTTP/1.1, and the app sees the version sent", func(t *testing.T) {
		c := dial(t, s)
		br := bufio.NewReader(c)
		for i := range 2 { // the connection persists, as HTTP/1.1's does
			resp, body := exchange(t, c, br, "GET /v12 HTTP/1.2\r\nHost: h\r\n\r\n")
			if resp.StatusCode != 200 || resp.Proto != "HTTP/1.1" || resp.Close {
				t.Fatalf("request %d: %s %s, close %v; want HTTP/1.1 200 and the connection kept (RFC 9110 2.5)", i+1, resp.Proto, resp.Status, resp.Close)
			}
			if p := frontStr(frontEnviron(t, body)["SERVER_PROTOCOL"]); p != "HTTP/1.2" {
				t.Errorf("request %d: SERVER_PROTOCOL %q; want HTTP/1.2, the version the client sent", i+1, p)
			}
		}
	})

	t.Run("OPTIONS * reaches the app with PATH_INFO *", func(t *testing.T) {
		// As gunicorn and waitress give it; CGI has no rule for it.
		if got := s.raw("OPTIONS * HTTP/1.1\r\nHost: h\r\n" + closing + "\r\n"); !strings.HasPrefix(got, "HTTP/1.1 200 ") {
			t.Fatalf("got %q; want 200", got)
		}
		if !frontSeen(t, s, "*") {
			t.Errorf("the app did not see PATH_INFO *")
		}
	})

	for _, tc := range []struct{ name, raw, status string }{
		{"a transfer coding wsgo cannot undo", "HEAD /te HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "501 Not Implemented"},
		{"an obs-folded field", "HEAD /folded HTTP/1.1\r\nHost: h\r\nX-A: a\r\n\tb\r\n\r\n", "400 Bad Request"},
	} {
		t.Run("a HEAD refused for "+tc.name+" gets the head alone (RFC 9110 9.3.2)", func(t *testing.T) {
			got := s.raw(tc.raw)
			head, body, _ := strings.Cut(got, "\r\n\r\n")
			reason := tc.status[4:]
			if !strings.HasPrefix(head, "HTTP/1.1 "+tc.status+"\r\n") || body != "" ||
				!strings.Contains(head, fmt.Sprintf("\r\nContent-Length: %d\r\n", len(reason)+1)) {
				t.Errorf("got %q; want %s with the Content-Length of a GET's %q and no body", got, tc.status, reason+"\n")
			}
		})
	}
}
