package e2e

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Static files (--static): served by Go, never by the app.

// frontStaticTree makes a directory to serve and, beside it, a secret
// that no request may reach. It returns the served directory and the
// secret's content.
func frontStaticTree(t *testing.T) (dir, secret string) {
	t.Helper()
	base := t.TempDir()
	dir = filepath.Join(base, "public")
	outside := t.TempDir()
	secret = "TOP SECRET " + strconv.FormatInt(time.Now().UnixNano(), 10) + "\n"
	files := map[string]string{
		"hello.txt":        "0123456789abcdefghij",
		"style.css":        "body { color: red }\n",
		"style.css.gz":     "GZIP-BYTES",
		"style.css.br":     "BROTLI-BYTES",
		"app.js":           "console.log(1)\n",
		"app.js.gz":        "GZIP-JS",
		"noext":            "<!DOCTYPE html><html><body>not to be run as HTML</body></html>",
		"data.json":        `{"a": 1}`,
		"sub/deep.txt":     "deep\n",
		"sub/.hidden":      "hidden\n",
		".env":             "PASSWORD=x\n",
		"../secret.txt":    secret, // next to the served directory
		"../public2/x.txt": "second prefix\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(outside, "secret.txt"), []byte(secret), 0o644)
	for link, target := range map[string]string{
		"inside-link.txt": "hello.txt",                             // stays inside: served
		"escape.txt":      filepath.Join(outside, "secret.txt"),    // absolute, outside
		"escape-rel.txt":  "../secret.txt",                         // relative, outside
		"escape-dir":      outside,                                 // a directory outside
		"sub/up.txt":      filepath.Join("..", "..", "secret.txt"), // climbs out from a subdirectory
		"sub/ok.txt":      filepath.Join("..", "hello.txt"),        // climbs, but stays inside
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 512<<10) // 8 MiB, for sendfile
	for i := range big {
		if i%4093 == 0 {
			big[i] = byte(i / 4093)
		}
	}
	os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644)
	return dir, secret
}

