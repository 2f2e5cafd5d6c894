package watch

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// quietFor is how long a test waits to conclude that no change comes: many
// times Debounce, so a slow machine does not make a change look absent.
const quietFor = 10 * Debounce

// newWatcher watches files in dir (created with their names as content).
func newWatcher(t *testing.T, dir string, files []string, extra ...string) *Watcher {
	t.Helper()
	var paths []string
	for _, f := range files {
		p := filepath.Join(dir, f)
		write(t, p, f)
		paths = append(paths, p)
	}
	w, err := New(time.Now(), paths, extra, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// expectChange waits for the next reported change and checks its path.
func expectChange(t *testing.T, w *Watcher, want string) {
	t.Helper()
	select {
	case got := <-w.Changes():
		if got.Path != want {
			t.Fatalf("change reported for %q, want %q", got.Path, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no change reported for %s", want)
	}
}

func expectNoChange(t *testing.T, w *Watcher) {
	t.Helper()
	select {
	case got := <-w.Changes():
		t.Fatalf("unexpected change reported for %q", got.Path)
	case <-time.After(quietFor):
	}
}

func TestWriteIsAChange(t *testing.T) {
	dir := t.TempDir()
	w := newWatcher(t, dir, []string{"app.py"})
	write(t, filepath.Join(dir, "app.py"), "changed")
	expectChange(t, w, filepath.Join(dir, "app.py"))
	expectNoChange(t, w)
}

// An editor's atomic save: write a temporary file, rename it over the old.
func TestRenameOverIsAChange(t *testing.T) {
	dir := t.TempDir()
	w := newWatcher(t, dir, []string{"app.py"})
	tmp := filepath.Join(dir, ".app.py.tmp1234")
	write(t, tmp, "new")
	if err := os.Rename(tmp, filepath.Join(dir, "app.py")); err != nil {
		t.Fatal(err)
	}
	expectChange(t, w, filepath.Join(dir, "app.py"))
}

// vim's default save: rename the file to a backup~, write a new one, with
// a .swp and a 4913 write test beside it. Only the new app.py counts.
func TestEditorScratchFilesAreIgnored(t *testing.T) {
	dir := t.TempDir()
	w := newWatcher(t, dir, []string{"app.py"})
	for _, name := range []string{".app.py.swp", "4913", ".#app.py", "notes.py~"} {
		write(t, filepath.Join(dir, name), "scratch")
	}
	expectNoChange(t, w)
	if err := os.Rename(filepath.Join(dir, "app.py"), filepath.Join(dir, "app.py~")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "app.py"), "new")
	expectChange(t, w, filepath.Join(dir, "app.py"))
}

func TestNewPythonFileInAWatchedDirectoryIsAChange(t *testing.T) {
	dir := t.TempDir()
	w := newWatcher(t, dir, []string{"app.py"})
	write(t, filepath.Join(dir, "views.py"), "new module")
	expectChange(t, w, filepath.Join(dir, "views.py"))
}

func TestUnrelatedFilesAreIgnored(t *testing.T) {
	dir := t.TempDir()
	w := newWatcher(t, dir, []string{"app.py"})
	write(t, filepath.Join(dir, "notes.txt"), "not Python")
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "sub", "deeper.py"), "not in a watched directory")
	expectNoChange(t, w)
}

// A package created in a watched directory (the fix of a
// ModuleNotFoundError) is a change, and so is a later edit of its files,
// at any depth; a new directory that is no package is not.
func TestNewPackageInAWatchedDirectoryIsAChange(t *testing.T) {
	dir := t.TempDir()
	w := newWatcher(t, dir, []string{"app.py"})
	pkg := filepath.Join(dir, "mypkg")
	if err := os.Mkdir(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(pkg, "__init__.py"), "")
	expectChange(t, w, filepath.Join(pkg, "__init__.py"))
	write(t, filepath.Join(pkg, "helper.py"), "H = 1")
	expectChange(t, w, filepath.Join(pkg, "helper.py"))
	sub := filepath.Join(pkg, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	expectNoChange(t, w)
	write(t, filepath.Join(sub, "__init__.py"), "")
	expectChange(t, w, filepath.Join(sub, "__init__.py"))
}

// A package whose files are in place before the watch on its directory
// begins (mkdir -p, an archive unpacked) is a change all the same.
func TestNewPackageFilledAtOnceIsAChange(t *testing.T) {
	dir := t.TempDir()
	w := newWatcher(t, dir, []string{"app.py"})
	staging := t.TempDir()
	if err := os.MkdirAll(filepath.Join(staging, "mypkg", "inner"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(staging, "mypkg", "inner", "__init__.py"), "")
	if err := os.Rename(filepath.Join(staging, "mypkg"), filepath.Join(dir, "mypkg")); err != nil {
		t.Fatal(err)
	}
	expectChange(t, w, filepath.Join(dir, "mypkg", "inner", "__init__.py"))
	write(t, filepath.Join(dir, "mypkg", "inner", "more.py"), "")
	expectChange(t, w, filepath.Join(dir, "mypkg", "inner", "more.py"))
}

func TestExtraFileIsAChange(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	conf := filepath.Join(other, "settings.toml")
	write(t, conf, "a = 1")
	w := newWatcher(t, dir, []string{"app.py"}, conf)
	write(t, filepath.Join(other, "unrelated.toml"), "b = 2")
	expectNoChange(t, w)
	write(t, conf, "a = 2")
	expectChange(t, w, conf)
}

func TestAddWatchesMoreFiles(t *testing.T) {
	dir, lib := t.TempDir(), t.TempDir()
	w := newWatcher(t, dir, []string{"app.py"})
	helper := filepath.Join(lib, "helper.py")
	write(t, helper, "v1")
	if err := w.Add([]string{helper}); err != nil {
		t.Fatal(err)
	}
	write(t, helper, "v2")
	expectChange(t, w, helper)
	if w.Len() != 2 {
		t.Fatalf("Len() = %d, want 2", w.Len())
	}
}

// A file modified after New's since, in a directory not watched until
// then, is a change as soon as Add watches it: the app may have read it
// before the change. One modified before, or dated in the future (no
// edit), is not.
func TestAddedFileModifiedSinceIsAChange(t *testing.T) {
	w := newWatcher(t, t.TempDir(), []string{"app.py"})
	since := w.since
	for _, tc := range []struct {
		name    string
		modTime time.Time
		changed bool
	}{
		{"before.py", since.Add(-time.Second), false},
		{"future.py", time.Now().Add(time.Hour), false},
		{"after.py", since.Add(time.Millisecond), true},
	} {
		path := filepath.Join(t.TempDir(), tc.name) // a directory of its own: not watched yet
		write(t, path, tc.name)
		if err := os.Chtimes(path, tc.modTime, tc.modTime); err != nil {
			t.Fatal(err)
		}
		if err := w.Add([]string{path}); err != nil {
			t.Fatal(err)
		}
		if tc.changed {
			expectChange(t, w, path)
		} else {
			expectNoChange(t, w)
		}
	}
}

// A burst of writes to several files (a save, a formatter, a checkout)
// is one change, named by the burst's first file.
func TestBurstIsOneChange(t *testing.T) {
	dir := t.TempDir()
	w := newWatcher(t, dir, []string{"a.py", "b.py"})
	for i := range 5 {
		write(t, filepath.Join(dir, "a.py"), fmt.Sprint("a", i))
		write(t, filepath.Join(dir, "b.py"), fmt.Sprint("b", i))
	}
	expectChange(t, w, filepath.Join(dir, "a.py"))
	expectNoChange(t, w)
}

func TestCloseEndsChanges(t *testing.T) {
	dir := t.TempDir()
	w := newWatcher(t, dir, []string{"app.py"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "app.py"), "after close")
	if err := w.Add([]string{filepath.Join(dir, "more.py")}); err != nil {
		t.Errorf("Add after Close: %v", err)
	}
	select {
	case c, ok := <-w.Changes():
		if ok {
			t.Fatalf("change %q reported after Close", c.Path)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Changes was not closed by Close")
	}
}

func TestMissingDirectoryIsAnError(t *testing.T) {
	_, err := New(time.Now(), []string{filepath.Join(t.TempDir(), "gone", "app.py")}, nil, nil)
	if err == nil {
		t.Fatal("watching a file in a missing directory succeeded")
	}
}
