package logfmt

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A reopen whose directory was moved away says so, and keeps writing to
// the file it had.
func TestReopenNamesAMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	lf, err := OpenFile(filepath.Join(dir, "wsgo.log"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	err = lf.Reopen()
	if err == nil || !strings.HasSuffix(err.Error(), "no such file or directory; its directory does not exist; create it") {
		t.Fatalf("Reopen: %v; want the missing directory named", err)
	}
	if _, err := lf.Write([]byte("still here\n")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir+".old", "wsgo.log")); string(b) != "still here\n" {
		t.Errorf("the old file holds %q", b)
	}
}

// A write that a full disk cuts mid-line used to have the next line
// appended to the piece: the next write now ends that line first. The
// file size limit (RLIMIT_FSIZE; Go ignores SIGXFSZ) cuts the write as
// ENOSPC would.
func TestAWriteCutMidLineDoesNotJoinTheNextLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	lf, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	var was syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &was); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 20, Max: was.Max}); err != nil {
		t.Fatal(err)
	}
	n, err := lf.Write([]byte("first line\nsecond line\n"))
	syscall.Setrlimit(syscall.RLIMIT_FSIZE, &was)
	if n != 20 || err == nil {
		t.Fatalf("the cut write: %d, %v; want 20 bytes and an error", n, err)
	}
	if _, err := lf.Write([]byte("third line\n")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "first line\nsecond li\nthird line\n" {
		t.Errorf("the file holds %q", b)
	}
}