func TestStaticFiles(t *testing.T) {
	dir, _ := frontStaticTree(t)
	s := frontStart(t, nil, "--static", "/static="+dir, "--static", "/two/="+filepath.Join(filepath.Dir(dir), "public2"))
	hello, _ := os.Stat(filepath.Join(dir, "hello.txt"))
	lastModified := hello.ModTime().UTC().Format(http.TimeFormat)

	t.Run("GET has the file, its type, validators and caching headers", func(t *testing.T) {
		resp, body := frontGet(t, s, "/static/hello.txt")
		want := map[string]string{
			"Content-Type": "text/plain; charset=utf-8", "Content-Length": "20", "Last-Modified": lastModified,
			"Cache-Control": "no-cache", "Accept-Ranges": "bytes", "Vary": "Accept-Encoding", "Content-Encoding": "",
		}
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s: %q; want %q", k, got, v)
			}
		}
		if resp.StatusCode != 200 || body != "0123456789abcdefghij" || !strings.HasPrefix(resp.Header.Get("ETag"), `"`) {
			t.Errorf("%d %q ETag %q", resp.StatusCode, body, resp.Header.Get("ETag"))
		}
	})
	t.Run("Content-Type by extension, else opaque bytes, never sniffed", func(t *testing.T) {
		for path, want := range map[string]string{
			"/static/style.css": "text/css; charset=utf-8", "/static/app.js": "text/javascript; charset=utf-8",
			"/static/data.json": "application/json", "/static/noext": "application/octet-stream",
			"/two/x.txt": "text/plain; charset=utf-8",
		} {
			resp, _ := frontGet(t, s, path)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != want || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: %d %q nosniff %q; want 200 %q nosniff", path, resp.StatusCode, resp.Header.Get("Content-Type"),
					resp.Header.Get("X-Content-Type-Options"), want)
			}
		}
	})
	t.Run("Last-Modified of a file from the future is the response's Date", func(t *testing.T) {
		future := filepath.Join(dir, "future.txt")
		if err := os.WriteFile(future, []byte("later"), 0o644); err != nil {
			t.Fatal(err)
		}
		ahead := time.Now().Add(48 * time.Hour)
		if err := os.Chtimes(future, ahead, ahead); err != nil {
			t.Fatal(err)
		}
		resp, _ := frontGet(t, s, "/static/future.txt")
		date, err1 := http.ParseTime(resp.Header.Get("Date"))
		modified, err2 := http.ParseTime(resp.Header.Get("Last-Modified"))
		if resp.StatusCode != 200 || err1 != nil || err2 != nil || modified.After(date) {
			t.Errorf("%d Date %q Last-Modified %q; want Last-Modified no later than Date", resp.StatusCode,
				resp.Header.Get("Date"), resp.Header.Get("Last-Modified"))
		}
	})
	t.Run("HEAD has GET's headers and no body", func(t *testing.T) {
		get, _ := frontGet(t, s, "/static/hello.txt")
		resp, body := frontDo(t, nil, mustRequest(t, "HEAD", s.URL+"/static/hello.txt", nil))
		if resp.StatusCode != 200 || body != "" || resp.ContentLength != 20 || resp.Header.Get("ETag") != get.Header.Get("ETag") {
			t.Errorf("%d %q length %d ETag %q", resp.StatusCode, body, resp.ContentLength, resp.Header.Get("ETag"))
		}
	})
	t.Run("HEAD of an empty file says Content-Length: 0, as GET does", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dir, "empty.txt"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, method := range []string{"GET", "HEAD"} {
			raw, _ := rawUntilClose(t, s, method+" /static/empty.txt HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
			if !strings.Contains(raw, "\r\nContent-Length: 0\r\n") || strings.Contains(raw, "Transfer-Encoding") || !strings.HasSuffix(raw, "\r\n\r\n") {
				t.Errorf("%s: %q; want Content-Length: 0, no Transfer-Encoding, no body", method, raw)
			}
		}
	})
	t.Run("a large file arrives whole", func(t *testing.T) {
		want, _ := os.ReadFile(filepath.Join(dir, "big.bin"))
		resp, body := frontGet(t, s, "/static/big.bin")
		if resp.StatusCode != 200 || body != string(want) {
			t.Errorf("status %d, %d bytes; want %d", resp.StatusCode, len(body), len(want))
		}
		resp, body = frontGet(t, s, "/static/big.bin", "Range", "bytes=3000000-7000000")
		if resp.StatusCode != 206 || body != string(want[3000000:7000001]) {
			t.Errorf("range: status %d, %d bytes", resp.StatusCode, len(body))
		}
	})
	t.Run("other methods get 405 with Allow", func(t *testing.T) {
		resp, body := frontDo(t, nil, mustRequest(t, "POST", s.URL+"/static/hello.txt", strings.NewReader("x")))
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" || body != "Method Not Allowed\n" {
			t.Errorf("%d Allow %q %q", resp.StatusCode, resp.Header.Get("Allow"), body)
		}
	})
	t.Run("directories and missing files are 404, with no listing", func(t *testing.T) {
		for _, path := range []string{"/static", "/static/", "/static/sub", "/static/sub/", "/static/nosuch.txt", "/two/"} {
			if resp, body := frontGet(t, s, path); resp.StatusCode != 404 || body != "Not Found\n" {
				t.Errorf("%s: %d %q", path, resp.StatusCode, body)
			}
		}
	})
	t.Run("error answers are never sniffed either (static.md: always)", func(t *testing.T) {
		post, _ := frontDo(t, nil, mustRequest(t, "POST", s.URL+"/static/hello.txt", strings.NewReader("x")))
		missing, _ := frontGet(t, s, "/static/nosuch.txt")
		failed, _ := frontGet(t, s, "/static/hello.txt", "If-Match", `"other"`)
		unsatisfiable, _ := frontGet(t, s, "/static/hello.txt", "Range", "bytes=20-")
		for want, resp := range map[int]*http.Response{405: post, 404: missing, 412: failed, 416: unsatisfiable} {
			if resp.StatusCode != want || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%d nosniff %q; want %d nosniff", resp.StatusCode, resp.Header.Get("X-Content-Type-Options"), want)
			}
		}
	})
	t.Run("paths outside the prefixes go to the app", func(t *testing.T) {
		if resp, body := frontGet(t, s, "/staticky/hello.txt"); resp.StatusCode != 200 || !strings.Contains(body, "REMOTE_ADDR") {
			t.Errorf("%d %q", resp.StatusCode, body)
		}
		if !frontSeen(t, s, "/staticky/hello.txt") {
			t.Error("the app did not see /staticky/hello.txt")
		}
	})
	t.Run("static requests never reach the app", func(t *testing.T) {
		for _, path := range []string{"/static/hello.txt", "/static", "/static/nosuch.txt", "/two/x.txt"} {
			if frontSeen(t, s, path) {
				t.Errorf("the app saw %s", path)
			}
		}
	})
}

