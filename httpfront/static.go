package httpfront

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"wsgo/internal/logfmt"
	"wsgo/wsgi"
)

// Static files (--static /prefix=DIR) are served by the front: no Python
// thread, no GIL. Requests under a prefix never reach the application.
//
// Safety: a path is percent-decoded once; encoded slashes and backslashes,
// NUL, "." and ".." segments, empty segments and hidden files (a segment
// starting with '.') are refused with 404, and the file is opened through
// os.Root, which refuses any path, symlinks included, that leads out of
// DIR. Directories are 404: there are no listings.

// StaticDir maps a URL prefix to a directory.
type StaticDir struct {
	Prefix string // "/static"; "" serves the whole URL space
	Dir    string // absolute
}

// ParseStatic reads one --static value, "/prefix=DIR". DIR is made
// absolute against the working directory now, before --chdir moves it.
// Its error says what is wrong; the caller names the value.
func ParseStatic(spec string) (StaticDir, error) {
	prefix, dir, ok := strings.Cut(spec, "=")
	bad := func(problem string) (StaticDir, error) {
		return StaticDir{}, fmt.Errorf("%s; use /prefix=DIR, e.g. /static=./public", problem)
	}
	switch {
	case !ok || dir == "":
		return bad("it needs a URL prefix, '=' and a directory")
	case !strings.HasPrefix(prefix, "/"):
		return bad("the URL prefix must start with /")
	case strings.ContainsAny(prefix, "%\\?#") || slices.Contains(strings.Split(prefix, "/"), ".."):
		return bad("the URL prefix must be a plain path, without %, \\, ?, # or ..")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return bad(err.Error())
	}
	fi, err := os.Stat(abs)
	switch {
	case err != nil:
		return bad(fmt.Sprintf("cannot use the directory: %v", err))
	case !fi.IsDir():
		return bad(abs + " is not a directory")
	}
	return StaticDir{Prefix: strings.TrimRight(prefix, "/"), Dir: abs}, nil
}

// staticFiles serves every StaticDir.
type staticFiles struct {
	dirs         []StaticDir // longest prefix first
	cacheControl string
	log          *slog.Logger
	unreadables  logfmt.Throttle // of the warnings of a file it may not read: one a minute
}

// newStaticFiles returns nil without dirs.
func newStaticFiles(dirs []StaticDir, maxAge time.Duration) *staticFiles {
	if len(dirs) == 0 {
		return nil
	}
	s := &staticFiles{dirs: slices.Clone(dirs), cacheControl: "no-cache", unreadables: logfmt.Throttle{Period: time.Minute}}
	slices.SortStableFunc(s.dirs, func(a, b StaticDir) int { return len(b.Prefix) - len(a.Prefix) })
	if maxAge > 0 {
		s.cacheControl = "public, max-age=" + strconv.FormatInt(int64(maxAge/time.Second), 10)
	}
	return s
}

// match returns the app that serves a request for rawPath from a static
// directory, or nil when no prefix covers the path.
func (s *staticFiles) match(rawPath string) wsgi.App {
	if s == nil {
		return nil
	}
	decoded, clean := decodePath(rawPath)
	for _, d := range s.dirs {
		rest, under := strings.CutPrefix(decoded, d.Prefix+"/")
		if under || decoded == d.Prefix {
			if !under {
				rest = "" // the prefix itself, a directory
			}
			return &staticFile{files: s, dir: d.Dir, rel: rest, clean: clean}
		}
	}
	return nil
}

// decodePath percent-decodes a request path. clean is false when the path
// holds an encoded '/' or '\', a NUL, or a malformed escape: such a path
// is never a file's.
func decodePath(raw string) (decoded string, clean bool) {
	if !strings.Contains(raw, "%") {
		return raw, true
	}
	b := make([]byte, 0, len(raw))
	clean = true
	for i := 0; i < len(raw); i++ {
		if raw[i] != '%' {
			b = append(b, raw[i])
			continue
		}
		var n uint64
		err := strconv.ErrSyntax
		if i+3 <= len(raw) {
			n, err = strconv.ParseUint(raw[i+1:i+3], 16, 8)
		}
		if err != nil {
			clean = false
			b = append(b, raw[i])
			continue
		}
		if n == '/' || n == '\\' || n == 0 {
			clean = false
		}
		b = append(b, byte(n))
		i += 2
	}
	return string(b), clean
}

// staticFile is one request for a file under a static directory.
type staticFile struct {
	files *staticFiles
	dir   string
	rel   string // the decoded path below the prefix
	clean bool
}

// errNotFile is a path that names no regular file within the directory.
var errNotFile = errors.New("wsgo: not a regular file")

