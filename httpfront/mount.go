package httpfront

// The mount point: --root-path /prefix (or SCRIPT_NAME in wsgo's own
// environment, as gunicorn reads it) serves the app under /prefix, as
// granian's --url-path-prefix and uWSGI's --mount do. SCRIPT_NAME is the
// prefix and PATH_INFO the path below it, so that the app builds its URLs
// with the prefix (Flask's url_for, Django's reverse); a request outside
// it is answered 404 by Go. A trusted proxy that strips a prefix of its
// own says so in X-Forwarded-Prefix (proxy.go), which goes before ours.

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"wsgo/wsgi"
)

// ParseRootPath checks a --root-path: "" or "/" for none, else a URL path
// ("/app", "/a/b"), returned without a trailing slash. Its error says
// what to give; the caller names the value.
func ParseRootPath(s string) (string, error) {
	p, ok := checkedPrefix(s)
	if !ok {
		return "", errors.New("give the URL path the app is mounted at, such as /app: it starts with /, has no empty, . or .. segment, and no ? or #")
	}
	return p, nil
}

// checkedPrefix is a path prefix without its trailing slash; "" for "" or
// "/". ok is false when s is not a clean absolute path.
func checkedPrefix(s string) (string, bool) {
	s = strings.TrimSuffix(s, "/")
	if s == "" {
		return "", true
	}
	if s[0] != '/' {
		return "", false
	}
	for seg := range strings.SplitSeq(s[1:], "/") {
		if seg == "" || seg == "." || seg == ".." || !validPathSegment(seg) {
			return "", false
		}
	}
	return s, true
}

// validPathSegment reports whether s has only the characters of a path
// segment (RFC 3986 3.3), percent-encoded ones included.
func validPathSegment(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~!$&'()*+,;=:@%", c) >= 0) {
			return false
		}
	}
	return true
}

// mount moves the mount point from the request's path to its script
// name; it reports false for a request outside it.
func mount(req *wsgi.Request, root string) bool {
	if root != "" {
		rest, ok := strings.CutPrefix(req.RawPath, root)
		if !ok || rest != "" && rest[0] != '/' {
			return false
		}
		req.RawPath = rest
	}
	req.RawScriptName += root
	return true
}

// goAnswer is a response Go gives without the app: the status and its
// text.
type goAnswer int

func (a goAnswer) ServeWSGI(_ context.Context, _ *wsgi.Request, w wsgi.Responder) error {
	return sendText(w, int(a))
}

// outsideMount answers the requests outside --root-path.
const outsideMount = goAnswer(http.StatusNotFound)
