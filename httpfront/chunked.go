package httpfront

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
)

// errMalformedChunk is a chunked body that breaks RFC 9112 7.1.
var errMalformedChunk = errors.New("malformed chunked encoding")

// chunkedReader decodes a chunked request body (RFC 9112 7.1) and reads
// its trailer section, which it checks against the header limits and
// drops: no app sees trailers (PEP 3333 has no place for them).
type chunkedReader struct {
	br     *bufio.Reader
	limits limits
	left   int64 // bytes of the current chunk still to read
	begun  bool  // a chunk was read: its CRLF comes before the next size
	err    error // io.EOF once the body and its trailers are read
}

func (r *chunkedReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.left == 0 {
		if r.err = r.nextChunk(); r.err != nil {
			return 0, r.err
		}
	}
	n, err := r.br.Read(p[:min(int64(len(p)), r.left)])
	r.left -= int64(n)
	if err == io.EOF && r.left == 0 {
		err = nil // the chunk's CRLF is for the next read to miss
	}
	r.err = unexpected(err)
	return n, r.err
}

// nextChunk reads up to the data of the next chunk, or to the end of the
// body: the last chunk and the trailer section.
func (r *chunkedReader) nextChunk() error {
	if r.begun {
		if err := r.crlf(); err != nil {
			return err
		}
	}
	r.begun = true
	line, err := r.chunkLine()
	if err != nil {
		return err
	}
	size, ok := parseChunkSize(line)
	if !ok {
		return errMalformedChunk
	}
	if size > 0 {
		r.left = size
		return nil
	}
	return r.trailers()
}

// crlf reads the CRLF that ends a chunk's data.
func (r *chunkedReader) crlf() error {
	for _, want := range []byte("\r\n") {
		c, err := r.br.ReadByte()
		if err != nil {
			return unexpected(err)
		}
		if c != want {
			return errMalformedChunk
		}
	}
	return nil
}

// chunkLine reads a chunk-size line, which must end in CRLF: a bare LF
// here is read differently by different servers, a way to smuggle a
// request. Its length is bounded by the read buffer.
func (r *chunkedReader) chunkLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		return nil, errMalformedChunk
	case err != nil:
		return nil, unexpected(err)
	case len(line) < 2 || line[len(line)-2] != '\r':
		return nil, errMalformedChunk
	}
	return line[:len(line)-2], nil
}

// parseChunkSize parses chunk-size [ chunk-ext ]. Leading zeros are
// allowed however many; a size past what an int64 holds is refused
// (RFC 9112 7.1: recipients must anticipate overflow). Whitespace after
// the size is BWS before a chunk-ext's ';', nothing else: "5 " is outside
// the grammar, and what a proxy makes of it is not known.
func parseChunkSize(line []byte) (int64, bool) {
	var n int64
	i := 0
	for ; i < len(line); i++ {
		d, ok := hexDigit(line[i])
		if !ok {
			break
		}
		if n > (math.MaxInt64-d)/16 {
			return 0, false
		}
		n = n*16 + d
	}
	if i == 0 {
		return 0, false
	}
	if rest := line[i:]; len(rest) > 0 {
		ext := bytes.TrimLeft(rest, " \t") // BWS before ';'
		if len(ext) == 0 || ext[0] != ';' || !validFieldValue(ext) {
			return 0, false
		}
	}
	return n, true
}

func hexDigit(c byte) (int64, bool) {
	switch {
	case '0' <= c && c <= '9':
		return int64(c - '0'), true
	case 'a' <= c && c <= 'f':
		return int64(c-'a') + 10, true
	case 'A' <= c && c <= 'F':
		return int64(c-'A') + 10, true
	}
	return 0, false
}

// trailers reads the trailer section up to the empty line that ends the
// body, under the limits of header fields; the fields are dropped. Its
// lines must end in CRLF, as chunk lines do: the empty one ends the body,
// and a proxy that splits lines on CRLF alone would read on past a bare LF.
func (r *chunkedReader) trailers() error {
	hr := headReader{br: r.br, limits: r.limits}
	for {
		start := len(hr.buf)
		n, err := hr.readLine(r.limits.fieldSize, func() error { return errMalformedChunk })
		switch {
		case err != nil:
			return unexpected(err)
		case hr.bareLF:
			return errMalformedChunk
		case n == 0:
			return io.EOF
		case len(hr.fields) == r.limits.fields:
			return errMalformedChunk
		}
		if hr.field(start) != nil {
			return errMalformedChunk
		}
	}
}

// lengthReader reads a body of a declared length.
type lengthReader struct {
	r    io.Reader
	left int64
}

func (r *lengthReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n, err := r.r.Read(p[:min(int64(len(p)), r.left)])
	r.left -= int64(n)
	if err == io.EOF && r.left == 0 {
		err = nil
	}
	return n, unexpected(err)
}

// unexpected is err, but an end of input inside a body or a PROXY header
// is an error of its own: it is cut short.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
