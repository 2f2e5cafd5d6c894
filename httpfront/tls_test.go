package httpfront

import (
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
