package e2e

// Tests of real frameworks served by wsgo, each a small app under
// testdata/frameworks/. A framework the embedded Python cannot import is
// skipped; any other failure fails.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fwStart serves testdata/frameworks/FILE; it skips the test when the
// embedded Python has no module named MODULE.
func fwStart(t *testing.T, file, module string) *server {
	t.Helper()
	return fwStartArgs(t, module, filepath.Join(cliData(t, "frameworks"), file))
}

// fwStartArgs runs `wsgo run ARGS...` for an app of a framework; it skips
// the test when the embedded Python has no module named MODULE (wsgo
// exits 4, or under --reload serves the app as failed to load).
func fwStartArgs(t *testing.T, module string, args ...string) *server {
	t.Helper()
	s := launch(t, nil, args...)
	missing := regexp.MustCompile(`ModuleNotFoundError: No module named '` + regexp.QuoteMeta(module) + `'`)
	m, ok := s.logs.waitFor(startLine, 20*time.Second, s.exited)
	if ok && !(strings.Contains(m[0], "(failed to load)") && missing.MatchString(s.logs.String())) {
		s.URL = m[1]
		s.Addr = strings.TrimPrefix(s.URL, "http://")
		return s
	}
	out := s.logs.String()
	code, exited := 0, false
	if !ok {
		code, exited = s.wait(5 * time.Second)
	}
	if (ok || exited && code == 4) && missing.MatchString(out) {
		t.Skipf("the embedded Python cannot import %s: %s", module, missing.FindString(out))
	}
	t.Fatalf("wsgo did not start %s (exited %v, code %d); output:\n%s", args, exited, code, out)
	return nil
}

// fwBody is a deterministic body of n bytes and how an echo route describes it.
func fwBody(n int) (string, string) {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "line %d of the body\n", i)
	}
	body := b.String()[:n]
	sum := sha256.Sum256([]byte(body))
	return body, fmt.Sprintf("%d bytes, sha256 %s", n, hex.EncodeToString(sum[:]))
}

// fwPost POSTs body to url, chunked when chunked is set, else with a Content-Length.
func fwPost(t *testing.T, url, body string, chunked bool) (int, string) {
	t.Helper()
	req := mustRequest(t, "POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/octet-stream")
	if chunked {
		// An unknown length makes Go's client send the body chunked.
		req.Body = io.NopCloser(strings.NewReader(body))
		req.ContentLength = -1
		req.TransferEncoding = []string{"chunked"}
	}
	resp, err := cliHTTP.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: reading body: %v", url, err)
	}
	return resp.StatusCode, string(got)
}

func TestFlask(t *testing.T) {
	s := fwStart(t, "flask_app.py", "flask")
	t.Run("a route answers", func(t *testing.T) {
		cliExpect(t, s.URL+"/", 200, "Hello from Flask")
	})
	t.Run("an unknown route is 404", func(t *testing.T) {
		resp, _ := cliFetch(t, "GET", s.URL+"/nosuch", nil)
		if resp.StatusCode != 404 {
			t.Errorf("GET /nosuch = %d; want 404", resp.StatusCode)
		}
	})
	t.Run("jsonify gives a JSON response", func(t *testing.T) {
		resp, body := cliFetch(t, "GET", s.URL+"/json", nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("GET /json = %d, Content-Type %q; want 200 application/json", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("body %q is not JSON: %v", body, err)
		}
		want := map[string]any{"framework": "flask", "ok": true, "numbers": []any{1.0, 2.0, 3.0}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("JSON %v; want %v", got, want)
		}
	})
	for _, chunked := range []bool{false, true} {
		name := map[bool]string{false: "a POST with Content-Length is read whole by request.get_data()",
			true: "a chunked POST is read whole by request.get_data()"}[chunked]
		t.Run(name, func(t *testing.T) {
			body, want := fwBody(300 << 10)
			if status, got := fwPost(t, s.URL+"/echo", body, chunked); status != 200 || got != want {
				t.Errorf("POST /echo = %d %q; want 200 %q", status, got, want)
			}
		})
	}
}

func TestDjango(t *testing.T) {
	s := fwStart(t, "django_app.py", "django")
	t.Run("a GET view answers", func(t *testing.T) {
		cliExpect(t, s.URL+"/", 200, "Hello from Django")
	})
	t.Run("an unknown URL is 404", func(t *testing.T) {
		resp, _ := cliFetch(t, "GET", s.URL+"/nosuch", nil)
		if resp.StatusCode != 404 {
			t.Errorf("GET /nosuch = %d; want 404", resp.StatusCode)
		}
	})
	for _, chunked := range []bool{false, true} {
		name := map[bool]string{false: "a POST with Content-Length is read whole by request.body",
			true: "a chunked POST is read whole by request.body"}[chunked]
		t.Run(name, func(t *testing.T) {
			body, want := fwBody(100 << 10)
			if status, got := fwPost(t, s.URL+"/echo", body, chunked); status != 200 || got != want {
				t.Errorf("POST /echo = %d %q; want 200 %q", status, got, want)
			}
		})
	}
}

// app.run() where the app is imported would start Flask's development
// server in the worker, whose import then never ended.
func TestFlaskAppRunAtModuleLevelIsIgnoredWithAWarning(t *testing.T) {
	app := writeApp(t, "app.py", `from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    return "served by wsgo"


app.run(host="127.0.0.1", port=0, debug=True)
`)
	s := fwStartArgs(t, "flask", app)
	cliExpect(t, s.URL+"/", 200, "served by wsgo")
	const warning = "RuntimeWarning: wsgo ignores app.run(): it would start Flask's development server inside the worker and never return"
	if !strings.Contains(s.logs.String(), warning) {
		t.Errorf("the log lacks %q:\n%s", warning, s.logs.String())
	}
}

func TestSmallFrameworks(t *testing.T) {
	for _, tc := range []struct{ name, file, module, want string }{
		{"Falcon serves its hello route", "falcon_app.py", "falcon", "Hello from Falcon"},
		{"Bottle serves its hello route", "bottle_app.py", "bottle", "Hello from Bottle"},
		{"Pyramid serves its hello route", "pyramid_app.py", "pyramid", "Hello from Pyramid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fwStart(t, tc.file, tc.module)
			cliExpect(t, s.URL+"/", 200, tc.want)
			resp, _ := cliFetch(t, "GET", s.URL+"/nosuch", nil)
			if resp.StatusCode != 404 {
				t.Errorf("GET /nosuch = %d; want 404", resp.StatusCode)
			}
		})
	}
}