func (sf *staticFile) ServeWSGI(_ context.Context, req *wsgi.Request, w wsgi.Responder) error {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return sendText(w, http.StatusMethodNotAllowed, wsgi.Header{Name: "Allow", Value: "GET, HEAD"})
	}
	if !sf.clean || !safeRelPath(sf.rel) {
		return sendText(w, http.StatusNotFound)
	}
	f, fi, err := openRegular(sf.dir, sf.rel)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			sf.files.unreadable(sf.dir, sf.rel, err)
		}
		return sendText(w, http.StatusNotFound)
	}
	defer f.Close()
	ctype := contentType(sf.rel)
	rep, encoding := f, ""
	for _, enc := range acceptedEncodings(headerValues(req.Header, "Accept-Encoding")) {
		if vf, vfi, err := openRegular(sf.dir, sf.rel+enc.suffix); err == nil {
			defer vf.Close()
			rep, fi, encoding = vf, vfi, enc.name
			break
		}
	}
	// Last-Modified is never later than the response's Date (RFC 9110
	// 8.8.2.1): a client would send a future time back and be told 304
	// after the file changed.
	modified := fi.ModTime()
	if now := time.Now(); modified.After(now) {
		modified = now
	}
	rs := representation{
		file:     rep,
		size:     fi.Size(),
		modified: modified.Truncate(time.Second),
		etag:     fmt.Sprintf(`"%x-%x%s"`, fi.ModTime().UnixNano(), fi.Size(), etagSuffix(encoding)),
	}
	header := []wsgi.Header{
		{Name: "Last-Modified", Value: rs.modified.UTC().Format(http.TimeFormat)},
		{Name: "ETag", Value: rs.etag},
		{Name: "Cache-Control", Value: sf.files.cacheControl},
		varyEncoding,
		noSniff,
	}
	switch rs.preconditions(req) {
	case http.StatusNotModified:
		return w.Start(http.StatusNotModified, "Not Modified", header, -1)
	case http.StatusPreconditionFailed:
		return sendText(w, http.StatusPreconditionFailed, varyEncoding)
	}
	if encoding != "" {
		header = append(header, wsgi.Header{Name: "Content-Encoding", Value: encoding})
	}
	header = append(header, wsgi.Header{Name: "Accept-Ranges", Value: "bytes"})
	return rs.send(w, req, header, ctype)
}

// unreadable warns of a file that the worker may not read: its client
// gets the 404 of a missing file, but a deployment that serves nothing
// from a directory owned by another user (the master checked it as root,
// before --user) must hear why. At most once a minute: a page's assets
// would flood the log.
func (s *staticFiles) unreadable(dir, rel string, err error) {
	if ok, _ := s.unreadables.Admit(time.Now()); !ok {
		return
	}
	s.log.Warn(fmt.Sprintf("wsgo: --static cannot read a file of %s, so it answered 404; make the file and its "+
		"directories readable by uid %d, which the workers run as (at most one such warning a minute)", dir, os.Geteuid()),
		"file", rel, "err", err)
}

// safeRelPath reports whether rel is a path of plain names: no empty,
// "." or ".." segment, no hidden file, no backslash or NUL.
func safeRelPath(rel string) bool {
	if rel == "" || strings.ContainsAny(rel, "\\\x00") {
		return false
	}
	for seg := range strings.SplitSeq(rel, "/") {
		if seg == "" || seg[0] == '.' {
			return false
		}
	}
	return true
}

// openRegular opens rel within dir, following symlinks only as far as
// they stay in dir. O_NONBLOCK keeps a FIFO from blocking the open; it
// changes nothing for a regular file.
func openRegular(dir, rel string) (*os.File, os.FileInfo, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, err
	}
	defer root.Close()
	f, err := root.OpenFile(filepath.FromSlash(rel), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = errNotFile
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// varyEncoding is on every answer for a file: it may depend on the
// precompressed siblings a client accepts.
var varyEncoding = wsgi.Header{Name: "Vary", Value: "Accept-Encoding"}

// contentType is the type of a file by its extension, else opaque bytes.
func contentType(name string) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// encoding is a precompressed sibling a client may accept.
type encoding struct {
	name   string // the Content-Encoding
	suffix string // of the sibling file
}

var precompressed = []encoding{{"br", ".br"}, {"gzip", ".gz"}}

// acceptedEncodings lists the precompressed siblings to try, best first:
// by the client's q-values, brotli first among equals.
func acceptedEncodings(acceptEncoding []string) []encoding {
	var out []encoding
	var qs []float64
	for _, e := range precompressed {
		if q := codingQ(acceptEncoding, e.name); q > 0 {
			i := len(out)
			for i > 0 && qs[i-1] < q {
				i--
			}
			out, qs = slices.Insert(out, i, e), slices.Insert(qs, i, q)
		}
	}
	return out
}

// codingQ is the q-value Accept-Encoding gives a content coding (RFC 9110
// 12.5.3): its own, else that of "*", else 0.
func codingQ(values []string, coding string) float64 {
	own, star := -1.0, -1.0
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(item, ";")
			name = strings.ToLower(strings.Trim(name, " \t"))
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				if k, v, ok := strings.Cut(p, "="); ok && strings.EqualFold(strings.Trim(k, " \t"), "q") {
					if f, err := strconv.ParseFloat(strings.Trim(v, " \t"), 64); err == nil && f >= 0 && f <= 1 {
						q = f
					} else {
						q = 0
					}
				}
			}
			switch {
			case name == coding || coding == "gzip" && name == "x-gzip":
				own = q
			case name == "*":
				star = q
			}
		}
	}
	switch {
	case own >= 0:
		return own
	case star >= 0:
		return star
	}
	return 0
}

func etagSuffix(encoding string) string {
	if encoding == "" {
		return ""
	}
	return "-" + encoding
}

// headerValues lists the values of the header fields called name
// (canonical form), in order.
func headerValues(hs []wsgi.Header, name string) []string {
	var values []string
	for _, h := range hs {
		if h.Name == name {
			values = append(values, h.Value)
		}
	}
	return values
}

// noSniff is on every answer of the static files, and of the front's own
// plain-text ones: a type is never guessed from the content (an uploaded
// page under --static /media must not run as HTML), nor by a browser.
var noSniff = wsgi.Header{Name: "X-Content-Type-Options", Value: "nosniff"}

// sendText answers with a status and its text as a plain-text body.
func sendText(w wsgi.Responder, status int, header ...wsgi.Header) error {
	text := statusText(status) + "\n"
	header = append(header, plainText[0], noSniff)
	if err := w.Start(status, statusText(status), header, int64(len(text))); err != nil {
		return err
	}
	return w.Write([]byte(text))
}
