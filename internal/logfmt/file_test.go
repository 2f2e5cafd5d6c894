package logfmt

import (
	"os"
	"path/filepath"
	"strings"
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
