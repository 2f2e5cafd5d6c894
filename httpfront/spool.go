package httpfront

import (
	"bytes"
	"io"
	"os"
)

// spoolMemory is how much of a chunked body is kept in memory; the rest
// goes to an unlinked temporary file.
const spoolMemory = 1 << 20

// spoolBody reads a chunked request body whole before the app runs and
// returns it with its length. Why: frameworks such as Django read exactly
// CONTENT_LENGTH bytes of wsgi.input and see an empty body without it; and
// a slow uploader then costs a goroutine, never a Python thread. release
// frees the spool once the request is over.
func spoolBody(r io.Reader) (body io.Reader, n int64, release func(), err error) {
	var mem bytes.Buffer
	n, err = io.CopyN(&mem, r, spoolMemory+1)
	if err == io.EOF {
		return bytes.NewReader(mem.Bytes()), n, func() {}, nil
	}
	if err != nil {
		return nil, 0, nil, err
	}
	f, err := os.CreateTemp("", "wsgo-body-")
	if err != nil {
		return nil, 0, nil, err
	}
	os.Remove(f.Name()) // the open file outlives its name; nothing to clean up on a crash
	m, err := io.Copy(f, io.MultiReader(&mem, r))
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	return f, m, func() { f.Close() }, nil
}
