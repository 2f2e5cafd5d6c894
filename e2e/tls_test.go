package e2e

// Tests of TLS: --certfile/--keyfile, HTTP/2 through ALPN and HTTP/1.1
// over TLS, the environ of an https request, certificates re-read on
// SIGHUP, and the errors a bad certificate gives at start.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tlsApp echoes the environ keys an https request is about, and the body.
// /stream sends one chunk, then waits for /release before the last one;
// /file sends this file through wsgi.file_wrapper; /short declares more
// than it sends; /broken raises after its first chunk; /wait?PATH answers
// once the file PATH exists.
const tlsApp = `
import json, threading

released = threading.Event()

def application(environ, start_response):
    path = environ["PATH_INFO"]
    if environ["REQUEST_METHOD"] == "OPTIONS":
        start_response("200 OK", [("Allow", "GET, POST, OPTIONS"), ("Content-Type", "text/plain")])
        return [("options %s" % environ["REQUEST_URI"]).encode()]
    if path == "/untyped":
        start_response("200 OK", [("X-Content-Type-Options", "nosniff")])
        return [b"<html><script>alert(1)</script></html>"]
    if path == "/trailer":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Trailer", "X-Checksum"), ("X-Checksum", "abc")])
        return [b"body"]
    if path == "/head-bodiless":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [] if environ["REQUEST_METHOD"] == "HEAD" else iter([b"part1-", b"part2"])
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        def chunks():
            yield b"first\n"
            released.wait(30)
            yield b"last\n"
        return chunks()
    if path == "/release":
        released.set()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"released\n"]
    if path == "/file":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return environ["wsgi.file_wrapper"](open(__file__, "rb"))
    if path == "/wait":
        import os, sys, time
        print("waiting for", environ["QUERY_STRING"], file=environ["wsgi.errors"])
        while not os.path.exists(environ["QUERY_STRING"]):
            time.sleep(0.01)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"waited\n"]
    if path == "/broken":
        start_response("200 OK", [("Content-Type", "text/plain")])
        def broken():
            yield b"partial\n"
            raise RuntimeError("broken mid-stream (a test)")
        return broken()
    if path == "/short":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "100")])
        return [b"only this"]
    keys = ["wsgi.url_scheme", "SERVER_PROTOCOL", "HTTPS", "SERVER_NAME", "SERVER_PORT", "HTTP_HOST",
            "REQUEST_METHOD", "REQUEST_URI", "PATH_INFO", "QUERY_STRING", "CONTENT_LENGTH", "HTTP_X_TEST"]
    seen = {k: environ.get(k) for k in keys}
    seen["body"] = environ["wsgi.input"].read().decode()
    data = json.dumps(seen).encode()
    start_response("200 Fine Thanks", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
`

// testCert is a self-signed certificate for 127.0.0.1 and localhost.
type testCert struct {
	certFile, keyFile string
	der               []byte // the certificate, to compare with what a handshake presents
}

// makeCert writes a new key pair, named after cn, into dir.
func makeCert(t *testing.T, dir, cn string) testCert {
	t.Helper()
	return makeCertUntil(t, dir, cn, time.Now().Add(24*time.Hour))
}

// makeCertUntil is makeCert for a certificate valid until notAfter.
func makeCertUntil(t *testing.T, dir, cn string, notAfter time.Time) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             notAfter.Add(-30 * 24 * time.Hour),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := testCert{certFile: filepath.Join(dir, cn+".crt"), keyFile: filepath.Join(dir, cn+".key"), der: der}
	writePEM(t, c.certFile, "CERTIFICATE", der)
	writePEM(t, c.keyFile, "PRIVATE KEY", keyDER)
	return c
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// copyFile replaces dst's content with src's, as a certificate renewal does.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// tlsClient trusts certs; it offers HTTP/2 unless http1 is set. Every
// client has its own transport, so its first request makes a new handshake.
func tlsClient(http1 bool, certs ...testCert) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: certPool(certs...)}, ForceAttemptHTTP2: !http1}
	if http1 {
		tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	}
	return &http.Client{Timeout: 20 * time.Second, Transport: tr}
}

// certPool is a pool that trusts certs.
func certPool(certs ...testCert) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range certs {
		cert, err := x509.ParseCertificate(c.der)
		if err != nil {
			panic(err)
		}
		pool.AddCert(cert)
	}
	return pool
}

