package supervisor

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"wsgo/internal/config"
)

// Listen opens one --bind address, of a form config.ParseBind takes:
// "host:port", ":port" (all interfaces), "[v6]:port", "unix:/path", or
// "fd://N", a listening socket this process inherited. Its errors name
// the problem and the fix.
//
// For a unix socket, a stale socket file (one nobody listens on) is removed
// first; any other file in the way is left alone and reported.
func Listen(bind string) (net.Listener, error) {
	checked, err := config.ParseBind(bind)
	if err != nil {
		return nil, fmt.Errorf("wsgo: bad address %q: %v", bind, err)
	}
	bind = checked
	if path, ok := strings.CutPrefix(bind, "unix:"); ok {
		return listenUnix(bind, path)
	}
	if fd, ok := strings.CutPrefix(bind, "fd://"); ok {
		return listenFD(bind, fd)
	}
	host, _, _ := net.SplitHostPort(bind) // ParseBind checked it
	// An IP literal means that family only: under "tcp", Go would take
	// 0.0.0.0 for a dual-stack [::]. ":port" and names keep "tcp".
	network := "tcp"
	if ip := net.ParseIP(host); ip != nil {
		network = "tcp6"
		if ip.To4() != nil {
			network = "tcp4"
		}
	}
	l, err := net.Listen(network, bind)
	if err != nil {
		return nil, listenError(bind, err)
	}
	return l, nil
}

// URL gives a human URL for the listener: http://127.0.0.1:8000,
// unix:/path. Wildcard addresses are shown as they are.
func URL(l net.Listener) string { return listenerURL(l, "http://") }

// TLSURL is URL for a listener whose TCP connections serve TLS
// (Config.TLS): https://[::1]:8000.
func TLSURL(l net.Listener) string { return listenerURL(l, "https://") }

func listenerURL(l net.Listener, scheme string) string {
	switch a := l.Addr().(type) {
	case *net.TCPAddr:
		return scheme + net.JoinHostPort(a.IP.String(), strconv.Itoa(a.Port))
	case *net.UnixAddr:
		return "unix:" + a.Name
	}
	return l.Addr().String()
}

func listenUnix(bind, path string) (net.Listener, error) {
	if err := removeStaleSocket(bind, path); err != nil {
		return nil, err
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, listenError(bind, err)
	}
	return l, nil
}

// listenFD adopts the listening socket inherited on descriptor fd, as
// gunicorn's fd://N does: one a process manager opened (systemd's socket
// activation passes its own through LISTEN_FDS, systemd.go).
func listenFD(bind, fd string) (net.Listener, error) {
	n, _ := strconv.Atoi(fd) // ParseBind checked it
	l, err := adopt(n, bind)
	if err != nil {
		return nil, fmt.Errorf("wsgo: cannot listen on %s: %v; start wsgo with a listening stream socket on that descriptor", bind, err)
	}
	return l, nil
}

// removeStaleSocket deletes a socket file left behind by a server that is
// gone. A socket somebody still answers on, or a file that is not a socket,
// is an error: deleting either would hurt someone else.
func removeStaleSocket(bind, path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("wsgo: cannot listen on %s: %v", bind, err)
	}
	if fi.Mode()&fs.ModeSocket == 0 {
		return fmt.Errorf("wsgo: cannot listen on %s: the file exists and is not a socket; remove it yourself or pick another path with --bind", bind)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("wsgo: cannot listen on %s: another server is listening on that socket; stop it or pick another path with --bind", bind)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("wsgo: cannot listen on %s: checking the existing socket file: %v", bind, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("wsgo: cannot listen on %s: removing the stale socket file: %v", bind, err)
	}
	return nil
}

// listenError explains the usual ways binding fails.
func listenError(bind string, err error) error {
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("wsgo: cannot listen on %s: address already in use; stop the other server or pick another port with --bind", bind)
	case errors.Is(err, syscall.EACCES):
		if strings.HasPrefix(bind, "unix:") {
			return fmt.Errorf("wsgo: cannot listen on %s: permission denied; pick a path in a directory you can write with --bind", bind)
		}
		return fmt.Errorf("wsgo: cannot listen on %s: permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE, pick a port above 1023 with --bind", bind)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("wsgo: cannot listen on %s: no network interface of this machine has that address; use 127.0.0.1, 0.0.0.0 or one of its own addresses with --bind", bind)
	case errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("wsgo: cannot listen on %s: the directory does not exist; create it or pick another path with --bind", bind)
	case errors.Is(err, syscall.EINVAL) && strings.HasPrefix(bind, "unix:"):
		return fmt.Errorf("wsgo: cannot listen on %s: invalid socket path (they are limited to about 100 bytes); pick a shorter path with --bind", bind)
	case errors.As(err, &dns):
		return fmt.Errorf("wsgo: cannot listen on %s: cannot resolve host %q; use an IP address or a name this machine resolves with --bind", bind, dns.Name)
	}
	return fmt.Errorf("wsgo: cannot listen on %s: %v", bind, err)
}

// IsLoopback reports whether a listener's address is reachable from this
// machine only. A unix socket is not: a proxy may carry anyone to it.
func IsLoopback(addr net.Addr) bool {
	a, ok := addr.(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}
