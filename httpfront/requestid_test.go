package httpfront

import (
	"bufio"
	"io"
	"regexp"
	"strings"
	"testing"

	"wsgo/wsgi"
)

var madeID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// withoutMadeRequestID checks that the last header is the X-Request-Id the
// server made and returns the headers without it.
func withoutMadeRequestID(t *testing.T, hs []wsgi.Header) []wsgi.Header {
	t.Helper()
	if len(hs) == 0 || hs[len(hs)-1].Name != "X-Request-Id" || !madeID.MatchString(hs[len(hs)-1].Value) {
		t.Errorf("headers %v do not end with a made X-Request-Id", hs)
		return hs
	}
	return hs[:len(hs)-1]
}

func TestRequestID(t *testing.T) {
	requests := make(chan seen, 1)
	ts := startServer(t, capture(requests), Config{}, nil)
	ownID := startServer(t, respond(200, "OK", []wsgi.Header{{Name: "x-request-id", Value: "mine"}}, 0), Config{}, nil)

	// do sends one request with the given extra header lines and returns the
	// echoed id and the X-Request-Id values the app saw.
	do := func(t *testing.T, addr, extra string) (echoed []string, seenByApp []string) {
		t.Helper()
		c := dial(t, "tcp", addr)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n"+extra+"\r\n")
		resp, _ := readResponse(t, bufio.NewReader(c), "GET")
		if addr == ts.addr {
			for _, h := range (<-requests).req.Header {
				if h.Name == "X-Request-Id" {
					seenByApp = append(seenByApp, h.Value)
				}
			}
		}
		return resp.Header.Values("X-Request-Id"), seenByApp
	}

	kept := []struct{ name, id string }{
		{"a UUID", "0b6a3e0e-7c1d-4f5e-9a43-2f7d2b9c1e55"},
		{"128 visible characters", strings.Repeat("~", 128)},
	}
	for _, tt := range kept {
		t.Run("client's id is kept: "+tt.name, func(t *testing.T) {
			echoed, seen := do(t, ts.addr, "X-Request-ID: "+tt.id+"\r\n")
			if len(echoed) != 1 || echoed[0] != tt.id || len(seen) != 1 || seen[0] != tt.id {
				t.Errorf("echoed %q, app saw %q; want %q for both", echoed, seen, tt.id)
			}
		})
	}
	replaced := []struct{ name, extra string }{
		{"none sent", ""},
		{"129 characters", "X-Request-ID: " + strings.Repeat("a", 129) + "\r\n"},
		{"a space", "X-Request-ID: a b\r\n"},
		{"a non-ASCII byte", "X-Request-ID: caf\xe9\r\n"},
		{"two ids", "X-Request-ID: one\r\nX-Request-ID: two\r\n"},
	}
	for _, tt := range replaced {
		t.Run("a new id is made: "+tt.name, func(t *testing.T) {
			echoed, seen := do(t, ts.addr, tt.extra)
			if len(echoed) != 1 || !madeID.MatchString(echoed[0]) || len(seen) != 1 || seen[0] != echoed[0] {
				t.Errorf("echoed %q, app saw %q; want one new id for both", echoed, seen)
			}
		})
	}
	t.Run("an app's own X-Request-ID is not doubled", func(t *testing.T) {
		if echoed, _ := do(t, ownID.addr, "X-Request-ID: client\r\n"); len(echoed) != 1 || echoed[0] != "mine" {
			t.Errorf("response X-Request-ID %q; want only the app's", echoed)
		}
	})
}

// TestRequestIDsDiffer guards against a generator that repeats itself.
func TestRequestIDsDiffer(t *testing.T) {
	ids := map[string]bool{}
	for range 1000 {
		id := requestID(&wsgi.Request{})
		if ids[id] {
			t.Fatalf("id %s made twice", id)
		}
		ids[id] = true
	}
}