func TestStaticMaxAge(t *testing.T) {
	dir, _ := frontStaticTree(t)
	s := frontStart(t, nil, "--static", "/s="+dir, "--static-max-age", "3600")
	if resp, _ := frontGet(t, s, "/s/hello.txt"); resp.Header.Get("Cache-Control") != "public, max-age=3600" {
		t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
}

func TestStaticTraversal(t *testing.T) {
	dir, secret := frontStaticTree(t)
	s := frontStart(t, nil, "--static", "/static="+dir)
	attempts := []string{
		"/static/../secret.txt",
		"/static/%2e%2e/secret.txt",
		"/static/%2E%2E/secret.txt",
		"/static/..%2fsecret.txt",
		"/static/..%2Fsecret.txt",
		"/static/%2e%2e%2fsecret.txt",
		"/static/sub/..%2f..%2fsecret.txt",
		"/static/..%5csecret.txt",
		`/static/..\secret.txt`,
		"/static/sub/../../secret.txt",
		"/static//etc/passwd",
		"/static/%2fetc/passwd",
		"/static/escape.txt",
		"/static/escape-rel.txt",
		"/static/escape-dir/secret.txt",
		"/static/sub/up.txt",
		"/static/.env",
		"/static/sub/.hidden",
		"/static/hello.txt%00.png",
		"/static/./hello.txt",
	}
	for _, path := range attempts {
		t.Run(path, func(t *testing.T) {
			got := s.raw("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			if !strings.HasPrefix(got, "HTTP/1.1 404 Not Found\r\n") || strings.Contains(got, secret) || strings.Contains(got, "root:") {
				t.Errorf("got %q", got)
			}
		})
	}
	t.Run("the app saw none of them", func(t *testing.T) {
		_, body := frontGet(t, s, "/seen")
		if body != "[]" {
			t.Errorf("the app saw %s", body)
		}
	})
	t.Run("symlinks that stay inside are followed", func(t *testing.T) {
		for _, path := range []string{"/static/inside-link.txt", "/static/sub/ok.txt"} {
			if resp, body := frontGet(t, s, path); resp.StatusCode != 200 || body != "0123456789abcdefghij" {
				t.Errorf("%s: %d %q", path, resp.StatusCode, body)
			}
		}
	})
}

func TestStaticRanges(t *testing.T) {
	dir, _ := frontStaticTree(t)
	s := frontStart(t, nil, "--static", "/static="+dir)
	get, _ := frontGet(t, s, "/static/hello.txt")
	etag, lastModified := get.Header.Get("ETag"), get.Header.Get("Last-Modified")
	const file = "0123456789abcdefghij"

	tests := []struct {
		name         string
		header       []string
		status       int
		contentRange string
		body         string
	}{
		{"a range", []string{"Range", "bytes=2-5"}, 206, "bytes 2-5/20", "2345"},
		{"an open range", []string{"Range", "bytes=15-"}, 206, "bytes 15-19/20", "fghij"},
		{"a suffix range", []string{"Range", "bytes=-3"}, 206, "bytes 17-19/20", "hij"},
		{"a range past the end is cut to it", []string{"Range", "bytes=18-100"}, 206, "bytes 18-19/20", "ij"},
		{"an unsatisfiable range gets 416", []string{"Range", "bytes=20-"}, 416, "bytes */20", "Range Not Satisfiable\n"},
		{"an invalid range is ignored", []string{"Range", "bytes=5-2"}, 200, "", file},
		{"another unit is ignored", []string{"Range", "lines=1-2"}, 200, "", file},
		{"If-Range with the ETag applies the range", []string{"Range", "bytes=0-1", "If-Range", etag}, 206, "bytes 0-1/20", "01"},
		// A file rewritten within the second keeps its date: a weak
		// validator, which If-Range must not take (RFC 9110 13.1.5).
		{"If-Range with the date sends it whole", []string{"Range", "bytes=0-1", "If-Range", lastModified}, 200, "", file},
		{"If-Range with another ETag sends it whole", []string{"Range", "bytes=0-1", "If-Range", `"old"`}, 200, "", file},
		{"If-Range with a weak ETag sends it whole", []string{"Range", "bytes=0-1", "If-Range", "W/" + etag}, 200, "", file},
		{"If-Range with another date sends it whole", []string{"Range", "bytes=0-1", "If-Range", "Mon, 01 Jan 2001 00:00:00 GMT"}, 200, "", file},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := frontGet(t, s, "/static/hello.txt", tc.header...)
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Range") != tc.contentRange || body != tc.body ||
				resp.ContentLength != int64(len(tc.body)) || resp.Header.Get("Vary") != "Accept-Encoding" {
				t.Errorf("got %d %q %q (length %d); want %d %q %q", resp.StatusCode, resp.Header.Get("Content-Range"), body,
					resp.ContentLength, tc.status, tc.contentRange, tc.body)
			}
		})
	}
	t.Run("several ranges come as multipart/byteranges", func(t *testing.T) {
		resp, body := frontGet(t, s, "/static/hello.txt", "Range", "bytes=0-1, 10-12,-2")
		mediaType, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if resp.StatusCode != 206 || err != nil || mediaType != "multipart/byteranges" || resp.ContentLength != int64(len(body)) {
			t.Fatalf("%d %q %v length %d/%d", resp.StatusCode, resp.Header.Get("Content-Type"), err, resp.ContentLength, len(body))
		}
		want := []struct{ contentRange, body string }{{"bytes 0-1/20", "01"}, {"bytes 10-12/20", "abc"}, {"bytes 18-19/20", "ij"}}
		r := multipart.NewReader(strings.NewReader(body), params["boundary"])
		for i, w := range want {
			part, err := r.NextPart()
			if err != nil {
				t.Fatalf("part %d: %v", i, err)
			}
			got, _ := io.ReadAll(part)
			if part.Header.Get("Content-Range") != w.contentRange || part.Header.Get("Content-Type") != "text/plain; charset=utf-8" || string(got) != w.body {
				t.Errorf("part %d: %q %q %q; want %q %q", i, part.Header.Get("Content-Range"), part.Header.Get("Content-Type"), got, w.contentRange, w.body)
			}
		}
		if _, err := r.NextPart(); err != io.EOF {
			t.Errorf("after the last part: %v; want EOF", err)
		}
	})
	t.Run("HEAD ignores Range", func(t *testing.T) {
		req := mustRequest(t, "HEAD", s.URL+"/static/hello.txt", nil)
		req.Header.Set("Range", "bytes=0-1")
		if resp, _ := frontDo(t, nil, req); resp.StatusCode != 200 || resp.ContentLength != 20 {
			t.Errorf("%d length %d", resp.StatusCode, resp.ContentLength)
		}
	})
}

