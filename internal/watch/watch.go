// Package watch tells --reload when an app's source files change. It uses
// inotify (through fsnotify) on the directories holding the files, not a
// polling loop, and not the files themselves: an editor that saves by
// writing a new file and renaming it over the old one replaces the inode a
// file watch would follow, while the directory sees the new name appear.
package watch

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Debounce is how long the directories must stay quiet after an event
// before a change is reported: one save is often several events (truncate,
// write, chmod, rename), and a formatter or a `git checkout` touches many
// files at once.
const Debounce = 100 * time.Millisecond

// EventsLost is the path reported when the kernel's event queue
// overflowed: something may have changed, so a reload is due.
const EventsLost = "(file events lost)"

// Change is a burst of changes: the first path changed, and when its last
// event came (a save later than At is another change).
type Change struct {
	Path string
	At   time.Time
}

// Watcher reports changes to a set of files, and to any *.py file created
// or changed in their directories (a new module of the app), or in a
// package created there (a directory with an __init__.py).
type Watcher struct {
	fs      *fsnotify.Watcher
	log     *slog.Logger
	since   time.Time // a file modified later counts as changed when it is added
	changes chan Change
	stale   chan string   // such a file, for the event loop
	done    chan struct{} // closed when the event loop has ended

	mu     sync.Mutex
	files  map[string]bool // exact paths watched
	dirs   map[string]bool // their directories, each watched once
	grown  map[string]bool // directories created since in a watched one, at any depth
	closed bool
}

// New watches files (the app's source files) and extra (more files whose
// change should reload, e.g. a config file). Paths may be relative to the
// working directory and need not exist yet, but their directories must.
// since is when the app began to read its files (the worker's start): a
// file modified after it, here or when Add watches it, is a change at
// once, as the app may have read it before the change and its directory
// was not watched yet. log receives problems of the watch itself; nil
// discards them.
func New(since time.Time, files, extra []string, log *slog.Logger) (*Watcher, error) {
	fs, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("wsgo: --reload cannot watch files: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Watcher{
		fs:      fs,
		log:     log,
		since:   since,
		changes: make(chan Change, 1),
		stale:   make(chan string, 1),
		done:    make(chan struct{}),
		files:   make(map[string]bool),
		dirs:    make(map[string]bool),
		grown:   make(map[string]bool),
	}
	if err := w.Add(append(append([]string(nil), files...), extra...)); err != nil {
		fs.Close()
		return nil, err
	}
	go w.loop()
	return w, nil
}

// Add watches more files, e.g. modules the app imported after it started.
// Files already watched are skipped; one modified since New's since is
// a change. After Close it does nothing.
func (w *Watcher) Add(files []string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	for _, f := range files {
		path, err := filepath.Abs(f)
		if err != nil {
			return fmt.Errorf("wsgo: --reload cannot watch %s: %w", f, err)
		}
		if w.files[path] {
			continue
		}
		dir := filepath.Dir(path)
		if !w.dirs[dir] {
			if err := w.fs.Add(dir); err != nil {
				return fmt.Errorf("wsgo: --reload cannot watch the directory of %s: %w", f, err)
			}
			w.dirs[dir] = true
		}
		w.files[path] = true
		if w.changedSince(path) {
			select {
			case w.stale <- path:
			default: // one is waiting: the change is reported once anyway
			}
		}
	}
	return nil
}

// changedSince reports whether path was modified after w.since. Its
// directory is watched already, so a later change is an event. A time
// in the future is no edit (a clock's skew, an archive's dates): counted,
// it would reload every new worker again.
func (w *Watcher) changedSince(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.ModTime().After(w.since) && !fi.ModTime().After(time.Now())
}

// Changes delivers the first changed path of each burst of changes, once
// the burst is Debounce old. A change that arrives while the previous one
// is still unread is merged into it. The channel is closed by Close.
func (w *Watcher) Changes() <-chan Change { return w.changes }

// Len is how many files are watched.
func (w *Watcher) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.files)
}

// Close stops watching and closes the Changes channel.
func (w *Watcher) Close() error {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	err := w.fs.Close()
	<-w.done
	return err
}

func (w *Watcher) loop() {
	defer close(w.done)
	defer close(w.changes)
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	defer quiet.Stop()
	var pending Change // the burst's first changed path, "" when none is pending, and its last event's time
	changed := func(path string) {
		if pending.Path == "" {
			pending.Path = path
		}
		pending.At = time.Now()
		quiet.Reset(Debounce)
	}
	for {
		select {
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Create) {
				if path := w.grow(ev.Name); path != "" {
					changed(path)
				}
			}
			if w.relevant(ev.Name) {
				changed(ev.Name)
			}
		case path := <-w.stale:
			changed(path)
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			if !errors.Is(err, fsnotify.ErrEventOverflow) {
				w.log.Warn("wsgo: --reload: watching files failed", "err", err)
				continue
			}
			changed(EventsLost)
		case <-quiet.C:
			select {
			case w.changes <- pending:
			case unread := <-w.changes: // merged: its path, this burst's time
				pending.Path = unread.Path
				w.changes <- pending
			}
			pending = Change{}
		}
	}
}

// relevant reports whether an event on path is a change of the app: a
// watched file, a Python file in a watched directory, or one in a package
// created since in a watched directory; never an editor's scratch file.
func (w *Watcher) relevant(path string) bool {
	if scratch(filepath.Base(path)) {
		return false
	}
	dir, py := filepath.Dir(path), strings.HasSuffix(path, ".py")
	w.mu.Lock()
	file, watched, grown := w.files[path], w.dirs[dir], w.grown[dir]
	w.mu.Unlock()
	return file || py && (watched || grown && isPackage(dir))
}

// grow watches path if it is a directory just created in a watched one
// (a package the app is about to import: its ModuleNotFoundError is fixed
// by creating it), and the directories already in it, as `mkdir -p` or a
// `git checkout` may fill it before the watch begins. It returns a Python
// file of a package found there, a change; "" if none.
func (w *Watcher) grow(path string) string {
	w.mu.Lock()
	parent := filepath.Dir(path)
	inWatched := w.dirs[parent] || w.grown[parent]
	w.mu.Unlock()
	if fi, err := os.Lstat(path); !inWatched || err != nil || !fi.IsDir() {
		return ""
	}
	found := ""
	filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			w.mu.Lock()
			defer w.mu.Unlock()
			if w.closed || w.grown[p] || w.dirs[p] {
				return filepath.SkipDir
			}
			if err := w.fs.Add(p); err != nil {
				w.log.Warn(fmt.Sprintf("wsgo: --reload cannot watch the new directory %s: %v", p, err))
				return filepath.SkipDir
			}
			w.grown[p] = true
			return nil
		}
		if found == "" && strings.HasSuffix(p, ".py") && !scratch(d.Name()) && isPackage(filepath.Dir(p)) {
			found = p
		}
		return nil
	})
	return found
}

// isPackage reports whether dir is a regular package: a directory with an
// __init__.py. A new directory without one (scripts, tests) is not
// imported from, and its files change nothing.
func isPackage(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, "__init__.py"))
	return err == nil && !fi.IsDir()
}

// scratch reports whether name is an editor's temporary or backup file:
// vim's .swp/.swx and its 4913 write test, emacs's .#lock files, and the
// ~ backups of both.
func scratch(name string) bool {
	return strings.HasSuffix(name, ".swp") || strings.HasSuffix(name, ".swx") ||
		strings.HasSuffix(name, "~") || strings.HasPrefix(name, ".#") || name == "4913"
}
