package httpfront

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"wsgo/wsgi"
)

func TestParseRange(t *testing.T) {
	const size = 100
	tests := []struct {
		value   string
		want    []byteRange
		partial bool
	}{
		{"bytes=0-9", []byteRange{{0, 10}}, true},
		{"bytes=90-", []byteRange{{90, 10}}, true},
		{"bytes=-5", []byteRange{{95, 5}}, true},
		{"bytes=-500", []byteRange{{0, 100}}, true},
		{"bytes=95-200", []byteRange{{95, 5}}, true},
		{"Bytes = 1-1", []byteRange{{1, 1}}, true},
		{"bytes=50-59, 0-9", []byteRange{{50, 10}, {0, 10}}, true},
		{"bytes=0-9,,20-29,", []byteRange{{0, 10}, {20, 10}}, true},
		{"bytes=100-", nil, true},                         // unsatisfiable: 416
		{"bytes=-0", nil, true},                           // unsatisfiable: 416
		{"bytes=200-300, 0-0", []byteRange{{0, 1}}, true}, // the satisfiable one
		{"bytes=5-4", nil, false},                         // invalid: ignored
		{"bytes=a-b", nil, false},
		{"bytes=0-9;x", nil, false},
		{"bytes=+1-2", nil, false},
		{"bytes=", nil, false},
		{"items=0-9", nil, false},
		{"0-9", nil, false},
		{"bytes=0-9,5-14", nil, false}, // overlapping: whole file
	}
	for _, tt := range tests {
		got, partial := parseRange(tt.value, size)
		if partial != tt.partial || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseRange(%q) = %v, %v; want %v, %v", tt.value, got, partial, tt.want, tt.partial)
		}
	}
	// maxRanges disjoint ranges are served, one more is not.
	var specs []string
	for i := range maxRanges + 1 {
		specs = append(specs, strconv.Itoa(i*2)+"-"+strconv.Itoa(i*2))
	}
	if _, partial := parseRange("bytes="+strings.Join(specs[:maxRanges], ","), size); !partial {
		t.Errorf("%d ranges ignored", maxRanges)
	}
	if _, partial := parseRange("bytes="+strings.Join(specs, ","), size); partial {
		t.Errorf("%d ranges served", maxRanges+1)
	}
}

func TestAcceptedEncodings(t *testing.T) {
	names := func(encs []encoding) (out []string) {
		for _, e := range encs {
			out = append(out, e.name)
		}
		return out
	}
	tests := []struct {
		accept []string
		want   []string
	}{
		{nil, nil},
		{[]string{"gzip, deflate, br"}, []string{"br", "gzip"}},
		{[]string{"gzip"}, []string{"gzip"}},
		{[]string{"x-gzip"}, []string{"gzip"}},
		{[]string{"br;q=0.5, gzip;q=0.8"}, []string{"gzip", "br"}},
		{[]string{"br;q=0, gzip"}, []string{"gzip"}},
		{[]string{"*"}, []string{"br", "gzip"}},
		{[]string{"*;q=0.1, br;q=0"}, []string{"gzip"}},
		{[]string{"identity"}, nil},
		{[]string{"gzip;q=2"}, nil}, // a q-value out of range counts as 0
		{[]string{"BR", "GZip; Q=0.3"}, []string{"br", "gzip"}},
	}
	for _, tt := range tests {
		if got := names(acceptedEncodings(tt.accept)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("acceptedEncodings(%q) = %q, want %q", tt.accept, got, tt.want)
		}
	}
}

func TestStaticPaths(t *testing.T) {
	dir := t.TempDir()
	files := newStaticFiles([]StaticDir{{Prefix: "", Dir: dir + "/root"}, {Prefix: "/static", Dir: dir}, {Prefix: "/static/img", Dir: dir + "/img"}}, 0)
	tests := []struct {
		raw          string
		dir, rel     string // dir "" when no prefix matches
		clean, valid bool
	}{
		{"/static/a.css", dir, "a.css", true, true},
		{"/static/img/x.png", dir + "/img", "x.png", true, true}, // the longest prefix
		{"/static", dir, "", true, false},                        // a directory
		{"/static/", dir, "", true, false},
		{"/staticx/a.css", dir + "/root", "staticx/a.css", true, true},
		{"/static/sub/../a.css", dir, "sub/../a.css", true, false},
		{"/static/%2e%2e/secret", dir, "../secret", true, false},
		{"/static/..%2fsecret", dir, "../secret", false, false},
		{"/static/a%2Fb", dir, "a/b", false, true}, // refused for not being clean
		{"/static/..%5csecret", dir, `..\secret`, false, false},
		{`/static/..\secret`, dir, `..\secret`, true, false},
		{"/static/a%00.css", dir, "a\x00.css", false, false},
		{"/static/a%zz", dir, "a%zz", false, true},
		{"/static/a%2", dir, "a%2", false, true},
		{"/static//etc/passwd", dir, "/etc/passwd", true, false},
		{"/static/.env", dir, ".env", true, false},
		{"/static/sub/.git/config", dir, "sub/.git/config", true, false},
		{"/static/./a.css", dir, "./a.css", true, false},
		{"/st%61tic/a%20b.css", dir, "a b.css", true, true},
	}
	for _, tt := range tests {
		app := files.match(tt.raw)
		sf, _ := app.(*staticFile)
		switch {
		case sf == nil:
			t.Errorf("%s: no static directory matched", tt.raw)
		case sf.dir != tt.dir || sf.rel != tt.rel || sf.clean != tt.clean:
			t.Errorf("%s: dir %s rel %q clean %v; want %s %q %v", tt.raw, sf.dir, sf.rel, sf.clean, tt.dir, tt.rel, tt.clean)
		case safeRelPath(sf.rel) != tt.valid:
			t.Errorf("%s: safeRelPath(%q) = %v", tt.raw, sf.rel, !tt.valid)
		}
	}
	if app := newStaticFiles([]StaticDir{{Prefix: "/static", Dir: dir}}, 0).match("/app/static/x"); app != nil {
		t.Errorf("/app/static/x matched %v", app)
	}
}

