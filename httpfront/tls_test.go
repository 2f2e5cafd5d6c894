package httpfront

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestSplitHostDefaultsToTheSchemePort(t *testing.T) {
	tests := []struct{ host, scheme, name, port string }{
		{"example.test", "http", "example.test", "80"},
		{"example.test", "https", "example.test", "443"},
		{"example.test:8443", "https", "example.test", "8443"},
		{"[::1]", "https", "[::1]", "443"},
		{"[::1]:8443", "https", "[::1]", "8443"},
	}
	for _, tt := range tests {
		if name, port := splitHost(tt.host, schemePort(tt.scheme)); name != tt.name || port != tt.port {
			t.Errorf("splitHost(%q, %q) = %q, %q; want %q, %q", tt.host, tt.scheme, name, port, tt.name, tt.port)
		}
	}
}

func TestTLSURLSaysHTTPSForTCPOnly(t *testing.T) {
	tcp, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	if got := TLSURL(tcp); !strings.HasPrefix(got, "https://127.0.0.1:") {
		t.Errorf("TLSURL of a TCP listener = %q; want https://127.0.0.1:PORT", got)
	}
	sock := filepath.Join(t.TempDir(), "s.sock")
	unix, err := Listen("unix:" + sock)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close()
	if got := TLSURL(unix); got != "unix:"+sock {
		t.Errorf("TLSURL of a unix socket listener = %q; want unix:%s", got, sock)
	}
}