// startTLS serves tlsApp with cert, given through WSGO_CERTFILE/WSGO_KEYFILE.
func startTLS(t *testing.T, cert testCert, args ...string) *server {
	t.Helper()
	app := writeApp(t, "tls_app.py", tlsApp)
	env := []string{"WSGO_CERTFILE=" + cert.certFile, "WSGO_KEYFILE=" + cert.keyFile}
	s := start(t, env, append([]string{app}, args...)...)
	if !strings.HasPrefix(s.URL, "https://") {
		t.Fatalf("the start line gives %s; want an https:// URL", s.URL)
	}
	return s
}

// tlsEnviron decodes tlsApp's answer.
func tlsEnviron(t *testing.T, body string) map[string]any {
	t.Helper()
	var seen map[string]any
	if err := json.Unmarshal([]byte(body), &seen); err != nil {
		t.Fatalf("the app's answer %q is not JSON: %v", body, err)
	}
	return seen
}

func checkEnviron(t *testing.T, seen, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if seen[k] != v {
			t.Errorf("environ[%q] = %#v; want %#v", k, seen[k], v)
		}
	}
}

func TestTLSHTTP2(t *testing.T) {
	cert := makeCert(t, t.TempDir(), "first")
	s := startTLS(t, cert)
	_, port, _ := net.SplitHostPort(s.Addr)
	client := tlsClient(false, cert)

	t.Run("GET over HTTP/2 sees an https environ", func(t *testing.T) {
		req := mustRequest(t, "GET", s.URL+"/some/path?q=1", nil)
		req.Header.Set("X-Test", "yes")
		resp, body := frontDo(t, client, req)
		if resp.Proto != "HTTP/2.0" || resp.StatusCode != 200 {
			t.Fatalf("got %s %s; want HTTP/2.0 200", resp.Proto, resp.Status)
		}
		if resp.Status != "200 OK" {
			t.Errorf("status %q; want \"200 OK\": HTTP/2 has no reason phrase", resp.Status)
		}
		if got := resp.Header.Get("Server"); got != "wsgo" {
			t.Errorf("Server: %q; want wsgo", got)
		}
		if resp.ContentLength != int64(len(body)) {
			t.Errorf("Content-Length %d for a body of %d bytes", resp.ContentLength, len(body))
		}
		checkEnviron(t, tlsEnviron(t, body), map[string]any{
			"wsgi.url_scheme": "https", "SERVER_PROTOCOL": "HTTP/2.0", "HTTPS": "on",
			"SERVER_NAME": "127.0.0.1", "SERVER_PORT": port, "HTTP_HOST": s.Addr,
			"REQUEST_METHOD": "GET", "REQUEST_URI": "/some/path?q=1", "PATH_INFO": "/some/path",
			"QUERY_STRING": "q=1", "CONTENT_LENGTH": nil, "HTTP_X_TEST": "yes", "body": "",
		})
	})

	t.Run("POST bodies over HTTP/2, with and without Content-Length", func(t *testing.T) {
		payload := strings.Repeat("payload ", 5000)
		req := mustRequest(t, "POST", s.URL+"/post", strings.NewReader(payload))
		resp, body := frontDo(t, client, req)
		if resp.Proto != "HTTP/2.0" {
			t.Fatalf("got %s; want HTTP/2.0", resp.Proto)
		}
		checkEnviron(t, tlsEnviron(t, body), map[string]any{
			"REQUEST_METHOD": "POST", "CONTENT_LENGTH": "40000", "body": payload})

		// A body of unknown length: HTTP/2 sends no Content-Length; the
		// app still gets CONTENT_LENGTH, as for a chunked HTTP/1.1 body.
		pr, pw := io.Pipe()
		go func() {
			pw.Write([]byte("streamed "))
			pw.Write([]byte("body"))
			pw.Close()
		}()
		req = mustRequest(t, "POST", s.URL+"/post", pr)
		resp, body = frontDo(t, client, req)
		if resp.Proto != "HTTP/2.0" {
			t.Fatalf("got %s; want HTTP/2.0", resp.Proto)
		}
		checkEnviron(t, tlsEnviron(t, body), map[string]any{"CONTENT_LENGTH": "13", "body": "streamed body"})
	})

	t.Run("a streamed response arrives chunk by chunk over HTTP/2", func(t *testing.T) {
		resp, err := client.Get(s.URL + "/stream")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.Proto != "HTTP/2.0" {
			t.Fatalf("got %s; want HTTP/2.0", resp.Proto)
		}
		// The first chunk must arrive while the app still waits: the
		// last one comes only after /release, which the test sends now.
		first := make([]byte, len("first\n"))
		if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "first\n" {
			t.Fatalf("first chunk %q, %v; want \"first\\n\"", first, err)
		}
		if _, body := frontDo(t, client, mustRequest(t, "GET", s.URL+"/release", nil)); body != "released\n" {
			t.Fatalf("/release answered %q", body)
		}
		rest, err := io.ReadAll(resp.Body)
		if err != nil || string(rest) != "last\n" {
			t.Errorf("rest of the stream %q, %v; want \"last\\n\"", rest, err)
		}
	})

	t.Run("wsgi.file_wrapper over HTTP/2 sends the whole file", func(t *testing.T) {
		resp, body := frontDo(t, client, mustRequest(t, "GET", s.URL+"/file", nil))
		if resp.Proto != "HTTP/2.0" || body != tlsApp {
			t.Errorf("got %s with %d bytes; want HTTP/2.0 and the app's source (%d bytes)", resp.Proto, len(body), len(tlsApp))
		}
	})

	t.Run("HEAD over HTTP/2 has the length and no body", func(t *testing.T) {
		resp, body := frontDo(t, client, mustRequest(t, "HEAD", s.URL+"/x", nil))
		if resp.Proto != "HTTP/2.0" || resp.StatusCode != 200 || body != "" || resp.ContentLength <= 0 {
			t.Errorf("HEAD: %s %d, Content-Length %d, body %q; want HTTP/2.0 200, the GET's length, no body",
				resp.Proto, resp.StatusCode, resp.ContentLength, body)
		}
	})

	for _, path := range []string{"/short", "/broken"} {
		t.Run("an incomplete response resets its stream: "+path, func(t *testing.T) {
			// The reset may come before the headers or after part of the body.
			resp, err := client.Get(s.URL + path)
			if err == nil {
				got, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				if rerr == nil {
					t.Errorf("read %q and no error; want the stream reset", got)
				}
			}
			// The connection lives on for other streams.
			if resp, _ := frontDo(t, client, mustRequest(t, "GET", s.URL+"/after", nil)); resp.StatusCode != 200 {
				t.Errorf("next request: %d", resp.StatusCode)
			}
		})
	}

	t.Run("HTTP/1.1 over TLS when the client does not offer h2", func(t *testing.T) {
		http1 := tlsClient(true, cert)
		resp, body := frontDo(t, http1, mustRequest(t, "POST", s.URL+"/one?x=2", strings.NewReader("hello")))
		if resp.Proto != "HTTP/1.1" || resp.Status != "200 Fine Thanks" {
			t.Fatalf("got %s %q; want HTTP/1.1 \"200 Fine Thanks\" (the app's reason phrase)", resp.Proto, resp.Status)
		}
		checkEnviron(t, tlsEnviron(t, body), map[string]any{
			"wsgi.url_scheme": "https", "SERVER_PROTOCOL": "HTTP/1.1", "HTTPS": "on",
			"SERVER_NAME": "127.0.0.1", "SERVER_PORT": port, "REQUEST_URI": "/one?x=2",
			"CONTENT_LENGTH": "5", "body": "hello",
		})
		resp, body = frontDo(t, http1, mustRequest(t, "GET", s.URL+"/file", nil))
		if resp.Proto != "HTTP/1.1" || body != tlsApp {
			t.Errorf("file over HTTP/1.1 and TLS: %s with %d bytes; want the app's source (%d bytes)", resp.Proto, len(body), len(tlsApp))
		}
	})

	t.Run("plain HTTP to the TLS port gets no response", func(t *testing.T) {
		got := s.raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if strings.Contains(got, "HTTP/1.1 200") {
			t.Errorf("plain HTTP was served on the TLS port: %q", got)
		}
	})
}