func TestParseStatic(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o644)
	got, err := ParseStatic("/assets/=" + dir)
	if err != nil || got != (StaticDir{Prefix: "/assets", Dir: dir}) {
		t.Errorf("ParseStatic = %+v, %v", got, err)
	}
	wd, _ := os.Getwd()
	if got, err := ParseStatic("/=."); err != nil || got != (StaticDir{Prefix: "", Dir: wd}) {
		t.Errorf("ParseStatic(/=.) = %+v, %v; want the root prefix and the working directory", got, err)
	}
	for spec, problem := range map[string]string{
		"static=" + dir:            "must start with /",
		"/static":                  "needs a URL prefix",
		"/static=":                 "needs a URL prefix",
		"/a/../b=" + dir:           "plain path",
		"/a%20b=" + dir:            "plain path",
		"/static=" + dir + "/nope": "no such file",
		"/static=" + file:          "is not a directory",
	} {
		_, err := ParseStatic(spec)
		if err == nil || !strings.Contains(err.Error(), problem) || !strings.Contains(err.Error(), "/prefix=DIR") {
			t.Errorf("ParseStatic(%q) = %v; want an error saying %q and the form", spec, err, problem)
		}
	}
}

func TestPreconditions(t *testing.T) {
	modified := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rs := &representation{size: 10, modified: modified, etag: `"abc"`}
	before, at, after := modified.Add(-time.Second).Format(time.RFC1123), modified.Format(time.RFC1123), modified.Add(time.Second).Format(time.RFC1123)
	before, at, after = strings.Replace(before, "UTC", "GMT", 1), strings.Replace(at, "UTC", "GMT", 1), strings.Replace(after, "UTC", "GMT", 1)
	tests := []struct {
		headers []string
		want    int
	}{
		{nil, 0},
		{[]string{"If-None-Match", `"abc"`}, 304},
		{[]string{"If-None-Match", `W/"abc"`}, 304},
		{[]string{"If-None-Match", `"x", "abc"`}, 304},
		{[]string{"If-None-Match", `*`}, 304},
		{[]string{"If-None-Match", `"x"`}, 0},
		{[]string{"If-None-Match", `"x"`, "If-Modified-Since", after}, 0}, // If-None-Match decides alone
		{[]string{"If-Modified-Since", at}, 304},
		{[]string{"If-Modified-Since", after}, 304},
		{[]string{"If-Modified-Since", before}, 0},
		{[]string{"If-Modified-Since", "yesterday"}, 0},
		{[]string{"If-Match", `"abc"`}, 0},
		{[]string{"If-Match", `W/"abc"`}, 412}, // strong comparison
		{[]string{"If-Match", `"x"`}, 412},
		{[]string{"If-Match", `*`}, 0},
		{[]string{"If-Unmodified-Since", before}, 412},
		{[]string{"If-Unmodified-Since", at}, 0},
		{[]string{"If-Match", `"abc"`, "If-Unmodified-Since", before}, 0}, // If-Match decides alone
		{[]string{"If-Match", `"x"`, "If-None-Match", `"abc"`}, 412},
	}
	for _, tt := range tests {
		req := &wsgi.Request{Method: "GET"}
		for i := 0; i < len(tt.headers); i += 2 {
			req.Header = append(req.Header, wsgi.Header{Name: tt.headers[i], Value: tt.headers[i+1]})
		}
		if got := rs.preconditions(req); got != tt.want {
			t.Errorf("%q: %d, want %d", tt.headers, got, tt.want)
		}
	}
}
