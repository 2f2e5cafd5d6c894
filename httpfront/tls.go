package httpfront

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// Certs is the server's certificate and key, read from their files and
// read again by Reload: a renewed certificate is taken without a restart,
// and connections already open keep theirs.
type Certs struct {
	certFile, keyFile string
	current           atomic.Pointer[tls.Certificate]
	pem               atomic.Pointer[[]byte] // current's certificate and key, as read
}

// LoadCerts reads a PEM certificate (with its chain) and its private key.
// Its errors name the files and the fix.
func LoadCerts(certFile, keyFile string) (*Certs, error) {
	c := &Certs{certFile: certFile, keyFile: keyFile}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the files again. On an error the certificate in use stays.
func (c *Certs) Reload() error {
	certPEM, err := os.ReadFile(c.certFile)
	if err != nil {
		return fmt.Errorf("wsgo: cannot read --certfile: %v", err)
	}
	keyPEM, err := os.ReadFile(c.keyFile)
	if err != nil {
		return fmt.Errorf("wsgo: cannot read --keyfile: %v", err)
	}
	return c.take(certPEM, keyPEM, append(append(certPEM, '\n'), keyPEM...))
}

// CertsFromPEM is the certificate and key of another Certs' PEM, named
// after its files: what a worker serves, as its master read and checked it.
func CertsFromPEM(certFile, keyFile string, pem []byte) (*Certs, error) {
	c := &Certs{certFile: certFile, keyFile: keyFile}
	if err := c.take(pem, pem, pem); err != nil { // tls.X509KeyPair skips the blocks of the other kind
		return nil, err
	}
	return c, nil
}

// take makes the certificate (with its chain) and the key the ones in
// use; pem holds both, for PEM.
func (c *Certs) take(certPEM, keyPEM, pem []byte) error {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("wsgo: --certfile %s and --keyfile %s: %s; give a PEM certificate (leaf first, then its chain) and the private key that matches it",
			c.certFile, c.keyFile, strings.TrimPrefix(err.Error(), "tls: "))
	}
	c.current.Store(&cert)
	c.pem.Store(&pem)
	return nil
}

// PEM is the certificate and key in use, as read: for a worker to serve
// the same (CertsFromPEM), whatever the files hold by then.
func (c *Certs) PEM() []byte { return *c.pem.Load() }

// Describe names the certificate in use for a log line: its subject and
// when it expires.
func (c *Certs) Describe() string {
	leaf := c.current.Load().Leaf
	return fmt.Sprintf("%s, valid until %s", leaf.Subject, leaf.NotAfter.UTC().Format(time.DateOnly))
}

// Expires is when the certificate in use stops being valid.
func (c *Certs) Expires() time.Time { return c.current.Load().Leaf.NotAfter }

// Config is the TLS configuration of the listeners: the current
// certificate at each handshake, HTTP/2 or HTTP/1.1 through ALPN.
func (c *Certs) Config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// TLS 1.2 with forward secrecy and AEAD only: what RFC 9113 9.2.2
		// requires of HTTP/2, which net/http no longer checks, as wsgo
		// hands it HTTP/2 as h2c (h2conn.go). TLS 1.3's are all such.
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		// http/1.0 too: a client that offers only it (curl --http1.0)
		// would otherwise get a no_application_protocol alert.
		NextProtos: []string{"h2", "http/1.1", "http/1.0"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.current.Load(), nil
		},
	}
}

// What a plain HTTP request to a TLS listener gets.
const (
	plainHTTPHead = "HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
	plainHTTPBody = "This port serves HTTPS: the request came as plain HTTP. Use https:// in the URL.\n"
)

// answerPlainHTTP answers a handshake that failed because the client
// spoke plain HTTP (its first bytes are a method, not a TLS record) with
// a 400 that says to use https://, where a bare close would leave the
// client with an empty reply. It is logged, counted and in the access
// log as any refusal of the front.
func (c *conn) answerPlainHTTP(err error, start time.Time) {
	var rec tls.RecordHeaderError
	if !errors.As(err, &rec) || rec.Conn == nil {
		return
	}
	switch string(rec.RecordHeader[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO", "DELET", "PATCH":
		n, _ := io.WriteString(rec.Conn, plainHTTPHead+plainHTTPBody)
		id := newRequestID()
		c.s.logRefusal(400, "plain HTTP on a TLS port", c.peer(), id)
		c.s.accessLog.rejected(c, nil, nil, id, 400, int64(max(0, n-len(plainHTTPHead))), start)
		c.s.metrics.answered(400, start)
	}
}

// handshake runs a TLS connection's handshake, bounded by the header
// timeout. It reports whether the connection goes on as HTTP/1: one that
// chose HTTP/2 is handed to the HTTP/2 server, a failed one is closed.
func (c *conn) handshake(tc *tls.Conn) bool {
	start := time.Now()
	tc.SetDeadline(start.Add(c.s.headerTimeout))
	if err := tc.Handshake(); err != nil {
		c.s.log.Debug("wsgo: TLS handshake failed", "remote", c.peer(), "err", err)
		c.answerPlainHTTP(err, start)
		tc.Close()
		return false
	}
	tc.SetDeadline(time.Time{})
	if tc.ConnectionState().NegotiatedProtocol == "h2" {
		c.out.keepWaiting() // each stream's writes are released above the session (h2response)
		c.s.h2.serve(c.s, tc)
		return false
	}
	return true
}