func TestTLSUnixSocketStaysPlain(t *testing.T) {
	cert := makeCert(t, t.TempDir(), "first")
	sock := cliSocketPath(t)
	s := startTLS(t, cert, "--bind", "127.0.0.1:0", "--bind", "unix:"+sock)
	if !s.waitLog(`on https://127\.0\.0\.1:\d+, unix:`+sock, time.Second) {
		t.Errorf("the start line does not list https://127.0.0.1:PORT, unix:%s", sock)
	}
	resp, body := frontDo(t, cliUnixClient(sock), mustRequest(t, "GET", "http://unix/x", nil))
	seen := tlsEnviron(t, body)
	if resp.Proto != "HTTP/1.1" || seen["wsgi.url_scheme"] != "http" || seen["HTTPS"] != nil {
		t.Errorf("unix socket: %s, url_scheme %v, HTTPS %v; want plain HTTP/1.1, http, no HTTPS", resp.Proto, seen["wsgi.url_scheme"], seen["HTTPS"])
	}
	if resp, _ := frontDo(t, tlsClient(false, cert), mustRequest(t, "GET", s.URL+"/", nil)); resp.Proto != "HTTP/2.0" {
		t.Errorf("TCP bind: %s; want HTTP/2.0", resp.Proto)
	}
}