func TestStaticConditionalRequests(t *testing.T) {
	dir, _ := frontStaticTree(t)
	s := frontStart(t, nil, "--static", "/static="+dir)
	get, _ := frontGet(t, s, "/static/hello.txt")
	etag, lastModified := get.Header.Get("ETag"), get.Header.Get("Last-Modified")
	modified, _ := http.ParseTime(lastModified)
	earlier := modified.Add(-time.Hour).Format(http.TimeFormat)

	tests := []struct {
		name   string
		header []string
		status int
	}{
		{"If-None-Match with the ETag: 304", []string{"If-None-Match", etag}, 304},
		{"If-None-Match in a list: 304", []string{"If-None-Match", `"other", ` + etag}, 304},
		{"If-None-Match weak: 304", []string{"If-None-Match", "W/" + etag}, 304},
		{"If-None-Match *: 304", []string{"If-None-Match", "*"}, 304},
		{"If-None-Match with another ETag: 200", []string{"If-None-Match", `"other"`}, 200},
		{"If-Modified-Since the Last-Modified: 304", []string{"If-Modified-Since", lastModified}, 304},
		{"If-Modified-Since earlier: 200", []string{"If-Modified-Since", earlier}, 200},
		{"If-None-Match decides over If-Modified-Since", []string{"If-None-Match", `"other"`, "If-Modified-Since", lastModified}, 200},
		{"If-Match with another ETag: 412", []string{"If-Match", `"other"`}, 412},
		{"If-Match with the ETag: 200", []string{"If-Match", etag}, 200},
		{"If-Unmodified-Since earlier: 412", []string{"If-Unmodified-Since", earlier}, 412},
		// RFC 9110 13.1.3, 13.1.4: a date field of more than one member is ignored.
		{"two If-Modified-Since fields are ignored", []string{"If-Modified-Since", lastModified, "If-Modified-Since", lastModified}, 200},
		{"two If-Unmodified-Since fields are ignored", []string{"If-Unmodified-Since", earlier, "If-Unmodified-Since", earlier}, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := frontGet(t, s, "/static/hello.txt", tc.header...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d; want %d", resp.StatusCode, tc.status)
			}
			if resp.Header.Get("Vary") != "Accept-Encoding" {
				t.Errorf("%d without Vary: Accept-Encoding", tc.status)
			}
			switch tc.status {
			case 304:
				if body != "" || resp.Header.Get("ETag") != etag || resp.Header.Get("Cache-Control") != "no-cache" ||
					resp.Header.Get("Vary") != "Accept-Encoding" || resp.Header.Get("Content-Length") != "" {
					t.Errorf("304 with body %q and headers %v", body, resp.Header)
				}
			case 200:
				if body != "0123456789abcdefghij" {
					t.Errorf("body %q", body)
				}
			}
		})
	}
}

