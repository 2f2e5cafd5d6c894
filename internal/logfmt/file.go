package logfmt

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
)

// FileAdvice says what to do about err, an error opening a log file.
func FileAdvice(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "its directory does not exist; create it"
	case errors.Is(err, fs.ErrPermission):
		return "let wsgo's user write to it and create files in its directory"
	}
	return "give a writable file"
}

// File is a log file (--error-log, --access-log) that can be reopened at
// its path: logrotate renames it and sends SIGUSR1, and the next line
// goes to a new file at the old path, so rotation needs no copytruncate
// (which loses the lines written between its copy and its truncation).
// Every process appends to the file itself (O_APPEND: a line written in
// one write(2) is never interleaved with another process's).
type File struct {
	path string
	mu   sync.Mutex
	f    *os.File
	// torn: a write was cut mid-line (a full disk), so the next begins
	// by ending that line rather than continuing it.
	torn bool
}

// open are the Files of this process, for ReopenAll.
var open = struct {
	sync.Mutex
	files map[*File]struct{}
}{files: map[*File]struct{}{}}

// OpenFile opens path for appending, creating it (mode 0644).
func OpenFile(path string) (*File, error) {
	f, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	lf := &File{path: path, f: f}
	open.Lock()
	open.files[lf] = struct{}{}
	open.Unlock()
	return lf, nil
}

func openAppend(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
}

func (lf *File) Write(p []byte) (int, error) {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	if lf.torn {
		if _, err := lf.f.Write([]byte{'\n'}); err != nil {
			return 0, err
		}
		lf.torn = false
	}
	n, err := lf.f.Write(p)
	lf.torn = err != nil && n > 0 && p[n-1] != '\n'
	return n, err
}

// Reopen opens the path anew and closes the file it replaces. When the
// path cannot be opened, writing goes on to the old file.
func (lf *File) Reopen() error {
	f, err := openAppend(lf.path)
	if err != nil {
		return fmt.Errorf("wsgo: cannot reopen the log file %s, still writing to the file it was: %w; %s", lf.path, err, FileAdvice(err))
	}
	lf.mu.Lock()
	old := lf.f
	lf.f = f
	lf.mu.Unlock()
	return old.Close()
}

// Close closes the file; ReopenAll forgets it.
func (lf *File) Close() error {
	open.Lock()
	delete(open.files, lf)
	open.Unlock()
	lf.mu.Lock()
	defer lf.mu.Unlock()
	return lf.f.Close()
}

// ReopenAll reopens every File this process has open (SIGUSR1).
func ReopenAll() error {
	open.Lock()
	files := make([]*File, 0, len(open.files))
	for lf := range open.files {
		files = append(files, lf)
	}
	open.Unlock()
	var errs []error
	for _, lf := range files {
		errs = append(errs, lf.Reopen())
	}
	return errors.Join(errs...)
}
