// Package wsgitest has test doubles for both sides of the wsgi contract: an
// App made of a function, for testing a front, and a Responder that records
// what it is given, for testing a host.
package wsgitest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"slices"

	"wsgo/wsgi"
)

// FuncApp adapts a function to wsgi.App.
type FuncApp func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error

// ServeWSGI calls f.
func (f FuncApp) ServeWSGI(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
	return f(ctx, req, w)
}

// Recorder is a wsgi.Responder that records every call. Like a front, it
// refuses a second Start and body bytes before Start.
type Recorder struct {
	Started bool
	Status  int
	Reason  string
	Header  []wsgi.Header
	BodyLen int64
	// Body holds everything written, including what SendFile sent.
	Body      bytes.Buffer
	Flushes   int
	Ends      int // End calls: the body ended before the iterable's close()
	SendFiles []SendFileCall
	// Err, when set, is returned by every call, as a front does once the
	// client has gone.
	Err error
}

// SendFileCall is one SendFile call.
type SendFileCall struct {
	Name   string // the file's name
	Off, N int64
}

var (
	_ wsgi.Responder = (*Recorder)(nil)
	_ wsgi.Ender     = (*Recorder)(nil)
)

// Start records the status line and headers.
func (r *Recorder) Start(status int, reason string, header []wsgi.Header, bodyLen int64) error {
	if r.Err != nil {
		return r.Err
	}
	if r.Started {
		return errors.New("wsgitest: Start called twice")
	}
	r.Started, r.Status, r.Reason, r.Header, r.BodyLen = true, status, reason, slices.Clone(header), bodyLen
	return nil
}

// Write records body bytes.
func (r *Recorder) Write(p []byte) error {
	if r.Err != nil {
		return r.Err
	}
	if !r.Started {
		return errors.New("wsgitest: Write before Start")
	}
	r.Body.Write(p)
	return nil
}

// Flush counts flushes.
func (r *Recorder) Flush() error {
	if r.Err != nil {
		return r.Err
	}
	r.Flushes++
	return nil
}

// End counts the ends of a body given before its close() ran.
func (r *Recorder) End() error {
	if r.Err != nil {
		return r.Err
	}
	r.Ends++
	return nil
}

// SendFile records the call and copies the bytes it names into Body.
func (r *Recorder) SendFile(f *os.File, off, n int64) error {
	if r.Err != nil {
		return r.Err
	}
	if !r.Started {
		return errors.New("wsgitest: SendFile before Start")
	}
	r.SendFiles = append(r.SendFiles, SendFileCall{Name: f.Name(), Off: off, N: n})
	if n < 0 {
		n = 1<<63 - 1 - off // up to the end of the file
	}
	_, err := io.Copy(&r.Body, io.NewSectionReader(f, off, n))
	return err
}
