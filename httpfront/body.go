package httpfront

import (
	"io"
	"time"
)

// body is an HTTP/1 request body as the application reads it: de-chunked
// or bounded by its Content-Length, capped at --max-body-size, with
// Expect: 100-continue answered on the first read.
type body struct {
	c      *conn
	res    *response
	r      io.Reader // nil without a body
	length int64     // declared length, -1 when chunked
	read   int64
	// waiting: the client waits for 100 Continue before it sends the body.
	// The interim response goes out on the first read, if the final one
	// has not started yet.
	waiting bool
	eof     bool
	err     error // a failed read (client gone, malformed chunk, too large); the body is lost
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
	n, err := b.r.Read(p)
	b.read += int64(n)
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil:
		b.err = err
	}
	return n, err
}

// consumed reports whether the whole body has been read.
func (b *body) consumed() bool {
	return b.eof || b.length >= 0 && b.read == b.length
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

// capBody returns r, failing with errBodyTooLarge once it has given more
// than limit bytes (0: no limit; r nil: no body).
func capBody(r io.Reader, limit int64) io.Reader {
	if r == nil || limit <= 0 {
		return r
	}
	return &cappedBody{r: r, left: limit}
}

type cappedBody struct {
	r    io.Reader
	left int64 // bytes still allowed
}

func (c *cappedBody) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > c.left {
		p = p[:c.left+1] // one byte over tells the body is too large
	}
	n, err := c.r.Read(p)
	if int64(n) > c.left {
		n, c.left = int(c.left), -1
		return n, errBodyTooLarge
	}
	c.left -= int64(n)
	return n, err
}
