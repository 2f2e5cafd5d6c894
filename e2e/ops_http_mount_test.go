package e2e

// --root-path and SCRIPT_NAME: the app mounted under a URL prefix, with
// Flask building its URLs from SCRIPT_NAME; X-Forwarded-Prefix from a
// trusted proxy.

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// mountApp is a Flask app that reports SCRIPT_NAME, PATH_INFO and the URL
// url_for builds; /seen (below any prefix) lists every PATH_INFO that
// reached Python.
const mountApp = `from flask import Flask, jsonify, request, url_for

app = Flask(__name__)
seen = []

@app.before_request
def record():
    seen.append(request.environ["PATH_INFO"])

@app.route("/users/<name>")
def user(name):
    return jsonify(script_name=request.environ["SCRIPT_NAME"], path_info=request.environ["PATH_INFO"],
                   url=url_for("user", name=name))

@app.route("/seen")
def seen_paths():
    return jsonify(seen)
`

type mountReport struct {
	ScriptName string `json:"script_name"`
	PathInfo   string `json:"path_info"`
	URL        string `json:"url"`
}

// mountStart serves mountApp with ARGS, skipping when Flask is missing.
func mountStart(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	if out, err := exec.Command(binary, "python", "-c", "import flask").CombinedOutput(); err != nil {
		t.Skipf("no Flask for the embedded Python: %s", out)
	}
	return start(t, env, append([]string{writeApp(t, "mount_app.py", mountApp) + ":app"}, args...)...)
}

// mountGet GETs path with client, returning the status and body.
func mountGet(t *testing.T, client *http.Client, s *server, path string, header ...string) (int, string) {
	t.Helper()
	req := mustRequest(t, "GET", s.URL+path, nil)
	for i := 0; i < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, body := frontDo(t, client, req)
	return resp.StatusCode, body
}

// mountReportOf GETs path, which mountApp must answer.
func mountReportOf(t *testing.T, client *http.Client, s *server, path string, header ...string) mountReport {
	t.Helper()
	status, body := mountGet(t, client, s, path, header...)
	var r mountReport
	if err := json.Unmarshal([]byte(body), &r); status != 200 || err != nil {
		t.Fatalf("status %d, body %q", status, body)
	}
	return r
}

func TestOpsHTTPRootPath(t *testing.T) {
	s := mountStart(t, nil, "--root-path", "/app/")
	t.Run("SCRIPT_NAME, PATH_INFO and url_for", func(t *testing.T) {
		got := mountReportOf(t, nil, s, "/app/users/bob")
		want := mountReport{ScriptName: "/app", PathInfo: "/users/bob", URL: "/app/users/bob"}
		if got != want {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	})
	t.Run("outside the prefix: 404 from Go", func(t *testing.T) {
		for _, path := range []string{"/", "/users/bob", "/apple/users/bob", "/APP/users/bob"} {
			status, body := mountGet(t, nil, s, path)
			if status != 404 || body != "Not Found\n" {
				t.Fatalf("%s: %d %q, want 404 from Go", path, status, body)
			}
		}
		status, body := mountGet(t, nil, s, "/app/seen")
		var seen []string
		if json.Unmarshal([]byte(body), &seen) != nil || status != 200 || strings.Join(seen, " ") != "/users/bob /seen" {
			t.Fatalf("Python saw %s (status %d), want only /users/bob and /seen", body, status)
		}
	})
	t.Run("X-Forwarded-Prefix from a trusted proxy", func(t *testing.T) {
		got := mountReportOf(t, nil, s, "/app/users/amy", "X-Forwarded-Prefix", "/edge/")
		want := mountReport{ScriptName: "/edge/app", PathInfo: "/users/amy", URL: "/edge/app/users/amy"}
		if got != want {
			t.Fatalf("got %+v, want %+v", got, want)
		}
		got = mountReportOf(t, nil, s, "/app/users/amy", "X-Forwarded-Prefix", "../evil")
		if got.ScriptName != "/app" {
			t.Fatalf("a malformed X-Forwarded-Prefix gave SCRIPT_NAME %q", got.ScriptName)
		}
	})
	t.Run("X-Forwarded-Prefix from another peer changes nothing", func(t *testing.T) {
		other := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
				return d.DialContext(ctx, network, addr)
			}}}
		got := mountReportOf(t, other, s, "/app/users/amy", "X-Forwarded-Prefix", "/edge")
		if got.ScriptName != "/app" || got.URL != "/app/users/amy" {
			t.Fatalf("got %+v from an untrusted peer", got)
		}
	})
}

// SCRIPT_NAME in wsgo's environment is the mount point, as for gunicorn.
func TestOpsHTTPScriptNameFromEnvironment(t *testing.T) {
	s := mountStart(t, []string{"SCRIPT_NAME=/env"})
	got := mountReportOf(t, nil, s, "/env/users/eve")
	if want := (mountReport{ScriptName: "/env", PathInfo: "/users/eve", URL: "/env/users/eve"}); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if status, _ := mountGet(t, nil, s, "/users/eve"); status != 404 {
		t.Fatalf("outside SCRIPT_NAME: %d, want 404", status)
	}
}

func TestOpsHTTPRootPathRefused(t *testing.T) {
	for _, bad := range []string{"app", "/a//b", "/a/../b", "/a?b"} {
		s := launch(t, nil, writeApp(t, "app.py", frontApp), "--root-path", bad)
		code, ok := s.wait(20 * time.Second)
		if !ok || code != 2 || !strings.Contains(s.logs.String(), "--root-path") {
			t.Fatalf("--root-path %q: exit %d (exited: %v); output:\n%s", bad, code, ok, s.logs.String())
		}
	}
}