func TestStaticPrecompressed(t *testing.T) {
	dir, _ := frontStaticTree(t)
	s := frontStart(t, nil, "--static", "/static="+dir)
	tests := []struct {
		path, accept   string
		encoding, body string
	}{
		{"/static/style.css", "", "", "body { color: red }\n"},
		{"/static/style.css", "gzip", "gzip", "GZIP-BYTES"},
		{"/static/style.css", "gzip, deflate, br", "br", "BROTLI-BYTES"},
		{"/static/style.css", "br;q=0.5, gzip", "gzip", "GZIP-BYTES"},
		{"/static/style.css", "gzip;q=0, br;q=0", "", "body { color: red }\n"},
		{"/static/style.css", "identity", "", "body { color: red }\n"},
		{"/static/style.css", "*", "br", "BROTLI-BYTES"},
		{"/static/app.js", "br, gzip", "gzip", "GZIP-JS"}, // no .br sibling
		{"/static/hello.txt", "br, gzip", "", "0123456789abcdefghij"},
	}
	etags := map[string]string{}
	for _, tc := range tests {
		t.Run(tc.path+" with Accept-Encoding "+tc.accept, func(t *testing.T) {
			var header []string
			if tc.accept != "" {
				header = []string{"Accept-Encoding", tc.accept}
			}
			resp, body := frontGet(t, s, tc.path, header...)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != tc.encoding || body != tc.body ||
				resp.Header.Get("Vary") != "Accept-Encoding" {
				t.Errorf("%d Content-Encoding %q Vary %q body %q; want %q %q", resp.StatusCode, resp.Header.Get("Content-Encoding"),
					resp.Header.Get("Vary"), body, tc.encoding, tc.body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/") {
				t.Errorf("Content-Type %q is not the original file's", ct)
			}
			etag := resp.Header.Get("ETag")
			if other, ok := etags[tc.path+tc.encoding]; ok && other != etag || !ok && containsValue(etags, etag) {
				t.Errorf("ETag %q is shared by another representation", etag)
			}
			etags[tc.path+tc.encoding] = etag
		})
	}
	t.Run("a range of the compressed representation", func(t *testing.T) {
		resp, body := frontGet(t, s, "/static/style.css", "Accept-Encoding", "gzip", "Range", "bytes=0-3")
		if resp.StatusCode != 206 || body != "GZIP" || resp.Header.Get("Content-Range") != "bytes 0-3/10" {
			t.Errorf("%d %q %q", resp.StatusCode, resp.Header.Get("Content-Range"), body)
		}
	})
}

func containsValue(m map[string]string, v string) bool {
	for _, x := range m {
		if x == v {
			return true
		}
	}
	return false
}

func TestStaticFlagErrors(t *testing.T) {
	app := writeApp(t, "app.py", frontApp)
	missing := filepath.Join(t.TempDir(), "nosuch")
	for _, tc := range []struct{ spec, want string }{
		{"static=" + t.TempDir(), "the URL prefix must start with /"},
		{"/static", "it needs a URL prefix, '=' and a directory"},
		{"/static=" + missing, "cannot use the directory"},
	} {
		code, out := cliExit(t, nil, "run", "--static", tc.spec, app)
		if code != 2 || !strings.Contains(out, tc.want) || !strings.Contains(out, "use /prefix=DIR") {
			t.Errorf("--static %s: exit %d; want 2 and %q in:\n%s", tc.spec, code, tc.want, out)
		}
	}
}