// presented returns the certificate a new handshake with s presents.
func presented(t *testing.T, s *server, trust ...testCert) []byte {
	t.Helper()
	resp, _ := frontDo(t, tlsClient(false, trust...), mustRequest(t, "GET", s.URL+"/", nil))
	return resp.TLS.PeerCertificates[0].Raw
}

// liveCerts makes two certificates and the files served, holding the
// first.
func liveCerts(t *testing.T) (first, second, live testCert) {
	dir := t.TempDir()
	first, second = makeCert(t, dir, "first"), makeCert(t, dir, "second")
	live = testCert{certFile: filepath.Join(dir, "live.crt"), keyFile: filepath.Join(dir, "live.key")}
	copyFile(t, first.certFile, live.certFile)
	copyFile(t, first.keyFile, live.keyFile)
	return first, second, live
}

func TestTLSReloadOnSIGHUP(t *testing.T) {
	first, second, live := liveCerts(t)
	s := startTLS(t, live)
	if !bytes.Equal(presented(t, s, first, second), first.der) {
		t.Fatal("the first handshake does not present the first certificate")
	}

	copyFile(t, second.certFile, live.certFile)
	copyFile(t, second.keyFile, live.keyFile)
	s.cmd.Process.Signal(syscall.SIGHUP)
	// SIGHUP replaces the workers, which read the files afresh.
	if !s.waitLog(`wsgo: reload \(SIGHUP\) done`, 20*time.Second) {
		t.Fatal("no log line of the reload")
	}
	if !strings.Contains(s.logs.String(), "wsgo: SIGHUP: TLS certificate: CN=second, valid until ") {
		t.Error("the reload does not name the certificate it took")
	}
	if !bytes.Equal(presented(t, s, first, second), second.der) {
		t.Error("after SIGHUP, a new handshake does not present the new certificate")
	}

	if err := os.WriteFile(live.certFile, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	workers := strings.Count(s.logs.String(), ") started")
	s.cmd.Process.Signal(syscall.SIGHUP)
	if !s.waitLog(`\[ERROR\] wsgo: SIGHUP: no reload, as new workers could not read the TLS files: --certfile `+live.certFile+
		` and --keyfile `+live.keyFile+`: .*; the workers serve on with the certificate in use`, 20*time.Second) {
		t.Fatal("no error line naming the files and keeping the workers after a SIGHUP with a broken certificate")
	}
	if n := strings.Count(s.logs.String(), ") started"); n != workers {
		t.Errorf("a worker was started for a reload that could not succeed (%d start lines, %d before)", n, workers)
	}
	if !bytes.Equal(presented(t, s, first, second), second.der) {
		t.Error("after a failed reload, a new handshake does not present the certificate in use")
	}
	if code := s.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("exit code %d after SIGTERM; want 0", code)
	}
}

// A worker that replaces one that died serves the certificate the master
// checked, not what the files hold by then: after a SIGHUP refused broken
// files, each replacement read them, failed, and was retried for good, so
// one worker down took the site down.
func TestTLSAReplacementServesTheCertificateInUseWhateverTheFilesHold(t *testing.T) {
	first, second, live := liveCerts(t)
	s := startTLS(t, live)
	copyFile(t, second.certFile, live.certFile) // a renewal half written: the new certificate, the old key
	s.cmd.Process.Signal(syscall.SIGHUP)
	if !s.waitLog(`SIGHUP: no reload, as new workers could not read the TLS files`, 20*time.Second) {
		t.Fatal("the broken files were not refused")
	}
	old := workerPid(t, s)
	syscall.Kill(old, syscall.SIGKILL)
	if !s.waitLog(`worker 1 \(pid \d+\) ready(?s:.*)worker 1 \(pid \d+\) ready`, 20*time.Second) {
		t.Fatalf("no replacement became ready")
	}
	if !bytes.Equal(presented(t, s, first, second), first.der) {
		t.Error("the replacement does not present the certificate in use")
	}
	if strings.Contains(s.logs.String(), "start_failure") || strings.Count(s.logs.String(), ") started") != 2 {
		t.Errorf("the replacement did not start at once:\n%s", s.logs.String())
	}
}

func TestTLSStartErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	first, second := makeCert(t, dir, "first"), makeCert(t, dir, "second")
	app := writeApp(t, "tls_app.py", tlsApp)
	missing := filepath.Join(dir, "missing.crt")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a missing certificate file is named", []string{"--certfile", missing, "--keyfile", first.keyFile},
			"wsgo: cannot read --certfile: open " + missing + ": no such file or directory"},
		{"a key that does not match the certificate names both files",
			[]string{"--certfile", first.certFile, "--keyfile", second.keyFile},
			"wsgo: --certfile " + first.certFile + " and --keyfile " + second.keyFile + ": private key does not match public key; give a PEM certificate"},
		{"a key file that is not PEM names both files", []string{"--certfile", first.certFile, "--keyfile", app},
			"wsgo: --certfile " + first.certFile + " and --keyfile " + app + ": failed to find any PEM data in key input"},
		{"--certfile without --keyfile, holding no key", []string{"--certfile", first.certFile},
			"wsgo run: TLS needs --keyfile too: --certfile " + first.certFile + " holds no private key (a --certfile alone must hold the key as well as the certificates)"},
		{"--keyfile without --certfile", []string{"--keyfile", first.keyFile},
			"wsgo run: TLS needs both --certfile and --keyfile (PEM files)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := cliExit(t, nil, append([]string{"run", app, "--bind", "127.0.0.1:0"}, tc.args...)...)
			if code != 2 || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, output:\n%s\nwant exit 2 and %q", code, out, tc.want)
			}
		})
	}
}

// gunicorn serves a --certfile alone that holds the key too; so does wsgo.
func TestTLSCertfileHoldingItsKey(t *testing.T) {
	cert := makeCert(t, t.TempDir(), "first")
	certPEM, err1 := os.ReadFile(cert.certFile)
	keyPEM, err2 := os.ReadFile(cert.keyFile)
	combined := filepath.Join(t.TempDir(), "combined.pem")
	if err := errors.Join(err1, err2, os.WriteFile(combined, append(certPEM, keyPEM...), 0o600)); err != nil {
		t.Fatal(err)
	}
	s := start(t, nil, writeApp(t, "tls_app.py", tlsApp), "--certfile", combined)
	resp, err := tlsClient(true, cert).Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Errorf("got %s, TLS %v; want 200 over TLS", resp.Status, resp.TLS != nil)
	}
}

func TestTLSHTTP2GracefulStop(t *testing.T) {
	cert := makeCert(t, t.TempDir(), "first")
	s := startTLS(t, cert)
	release := filepath.Join(t.TempDir(), "release")
	type result struct {
		proto, body string
		err         error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := tlsClient(false, cert).Get(s.URL + "/wait?" + release)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		done <- result{resp.Proto, string(b), err}
	}()
	if !s.waitLog("waiting for "+release, 10*time.Second) {
		t.Fatal("the request did not reach the app")
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	if !s.waitLog("finishing in-flight requests", 10*time.Second) {
		t.Fatal("no shutdown line after SIGTERM")
	}
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.proto != "HTTP/2.0" || r.body != "waited\n" {
		t.Errorf("in-flight HTTP/2 request: %s %q, %v; want HTTP/2.0 \"waited\\n\"", r.proto, r.body, r.err)
	}
	if code, ok := s.wait(20 * time.Second); !ok || code != 0 {
		t.Errorf("exited: %v, code %d; want exit 0 once the request is done", ok, code)
	}
}

func TestTLSExpiredCertificateIsWarnedOf(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		notAfter time.Time
		warning  string
	}{
		{time.Now().Add(-time.Hour), `\[WARNING\] wsgo: the TLS certificate expired on \d{4}-\d\d-\d\d: clients refuse it; renew --certfile, then send SIGHUP`},
		{time.Now().Add(72 * time.Hour), `\[WARNING\] wsgo: the TLS certificate expires in 71 hours, on \d{4}-\d\d-\d\d; renew --certfile, then send SIGHUP`},
		{time.Now().Add(10 * 24 * time.Hour), `\[WARNING\] wsgo: the TLS certificate expires in 9 days, on \d{4}-\d\d-\d\d; renew --certfile, then send SIGHUP`},
	} {
		s := startTLS(t, makeCertUntil(t, dir, "until"+tc.notAfter.Format("20060102"), tc.notAfter))
		if !regexp.MustCompile(tc.warning).MatchString(s.logs.String()) {
			t.Errorf("no warning matching %q", tc.warning)
		}
	}
	s := startTLS(t, makeCertUntil(t, dir, "fresh", time.Now().Add(15*24*time.Hour)))
	if strings.Contains(s.logs.String(), "WARNING") {
		t.Errorf("a warning for a certificate valid for a day more than the warning's 14:\n%s", s.logs.String())
	}
}

