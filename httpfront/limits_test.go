package httpfront

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"wsgo/wsgi"
)

func TestMaxBodySize(t *testing.T) {
	var logs syncBuffer
	ts := startServer(t, func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
		if req.RawPath == "/refuse" {
			t.Errorf("app called for %s %s", req.Method, req.RequestURI)
		}
		return echoBody(ctx, req, w)
	}, Config{MaxBodySize: 10, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, nil)

	// RFC 9110's name for 413; Go's http.StatusText keeps RFC 7231's.
	tooLarge := "HTTP/1.1 413 Content Too Large\r\nServer: wsgo\r\nDate: X\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 18\r\nConnection: close\r\n\r\nContent Too Large\n"
	refused := []struct{ name, raw string }{
		{"declared length one over", "POST /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n0123456789a"},
		{"declared length over, body not sent yet", "POST /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n"},
		{"chunked body one over", "POST /refuse HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n6\r\n56789a\r\n0\r\n\r\n"},
		{"chunked body far over", "POST /refuse HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n" + strings.Repeat("x", 1<<20) + "\r\n0\r\n\r\n"},
	}
	for _, tt := range refused {
		t.Run(tt.name+" gets 413", func(t *testing.T) {
			if got := stableDate(exchangeRefused(t, ts.addr, tt.raw)); got != tooLarge {
				t.Errorf("got  %q\nwant %q", got, tooLarge)
			}
		})
	}
	served := []struct{ name, raw string }{
		{"declared length at the limit", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789"},
		{"chunked body at the limit", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n"},
	}
	for _, tt := range served {
		t.Run(tt.name+" is served", func(t *testing.T) {
			got := stableDate(exchange(t, ts.addr, tt.raw))
			if !strings.HasPrefix(got, "HTTP/1.1 200 OK\r\n") || !strings.HasSuffix(got, "\r\n\r\n0123456789") {
				t.Errorf("got %q", got)
			}
		})
	}
	t.Run("each refusal is a warning naming the flag", func(t *testing.T) {
		if n := strings.Count(logs.String(), "level=WARN msg=\"wsgo: request refused\" status=413 why=\"request body larger than --max-body-size (10 bytes); raise the flag"); n != len(refused) {
			t.Errorf("%d warnings for %d refusals; logs:\n%s", n, len(refused), logs.String())
		}
	})
}

func TestLimitRefusalsAreWarnings(t *testing.T) {
	var logs syncBuffer
	ts := startServer(t, echoPath, Config{LimitRequestLine: 20, LimitRequestFields: 2, LimitRequestFieldSize: 20,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}, nil)
	for _, tt := range []struct{ raw, why string }{
		{"GET /" + strings.Repeat("a", 20) + " HTTP/1.1\r\nHost: x\r\n\r\n", "request line longer than --limit-request-line (20 bytes)"},
		{"GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n", "more than --limit-request-fields (2) header fields"},
		{"GET / HTTP/1.1\r\nHost: x\r\nA: " + strings.Repeat("a", 20) + "\r\n\r\n", "a header field longer than --limit-request-field_size (20 bytes)"},
		{"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", ""}, // malformed, not a limit: no warning
	} {
		exchange(t, ts.addr, tt.raw)
		if !strings.Contains(logs.String(), tt.why) {
			t.Errorf("no warning %q; logs:\n%s", tt.why, logs.String())
		}
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 3 {
		t.Errorf("%d warnings, want 3; logs:\n%s", n, logs.String())
	}
}

// exchangeRefused sends raw while reading the answer: a server refusing a
// body reads at most maxDrain of it before it closes, so the rest of a
// large one may meet a closed socket (EPIPE), which is not the test's
// failure; the answer must come whole all the same.
func exchangeRefused(t *testing.T, addr, raw string) string {
	t.Helper()
	c := dial(t, "tcp", addr)
	go io.WriteString(c, raw)
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the response: %v (got %q)", err, got)
	}
	return string(got)
}
