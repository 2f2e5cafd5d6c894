package httpfront

import (
	"io"
	"time"
)

// body is the request body as the application reads it: http.Request's
// body (bounded, de-chunked), with Expect: 100-continue answered on the
// first read.
type body struct {
	c      *conn
	res    *response
	r      io.Reader
	length int64 // declared length, -1 when chunked
	read   int64
	limit  int64 // Config.MaxBodySize: reading past it fails; 0: no limit
	// waiting: the client waits for 100 Continue before it sends the body.
	// The interim response goes out on the first read, if the final one
	// has not started yet.
	waiting bool
	eof     bool
	err     error // a failed read (client gone, malformed chunk); the body is lost
}

func (b *body) Read(p []byte) (int, error) {
	switch {
	case b.res.done:
		return 0, errDone
	case b.eof:
		return 0, io.EOF
	case b.err != nil:
		return 0, b.err
	}
	if b.waiting && !b.res.started {
		b.waiting = false
		if err := b.res.sendContinue(); err != nil {
			b.err = err
			return 0, err
		}
	}
	if b.limit > 0 && int64(len(p)) > b.limit-b.read {
		p = p[:b.limit-b.read+1] // one byte over tells the body is too large
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	if over := b.read - b.limit; b.limit > 0 && over > 0 {
		b.err = errBodyTooLarge
		return n - int(over), b.err
	}
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil:
		b.err = err
	}
	return n, err
}

// willClose tells, before the response starts, that drain is bound to fail,
// so that the response can say Connection: close.
func (b *body) willClose() bool {
	return b.waiting || b.err != nil || !b.eof && b.length-b.read > maxDrain
}

// drain discards what the application left of the body, so that the
// connection can read its next request. It gives up, and the connection
// must close, past maxDrain bytes or drainTimeout, or if the client still
// waits for 100 Continue: it may never send the body.
func (b *body) drain() bool {
	switch {
	case b.eof:
		return true
	case b.willClose():
		return false
	}
	b.c.cr.stall = 0
	b.c.rwc.SetReadDeadline(time.Now().Add(drainTimeout))
	_, err := io.CopyN(io.Discard, b.r, maxDrain+1)
	return err == io.EOF
}
