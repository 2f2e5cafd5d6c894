package handoff

import (
	"net"
	"testing"
)

func TestProxyAddressesSurviveTheLend(t *testing.T) {
	cases := []struct{ remote, local net.Addr }{
		{&net.TCPAddr{IP: net.ParseIP("203.0.113.7").To4(), Port: 4711}, &net.TCPAddr{IP: net.ParseIP("10.0.0.5").To4(), Port: 443}},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8::7"), Port: 5000}, &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 443}},
		{nil, nil}, // LOCAL, UNKNOWN: the socket's own
	}
	for _, tc := range cases {
		data := encodeProxy(tc.remote, tc.local)
		remote, local, read, err := decodeProxy(data)
		if err != nil || !read {
			t.Fatalf("%q: read %v, %v", data, read, err)
		}
		if tc.remote == nil {
			if remote != nil || local != nil {
				t.Errorf("%q: addresses %v %v; want none", data, remote, local)
			}
			continue
		}
		if remote.String() != tc.remote.String() || local.String() != tc.local.String() {
			t.Errorf("%q: %v %v; want %v %v", data, remote, local, tc.remote, tc.local)
		}
	}
	if _, _, read, err := decodeProxy(nil); read || err != nil {
		t.Errorf("no data: read %v, %v; want neither", read, err)
	}
	for _, bad := range []string{"PROXY 1.2.3.4:5", "PROXY a b", "HELLO", "PROXY 1.2.3.4:5 6.7.8.9:10 x"} {
		if _, _, _, err := decodeProxy([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