// The 400 is counted and in the access log, as the front's other
// refusals are.
func TestTLSPortAnswersPlainHTTPWith400(t *testing.T) {
	accessLog := filepath.Join(t.TempDir(), "access.log")
	s := frontMetrics(t, startTLS(t, makeCert(t, t.TempDir(), "plain"), "--metrics-bind", "127.0.0.1:0", "--access-log", accessLog))
	got := s.raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if !strings.HasPrefix(got, "HTTP/1.0 400 Bad Request\r\n") || !strings.Contains(got, "Use https:// in the URL.") {
		t.Errorf("plain HTTP to the TLS port got %q; want a 400 that says to use https://", got)
	}
	if n := s.scrape().sum("wsgo_requests_total", "code", "4xx"); n != 1 {
		t.Errorf("wsgo_requests_total{code=\"4xx\"} %v; want 1", n)
	}
	line := regexp.MustCompile(`^127\.0\.0\.1 - - \[[^]]+\] "-" 400 81 "-" "-" "[0-9a-f]{32}"\n$`)
	if got := frontLogLines(t, accessLog, 1)[0]; !line.MatchString(got) {
		t.Errorf("the access log holds %q; want a line matching %s", got, line)
	}
}

func TestTLSServesAClientOfferingOnlyHTTP10(t *testing.T) {
	cert := makeCert(t, t.TempDir(), "alpn10")
	s := startTLS(t, cert)
	c, err := tls.Dial("tcp", s.Addr, &tls.Config{RootCAs: certPool(cert), NextProtos: []string{"http/1.0"}})
	if err != nil {
		t.Fatalf("a client offering only http/1.0 in ALPN: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
	got, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(got), "HTTP/1.1 200 Fine Thanks\r\n") || !strings.Contains(string(got), `"SERVER_PROTOCOL": "HTTP/1.0"`) {
		t.Errorf("got %q; want the app's 200 to the HTTP/1.0 request", got)
	}
}

// RFC 9113 9.2.2: HTTP/2 over TLS 1.2 needs an ephemeral key exchange and
// an AEAD cipher; a client offering only CBC suites is refused.
func TestTLS12OffersOnlyAEADSuites(t *testing.T) {
	cert := makeCert(t, t.TempDir(), "suites")
	s := startTLS(t, cert)
	cbc := &tls.Config{RootCAs: certPool(cert), MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}}
	if c, err := tls.Dial("tcp", s.Addr, cbc); err == nil {
		c.Close()
		t.Errorf("a TLS 1.2 handshake with CBC suites only succeeded (%s)", tls.CipherSuiteName(c.ConnectionState().CipherSuite))
	}
	gcm := &tls.Config{RootCAs: certPool(cert), MaxVersion: tls.VersionTLS12, NextProtos: []string{"h2"}}
	c, err := tls.Dial("tcp", s.Addr, gcm)
	if err != nil {
		t.Fatalf("a TLS 1.2 handshake offering Go's default suites: %v", err)
	}
	defer c.Close()
	if st := c.ConnectionState(); st.NegotiatedProtocol != "h2" || !strings.Contains(tls.CipherSuiteName(st.CipherSuite), "_GCM_") && !strings.Contains(tls.CipherSuiteName(st.CipherSuite), "CHACHA20") {
		t.Errorf("negotiated %q with %s; want h2 with an AEAD suite", st.NegotiatedProtocol, tls.CipherSuiteName(st.CipherSuite))
	}
}
