package httpfront

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"

	"wsgo/wsgi"
)

// maxRequestIDLen bounds a client's X-Request-ID; a longer one is replaced.
const maxRequestIDLen = 128

// requestID returns the request's id, sets it as req.RequestID, and
// makes sure the application sees it as HTTP_X_REQUEST_ID: the client's
// X-Request-ID when it sent exactly one that is valid, else a new one,
// which replaces what it sent.
func requestID(req *wsgi.Request) string {
	found, at := 0, -1
	for i, h := range req.Header {
		if h.Name == "X-Request-Id" {
			found, at = found+1, i
		}
	}
	if found == 1 && validRequestID(req.Header[at].Value) {
		req.RequestID = req.Header[at].Value
		return req.RequestID
	}
	id := newRequestID()
	req.RequestID = id
	kept := req.Header[:0]
	for _, h := range req.Header {
		if h.Name != "X-Request-Id" {
			kept = append(kept, h)
		}
	}
	req.Header = append(kept, wsgi.Header{Name: "X-Request-Id", Value: id})
	return id
}

// validRequestID: visible ASCII only (no spaces, so log lines stay easy to
// split), at most maxRequestIDLen bytes.
func validRequestID(s string) bool {
	if s == "" || len(s) > maxRequestIDLen {
		return false
	}
	for i := range len(s) {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// newRequestID is 16 random bytes in hex. Ids need to be unique, not
// secret, so math/rand's per-thread generator serves.
func newRequestID() string {
	var b [16]byte
	binary.NativeEndian.PutUint64(b[:8], rand.Uint64())
	binary.NativeEndian.PutUint64(b[8:], rand.Uint64())
	return hex.EncodeToString(b[:])
}
